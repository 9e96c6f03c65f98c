// server/commands_keys.cc: DEL UNLINK EXISTS EXPIRE PEXPIRE TTL PTTL
// PERSIST TYPE DBSIZE FLUSHALL SCAN.
#include <limits>

#include "protocol/resp_writer.h"
#include "server/command_table.h"
#include "server/command_util.h"
#include "server/commands.h"
#include "server/server_info.h"
#include "shm/reclaimer.h"

namespace ember::server {
namespace pr = ember::protocol;

// How many of the keys in a[1..] exist (each counted as often as named),
// removing them when `remove`. False when the cold tier failed (replied).
static bool CountExisting(const Args& a, CommandContext& ctx, bool remove,
                          int64_t* n, std::string* reply) {
  *n = 0;
  for (size_t i = 1; i < a.size(); ++i) {
    std::string v;
    uint64_t expiry = 0;
    shm::Status s = ctx.keys->Load(a[i], &v, &expiry);
    if (ReplyIfFailed(s, reply)) return false;
    if (!s.ok()) continue;
    ++*n;
    if (remove) ctx.keys->Remove(a[i]);
  }
  return true;
}

void CmdDel(const Args& a, CommandContext& ctx, std::string* reply) {
  int64_t n = 0;
  if (CountExisting(a, ctx, /*remove=*/true, &n, reply))
    pr::AppendInteger(reply, n);
}

void CmdExists(const Args& a, CommandContext& ctx, std::string* reply) {
  int64_t n = 0;
  if (CountExisting(a, ctx, /*remove=*/false, &n, reply))
    pr::AppendInteger(reply, n);
}

// EXPIRE / PEXPIRE key time [NX | XX | GT | LT].
static void SetExpiry(const Args& a, CommandContext& ctx, int64_t unit_ms,
                      const char* name, std::string* reply) {
  int64_t t = 0;
  if (!ParseInt64(a[2], &t)) return pr::AppendError(reply, kNotInteger);
  bool nx = false, xx = false, gt = false, lt = false;
  for (size_t i = 3; i < a.size(); ++i) {
    const std::string o = Lower(a[i]);
    if (o == "nx")
      nx = true;
    else if (o == "xx")
      xx = true;
    else if (o == "gt")
      gt = true;
    else if (o == "lt")
      lt = true;
    else
      return pr::AppendError(reply,
                             std::string("ERR Unsupported option ") + a[i]);
  }
  if ((nx && (xx || gt || lt)) || (gt && lt)) {
    return pr::AppendError(
        reply,
        "ERR NX and XX, GT or LT options at the same time are not compatible");
  }
  const int64_t now = static_cast<int64_t>(shm::NowUnixMs());
  if (t > (std::numeric_limits<int64_t>::max() - now) / unit_ms ||
      t < (std::numeric_limits<int64_t>::min() + now) / unit_ms) {
    return pr::AppendError(reply, std::string("ERR invalid expire time in '") +
                                      name + "' command");
  }
  const int64_t when = now + t * unit_ms;
  std::string v;
  uint64_t cur = 0;
  shm::Status s = ctx.keys->Load(a[1], &v, &cur);
  if (ReplyIfFailed(s, reply)) return;
  if (!s.ok()) return pr::AppendInteger(reply, 0);
  // No TTL counts as an infinite one for GT and LT, as in Redis.
  if ((nx && cur != 0) || (xx && cur == 0) ||
      (gt && (cur == 0 || when <= static_cast<int64_t>(cur))) ||
      (lt && cur != 0 && when >= static_cast<int64_t>(cur))) {
    return pr::AppendInteger(reply, 0);
  }
  if (when <= now) {
    ctx.keys->Remove(a[1]);
  } else {
    // It is stored already; checked all the same (Store requires it).
    if (ReplyIfCannotStore(ctx, a[1], v.size(), reply)) return;
    ctx.keys->Store(a[1], v, static_cast<uint64_t>(when));
  }
  pr::AppendInteger(reply, 1);
}

void CmdExpire(const Args& a, CommandContext& ctx, std::string* reply) {
  SetExpiry(a, ctx, 1000, "expire", reply);
}
void CmdPExpire(const Args& a, CommandContext& ctx, std::string* reply) {
  SetExpiry(a, ctx, 1, "pexpire", reply);
}

static void ReplyTtl(const Args& a, CommandContext& ctx, bool ms,
                     std::string* reply) {
  std::string v;
  uint64_t expiry = 0;
  shm::Status s = ctx.keys->Load(a[1], &v, &expiry);
  if (ReplyIfFailed(s, reply)) return;
  if (!s.ok()) return pr::AppendInteger(reply, -2);
  if (expiry == 0) return pr::AppendInteger(reply, -1);
  const uint64_t now = shm::NowUnixMs();
  const int64_t left = expiry > now ? static_cast<int64_t>(expiry - now) : 0;
  pr::AppendInteger(reply, ms ? left : (left + 500) / 1000);
}

void CmdTtl(const Args& a, CommandContext& ctx, std::string* reply) {
  ReplyTtl(a, ctx, false, reply);
}
void CmdPTtl(const Args& a, CommandContext& ctx, std::string* reply) {
  ReplyTtl(a, ctx, true, reply);
}

void CmdPersist(const Args& a, CommandContext& ctx, std::string* reply) {
  std::string v;
  uint64_t expiry = 0;
  shm::Status s = ctx.keys->Load(a[1], &v, &expiry);
  if (ReplyIfFailed(s, reply)) return;
  if (!s.ok() || expiry == 0) return pr::AppendInteger(reply, 0);
  if (ReplyIfCannotStore(ctx, a[1], v.size(), reply)) return;
  ctx.keys->Store(a[1], v, 0);
  pr::AppendInteger(reply, 1);
}

void CmdType(const Args& a, CommandContext& ctx, std::string* reply) {
  std::string v;
  uint64_t expiry = 0;
  shm::Status s = ctx.keys->Load(a[1], &v, &expiry);
  if (ReplyIfFailed(s, reply)) return;
  pr::AppendSimpleString(reply, s.ok() ? "string" : "none");
}

void CmdDbSize(const Args&, CommandContext& ctx, std::string* reply) {
  pr::AppendInteger(reply, static_cast<int64_t>(ctx.keys->CountKeys()));
}

void CmdFlushAll(const Args& a, CommandContext& ctx, std::string* reply) {
  if (a.size() > 2 ||
      (a.size() == 2 && Lower(a[1]) != "sync" && Lower(a[1]) != "async")) {
    return pr::AppendError(reply, kSyntaxError);
  }
  ctx.keys->RemoveAll();
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
    const std::string o = Lower(a[i]);
    if (i + 1 >= a.size()) return pr::AppendError(reply, kSyntaxError);
    if (o == "match") {
      pattern = a[++i];
    } else if (o == "count") {
      if (!ParseInt64(a[++i], &count))
        return pr::AppendError(reply, kNotInteger);
      if (count < 1) return pr::AppendError(reply, kSyntaxError);
    } else if (o == "type") {
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
  std::string body;
  size_t n = 0;
  for (const auto& k : keys) {
    if ((type.empty() || type == "string") && GlobMatch(pattern, k)) {
      pr::AppendBulk(&body, k);
      ++n;
    }
  }
  pr::AppendArrayHeader(reply, 2);
  pr::AppendBulk(reply, std::to_string(next_cursor));
  pr::AppendArrayHeader(reply, n);
  reply->append(body);
}

}  // namespace ember::server
