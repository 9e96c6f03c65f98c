// bench/histogram.cc: bucket arithmetic, percentiles and the CDF dump of
// the log-bucket latency histogram.
#include "bench/histogram.h"

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>

namespace ember::bench {
namespace {

// Values below kExact get a bucket each; above, each power of two
// [2^e, 2^(e+1)) with e >= kExactBits has kSubBuckets equal buckets.
constexpr int kExactBits = 7;
constexpr int64_t kExact = int64_t{1} << kExactBits;  // 128
constexpr int kSubBits = kExactBits - 1;
constexpr int kSubBuckets = 1 << kSubBits;  // 64
constexpr int kPowers = 63 - kExactBits;    // e = 7 .. 62
constexpr int kBuckets = int(kExact) + kPowers * kSubBuckets;

}  // namespace

Histogram::Histogram() : counts_(kBuckets, 0) {}

int Histogram::BucketOf(int64_t value) {
  if (value < kExact) return int(value);
  const int e = 63 - std::countl_zero(uint64_t(value));  // >= kExactBits
  const int shift = e - kSubBits;
  const int sub = int(value >> shift) - kSubBuckets;  // 0 .. 63
  return int(kExact) + (e - kExactBits) * kSubBuckets + sub;
}

int64_t Histogram::UpperBound(int index) {
  if (index < kExact) return index;
  const int e = kExactBits + (index - int(kExact)) / kSubBuckets;
  const int64_t sub = (index - int(kExact)) % kSubBuckets + kSubBuckets;
  const int shift = e - kSubBits;
  if (e == 62 && sub == 2 * kSubBuckets - 1) {
    return std::numeric_limits<int64_t>::max();
  }
  return ((sub + 1) << shift) - 1;
}

void Histogram::Record(int64_t value) {
  if (value < 0) value = 0;
  ++counts_[BucketOf(value)];
  if (count_ == 0 || value < min_) min_ = value;
  if (value > max_) max_ = value;
  ++count_;
  sum_ += double(value);
}

std::string Histogram::Encode() const {
  std::string out(sizeof(count_) + sizeof(min_) + sizeof(max_) + sizeof(sum_) +
                      counts_.size() * sizeof(uint64_t),
                  '\0');
  char* p = out.data();
  for (const void* field :
       {static_cast<const void*>(&count_), static_cast<const void*>(&min_),
        static_cast<const void*>(&max_), static_cast<const void*>(&sum_)}) {
    std::memcpy(p, field, 8);
    p += 8;
  }
  std::memcpy(p, counts_.data(), counts_.size() * sizeof(uint64_t));
  return out;
}

bool Histogram::Decode(const std::string& bytes) {
  if (bytes.size() != Encode().size()) return false;
  const char* p = bytes.data();
  for (void* field : {static_cast<void*>(&count_), static_cast<void*>(&min_),
                      static_cast<void*>(&max_), static_cast<void*>(&sum_)}) {
    std::memcpy(field, p, 8);
    p += 8;
  }
  std::memcpy(counts_.data(), p, counts_.size() * sizeof(uint64_t));
  return true;
}

void Histogram::Merge(const Histogram& other) {
  if (other.count_ == 0) return;
  for (int i = 0; i < kBuckets; ++i) counts_[i] += other.counts_[i];
  min_ = count_ == 0 ? other.min_ : std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
  count_ += other.count_;
  sum_ += other.sum_;
}

void Histogram::Reset() {
  std::fill(counts_.begin(), counts_.end(), 0);
  count_ = 0;
  min_ = max_ = 0;
  sum_ = 0;
}

double Histogram::mean() const {
  return count_ == 0 ? 0.0 : sum_ / double(count_);
}

int64_t Histogram::Percentile(double q) const {
  if (count_ == 0) return 0;
  q = std::clamp(q, 0.0, 1.0);
  // The rank of the value sought, 1-based: ceil(q * count), at least 1.
  uint64_t rank = uint64_t(q * double(count_));
  if (double(rank) < q * double(count_)) ++rank;
  rank = std::clamp<uint64_t>(rank, 1, count_);
  uint64_t seen = 0;
  for (int i = 0; i < kBuckets; ++i) {
    seen += counts_[i];
    if (seen >= rank) return std::min(UpperBound(i), max_);
  }
  return max_;
}

std::vector<Histogram::Point> Histogram::Cdf() const {
  std::vector<Point> points;
  uint64_t seen = 0;
  for (int i = 0; i < kBuckets && seen < count_; ++i) {
    if (counts_[i] == 0) continue;
    seen += counts_[i];
    points.push_back(
        {std::min(UpperBound(i), max_), double(seen) / double(count_)});
  }
  return points;
}

bool Histogram::WriteCdf(const std::string& path, const std::string& title,
                         std::string* error) const {
  FILE* f = std::fopen(path.c_str(), "w");
  if (f == nullptr) {
    *error = "cannot write " + path + ": " + std::strerror(errno);
    return false;
  }
  std::fprintf(f, "# %s\n# %llu values; columns: microseconds fraction\n",
               title.c_str(), static_cast<unsigned long long>(count_));
  for (const Point& p : Cdf()) {
    std::fprintf(f, "%.3f %.6f\n", double(p.value) / 1000.0, p.fraction);
  }
  const bool ok = std::fclose(f) == 0;
  if (!ok) *error = "cannot write " + path + ": " + std::strerror(errno);
  return ok;
}

}  // namespace ember::bench
