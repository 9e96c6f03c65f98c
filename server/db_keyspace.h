// server/db_keyspace.h: one database of a keyspace (SELECT, DESIGN.md
// "Databases"). The keyspaces underneath (NetKeyspace, BatchKeyspace) hold
// stored keys: one byte naming the database, then the user's key, in the
// arena, the dirty table, the redo log and RocksDB alike. DbKeyspace adds
// that byte on the way in, strips it on the way out, and keeps the
// whole-keyspace calls (DBSIZE, SCAN, RANDOMKEY, FLUSHDB) inside its
// database. The byte is the database's physical number: SWAPDB swaps two
// entries of a map from the number a client SELECTs to it (DbMap).
// Thread safety: as the keyspace it wraps.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "server/keyspace.h"

namespace ember::server {

// `databases` is at most this: a database is one byte of the stored key.
inline constexpr uint32_t kMaxDatabases = 256;

// The stored form of user key `key` in database `db`.
std::string StoredKey(uint8_t db, std::string_view key);

// Which physical database (the stored key's first byte) each database a
// client SELECTs is: a permutation of 0..255, the identity until a SWAPDB.
// Kept in the redo log (LogKind::kDbMap), RocksDB's ember_meta and the
// arena's header (for LocalClient).
using DbMap = std::array<uint8_t, kMaxDatabases>;
DbMap IdentityDbMap();
// `bytes` as a map: false unless it is 256 bytes holding each value once.
bool ParseDbMap(std::string_view bytes, DbMap* map);
inline std::string_view DbMapBytes(const DbMap& map) {
  return {reinterpret_cast<const char*>(map.data()), map.size()};
}

class DbKeyspace : public Keyspace {
 public:
  // Database `db` as clients number it (SELECT), over the physical one
  // `stored` maps it to now. REQUIRES: `stored` outlives this keyspace.
  DbKeyspace(Keyspace* stored, uint8_t db)
      : stored_(stored), db_(stored->PhysicalDb(db)) {}
  // The physical database: the first byte of this database's stored keys.
  uint8_t db() const { return db_; }

  shm::Status Load(std::string_view key, std::string* value,
                   uint64_t* expiry_ms) override;
  bool CanWrite() const override { return stored_->CanWrite(); }
  shm::Status CheckStore(std::string_view key,
                         size_t value_bytes) const override;
  void Store(std::string_view key, std::string_view value,
             uint64_t expiry_ms) override;
  void Remove(std::string_view key) override;
  // FLUSHDB: this database only. When no other database holds a key it is
  // the keyspace's RemoveAll (one clear mark, one range tombstone); else a
  // Remove of each of this database's keys, staged in the same batch.
  void RemoveAll() override;
  uint64_t CountKeys() override { return stored_->CountDb(db_, nullptr); }
  // Cursors are user keys: the database's byte is added and stripped here.
  std::string Scan(const std::string& cursor, size_t count,
                   std::vector<std::string>* keys) override;
  shm::Status RandomKey(std::string* key) override;
  // Passed to the keyspace underneath (stored keys, any database).
  uint64_t CountDb(uint8_t db, uint64_t* expires) override {
    return stored_->CountDb(db, expires);
  }
  shm::Status RandomKeyIn(std::string_view prefix, std::string* key) override {
    return stored_->RandomKeyIn(prefix, key);
  }
  uint8_t PhysicalDb(uint8_t db) const override {
    return stored_->PhysicalDb(db);
  }
  void SwapDb(uint8_t a, uint8_t b) override { stored_->SwapDb(a, b); }

 private:
  // The stored form of `key`, in a buffer reused by each call.
  const std::string& Stored(std::string_view key) const;
  bool Mine(std::string_view stored) const {
    return !stored.empty() && static_cast<uint8_t>(stored[0]) == db_;
  }
  // True when no live key of another database exists.
  bool AloneInKeyspace();
  // The first live stored key at or after `from`, or "" when none.
  bool FirstKeyFrom(const std::string& from, std::string* key);

  Keyspace* stored_;
  const uint8_t db_;
  mutable std::string buf_;
};

}  // namespace ember::server
