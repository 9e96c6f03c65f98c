// server/commands_db.cc: DBSIZE FLUSHALL FLUSHDB SWAPDB SCAN KEYS RANDOMKEY,
// the database index of SELECT MOVE COPY, and the server's clock and
// replication answers TIME and WAIT.
#include <limits>

#include "protocol/resp_writer.h"
#include "server/command_table.h"
#include "server/command_util.h"
#include "server/commands.h"
#include "server/glob_pattern.h"
#include "server/server_info.h"
#include "shm/clock.h"

namespace ember::server {
namespace pr = ember::protocol;

void CmdDbSize(const Args&, CommandContext& ctx, std::string* reply) {
  pr::AppendInteger(reply, static_cast<int64_t>(ctx.keys->CountKeys()));
}

int DbIndexOrReply(CommandContext& ctx, std::string_view arg,
                   std::string* reply) {
  int64_t db = 0;
  if (!ParseInt64(arg, &db)) {
    pr::AppendError(reply, kNotInteger);
    return -1;
  }
  if (db < std::numeric_limits<int>::min() ||
      db > std::numeric_limits<int>::max()) {
    pr::AppendError(reply,
                    "ERR value is out of range, value must between "
                    "-2147483648 and 2147483647");
    return -1;
  }
  if (db < 0 || db >= static_cast<int64_t>(ctx.info->config().databases)) {
    pr::AppendError(reply, "ERR DB index is out of range");
    return -1;
  }
  return static_cast<int>(db);
}

namespace {

bool FlushArgsOrReply(const Args& a, std::string* reply) {
  if (a.size() > 2 ||
      (a.size() == 2 && !ArgIs(a[1], "sync") && !ArgIs(a[1], "async"))) {
    pr::AppendError(reply, kSyntaxError);
    return false;
  }
  return true;
}

}  // namespace

// FLUSHALL [ASYNC|SYNC]: every database (one clear mark).
void CmdFlushAll(const Args& a, CommandContext& ctx, std::string* reply) {
  if (!FlushArgsOrReply(a, reply)) return;
  ctx.stored->RemoveAll();
  pr::AppendOk(reply);
}

// FLUSHDB [ASYNC|SYNC]: the session's database (DbKeyspace::RemoveAll).
void CmdFlushDb(const Args& a, CommandContext& ctx, std::string* reply) {
  if (!FlushArgsOrReply(a, reply)) return;
  ctx.keys->RemoveAll();
  pr::AppendOk(reply);
}

// SWAPDB index1 index2: the two databases trade their keys, for every
// client (a client in one sees the other's keys next). O(1): two entries of
// the database map change (Keyspace::SwapDb), logged as one record.
void CmdSwapDb(const Args& a, CommandContext& ctx, std::string* reply) {
  int64_t db[2] = {0, 0};
  const char* what[2] = {"ERR invalid first DB index",
                         "ERR invalid second DB index"};
  for (int i = 0; i < 2; ++i) {
    if (!ParseInt64(a[1 + i], &db[i]) ||
        db[i] < std::numeric_limits<int>::min() ||
        db[i] > std::numeric_limits<int>::max()) {
      return pr::AppendError(reply, what[i]);
    }
  }
  const auto n = static_cast<int64_t>(ctx.info->config().databases);
  if (db[0] < 0 || db[0] >= n || db[1] < 0 || db[1] >= n)
    return pr::AppendError(reply, "ERR DB index is out of range");
  ctx.stored->SwapDb(static_cast<uint8_t>(db[0]), static_cast<uint8_t>(db[1]));
  pr::AppendOk(reply);
}

// SCAN cursor [MATCH pattern] [COUNT count] [TYPE type].
void CmdScan(const Args& a, CommandContext& ctx, std::string* reply) {
  int64_t cursor = 0, count = 10;
  if (!ParseInt64(a[1], &cursor) || cursor < 0) {
    return pr::AppendError(reply, "ERR invalid cursor");
  }
  std::string pattern = "*", type;
  for (size_t i = 2; i < a.size(); ++i) {
    if (i + 1 >= a.size()) return pr::AppendError(reply, kSyntaxError);
    if (ArgIs(a[i], "match")) {
      pattern = a[++i];
    } else if (ArgIs(a[i], "count")) {
      if (!ParseInt64(a[++i], &count))
        return pr::AppendError(reply, kNotInteger);
      if (count < 1) return pr::AppendError(reply, kSyntaxError);
    } else if (ArgIs(a[i], "type")) {
      type = Lower(a[++i]);
    } else {
      return pr::AppendError(reply, kSyntaxError);
    }
  }
  std::string from;
  if (cursor != 0 &&
      !ctx.info->RecallCursor(static_cast<uint64_t>(cursor), &from)) {
    return pr::AppendError(reply, "ERR invalid cursor");
  }
  std::vector<std::string> keys;
  const std::string next = ctx.keys->Scan(
      from, static_cast<size_t>(std::min<int64_t>(count, 100000)), &keys);
  const uint64_t next_cursor =
      next.empty() ? 0 : ctx.info->RememberCursor(next);
  const GlobPattern glob(pattern);
  std::string body;
  size_t n = 0;
  for (const auto& k : keys) {
    if ((type.empty() || type == "string") &&
        (glob.match_all() || glob.Match(k))) {
      pr::AppendBulk(&body, k);
      ++n;
    }
  }
  pr::AppendArrayHeader(reply, 2);
  pr::AppendBulk(reply, std::to_string(next_cursor));
  pr::AppendArrayHeader(reply, n);
  reply->append(body);
}

// KEYS pattern: every live key that matches, in key order (Redis's order
// is its hash table's). One pass over the keyspace, each key matched in
// O(pattern x key) steps.
void CmdKeys(const Args& a, CommandContext& ctx, std::string* reply) {
  const GlobPattern glob(a[1]);
  std::string body;
  size_t n = 0;
  std::string cursor;
  do {
    std::vector<std::string> page;
    cursor = ctx.keys->Scan(cursor, 4096, &page);
    for (const auto& k : page) {
      if (glob.match_all() || glob.Match(k)) {
        pr::AppendBulk(&body, k);
        ++n;
      }
    }
  } while (!cursor.empty());
  pr::AppendArrayHeader(reply, n);
  reply->append(body);
}

void CmdRandomKey(const Args&, CommandContext& ctx, std::string* reply) {
  std::string key;
  const shm::Status s = ctx.keys->RandomKey(&key);
  if (ReplyIfFailed(s, reply)) return;
  s.ok() ? pr::AppendBulk(reply, key) : pr::AppendNullBulk(reply);
}

// TIME: Unix seconds and the microseconds within that second.
void CmdTime(const Args&, CommandContext&, std::string* reply) {
  const uint64_t us = shm::NowUnixUs();
  pr::AppendArrayHeader(reply, 2);
  pr::AppendBulk(reply, std::to_string(us / 1000000));
  pr::AppendBulk(reply, std::to_string(us % 1000000));
}

// WAIT numreplicas timeout: Ember has no replicas, so 0 at once (a write is
// durable in RocksDB when it is answered). Redis blocks for the timeout
// when numreplicas > 0.
void CmdWait(const Args& a, CommandContext&, std::string* reply) {
  int64_t replicas = 0, timeout = 0;
  if (!ParseInt64(a[1], &replicas)) return pr::AppendError(reply, kNotInteger);
  if (!ParseInt64(a[2], &timeout)) {
    return pr::AppendError(reply,
                           "ERR timeout is not an integer or out of range");
  }
  if (timeout < 0) return pr::AppendError(reply, "ERR timeout is negative");
  pr::AppendInteger(reply, 0);
}

}  // namespace ember::server
