// server/stats.h: counters for INFO, bumped with relaxed atomics from any
// thread. Per-command counters (and so total_commands_processed) are not
// here: they are per thread, in command_stats.h. Each event loop has its
// own Stats for the counters its reads bump (Server::NetStatsFor); INFO
// sums them.
// Thread safety: every member is atomic.
#pragma once

#include <atomic>
#include <cstdint>

namespace ember::server {

struct Stats {
  std::atomic<uint64_t> connections_received{0};
  std::atomic<uint64_t> connected_clients{0};
  std::atomic<uint64_t> rejected_connections{0};
  std::atomic<uint64_t> hot_hits{0};    // found in the arena
  std::atomic<uint64_t> dirty_hits{0};  // in the dirty table after a hot miss
  std::atomic<uint64_t> cold_hits{0};   // found in RocksDB after a hot miss
  std::atomic<uint64_t> misses{0};      // in neither tier
  std::atomic<uint64_t> promotions{0};  // cold hits copied into the arena
  std::atomic<uint64_t> fills_dropped{0};  // promotions refused (a newer write)
  std::atomic<uint64_t> group_commits{0};
  std::atomic<uint64_t> inline_commits{0};    // of those, on a network thread
  std::atomic<uint64_t> writes_committed{0};  // keys written to the cold tier
  std::atomic<uint64_t> cold_write_errors{0};
  // cold_tier none: keys whose old value the arena could not take back
  // after it refused a write to them (they are gone, as if evicted).
  std::atomic<uint64_t> oom_keys_dropped{0};
  std::atomic<uint64_t> protocol_errors{0};
  // Connections closed for a limit (client_query_buffer_limit,
  // client_output_buffer_limit).
  std::atomic<uint64_t> query_buffer_disconnections{0};
  std::atomic<uint64_t> output_buffer_disconnections{0};
};

}  // namespace ember::server
