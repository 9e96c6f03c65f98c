// server/keyspaces.h: the two Keyspace implementations. NetKeyspace serves
// a network thread: arena first (its own reader slot), then the dirty
// table (committed writes RocksDB does not hold yet), then RocksDB, and
// offers cold hits for promotion. BatchKeyspace serves the writer: an
// overlay of the batch's changes over those three.
// Thread safety: one instance per thread.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <unordered_map>

#include "server/cold_store.h"
#include "server/db_keyspace.h"
#include "server/dirty_table.h"
#include "server/keyspace.h"
#include "server/stats.h"
#include "shm/arena_reader.h"

namespace ember::server {

class Writer;

// Which tier answered a read.
enum class Tier { kArena, kDirty, kCold };

// Reads `key` from the arena through `reader` (copying the value), then
// the dirty table, then `cold`; any may be null. kNotFound when in none (or
// the dirty table says it is deleted). *tier: the last tier asked.
shm::Status LoadTiered(shm::ArenaReader* reader, const DirtyTable* dirty,
                       ColdStore* cold, std::string_view key,
                       std::string* value, uint64_t* expiry_ms, Tier* tier);

// A SCAN page over RocksDB and the dirty table: RocksDB's keys from
// `cursor` on merged in order with the dirty keys (live ones added, deleted
// ones taken out), at most `count` of them; returns where the next page
// starts ("" when done). The dirty keys are read before RocksDB, so a key
// the applier moves in between is seen in one or the other.
std::string TieredScan(ColdStore* cold, const DirtyTable* dirty,
                       const std::string& cursor, size_t count,
                       std::vector<std::string>* keys);

// Makes `cold`'s key counts exact for the moment of the call (DBSIZE,
// INFO keyspace): waits until RocksDB holds every commit and, when a key
// may have expired since the applier last reclaimed, for a pass that
// reclaims it. O(writes not yet applied + keys expired), never a scan.
// Null pointers (no cold tier): nothing to wait for.
void SyncCounts(DirtyTable* dirty, const ColdStore* cold);

class NetKeyspace : public Keyspace {
 public:
  // The dirty table is the writer's (null without a cold tier).
  NetKeyspace(shm::ArenaReader* reader, ColdStore* cold, Writer* writer,
              uint64_t max_value_bytes_hot, Stats* stats);
  shm::Status Load(std::string_view key, std::string* value,
                   uint64_t* expiry_ms) override;
  uint64_t CountKeys() override;
  std::string Scan(const std::string& cursor, size_t count,
                   std::vector<std::string>* keys) override;
  shm::Status RandomKey(std::string* key) override {
    return RandomKeyIn({}, key);
  }
  uint64_t CountDb(uint8_t db, uint64_t* expires) override;
  shm::Status RandomKeyIn(std::string_view prefix, std::string* key) override;
  // The writer's published map.
  uint8_t PhysicalDb(uint8_t db) const override;

 private:
  shm::ArenaReader* reader_;
  ColdStore* cold_;
  Writer* writer_;
  DirtyTable* dirty_;
  uint64_t max_hot_;
  Stats* stats_;
};

// What the arena can hold, for a server with no cold tier: there a write the
// arena cannot take is refused (CheckStore), never acknowledged and lost.
struct ArenaLimits {
  uint64_t max_key_bytes = 0;  // keys are 1..max_key_bytes bytes
  uint64_t page_bytes = 0;     // the largest item: 24-byte header + key + value
  uint64_t max_value_bytes = 0;  // max_value_bytes_hot
};
// CheckStore's error for a value over max_value_bytes_hot (without '-').
inline constexpr std::string_view kValueTooBig =
    "ERR string exceeds maximum allowed size (max_value_bytes_hot)";

class BatchKeyspace : public Keyspace {
 public:
  using Change = DirtyEntry;
  // `limits`: null when a cold tier takes what the arena cannot; else
  // CheckStore enforces them. `dirty`: null without a cold tier.
  // REQUIRES: the pointers outlive the keyspace.
  BatchKeyspace(shm::ArenaReader* reader, ColdStore* cold,
                const ArenaLimits* limits = nullptr,
                DirtyTable* dirty = nullptr)
      : reader_(reader), cold_(cold), dirty_(dirty), limits_(limits) {}
  shm::Status Load(std::string_view key, std::string* value,
                   uint64_t* expiry_ms) override;
  bool CanWrite() const override { return true; }
  shm::Status CheckStore(std::string_view key,
                         size_t value_bytes) const override;
  void Store(std::string_view key, std::string_view value,
             uint64_t expiry_ms) override;
  void Remove(std::string_view key) override;
  void RemoveAll() override;
  // Forgets the staged changes (they have been published; the map stays,
  // now the published one).
  void Reset() {
    changes_.clear();
    clear_all_ = false;
    map_changed_ = false;
  }
  uint64_t CountKeys() override;
  // RocksDB's and the dirty table's keys with this batch's changes merged
  // in.
  std::string Scan(const std::string& cursor, size_t count,
                   std::vector<std::string>* keys) override;
  shm::Status RandomKey(std::string* key) override {
    return RandomKeyIn({}, key);
  }
  uint64_t CountDb(uint8_t db, uint64_t* expires) override;
  shm::Status RandomKeyIn(std::string_view prefix, std::string* key) override;

  // The batch's net effect: the last change of each key, in key order.
  const std::map<std::string, Change, std::less<>>& changes() const {
    return changes_;
  }
  bool clear_all() const { return clear_all_; }
  // The database map: set to the published one before the batch runs;
  // SwapDb changes it (and db_map_changed() says so) for the jobs after.
  void SetDbMap(const DbMap& map) { map_ = map; }
  uint8_t PhysicalDb(uint8_t db) const override { return map_[db]; }
  void SwapDb(uint8_t a, uint8_t b) override;
  const DbMap& db_map() const { return map_; }
  bool db_map_changed() const { return map_changed_; }
  // True when the batch has anything to publish.
  bool HasWork() const {
    return !changes_.empty() || clear_all_ || map_changed_;
  }
  // Moves the changes out, in key order (the keyspace is left empty of
  // them; clear_all() stays).
  DirtyTable::Changes TakeChanges();

 private:
  shm::ArenaReader* reader_;
  ColdStore* cold_;
  DirtyTable* dirty_;
  const ArenaLimits* limits_;
  std::map<std::string, Change, std::less<>> changes_;
  bool clear_all_ = false;
  DbMap map_ = IdentityDbMap();
  bool map_changed_ = false;
};

}  // namespace ember::server
