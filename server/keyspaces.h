// server/keyspaces.h: the two Keyspace implementations. NetKeyspace serves
// a network thread: arena first (its own reader slot), then RocksDB, and
// offers cold hits for promotion. BatchKeyspace serves the writer: an
// overlay of the batch's changes over the arena and RocksDB.
// Thread safety: one instance per thread.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <unordered_map>

#include "server/cold_store.h"
#include "server/keyspace.h"
#include "server/stats.h"
#include "shm/arena_reader.h"

namespace ember::server {

class Writer;

// Reads `key` from the arena through `reader` (copying the value), then from
// `cold`. kNotFound when in neither. `from_cold` tells which tier answered.
shm::Status LoadTiered(shm::ArenaReader* reader, ColdStore* cold,
                       std::string_view key, std::string* value,
                       uint64_t* expiry_ms, bool* from_cold);

class NetKeyspace : public Keyspace {
 public:
  NetKeyspace(shm::ArenaReader* reader, ColdStore* cold, Writer* writer,
              uint64_t max_value_bytes_hot, Stats* stats)
      : reader_(reader),
        cold_(cold),
        writer_(writer),
        max_hot_(max_value_bytes_hot),
        stats_(stats) {}
  shm::Status Load(std::string_view key, std::string* value,
                   uint64_t* expiry_ms) override;
  uint64_t CountKeys() override;
  std::string Scan(const std::string& cursor, size_t count,
                   std::vector<std::string>* keys) override;
  shm::Status RandomKey(std::string* key) override;

 private:
  shm::ArenaReader* reader_;
  ColdStore* cold_;
  Writer* writer_;
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
  struct Change {
    std::string value;
    uint64_t expiry_ms = 0;
    bool deleted = false;
  };
  // `limits`: null when a cold tier takes what the arena cannot; else
  // CheckStore enforces them. REQUIRES: `limits` outlives the keyspace.
  BatchKeyspace(shm::ArenaReader* reader, ColdStore* cold,
                const ArenaLimits* limits = nullptr)
      : reader_(reader), cold_(cold), limits_(limits) {}
  shm::Status Load(std::string_view key, std::string* value,
                   uint64_t* expiry_ms) override;
  bool CanWrite() const override { return true; }
  shm::Status CheckStore(std::string_view key,
                         size_t value_bytes) const override;
  void Store(std::string_view key, std::string_view value,
             uint64_t expiry_ms) override;
  void Remove(std::string_view key) override;
  void RemoveAll() override;
  // Forgets the staged changes (they have been published).
  void Reset() {
    changes_.clear();
    clear_all_ = false;
  }
  uint64_t CountKeys() override;
  // RocksDB's keys with this batch's changes merged in.
  std::string Scan(const std::string& cursor, size_t count,
                   std::vector<std::string>* keys) override;
  shm::Status RandomKey(std::string* key) override;

  // The batch's net effect: the last change of each key, in key order.
  const std::map<std::string, Change, std::less<>>& changes() const {
    return changes_;
  }
  bool clear_all() const { return clear_all_; }

 private:
  shm::ArenaReader* reader_;
  ColdStore* cold_;
  const ArenaLimits* limits_;
  std::map<std::string, Change, std::less<>> changes_;
  bool clear_all_ = false;
};

}  // namespace ember::server
