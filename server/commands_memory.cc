// server/commands_memory.cc: MEMORY USAGE, DOCTOR, STATS and HELP.
#include <cstdlib>
#include <string>

#include "protocol/resp_writer.h"
#include "server/command_meta.h"
#include "server/command_util.h"
#include "server/commands.h"
#include "server/server_info.h"

namespace ember::server {
namespace pr = ember::protocol;
namespace {

// The arena item's header (shm/arena_format.h, ItemHeader) and the expiry
// RocksDB keeps before each value (cold_store.h).
constexpr uint64_t kItemHeaderBytes = 24;
constexpr uint64_t kColdExpiryBytes = 8;

// MEMORY USAGE key [SAMPLES count]: what Ember holds for the key, in bytes:
// the arena chunk its item takes when it is hot (header + key + value,
// rounded up to its size class), plus with a cold tier the RocksDB record
// (key, 8-byte expiry, value; RocksDB's own per-record overhead and
// compression are not counted). SAMPLES is checked as Redis does and
// unused: a string has nothing to sample.
void Usage(const Args& a, CommandContext& ctx, std::string* reply) {
  for (size_t j = 3; j < a.size(); ++j) {
    if (ArgIs(a[j], "samples") && j + 1 < a.size()) {
      int64_t samples = 0;
      if (!ParseInt64(a[++j], &samples))
        return pr::AppendError(reply, kNotInteger);
      if (samples < 0) return pr::AppendError(reply, kSyntaxError);
    } else {
      return pr::AppendError(reply, kSyntaxError);
    }
  }
  Loaded v;
  if (!LoadOrReply(ctx, a[2], &v, reply)) return;
  if (!v.found) return pr::AppendNullBulk(reply);
  // The stored key: the database's byte, then the key (db_keyspace.h).
  const uint64_t kv = 1 + a[2].size() + v.value.size();
  uint64_t bytes = ctx.info->ArenaChunkBytes(kItemHeaderBytes + kv);
  if (ctx.info->config().cold_tier == ColdTier::kRocksDb)
    bytes += kv + kColdExpiryBytes;
  pr::AppendInteger(reply, static_cast<int64_t>(bytes));
}

// MEMORY STATS: the fields of INFO memory that have a MEMORY STATS name.
void Stats(CommandContext& ctx, std::string* reply) {
  const std::string info = ctx.info->InfoText("memory");
  auto field = [&info](std::string_view name) -> int64_t {
    std::string key = "\n";
    key += name;
    key += ':';
    const size_t at = info.find(key);
    if (at == std::string::npos) return 0;
    return std::strtoll(info.c_str() + at + key.size(), nullptr, 10);
  };
  const std::pair<const char*, const char*> kFields[] = {
      {"peak.allocated", "used_memory_peak"},
      {"total.allocated", "used_memory"},
      {"overhead.total", "used_memory_overhead"},
      {"dataset.bytes", "used_memory_dataset"},
  };
  pr::AppendArrayHeader(reply, 2 * std::size(kFields));
  for (const auto& [name, from] : kFields) {
    pr::AppendBulk(reply, name);
    pr::AppendInteger(reply, field(from));
  }
}

constexpr const char* kMemoryHelp[] = {
    "MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "DOCTOR",
    "    Return memory problems reports.",
    "STATS",
    "    Return information about the memory usage of the server.",
    "USAGE <key> [SAMPLES <count>]",
    "    Return memory in bytes used by <key> and its value: its arena chunk",
    "    and its RocksDB record. SAMPLES is accepted and unused.",
    "HELP",
    "    Print this help.",
};

}  // namespace

void CmdMemory(const Args& a, CommandContext& ctx, std::string* reply) {
  const CommandMeta* m = SubcommandOrReply("memory", a, reply);
  if (m == nullptr) return;
  const std::string_view sub = m->name + 7;  // past "memory|"
  if (sub == "usage") return Usage(a, ctx, reply);
  if (sub == "stats") return Stats(ctx, reply);
  if (sub == "doctor") {
    return pr::AppendBulk(
        reply,
        "Ember keeps values in a fixed arena (maxmemory, evicting with "
        "S3-FIFO) and in RocksDB; there is no fragmentation or peak to "
        "diagnose. INFO memory and the ember section show the arena's use.");
  }
  AppendHelp(reply, kMemoryHelp, std::size(kMemoryHelp));
}

}  // namespace ember::server
