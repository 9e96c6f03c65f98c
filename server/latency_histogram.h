// server/latency_histogram.h: a log-linear histogram of durations in
// nanoseconds, for INFO latencystats (Redis keeps an HdrHistogram per
// command). 16 buckets per power of two: a reported percentile is at most
// 1/16 (6%) above the true value. Durations past 2^40 ns (18 minutes) count
// in the last bucket.
// Thread safety: Record by one thread (the owner); any thread may read
// (relaxed atomics: a reader may see a sample or two less).
#pragma once

#include <array>
#include <atomic>
#include <bit>
#include <cstdint>

namespace ember::server {

class LatencyHistogram {
 public:
  static constexpr int kSubBits = 4;
  static constexpr uint64_t kSub = uint64_t{1} << kSubBits;
  static constexpr int kMaxExp = 40;
  static constexpr size_t kBuckets = kSub + (kMaxExp - kSubBits + 1) * kSub;
  using Counts = std::array<uint64_t, kBuckets>;

  static size_t BucketOf(uint64_t ns) {
    if (ns < kSub) return static_cast<size_t>(ns);
    if (ns >= (uint64_t{1} << (kMaxExp + 1))) return kBuckets - 1;
    const int e = 63 - std::countl_zero(ns);  // >= kSubBits
    const uint64_t sub = (ns >> (e - kSubBits)) & (kSub - 1);
    return static_cast<size_t>(kSub + (e - kSubBits) * kSub + sub);
  }
  // The largest duration bucket `b` holds.
  static uint64_t UpperBound(size_t b) {
    if (b < kSub) return b;
    const int e = static_cast<int>((b - kSub) / kSub) + kSubBits;
    const uint64_t sub = (b - kSub) % kSub;
    const uint64_t lower = (kSub + sub) << (e - kSubBits);
    return lower + (uint64_t{1} << (e - kSubBits)) - 1;
  }
  // The duration (ns) at or below which `percent` of `counts` lie; 0 when
  // empty.
  static uint64_t Percentile(const Counts& counts, double percent) {
    uint64_t total = 0;
    for (uint64_t c : counts) total += c;
    if (total == 0) return 0;
    uint64_t want = static_cast<uint64_t>(percent / 100.0 * total + 0.999999);
    if (want == 0) want = 1;
    uint64_t seen = 0;
    for (size_t b = 0; b < kBuckets; ++b) {
      seen += counts[b];
      if (seen >= want) return UpperBound(b);
    }
    return UpperBound(kBuckets - 1);
  }

  // Owner thread only.
  void Record(uint64_t ns) {
    auto& c = counts_[BucketOf(ns)];
    c.store(c.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }
  void Clear() {
    for (auto& c : counts_) c.store(0, std::memory_order_relaxed);
  }
  // Adds this histogram's counts to `*sum`.
  void AddTo(Counts* sum) const {
    for (size_t b = 0; b < kBuckets; ++b)
      (*sum)[b] += counts_[b].load(std::memory_order_relaxed);
  }

 private:
  std::array<std::atomic<uint64_t>, kBuckets> counts_{};
};

}  // namespace ember::server
