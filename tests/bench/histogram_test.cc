// tests/bench/histogram_test.cc: the log-bucket histogram is exact below 128
// and within 1/64 above, never reports above the maximum, merges, and
// writes a CDF that ends at 1.
#include "bench/histogram.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>

namespace ember::bench {
namespace {

TEST(HistogramTest, EmptyReportsZero) {
  Histogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.Percentile(0.5), 0);
  EXPECT_TRUE(h.Cdf().empty());
}

TEST(HistogramTest, SmallValuesAreExact) {
  Histogram h;
  for (int v = 1; v <= 100; ++v) h.Record(v);
  EXPECT_EQ(h.Percentile(0.50), 50);
  EXPECT_EQ(h.Percentile(0.99), 99);
  EXPECT_EQ(h.Percentile(1.0), 100);
  EXPECT_EQ(h.min(), 1);
  EXPECT_DOUBLE_EQ(h.mean(), 50.5);
}

TEST(HistogramTest, LargeValuesWithinOneSixtyFourth) {
  for (int64_t v : {int64_t{129}, int64_t{1000}, int64_t{123456},
                    int64_t{987654321}, int64_t{1} << 61}) {
    Histogram h;
    h.Record(v);
    h.Record(v * 2);  // so max() does not clip the bucket bound
    const int64_t p = h.Percentile(0.5);
    EXPECT_GE(p, v) << v;
    EXPECT_LE(double(p - v), double(v) / 64.0) << v;
  }
}

TEST(HistogramTest, PercentileIsRankBased) {
  Histogram h;
  for (int i = 0; i < 990; ++i) h.Record(10);
  for (int i = 0; i < 10; ++i) h.Record(1000000);
  EXPECT_EQ(h.Percentile(0.99), 10);  // rank 990 is still 10
  EXPECT_GE(h.Percentile(0.991), 1000000);
  EXPECT_EQ(h.Percentile(0.999), h.max());  // clipped to the maximum
}

TEST(HistogramTest, MergeAndResetAndNegatives) {
  Histogram a, b;
  a.Record(-5);  // counts as 0
  b.Record(7);
  a.Merge(b);
  EXPECT_EQ(a.count(), 2u);
  EXPECT_EQ(a.min(), 0);
  EXPECT_EQ(a.max(), 7);
  a.Reset();
  EXPECT_EQ(a.count(), 0u);
  EXPECT_EQ(a.max(), 0);
}

TEST(HistogramTest, CdfEndsAtOneAndFileIsWritten) {
  Histogram h;
  for (int64_t v = 1000; v < 200000; v += 997) h.Record(v);
  const auto cdf = h.Cdf();
  ASSERT_FALSE(cdf.empty());
  EXPECT_DOUBLE_EQ(cdf.back().fraction, 1.0);
  for (size_t i = 1; i < cdf.size(); ++i) {
    EXPECT_GT(cdf[i].value, cdf[i - 1].value);
  }
  const std::string path = testing::TempDir() + "histogram_test.cdf";
  std::string error;
  ASSERT_TRUE(h.WriteCdf(path, "title", &error)) << error;
  std::ifstream in(path);
  std::string first;
  std::getline(in, first);
  EXPECT_EQ(first, "# title");
  std::remove(path.c_str());
  EXPECT_FALSE(h.WriteCdf("/nonexistent/dir/x", "t", &error));
  EXPECT_NE(error.find("/nonexistent/dir/x"), std::string::npos);
}

// A child process's histogram crosses a pipe as Encode() bytes; Decode
// gives back the same percentiles, and malformed bytes are refused.
TEST(HistogramTest, EncodeDecodeRoundTrips) {
  Histogram h;
  for (int64_t v = 1; v < 100000; v += 37) h.Record(v);
  Histogram back;
  ASSERT_TRUE(back.Decode(h.Encode()));
  EXPECT_EQ(back.count(), h.count());
  EXPECT_EQ(back.min(), h.min());
  EXPECT_EQ(back.max(), h.max());
  EXPECT_DOUBLE_EQ(back.mean(), h.mean());
  EXPECT_EQ(back.Percentile(0.99), h.Percentile(0.99));
  EXPECT_FALSE(back.Decode("short"));
}

}  // namespace
}  // namespace ember::bench
