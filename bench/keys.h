// bench/keys.h: the keys every ember-bench workload uses, and the
// pre-generated sequences of key numbers the request loops walk, so no
// random number generator or Zipf sampling runs per request.
// Thread safety: a KeySequence is immutable once built; share it freely.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ember::bench {

inline constexpr size_t kKeyBytes = 16;

// Writes key number `i`, "key:%012u", to out[0..16).
inline void MakeKey(uint64_t i, char* out) {
  out[0] = 'k', out[1] = 'e', out[2] = 'y', out[3] = ':';
  for (int j = 15; j >= 4; --j, i /= 10) out[j] = char('0' + i % 10);
}

// A value of `size` bytes; its content does not matter to any server here.
std::string MakeValue(size_t size);

class KeySequence {
 public:
  // 2^20 key numbers in [0, keys): uniform when skew is 0, else Zipfian
  // with exponent `skew` (rank r drawn with weight 1/r^skew), the ranks
  // scattered over the key space by a fixed permutation so hot keys are
  // not neighbours. Same seed, same sequence.
  KeySequence(uint64_t keys, double skew, uint64_t seed);

  // The key number at position `pos`, cyclically.
  uint32_t at(size_t pos) const { return seq_[pos & (kLength - 1)]; }
  // A start position for stream `i` of `n` (connections read apart).
  static size_t Start(int i, int n) { return kLength / size_t(n) * size_t(i); }

  // The fraction of the sequence that the hottest 1% of keys take: a
  // one-number check of the skew, printed with the settings.
  double hot_share() const { return hot_share_; }

 private:
  static constexpr size_t kLength = size_t{1} << 20;
  std::vector<uint32_t> seq_;
  double hot_share_ = 0;
};

}  // namespace ember::bench
