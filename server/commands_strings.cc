// server/commands_strings.cc: GET SET GETDEL MGET MSET INCR INCRBY DECR
// DECRBY APPEND STRLEN, with Redis's semantics and reply texts.
#include <limits>

#include "protocol/resp_writer.h"
#include "server/command_table.h"
#include "server/command_util.h"
#include "server/commands.h"
#include "server/server_info.h"
#include "shm/reclaimer.h"

namespace ember::server {
namespace pr = ember::protocol;

// Appends the cold tier's error, if any, and returns true when it did.
bool ReplyIfFailed(const shm::Status& s, std::string* reply) {
  if (s.ok() || s.IsNotFound()) return false;
  pr::AppendError(reply, "ERR " + s.ToString());
  return true;
}

bool ReplyIfCannotStore(CommandContext& ctx, std::string_view key,
                        size_t value_bytes, std::string* reply) {
  const shm::Status s = ctx.keys->CheckStore(key, value_bytes);
  if (s.ok()) return false;
  pr::AppendError(reply, s.message());
  return true;
}

void CmdGet(const Args& a, CommandContext& ctx, std::string* reply) {
  std::string v;
  uint64_t expiry = 0;
  shm::Status s = ctx.keys->Load(a[1], &v, &expiry);
  if (ReplyIfFailed(s, reply)) return;
  s.ok() ? pr::AppendBulk(reply, v) : pr::AppendNullBulk(reply);
}

void CmdGetDel(const Args& a, CommandContext& ctx, std::string* reply) {
  std::string v;
  uint64_t expiry = 0;
  shm::Status s = ctx.keys->Load(a[1], &v, &expiry);
  if (ReplyIfFailed(s, reply)) return;
  if (!s.ok()) return pr::AppendNullBulk(reply);
  ctx.keys->Remove(a[1]);
  pr::AppendBulk(reply, v);
}

void CmdSet(const Args& a, CommandContext& ctx, std::string* reply) {
  bool nx = false, xx = false, get = false, keepttl = false;
  int expiry_kind = 0;  // 0 none, else the option that set it
  int64_t n = 0;
  uint64_t expiry = 0;
  for (size_t i = 3; i < a.size(); ++i) {
    const std::string opt = Lower(a[i]);
    if (opt == "nx" && !xx) {
      nx = true;
    } else if (opt == "xx" && !nx) {
      xx = true;
    } else if (opt == "get") {
      get = true;
    } else if (opt == "keepttl" && expiry_kind == 0) {
      keepttl = true;
    } else if ((opt == "ex" || opt == "px" || opt == "exat" || opt == "pxat") &&
               expiry_kind == 0 && !keepttl && i + 1 < a.size()) {
      if (!ParseInt64(a[++i], &n)) return pr::AppendError(reply, kNotInteger);
      const bool secs = opt == "ex" || opt == "exat";
      if (n <= 0 || (secs && n > std::numeric_limits<int64_t>::max() / 1000)) {
        return pr::AppendError(reply,
                               "ERR invalid expire time in 'set' command");
      }
      const uint64_t ms = static_cast<uint64_t>(secs ? n * 1000 : n);
      const bool relative = opt == "ex" || opt == "px";
      const uint64_t now = shm::NowUnixMs();
      if (relative &&
          ms > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) -
                   now) {
        return pr::AppendError(reply,
                               "ERR invalid expire time in 'set' command");
      }
      expiry = relative ? now + ms : ms;
      expiry_kind = 1;
    } else {
      return pr::AppendError(reply, kSyntaxError);
    }
  }
  if (ReplyIfCannotStore(ctx, a[1], a[2].size(), reply)) return;
  std::string old;
  uint64_t old_expiry = 0;
  bool exists = false;
  if (nx || xx || get || keepttl) {  // a plain SET need not read first
    shm::Status s = ctx.keys->Load(a[1], &old, &old_expiry);
    if (ReplyIfFailed(s, reply)) return;
    exists = s.ok();
  }
  if ((nx && exists) || (xx && !exists)) {
    return get && exists ? pr::AppendBulk(reply, old)
                         : pr::AppendNullBulk(reply);
  }
  if (keepttl && exists) expiry = old_expiry;
  if (expiry != 0 && expiry <= shm::NowUnixMs()) {
    ctx.keys->Remove(a[1]);  // EXAT/PXAT in the past: set, then expired
  } else {
    ctx.keys->Store(a[1], a[2], expiry);
  }
  if (!get) return pr::AppendOk(reply);
  exists ? pr::AppendBulk(reply, old) : pr::AppendNullBulk(reply);
}

