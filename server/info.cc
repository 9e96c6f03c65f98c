// server/info.cc: the INFO text, in Redis's "# Section\r\nkey:value\r\n"
// form so client libraries parse it unchanged.
#include <sys/resource.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "server/server.h"
#include "shm/reclaimer.h"

namespace ember::server {
namespace {

uint64_t RssBytes() {
  std::ifstream in("/proc/self/statm");
  uint64_t pages = 0, rss = 0;
  in >> pages >> rss;
  return rss * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

}  // namespace

std::string Server::InfoText(std::string_view section) {
  const bool all = section.empty() || section == "default" ||
                   section == "all" || section == "everything";
  auto want = [&](std::string_view s) { return all || section == s; };
  std::ostringstream o;
  auto line = [&](const char* k, auto v) { o << k << ':' << v << "\r\n"; };
  auto load = [](const std::atomic<uint64_t>& a) {
    return a.load(std::memory_order_relaxed);
  };
  const shm::ArenaHeader& h = arena_->header();
  if (want("server")) {
    o << "# Server\r\n";
    line("redis_version", "7.0.0");
    line("ember_version", "0.1.0");
    line("redis_mode", "standalone");
    line("process_id", getpid());
    line("tcp_port", tcp_port_);
    line("uptime_in_seconds", (shm::NowUnixMs() - start_unix_ms_) / 1000);
    line("config_file", config_.config_file);
    line("arena_name", config_.name);
    o << "\r\n";
  }
  if (want("clients")) {
    o << "# Clients\r\n";
    line("connected_clients", load(stats_.connected_clients));
    line("maxclients", config_.max_clients.get());
    line("local_readers", load(h.stats.live_readers));
    o << "\r\n";
  }
  if (want("memory")) {
    o << "# Memory\r\n";
    line("used_memory_rss", RssBytes());
    line("arena_bytes", h.segment_bytes);
    line("arena_huge_bytes", load(h.stats.huge_bytes));
    line("arena_items", load(h.stats.items));
    line("arena_kv_bytes", load(h.stats.kv_bytes));
    line("arena_chunk_bytes", load(h.stats.chunk_bytes));
    line("arena_free_pages", load(h.stats.free_pages));
    line("arena_retired_pending", load(h.stats.retired_pending));
    line("maxmemory_policy", "s3fifo-clock");
    o << "\r\n";
  }
  if (want("persistence")) {
    o << "# Persistence\r\n";
    line("cold_tier", ColdTierName(config_.cold_tier));
    line("aof_enabled", config_.cold_tier == ColdTier::kRocksDb ? 1 : 0);
    line("fsync", FsyncName(config_.fsync));
    line("rocksdb_sequence", cold_ ? cold_->LatestSequence() : 0);
    line("rocksdb_bytes", cold_ ? cold_->ApproximateBytes() : 0);
    line("group_commits", load(stats_.group_commits));
    line("group_commits_inline", load(stats_.inline_commits));
    line("writes_committed", load(stats_.writes_committed));
    line("cold_write_errors", load(stats_.cold_write_errors));
    // Redis's name; "err" once RocksDB failed a write (writes refused).
    line("aof_last_write_status",
         cold_ && cold_->write_failed() ? "err" : "ok");
    o << "\r\n";
  }
  if (want("stats")) {
    o << "# Stats\r\n";
    const uint64_t hot = load(stats_.hot_hits), cold = load(stats_.cold_hits);
    line("total_connections_received", load(stats_.connections_received));
    line("rejected_connections", load(stats_.rejected_connections));
    line("total_commands_processed", load(stats_.commands_processed));
    line("keyspace_hits", hot + cold);
    line("keyspace_misses", load(stats_.misses));
    line("hot_hits", hot);
    line("cold_hits", cold);
    line("promotions", load(stats_.promotions));
    line("promotions_dropped", load(stats_.fills_dropped));
    // Less what they were at CONFIG RESETSTAT (the arena's own counters).
    const uint64_t evicted =
        load(h.stats.evictions) + load(h.stats.index_evictions);
    const uint64_t evicted_base = load(evicted_keys_base_);
    line("evicted_keys", evicted > evicted_base ? evicted - evicted_base : 0);
    line("arena_put_failures", load(h.stats.put_failures));
    line("oom_keys_dropped", load(stats_.oom_keys_dropped));
    line("reader_revocations", load(h.stats.revocations));
    line("total_error_replies_protocol", load(stats_.protocol_errors));
    o << "\r\n";
  }
  if (want("keyspace")) {
    o << "# Keyspace\r\n";
    uint64_t expires = 0;
    const uint64_t keys =
        cold_ ? cold_->CountLive(&expires) : load(h.stats.items);
    if (keys > 0)
      o << "db0:keys=" << keys << ",expires=" << expires << ",avg_ttl=0\r\n";
    o << "\r\n";
  }
  if (want("ember")) {
    o << "# Ember\r\n";
    line("reader_lease_ms", arena_->reader_lease_ms());  // the reclaimer's
    o << "\r\n";
  }
  return o.str();
}

}  // namespace ember::server
