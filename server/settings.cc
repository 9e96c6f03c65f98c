// server/settings.cc: the table of settings (its types are in
// setting_types.h), lookup by Ember's or Redis's name, and --help.
#include "server/settings.h"

#include <sstream>

#include "server/command_util.h"
#include "server/setting_types.h"

namespace ember::server {
namespace {

using namespace setting_types;  // NOLINT: the table reads as a table

constexpr Named<shm::HugePages> kHugePages[] = {{"try", shm::HugePages::kTry},
                                                {"on", shm::HugePages::kOn},
                                                {"off", shm::HugePages::kOff}};
constexpr Named<FsyncMode> kFsync[] = {{"always", FsyncMode::kAlways},
                                       {"everysec", FsyncMode::kEverySec},
                                       {"no", FsyncMode::kNo}};
constexpr Named<ColdTier> kColdTier[] = {{"rocksdb", ColdTier::kRocksDb},
                                         {"none", ColdTier::kNone}};
constexpr Named<LogLevel> kLogLevel[] = {{"debug", LogLevel::kDebug},
                                         {"info", LogLevel::kInfo},
                                         {"warning", LogLevel::kWarning},
                                         {"error", LogLevel::kError}};
constexpr Named<DebugCommand> kDebug[] = {{"no", DebugCommand::kNo},
                                          {"yes", DebugCommand::kYes},
                                          {"local", DebugCommand::kLocal}};

constexpr Named<bool> kYesNo[] = {{"yes", true}, {"no", false}};

constexpr bool kRuntime = true, kFixed = false;

constexpr Setting Row(std::string_view name, std::string_view alias,
                      Codec codec, std::string_view def, std::string_view unit,
                      bool runtime, std::string_view doc) {
  return {name,    alias, codec.type,  def,          unit,
          runtime, doc,   codec.parse, codec.format, codec.path};
}

using C = Config;
// clang-format off
constexpr Setting kSettings[] = {
  Row("bind", "bind", String<&C::bind>(), "127.0.0.1", "", kFixed,
      "TCP address for RESP2 clients."),
  Row("port", "port", Uint<&C::port, 0, 65535>(), "7379", "", kFixed,
      "TCP port for RESP2 clients; 0: any free port (CONFIG GET port then "
      "answers the one in use)."),
  Row("unix_socket", "unixsocket", Path<&C::unix_socket>(),
      "/tmp/ember/ember.sock", "", kFixed,
      "Unix socket for RESP2 clients; \"\" disables it."),
  Row("unix_socket_mode", "", Octal<&C::unix_socket_mode, 0777>(), "0660", "",
      kFixed, "Permission bits of the Unix socket."),
  Row("run_dir", "", Path<&C::run_dir>(), "/tmp/ember", "", kFixed,
      "The arena's lock file and attach socket: created 0750, refused when "
      "another user's or open to others."),
  Row("threads", "", UintOrAuto<&C::threads, 1, 256>(), "auto", "threads",
      kFixed,
      "Network threads, each an event loop; auto: one less than the cores "
      "the server may run on, at least 1 (INFO network_threads shows it)."),
  Row("name", "", String<&C::name>(), "default", "", kFixed,
      "Arena instance name: shared memory /dev/shm/ember.<name>.data."),
  Row("arena_bytes", "maxmemory", Bytes<&C::arena_bytes, 0, kMaxU>(), "256mb",
      "bytes", kFixed,
      "Size of the shared-memory arena, the hot tier (Redis's maxmemory)."),
  Row("page_bytes", "", Bytes<&C::page_bytes, 4096, 64u << 20>(), "1mb",
      "bytes", kFixed,
      "Slab page size, a multiple of 4096: the largest item kept hot."),
  Row("max_value_bytes_hot", "",
      Bytes<&C::max_value_bytes_hot, 0, kMaxU>(), "256kb", "bytes", kFixed,
      "Larger values live in RocksDB only; at most page_bytes - 64 KiB."),
  Row("reader_lease_ms", "", Uint<&C::reader_lease_ms, 1, 3600000>(), "1000",
      "ms", kRuntime,
      "A local read held longer while the arena is short of memory is "
      "revoked."),
  Row("huge_pages", "", Choice<&C::huge_pages, kHugePages>(), "try", "",
      kFixed,
      "Transparent huge pages for the arena: try, on (required) or off."),
  Row("databases", "databases", Uint<&C::databases, 1, 256>(), "16", "",
      kFixed,
      "Databases, SELECT 0 to databases - 1; a key's database is its first "
      "stored byte (so user keys are at most 65534 bytes hot)."),
  Row("warm_restart", "", Choice<&C::warm_restart, kYesNo>(), "yes", "",
      kFixed,
      "Keep the arena a killed or stopped server left (checked item by item, "
      "reconciled with the log); no: every start is cold."),
  Row("data_dir", "", Path<&C::data_dir>(), "./data", "", kFixed,
      "Where RocksDB keeps every key (created if missing)."),
  Row("log_dir", "", Path<&C::log_dir>(), "", "", kFixed,
      "The redo log's segments (created 0750); \"\": <data_dir>/redo."),
  Row("log_segment_bytes", "",
      Bytes<&C::log_segment_bytes, 1u << 20, uint64_t{1} << 40>(), "64mb",
      "bytes", kFixed,
      "Size of a redo log segment, preallocated; deleted once RocksDB holds "
      "its writes on disk."),
  Row("fsync", "appendfsync", Choice<&C::fsync, kFsync>(), "everysec", "",
      kFixed,
      "When the redo log reaches the disk: before every group commit's "
      "replies, once a second, or when the OS decides."),
  Row("dirty_max_bytes", "", Bytes<&C::dirty_max_bytes, 1u << 20, kMaxU>(),
      "128mb", "bytes", kFixed,
      "Committed writes RocksDB does not hold yet, at most; at the cap "
      "commits wait for the applier."),
  Row("applier_delay_ms", "", Uint<&C::applier_delay_ms, 0, 60000>(), "1000",
      "ms", kFixed,
      "How long a write may wait for more writes to the same keys before "
      "the applier writes it to RocksDB."),
  Row("applier_max_lag_ms", "", Uint<&C::applier_max_lag_ms, 1, 3600000>(),
      "10000", "ms", kFixed,
      "When the oldest write RocksDB does not hold is this old, commits "
      "wait for the applier."),
  Row("cold_tier", "", Choice<&C::cold_tier, kColdTier>(), "rocksdb", "",
      kFixed,
      "rocksdb: logged, then written back, nothing lost; none: a pure "
      "cache that evicts."),
  Row("requirepass", "requirepass", String<&C::requirepass>(), "", "",
      kRuntime,
      "Password for AUTH; empty: none. A new one applies to new connections."),
  Row("max_clients", "maxclients", Uint<&C::max_clients, 1, 1000000>(),
      "10000", "connections", kRuntime,
      "Connections at once; more are refused. Lowered at start when the "
      "open-files limit cannot fit it."),
  Row("proto_max_bulk_len", "proto-max-bulk-len",
      Bytes<&C::proto_max_bulk_len, 1024, uint64_t{kMaxI}>(), "512mb",
      "bytes", kRuntime, "Largest bulk string accepted in a request."),
  Row("log_level", "", Choice<&C::log_level, kLogLevel>(), "info", "",
      kRuntime, "Least severe log lines printed."),
  Row("enable_debug_command", "enable-debug-command",
      Choice<&C::enable_debug_command, kDebug>(), "no", "", kFixed,
      "DEBUG from nobody, anyone, or local connections (Unix socket, "
      "loopback)."),
  Row("slowlog_log_slower_than", "slowlog-log-slower-than",
      Int<&C::slowlog_log_slower_than, -1, kMaxI>(), "10000", "us", kRuntime,
      "Commands that run at least this long go to SLOWLOG; -1: none, 0: "
      "all."),
  Row("slowlog_max_len", "slowlog-max-len",
      Uint<&C::slowlog_max_len, 0, uint64_t{kMaxI}>(), "128", "entries",
      kRuntime, "Entries SLOWLOG keeps; the oldest go first."),
  Row("latency_monitor_threshold", "latency-monitor-threshold",
      Uint<&C::latency_monitor_threshold, 0, uint64_t{kMaxI}>(), "0", "ms",
      kRuntime,
      "LATENCY records commands that take at least this long; 0: off."),
  Row("client_output_buffer_limit", "",
      Bytes<&C::client_output_buffer_limit, 0, kMaxU>(), "1gb", "bytes",
      kRuntime,
      "Reply bytes a client may leave unread; past it its connection is "
      "closed (0: no limit)."),
  Row("client_query_buffer_limit", "client-query-buffer-limit",
      Bytes<&C::client_query_buffer_limit, 1u << 20, uint64_t{kMaxI}>(),
      "1gb", "bytes", kRuntime,
      "Request bytes a connection may buffer before they make a command; "
      "past it the connection is closed."),
};
// clang-format on

std::string AppendOnly(const Config& c) {
  return c.cold_tier == ColdTier::kRocksDb ? "yes" : "no";
}

constexpr RedisView kViews[] = {
    // No RDB snapshots: redis-benchmark and others ask.
    {"save", [](const Config&) { return std::string(); }},
    // The redo log plays the part of the AOF.
    {"appendonly", AppendOnly},
    // The arena evicts by S3-FIFO with CLOCK, whatever the cold tier.
    {"maxmemory-policy",
     [](const Config&) { return std::string("s3fifo-clock"); }},
};

}  // namespace

std::span<const Setting> AllSettings() { return kSettings; }

const Setting* FindSetting(std::string_view name) {
  const std::string lower = Lower(name);
  for (const Setting& s : kSettings) {
    if (lower == s.name || (!s.alias.empty() && lower == s.alias)) return &s;
  }
  return nullptr;
}

std::span<const RedisView> RedisViews() { return kViews; }

Config::Config() {
  std::string why;
  for (const Setting& s : kSettings) {
    const bool ok = s.parse(s.default_value, this, &why);
    (void)ok;  // SettingsTest.EveryDefaultParses checks each row
  }
}

std::string SettingsHelp() {
  std::ostringstream o;
  o << "usage: ember-server [CONFIG_FILE] [--key value | --key=value ...]\n"
       "  -h, --help       print this help\n"
       "  --config FILE    the config file (or the first argument)\n\n"
       "Settings (file: key = value; command line: --key value; Redis's "
       "name, in\nparentheses, works too). Byte counts take k/kb, m/mb, g/gb "
       "(powers of 1024).\n\"runtime\": CONFIG SET may change it while the "
       "server runs.\n\n";
  for (const Setting& s : kSettings) {
    o << "  " << s.name;
    if (!s.alias.empty() && s.alias != s.name) o << " (" << s.alias << ")";
    const std::string type = s.type();
    o << "  " << type;
    if (!s.unit.empty() && !type.starts_with("bytes")) o << " in " << s.unit;
    o << ", default "
      << (s.default_value.empty() ? "\"\"" : std::string(s.default_value));
    if (s.runtime) o << ", runtime";
    o << "\n      " << s.doc << "\n";
  }
  return o.str();
}

const char* FsyncName(FsyncMode m) {
  for (const auto& n : kFsync) {
    if (n.value == m) return n.name.data();
  }
  return "?";
}

std::string LogDirOf(const Config& c) {
  return c.log_dir.empty() ? c.data_dir + "/redo" : c.log_dir;
}

const char* ColdTierName(ColdTier t) {
  return t == ColdTier::kRocksDb ? "rocksdb" : "none";
}

}  // namespace ember::server
