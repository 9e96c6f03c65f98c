// Telemetry: the latency histogram, per-thread command counters summed for
// INFO, CONFIG RESETSTAT, SLOWLOG's trimming and redaction, LATENCY's
// per-second samples.
#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "server/command_stats.h"
#include "server/latency_histogram.h"
#include "server/slowlog.h"

namespace ember::server {
namespace {

const CommandSpec& Spec(std::string_view name) {
  const CommandSpec* s = FindCommand(name);
  EXPECT_NE(s, nullptr) << name;
  return *s;
}

TEST(LatencyHistogramTest, BucketsCoverTheirBoundsWithin1In16) {
  for (uint64_t ns : {0ull, 1ull, 15ull, 16ull, 17ull, 1000ull, 4999ull,
                      123456789ull, 1ull << 39}) {
    const size_t b = LatencyHistogram::BucketOf(ns);
    EXPECT_GE(LatencyHistogram::UpperBound(b), ns);
    EXPECT_LE(LatencyHistogram::UpperBound(b), ns + ns / 16 + 1) << ns;
    if (b > 0) {
      EXPECT_LT(LatencyHistogram::UpperBound(b - 1), ns);
    }
  }
  EXPECT_EQ(LatencyHistogram::BucketOf(~0ull), LatencyHistogram::kBuckets - 1);
}

TEST(LatencyHistogramTest, PercentilesOfASkewedSample) {
  LatencyHistogram h;
  for (int i = 0; i < 990; ++i) h.Record(1000);    // 1 us
  for (int i = 0; i < 10; ++i) h.Record(1000000);  // 1 ms
  LatencyHistogram::Counts c{};
  h.AddTo(&c);
  EXPECT_NEAR(LatencyHistogram::Percentile(c, 50), 1000, 64);
  EXPECT_NEAR(LatencyHistogram::Percentile(c, 99), 1000, 64);
  EXPECT_NEAR(LatencyHistogram::Percentile(c, 99.9), 1000000, 65536);
}

TEST(CommandStatsTest, ThreadsCountApartAndInfoSumsThem) {
  CommandStats stats;
  const Args get = {"GET", "k"};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i)
        stats.Record(Spec("get"), get, 2000, CommandStats::Outcome::kOk,
                     "$-1\r\n");
    });
  }
  for (auto& t : threads) t.join();
  stats.Record(Spec("get"), {"GET"}, 0, CommandStats::Outcome::kRejected,
               "-ERR wrong number of arguments for 'get' command\r\n");
  EXPECT_EQ(stats.Sum().commands, 4000u);
  EXPECT_EQ(stats.Sum().error_replies, 1u);
  EXPECT_NE(stats.CommandStatsText().find(
                "cmdstat_get:calls=4000,usec=8000,usec_per_call=2.00,"
                "rejected_calls=1,failed_calls=0\r\n"),
            std::string::npos)
      << stats.CommandStatsText();
  EXPECT_EQ(stats.ErrorStatsText(), "errorstat_ERR:count=1\r\n");
  EXPECT_NE(stats.LatencyStatsText().find("latency_percentiles_usec_get:p50="),
            std::string::npos);
}

