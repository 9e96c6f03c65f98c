// bench/histogram.h: a latency histogram with logarithmic buckets, in the
// manner of HdrHistogram: values below 128 are exact; above, each power of
// two is cut into 64 equal buckets, so a reported percentile is within 1/64
// (1.6%) above the true value. Values are nanoseconds (any non-negative
// int64). Recording is one array increment. Thread safety: none; give each
// thread its own and Merge() them afterwards.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ember::bench {

class Histogram {
 public:
  Histogram();

  // Counts one value; negative values count as 0.
  void Record(int64_t value);
  // Adds every count of `other` to this one.
  void Merge(const Histogram& other);
  // Forgets every value (after a warm-up, say).
  void Reset();

  uint64_t count() const { return count_; }
  int64_t min() const { return count_ == 0 ? 0 : min_; }
  int64_t max() const { return max_; }
  double mean() const;

  // The smallest bucket bound at or below which a fraction `q` (0..1) of
  // the values lie: the highest value equivalent to the true percentile,
  // never above max(). 0 when empty.
  int64_t Percentile(double q) const;

  // One point per non-empty bucket, in ascending order: {upper bound of the
  // bucket (clipped to max()), fraction of values at or below it}.
  struct Point {
    int64_t value;
    double fraction;
  };
  std::vector<Point> Cdf() const;

  // The whole state as bytes, for a child process to hand its histogram to
  // its parent over a pipe; Decode takes it back (false if malformed).
  std::string Encode() const;
  bool Decode(const std::string& bytes);

  // Writes Cdf() to `path` as gnuplot-ready text: a '#' header with `title`,
  // then "microseconds fraction" per line. false (and *error) if the file
  // cannot be written.
  bool WriteCdf(const std::string& path, const std::string& title,
                std::string* error) const;

 private:
  static int BucketOf(int64_t value);
  // The highest value that falls into bucket `index`.
  static int64_t UpperBound(int index);

  std::vector<uint64_t> counts_;
  uint64_t count_ = 0;
  int64_t min_ = 0;
  int64_t max_ = 0;
  double sum_ = 0;
};

}  // namespace ember::bench
