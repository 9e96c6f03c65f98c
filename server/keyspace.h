// server/keyspace.h: what a command sees of the data. Network threads see a
// read-only Keyspace (arena, then cold tier); the writer thread sees one
// that can also stage changes, applied when its group commit is durable.
// Thread safety: an instance belongs to one thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "shm/status.h"

namespace ember::server {

class Keyspace {
 public:
  virtual ~Keyspace() = default;
  // The live value of `key` and its expiry (Unix ms, 0 = none): kOk,
  // kNotFound (absent or expired), or kIOError from the cold tier.
  virtual shm::Status Load(std::string_view key, std::string* value,
                           uint64_t* expiry_ms) = 0;
  // True in the writer: Store/Remove/RemoveAll may be called.
  virtual bool CanWrite() const { return false; }
  // Whether `key` with a value of `value_bytes` can be stored: kOk, or
  // kInvalidArgument whose message is the error reply. Only an arena with no
  // cold tier behind it has limits. A command checks every key it will
  // store before it stores any, so that a refused command changes nothing.
  virtual shm::Status CheckStore(std::string_view /*key*/,
                                 size_t /*value_bytes*/) const {
    return shm::Status::Ok();
  }
  // REQUIRES: CheckStore(key, value.size()) is kOk.
  virtual void Store(std::string_view /*key*/, std::string_view /*value*/,
                     uint64_t /*expiry_ms*/) {}
  virtual void Remove(std::string_view /*key*/) {}
  virtual void RemoveAll() {}
  // Live keys in all tiers (DBSIZE).
  virtual uint64_t CountKeys() = 0;
  // A SCAN page: up to about `count` live keys from `cursor` on ("" = the
  // first key), in key order; returns the next cursor ("" when done).
  virtual std::string Scan(const std::string& cursor, size_t count,
                           std::vector<std::string>* keys) = 0;
  // A live key picked at random (RANDOMKEY, not uniform): kOk, or kNotFound
  // when there is none.
  virtual shm::Status RandomKey(std::string* key) = 0;

  // For DbKeyspace (server/db_keyspace.h), over a keyspace of stored keys
  // (database byte + user key): CountKeys of the keys whose first byte is
  // `db`, with *expires (if given) how many of them carry an expiry; and
  // RandomKey among the keys that start with `prefix`. Without a cold tier
  // the count is every arena item's (the arena cannot be walked).
  virtual uint64_t CountDb(uint8_t db, uint64_t* expires) = 0;
  virtual shm::Status RandomKeyIn(std::string_view prefix,
                                  std::string* key) = 0;
  // The physical database (first byte of its stored keys) of database `db`
  // as clients number it (DbMap in server/db_keyspace.h): the writer's
  // published map, or in a batch the map as this batch left it so far.
  virtual uint8_t PhysicalDb(uint8_t db) const { return db; }
  // SWAPDB: databases `a` and `b` trade their physical databases (their
  // keys) from this point of the batch on. Only where CanWrite().
  virtual void SwapDb(uint8_t /*a*/, uint8_t /*b*/) {}
};

}  // namespace ember::server
