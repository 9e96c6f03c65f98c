// shm/key_hash.h: how a key maps to its two candidate buckets and its tag.
// Shared by the writer and every reader; changing it needs kLayoutVersion+1.
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <string_view>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "shm/arena_format.h"

namespace ember::shm {

// 64-bit seeded key hash (XXH3).
inline uint64_t HashKey(std::string_view key, uint64_t seed) {
  return XXH3_64bits_withSeed(key.data(), key.size(), seed);
}

inline uint64_t MulHi(uint64_t a, uint64_t b) {
  return static_cast<uint64_t>((static_cast<unsigned __int128>(a) * b) >> 64);
}

// Where a key may live: bucket b1 (preferred) or b2, with `tag_bits` in the
// top 16 bits of its slot. b1 == b2 only when there is a single bucket.
struct Probe {
  uint64_t b1;
  uint64_t b2;
  uint64_t tag_bits;
};

inline Probe MakeProbe(uint64_t hash, uint64_t bucket_count) {
  Probe p;
  p.b1 = MulHi(hash, bucket_count);
  p.b2 = MulHi((hash ^ (hash >> 31)) * 0x9E3779B97F4A7C15ULL, bucket_count);
  if (p.b2 == p.b1 && bucket_count > 1) {
    p.b2 = (p.b1 + 1 == bucket_count) ? 0 : p.b1 + 1;
  }
  p.tag_bits = (hash & 0xFFFF) << 48;
  return p;
}

}  // namespace ember::shm
