// server/info.cc: the INFO text, laid out as Redis 7 lays it out
// ("# Section\r\nkey:value\r\n", the same sections in the same order and
// Redis's field names), so client libraries and monitoring tools read it
// unchanged; Ember's own fields sit beside them and in "# Ember".
#include <malloc.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cinttypes>
#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>

#include "server/keyspaces.h"
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

// Redis's bytesToHuman: 669.13K, 11.70M, 200B.
// Free text as one INFO value: one line, and no ',' or '=' (redis-py and
// others split a value holding both into fields).
std::string InfoValue(std::string_view text) {
  std::string v(text);
  for (char& c : v) {
    if (c == '\r' || c == '\n') c = ' ';
    if (c == ',') c = ';';
    if (c == '=') c = ':';
  }
  return v;
}

std::string Human(uint64_t n) {
  const char* units = "KMGTPE";
  if (n < 1024) return std::to_string(n) + "B";
  double d = static_cast<double>(n) / 1024;
  int u = 0;
  while (d >= 1024 && u < 5) d /= 1024, ++u;
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.2f%c", d, units[u]);
  return buf;
}

std::string Fixed(double v, int digits) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.*f", digits, v);
  return buf;
}

std::string Seconds(const timeval& tv) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%ld.%06ld", static_cast<long>(tv.tv_sec),
                static_cast<long>(tv.tv_usec));
  return buf;
}

// Redis's: "default" and "" are these; "all" and "everything" add
// commandstats and latencystats.
const std::set<std::string, std::less<>> kDefault = {
    "server", "clients", "memory",     "persistence", "stats",    "replication",
    "cpu",    "modules", "errorstats", "cluster",     "keyspace", "ember"};

}  // namespace

uint64_t Server::UsedMemory() {
  const struct mallinfo2 mi = mallinfo2();
  const uint64_t used =
      mi.uordblks + mi.hblkhd +
      arena_->header().stats.chunk_bytes.load(std::memory_order_relaxed);
  uint64_t peak = used_memory_peak_.load(std::memory_order_relaxed);
  while (used > peak && !used_memory_peak_.compare_exchange_weak(peak, used)) {
  }
  return used;
}

