// bench/keys.cc: builds the key-number sequences: uniform draws, or Zipfian
// ranks by inverse transform over the exact cumulative weights.
#include "bench/keys.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

namespace ember::bench {
namespace {

// A multiplier coprime with `n`, so r -> (r * m + 7) mod n is a bijection
// of [0, n) that scatters neighbouring ranks.
uint64_t Coprime(uint64_t n) {
  uint64_t m = 2654435761u % n;  // Knuth's multiplicative constant
  if (m == 0) m = 1;
  while (std::gcd(m, n) != 1) ++m;
  return m;
}

}  // namespace

std::string MakeValue(size_t size) {
  std::string v(size, 'v');
  for (size_t i = 0; i < size; ++i) v[i] = char('a' + i % 26);
  return v;
}

KeySequence::KeySequence(uint64_t keys, double skew, uint64_t seed)
    : seq_(kLength) {
  std::mt19937_64 rng(seed);
  std::vector<uint64_t> ranks(kLength);
  if (skew == 0 || keys == 1) {
    std::uniform_int_distribution<uint64_t> any(0, keys - 1);
    for (uint64_t& r : ranks) r = any(rng);
  } else {
    // cdf[r] = sum of 1/(k+1)^skew for k <= r, normalised below.
    std::vector<double> cdf(keys);
    double sum = 0;
    for (uint64_t r = 0; r < keys; ++r) {
      sum += std::pow(double(r + 1), -skew);
      cdf[r] = sum;
    }
    std::uniform_real_distribution<double> u(0.0, sum);
    for (uint64_t& r : ranks) {
      auto it = std::lower_bound(cdf.begin(), cdf.end(), u(rng));
      r = std::min<uint64_t>(uint64_t(it - cdf.begin()), keys - 1);
    }
  }
  const uint64_t hot = std::max<uint64_t>(1, keys / 100);
  uint64_t hot_draws = 0;
  const uint64_t m = Coprime(keys);
  for (size_t p = 0; p < kLength; ++p) {
    // Ranks are only "hot" for Zipf; for uniform this counts 1% by chance.
    if (ranks[p] < hot) ++hot_draws;
    seq_[p] = uint32_t((ranks[p] * m + 7) % keys);
  }
  hot_share_ = double(hot_draws) / double(kLength);
}

}  // namespace ember::bench