void CmdMGet(const Args& a, CommandContext& ctx, std::string* reply) {
  std::string body;
  for (size_t i = 1; i < a.size(); ++i) {
    std::string v;
    uint64_t expiry = 0;
    shm::Status s = ctx.keys->Load(a[i], &v, &expiry);
    if (ReplyIfFailed(s, reply)) return;
    s.ok() ? pr::AppendBulk(&body, v) : pr::AppendNullBulk(&body);
  }
  pr::AppendArrayHeader(reply, a.size() - 1);
  reply->append(body);
}

void CmdMSet(const Args& a, CommandContext& ctx, std::string* reply) {
  if (a.size() % 2 != 1) {
    return pr::AppendError(reply,
                           "ERR wrong number of arguments for 'mset' command");
  }
  // All or nothing: every pair is checked before the first is stored.
  for (size_t i = 1; i < a.size(); i += 2) {
    if (ReplyIfCannotStore(ctx, a[i], a[i + 1].size(), reply)) return;
  }
  for (size_t i = 1; i < a.size(); i += 2) ctx.keys->Store(a[i], a[i + 1], 0);
  pr::AppendOk(reply);
}

// INCR, DECR, INCRBY, DECRBY: the value as a 64-bit integer, TTL kept.
static void AddTo(const std::string& key, int64_t delta, CommandContext& ctx,
                  std::string* reply) {
  std::string v;
  uint64_t expiry = 0;
  shm::Status s = ctx.keys->Load(key, &v, &expiry);
  if (ReplyIfFailed(s, reply)) return;
  int64_t cur = 0;
  if (s.ok() && !ParseInt64(v, &cur))
    return pr::AppendError(reply, kNotInteger);
  if ((delta > 0 && cur > std::numeric_limits<int64_t>::max() - delta) ||
      (delta < 0 && cur < std::numeric_limits<int64_t>::min() - delta)) {
    return pr::AppendError(reply, "ERR increment or decrement would overflow");
  }
  cur += delta;
  const std::string text = std::to_string(cur);
  if (ReplyIfCannotStore(ctx, key, text.size(), reply)) return;
  ctx.keys->Store(key, text, s.ok() ? expiry : 0);
  pr::AppendInteger(reply, cur);
}

void CmdIncr(const Args& a, CommandContext& ctx, std::string* reply) {
  AddTo(a[1], 1, ctx, reply);
}
void CmdDecr(const Args& a, CommandContext& ctx, std::string* reply) {
  AddTo(a[1], -1, ctx, reply);
}
void CmdIncrBy(const Args& a, CommandContext& ctx, std::string* reply) {
  int64_t d = 0;
  if (!ParseInt64(a[2], &d)) return pr::AppendError(reply, kNotInteger);
  AddTo(a[1], d, ctx, reply);
}
void CmdDecrBy(const Args& a, CommandContext& ctx, std::string* reply) {
  int64_t d = 0;
  if (!ParseInt64(a[2], &d)) return pr::AppendError(reply, kNotInteger);
  if (d == std::numeric_limits<int64_t>::min()) {
    return pr::AppendError(reply, "ERR decrement would overflow");
  }
  AddTo(a[1], -d, ctx, reply);
}

void CmdAppend(const Args& a, CommandContext& ctx, std::string* reply) {
  std::string v;
  uint64_t expiry = 0;
  shm::Status s = ctx.keys->Load(a[1], &v, &expiry);
  if (ReplyIfFailed(s, reply)) return;
  v += a[2];
  if (v.size() > ctx.info->config().proto_max_bulk_len) {
    return pr::AppendError(
        reply, "ERR string exceeds maximum allowed size (proto-max-bulk-len)");
  }
  if (ReplyIfCannotStore(ctx, a[1], v.size(), reply)) return;
  ctx.keys->Store(a[1], v, s.ok() ? expiry : 0);
  pr::AppendInteger(reply, static_cast<int64_t>(v.size()));
}

void CmdStrLen(const Args& a, CommandContext& ctx, std::string* reply) {
  std::string v;
  uint64_t expiry = 0;
  shm::Status s = ctx.keys->Load(a[1], &v, &expiry);
  if (ReplyIfFailed(s, reply)) return;
  pr::AppendInteger(reply, s.ok() ? static_cast<int64_t>(v.size()) : 0);
}

}  // namespace ember::server