std::string Server::InfoText(std::string_view sections) {
  std::set<std::string, std::less<>> want;
  std::istringstream names{std::string(sections)};
  for (std::string s; names >> s;) {
    if (s == "default") {
      want.insert(kDefault.begin(), kDefault.end());
    } else if (s == "all" || s == "everything") {
      want.insert(kDefault.begin(), kDefault.end());
      want.insert({"commandstats", "latencystats"});
    } else {
      want.insert(s);
    }
  }
  if (want.empty()) want = kDefault;
  std::ostringstream o;
  bool first = true;
  auto section = [&](std::string_view name, std::string_view title) {
    if (!want.count(name)) return false;
    if (!first) o << "\r\n";
    first = false;
    o << "# " << title << "\r\n";
    return true;
  };
  auto line = [&](const char* k, const auto& v) {
    o << k << ':' << v << "\r\n";
  };
  auto load = [](const std::atomic<uint64_t>& a) {
    return a.load(std::memory_order_relaxed);
  };
  const shm::ArenaHeader& h = arena_->header();
  const uint64_t now_ms = shm::NowUnixMs();
  const uint64_t uptime_s = (now_ms - start_unix_ms_) / 1000;
  if (section("server", "Server")) {
    utsname u{};
    uname(&u);
    char exe[4096] = {0};
    const ssize_t exe_len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    line("redis_version", "7.0.0");  // the Redis API level Ember follows
    line("redis_git_sha1", "00000000");
    line("redis_git_dirty", 0);
    line("redis_build_id", "0");
    line("redis_mode", "standalone");
    line("os", std::string(u.sysname) + " " + u.release + " " + u.machine);
    line("arch_bits", sizeof(void*) * 8);
    line("multiplexing_api", "epoll");
    line("atomicvar_api", "c11-builtin");
    line("gcc_version", std::to_string(__GNUC__) + "." +
                            std::to_string(__GNUC_MINOR__) + "." +
                            std::to_string(__GNUC_PATCHLEVEL__));
    line("process_id", getpid());
    line("process_supervised", "no");
    line("run_id", run_id_);
    line("tcp_port", tcp_port_);
    line("server_time_usec", now_ms * 1000);
    line("uptime_in_seconds", uptime_s);
    line("uptime_in_days", uptime_s / 86400);
    line("executable", exe_len > 0 ? std::string(exe, exe_len) : "");
    line("config_file", config_.config_file);
    line("ember_version", "0.1.0");
    line("arena_name", config_.name);
  }
  if (section("clients", "Clients")) {
    line("connected_clients", load(stats_.connected_clients));
    line("cluster_connections", 0);
    line("maxclients", config_.max_clients.get());
    line("blocked_clients", 0);
    line("tracking_clients", 0);
    line("clients_in_timeout_table", 0);
    line("local_readers", load(h.stats.live_readers));
  }
  if (section("memory", "Memory")) {
    const uint64_t used = UsedMemory();
    const uint64_t peak = std::max(used, load(used_memory_peak_));
    const uint64_t rss = RssBytes();
    const uint64_t dataset = load(h.stats.kv_bytes);
    const uint64_t system = static_cast<uint64_t>(sysconf(_SC_PHYS_PAGES)) *
                            static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
    line("used_memory", used);
    line("used_memory_human", Human(used));
    line("used_memory_rss", rss);
    line("used_memory_rss_human", Human(rss));
    line("used_memory_peak", peak);
    line("used_memory_peak_human", Human(peak));
    line("used_memory_peak_perc", Fixed(100.0 * used / peak, 2) + "%");
    line("used_memory_overhead", used > dataset ? used - dataset : 0);
    line("used_memory_dataset", dataset);
    line("used_memory_dataset_perc", Fixed(100.0 * dataset / used, 2) + "%");
    line("total_system_memory", system);
    line("total_system_memory_human", Human(system));
    line("maxmemory", h.segment_bytes);
    line("maxmemory_human", Human(h.segment_bytes));
    line("maxmemory_policy", "s3fifo-clock");
    line("mem_fragmentation_ratio", Fixed(static_cast<double>(rss) / used, 2));
    line("mem_fragmentation_bytes",
         static_cast<int64_t>(rss) - static_cast<int64_t>(used));
    line("mem_allocator", "libc");
    line("arena_bytes", h.segment_bytes);
    line("arena_huge_bytes", load(h.stats.huge_bytes));
    line("arena_items", load(h.stats.items));
    line("arena_kv_bytes", dataset);
    line("arena_chunk_bytes", load(h.stats.chunk_bytes));
    line("arena_free_pages", load(h.stats.free_pages));
    line("arena_retired_pending", load(h.stats.retired_pending));
  }
  if (section("persistence", "Persistence")) {
    const bool rocks = config_.cold_tier == ColdTier::kRocksDb;
    line("loading", 0);
    line("async_loading", 0);
    line("rdb_bgsave_in_progress", 0);
    line("rdb_last_bgsave_status", "ok");
    line("aof_enabled", rocks ? 1 : 0);  // the redo log plays the AOF
    line("aof_rewrite_in_progress", 0);
    line("aof_rewrite_scheduled", 0);
    line("aof_last_bgrewrite_status", "ok");
    // "err" once the log or RocksDB failed a write.
    line("aof_last_write_status",
         (log_ && log_->failed()) || (cold_ && cold_->write_failed()) ? "err"
                                                                      : "ok");
    line("cold_tier", ColdTierName(config_.cold_tier));
    line("fsync", FsyncName(config_.fsync));
    line("rocksdb_sequence", cold_ ? cold_->LatestSequence() : 0);
    line("rocksdb_bytes", cold_ ? cold_->ApproximateBytes() : 0);
    line("group_commits", load(stats_.group_commits));
    line("group_commits_inline", load(stats_.inline_commits));
    line("writes_committed", load(stats_.writes_committed));
    line("cold_write_errors", load(stats_.cold_write_errors));
    if (rocks) {
      const DirtyTable::Counters d = dirty_->counters();
      line("log_dir", log_->dir());
      line("log_bytes", log_->bytes());
      line("log_segments", log_->segments());
      line("log_syncs", log_->syncs());
      line("log_status", log_->failed() ? "err" : "ok");
      line("committed_lsn", d.committed_lsn);
      line("applied_lsn", d.applied_lsn);
      line("dirty_keys", d.keys);
      line("dirty_bytes", d.bytes);
      line("applier_lag_ms", d.lag_ms);
      line("applier_batches", d.batches);
      line("applier_passes", d.passes);
      line("applier_keys", d.applied_keys);
      line("applier_flushes", applier_->flushes());
      line("applier_status", d.failed ? "err" : "ok");
      line("backpressure_waits", d.waits);
      line("recovery_records", recovery_.log.records);
      line("recovery_bytes", recovery_.log.bytes);
      line("recovery_ms", recovery_.ms);
      line("recovery_dropped",
           recovery_.log.dropped.empty() ? "none" : "torn_tail");
    }
    line("arena_start", arena_start_.warm ? "warm" : "cold");
    line("arena_start_reason", arena_start_.warm
                                   ? std::string("none")
                                   : InfoValue(arena_start_.reason));
    line("arena_start_items_kept", arena_start_.kept);
    line("arena_start_items_dropped", arena_start_.dropped);
    line("arena_start_ms", arena_start_.ms);
    line("arena_generation", h.generation.load(std::memory_order_relaxed));
  }
  if (section("stats", "Stats")) {
    const CommandStats::Totals t = telemetry_.commands.Sum();
    const InstantaneousRates::Rates r = telemetry_.rates.Get();
    const uint64_t hot = SumNet(&Stats::hot_hits);
    const uint64_t dirty = SumNet(&Stats::dirty_hits);
    const uint64_t cold = SumNet(&Stats::cold_hits);
    const uint64_t evicted =
        load(h.stats.evictions) + load(h.stats.index_evictions);
    const uint64_t evicted_base = load(evicted_keys_base_);
    line("total_connections_received", load(stats_.connections_received));
    line("total_commands_processed", t.commands);
    line("instantaneous_ops_per_sec", r.ops_per_sec);
    line("total_net_input_bytes", t.net_input_bytes);
    line("total_net_output_bytes", t.net_output_bytes);
    line("instantaneous_input_kbps", Fixed(r.input_kbps, 2));
    line("instantaneous_output_kbps", Fixed(r.output_kbps, 2));
    line("rejected_connections", load(stats_.rejected_connections));
    const uint64_t expired = ExpiredKeys();
    const uint64_t expired_base = load(expired_keys_base_);
    line("expired_keys", expired > expired_base ? expired - expired_base : 0);
    line("evicted_keys", evicted > evicted_base ? evicted - evicted_base : 0);
    line("evicted_clients", 0);
    line("keyspace_hits", hot + dirty + cold);
    line("keyspace_misses", SumNet(&Stats::misses));
    line("pubsub_channels", 0);
    line("pubsub_patterns", 0);
    line("total_error_replies", t.error_replies);
    line("total_reads_processed", t.reads);
    line("total_writes_processed", t.writes);
    line("client_query_buffer_limit_disconnections",
         load(stats_.query_buffer_disconnections));
    line("client_output_buffer_limit_disconnections",
         load(stats_.output_buffer_disconnections));
    line("hot_hits", hot);
    line("dirty_hits", dirty);
    line("cold_hits", cold);
    line("promotions", load(stats_.promotions));
    line("promotions_dropped", load(stats_.fills_dropped));
    line("arena_put_failures", load(h.stats.put_failures));
    line("oom_keys_dropped", load(stats_.oom_keys_dropped));
    line("reader_revocations", load(h.stats.revocations));
    line("total_error_replies_protocol", load(stats_.protocol_errors));
  }
  if (section("replication", "Replication")) {
    line("role", "master");
    line("connected_slaves", 0);
    line("master_failover_state", "no-failover");
    line("master_replid", run_id_);
    line("master_replid2", std::string(40, '0'));
    line("master_repl_offset", 0);
    line("second_repl_offset", -1);
    line("repl_backlog_active", 0);
    line("repl_backlog_size", 0);
    line("repl_backlog_first_byte_offset", 0);
    line("repl_backlog_histlen", 0);
  }
  if (section("cpu", "CPU")) {
    rusage self{}, children{};
    getrusage(RUSAGE_SELF, &self);
    getrusage(RUSAGE_CHILDREN, &children);
    line("used_cpu_sys", Seconds(self.ru_stime));
    line("used_cpu_user", Seconds(self.ru_utime));
    line("used_cpu_sys_children", Seconds(children.ru_stime));
    line("used_cpu_user_children", Seconds(children.ru_utime));
  }
  section("modules", "Modules");
  if (section("commandstats", "Commandstats"))
    o << telemetry_.commands.CommandStatsText();
  if (section("errorstats", "Errorstats"))
    o << telemetry_.commands.ErrorStatsText();
  if (section("latencystats", "Latencystats"))
    o << telemetry_.commands.LatencyStatsText();
  if (section("cluster", "Cluster")) line("cluster_enabled", 0);
  if (section("keyspace", "Keyspace")) {
    SyncCounts(dirty_.get(), cold_.get());  // exact now (DBSIZE's)
    // One line per database holding keys; without a cold tier the arena
    // cannot tell databases apart, and db0 shows every item.
    const DbMap map = writer_->PublishedDbMap();  // one moment's (SWAPDB)
    for (uint32_t db = 0; db < (cold_ ? config_.databases : 1); ++db) {
      uint64_t expires = 0;
      const uint64_t keys =
          cold_ ? cold_->CountKeysDb(map[db], &expires) : load(h.stats.items);
      if (keys > 0) {
        o << "db" << db << ":keys=" << keys << ",expires=" << expires
          << ",avg_ttl=0\r\n";
      }
    }
  }
  if (section("ember", "Ember")) {
    line("network_threads", io_.size());
    line("reader_lease_ms", arena_->reader_lease_ms());
    line("open_files_limit", open_files_limit_);
    line("open_files_reserved", open_files_reserved_);
    MutexLock lock(&cursor_mu_);
    line("scan_cursors", cursors_.size());
  }
  return o.str();
}

}  // namespace ember::server
