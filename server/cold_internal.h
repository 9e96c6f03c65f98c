// server/cold_internal.h: what cold_store.cc and cold_counts.cc share, and
// nothing else includes: RocksDB's status turned into shm::Status, and the
// little-endian u64 of values' headers and ember_meta's records.
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

// 8 bytes, little-endian (EncodeColdHeader's layout), and back from the
// 8 bytes at `p`.
std::string EncodeU64(uint64_t v);
inline uint64_t DecodeU64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i)
    v |= uint64_t{static_cast<uint8_t>(p[i])} << (8 * i);
  return v;
}

}  // namespace ember::server
