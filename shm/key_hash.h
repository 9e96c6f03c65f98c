// shm/key_hash.h: how a key maps to its two candidate buckets and its tag.
// Shared by the writer and every reader; changing it needs kLayoutVersion+1.
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <string_view>

#if defined(__SSE2__) && !defined(__SANITIZE_THREAD__)
#include <emmintrin.h>
#define EMBER_SIMD_TAGS 1
#endif
#include <cstring>

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

// Bit i set when slot i of `b` may hold `tag_bits` (a filter: the caller
// re-loads each candidate atomically and checks it). SSE2 reads the bucket
// as four 16-byte vectors; a torn read can only hide a slot, and a miss is
// never an answer. Under ThreadSanitizer, eight atomic loads instead.
inline uint32_t TagCandidates(const Bucket& b, uint64_t tag_bits) {
#ifdef EMBER_SIMD_TAGS
  const __m128i tag = _mm_set1_epi16(static_cast<short>(tag_bits >> 48));
  const auto* p = reinterpret_cast<const __m128i*>(&b);
  uint32_t mask = 0;
  for (int i = 0; i < 4; ++i) {
    const uint32_t m =
        _mm_movemask_epi8(_mm_cmpeq_epi16(_mm_load_si128(p + i), tag));
    // The tag is the top 16-bit lane of each 8-byte slot: bytes 6-7, 14-15.
    mask |= ((m >> 7) & 1) << (2 * i) | ((m >> 15) & 1) << (2 * i + 1);
  }
  return mask;
#else
  uint32_t mask = 0;
  for (uint32_t i = 0; i < kSlotsPerBucket; ++i) {
    const uint64_t v = b.slot[i].load(std::memory_order_relaxed);
    if ((v & kSlotTagMask) == tag_bits) mask |= 1u << i;
  }
  return mask;
#endif
}

// Key equality without a call for the common 8..16-byte keys.
inline bool KeyEquals(const char* a, const char* b, size_t n) {
  if (n >= 8 && n <= 16) {
    uint64_t a0, a1, b0, b1;
    std::memcpy(&a0, a, 8);
    std::memcpy(&b0, b, 8);
    std::memcpy(&a1, a + n - 8, 8);
    std::memcpy(&b1, b + n - 8, 8);
    return ((a0 ^ b0) | (a1 ^ b1)) == 0;
  }
  return std::memcmp(a, b, n) == 0;
}

}  // namespace ember::shm
