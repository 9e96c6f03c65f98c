// server/telemetry.h: what the server records about the commands it runs,
// for INFO (commandstats, errorstats, latencystats, instantaneous rates),
// SLOWLOG and LATENCY; and the one call every command passes through
// (RecordCommand, from Execute).
// Thread safety: every member and function from any thread.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <string_view>

#include "server/command_stats.h"
#include "server/command_table.h"
#include "server/slowlog.h"
#include "server/thread_annotations.h"

namespace ember::server {

// Redis's instantaneous_ops_per_sec and _kbps: a sample every 100 ms, the
// mean rate over the last 16 (1.6 s).
class InstantaneousRates {
 public:
  void Sample(uint64_t now_ms, const CommandStats::Totals& t) EXCLUDES(mu_);
  struct Rates {
    uint64_t ops_per_sec = 0;
    double input_kbps = 0, output_kbps = 0;
  };
  Rates Get() const EXCLUDES(mu_);

 private:
  static constexpr size_t kSamples = 16;
  struct Metric {
    uint64_t last_value = 0;
    std::array<double, kSamples> per_sec{};
  };
  mutable Mutex mu_;
  uint64_t last_ms_ GUARDED_BY(mu_) = 0;
  size_t next_ GUARDED_BY(mu_) = 0;
  Metric ops_ GUARDED_BY(mu_), in_ GUARDED_BY(mu_), out_ GUARDED_BY(mu_);
};

struct Telemetry {
  CommandStats commands;
  SlowLog slowlog;
  LatencyMonitor latency;
  InstantaneousRates rates;
};

inline uint64_t MonotonicNs() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(
          std::chrono::steady_clock::now().time_since_epoch())
          .count());
}

// Counts one command that ran for `ns` (0 when refused before it ran) and
// answered `reply`: commandstats, errorstats, latencystats, and SLOWLOG and
// LATENCY ("command" events) past their thresholds. Nothing when
// ctx.info has no Telemetry (tests' stand-ins).
void RecordCommand(CommandContext& ctx, const CommandSpec& spec,
                   const Args& args, uint64_t ns, CommandStats::Outcome outcome,
                   std::string_view reply);
// Counts an error reply that belongs to no command (unknown command,
// protocol error).
void RecordErrorReply(CommandContext& ctx, std::string_view reply);

}  // namespace ember::server
