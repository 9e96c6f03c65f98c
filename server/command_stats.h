// server/command_stats.h: the counters behind INFO commandstats, errorstats,
// latencystats and the totals of INFO stats (commands, error replies,
// network bytes). Each thread that runs commands (the network threads, and
// whichever thread holds a group commit) counts into a shard of its own:
// a command costs a few relaxed loads and stores on lines no other thread
// writes, never a contended atomic. INFO sums the shards.
// Commands with subcommands (CONFIG, CLIENT, SLOWLOG, ...) count per
// subcommand, as Redis 7's "config|get".
// Thread safety: every method from any thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "server/command_table.h"
#include "server/thread_annotations.h"

namespace ember::server {

class CommandStats {
 public:
  // Rejected: refused before it ran (arity, NOAUTH, unknown subcommand).
  // Failed: it ran and answered an error.
  enum class Outcome { kOk, kFailed, kRejected };

  CommandStats();
  ~CommandStats();
  CommandStats(const CommandStats&) = delete;
  CommandStats& operator=(const CommandStats&) = delete;

  // Counts `spec` (an entry of AllCommands()) called with `args`, which ran
  // for `ns` (0 when rejected) and answered `reply`.
  void Record(const CommandSpec& spec, const Args& args, uint64_t ns,
              Outcome outcome, std::string_view reply);
  // Counts an error reply ("-ERR ...") by its first word, for errorstats
  // and total_error_replies; Record does it for the replies it sees.
  void RecordError(std::string_view reply);
  // Socket bytes and calls, for total_net_*_bytes and total_*_processed.
  void RecordRead(uint64_t bytes);
  void RecordWrite(uint64_t bytes);
  // CONFIG RESETSTAT: every counter starts again from zero.
  void Reset();

  struct Totals {
    uint64_t commands = 0;  // calls (not rejected ones), as Redis counts
    uint64_t error_replies = 0;
    uint64_t net_input_bytes = 0, net_output_bytes = 0;
    uint64_t reads = 0, writes = 0;
  };
  Totals Sum() const EXCLUDES(mu_);
  // INFO's lines for each section, "\r\n"-terminated, no header.
  std::string CommandStatsText() const EXCLUDES(mu_);
  std::string ErrorStatsText() const EXCLUDES(mu_);
  std::string LatencyStatsText() const EXCLUDES(mu_);

 private:
  struct Counters;
  struct Shard;
  struct Summed;
  // The calling thread's shard (created on first use), zeroed first when
  // Reset ran since it last counted.
  Shard* Mine() EXCLUDES(mu_);
  // Every command and subcommand counted by a live shard (one not reset
  // since), summed, in table order with subcommands after their command;
  // with their merged histograms when `histograms`.
  std::vector<std::pair<std::string, Summed>> Collect(bool histograms) const
      REQUIRES(mu_);

  const uint64_t id_;  // tells this instance's thread-local cache apart
  std::vector<bool> has_subcommands_;    // by AllCommands() index
  std::atomic<uint64_t> generation_{1};  // bumped by Reset
  mutable Mutex mu_;
  std::vector<std::unique_ptr<Shard>> shards_ GUARDED_BY(mu_);
};

}  // namespace ember::server
