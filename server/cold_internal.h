// server/cold_internal.h: what cold_store.cc and cold_counts.cc share, and
// nothing else includes: RocksDB's status turned into shm::Status, and the
// little-endian u64 of ember_meta's values.
#pragma once

#include <rocksdb/status.h>

#include <cstdint>
#include <string>

#include "shm/status.h"

namespace ember::server {

inline shm::Status FromRocks(const rocksdb::Status& s,
                             const std::string& what) {
  if (s.ok()) return shm::Status::Ok();
  if (s.IsNotFound()) return shm::Status::NotFound();
  if (s.IsCorruption())
    return shm::Status::Corruption(what + ": " + s.ToString());
  return shm::Status::IOError(what + ": " + s.ToString());
}

// 8 bytes, little-endian (EncodeColdHeader's layout).
std::string EncodeU64(uint64_t v);

}  // namespace ember::server