TEST(CommandStatsTest, SubcommandsCountAsRedis7Names) {
  CommandStats stats;
  stats.Record(Spec("config"), {"CONFIG", "GET", "x"}, 1000,
               CommandStats::Outcome::kOk, "*0\r\n");
  stats.Record(Spec("config"), {"config", "nope"}, 1000,
               CommandStats::Outcome::kFailed,
               "-ERR unknown subcommand 'nope'. Try CONFIG HELP.\r\n");
  const std::string text = stats.CommandStatsText();
  EXPECT_NE(text.find("cmdstat_config|get:calls=1,"), std::string::npos)
      << text;
  EXPECT_NE(text.find("cmdstat_config:calls=0,usec=0,usec_per_call=0.00,"
                      "rejected_calls=1,failed_calls=0"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("nope"), std::string::npos);
}

TEST(CommandStatsTest, ResetZeroesEveryThreadsCounters) {
  CommandStats stats;
  std::thread other([&] {
    stats.Record(Spec("get"), {"GET", "k"}, 10, CommandStats::Outcome::kOk,
                 "-ERR x\r\n");
    stats.RecordRead(100);
  });
  other.join();
  EXPECT_EQ(stats.Sum().commands, 1u);
  stats.Reset();
  EXPECT_EQ(stats.Sum().commands, 0u);
  EXPECT_EQ(stats.Sum().net_input_bytes, 0u);
  EXPECT_EQ(stats.CommandStatsText(), "");
  EXPECT_EQ(stats.ErrorStatsText(), "");
  stats.Record(Spec("ping"), {"PING"}, 10, CommandStats::Outcome::kOk,
               "+PONG\r\n");
  EXPECT_EQ(stats.Sum().commands, 1u);
}

TEST(SlowLogTest, TrimsArgumentsAsRedisAndRedactsPasswords) {
  SlowLog log;
  Args many = {"MSET"};
  for (int i = 0; i < 40; ++i) many.push_back(std::to_string(i));
  log.Add(many, 5, "127.0.0.1:1", "", 10);
  log.Add({"SET", "k", std::string(300, 'a')}, 6, "", "", 10);
  log.Add({"AUTH", "user", "pw"}, 7, "", "", 10);
  log.Add({"CONFIG", "SET", "maxclients", "5", "requirepass", "pw"}, 8, "", "",
          10);
  const auto e = log.Newest(-1);
  ASSERT_EQ(e.size(), 4u);
  EXPECT_EQ(e[0].args,
            (std::vector<std::string>{"CONFIG", "SET", "maxclients", "5",
                                      "requirepass", "(redacted)"}));
  EXPECT_EQ(e[1].args,
            (std::vector<std::string>{"AUTH", "(redacted)", "(redacted)"}));
  EXPECT_EQ(e[2].args[2], std::string(128, 'a') + "... (172 more bytes)");
  ASSERT_EQ(e[3].args.size(), 32u);
  EXPECT_EQ(e[3].args[31], "... (10 more arguments)");
  EXPECT_EQ(e[3].id, 0u);
  EXPECT_EQ(e[0].id, 3u);
}

TEST(SlowLogTest, KeepsTheNewestMaxLen) {
  SlowLog log;
  for (int i = 0; i < 10; ++i)
    log.Add({"GET", std::to_string(i)}, 1, "", "", 3);
  EXPECT_EQ(log.size(), 3u);
  EXPECT_EQ(log.Newest(1)[0].args[1], "9");
  log.Reset();
  EXPECT_EQ(log.size(), 0u);
}

TEST(LatencyMonitorTest, OneSamplePerSecondTheLargest) {
  LatencyMonitor m;
  m.Add("command", 20, 100);
  m.Add("command", 50, 100);
  m.Add("command", 30, 100);
  m.Add("command", 25, 101);
  const auto latest = m.Latest();
  ASSERT_EQ(latest.size(), 1u);
  EXPECT_EQ(latest[0].latest.unix_seconds, 101);
  EXPECT_EQ(latest[0].latest.ms, 25u);
  EXPECT_EQ(latest[0].max_ms, 50u);
  const auto h = m.History("command");
  ASSERT_EQ(h.size(), 2u);
  EXPECT_EQ(h[0].ms, 50u);
  for (int s = 0; s < 500; ++s) m.Add("command", 1, 200 + s);
  EXPECT_EQ(m.History("command").size(), LatencyMonitor::kSamples);
  EXPECT_EQ(m.Reset({"COMMAND", "other"}), 1u);
  EXPECT_TRUE(m.Latest().empty());
}

}  // namespace
}  // namespace ember::server
