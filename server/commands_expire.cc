// server/commands_expire.cc: EXPIRE PEXPIRE EXPIREAT PEXPIREAT (NX XX GT
// LT) TTL PTTL EXPIRETIME PEXPIRETIME PERSIST, with Redis's semantics and
// reply texts.
#include <limits>

#include "protocol/resp_writer.h"
#include "server/command_table.h"
#include "server/command_util.h"
#include "server/commands.h"
#include "shm/reclaimer.h"

namespace ember::server {
namespace pr = ember::protocol;

// Redis's expireGenericCommand: EXPIRE (base now, seconds), PEXPIRE (now,
// ms), EXPIREAT (0, seconds), PEXPIREAT (0, ms) key time [NX|XX|GT|LT].
// The options are checked before the time; a time already past deletes.
static void ExpireGeneric(const Args& a, CommandContext& ctx, bool relative,
                          bool seconds, const char* name, std::string* reply) {
  bool nx = false, xx = false, gt = false, lt = false;
  for (size_t i = 3; i < a.size(); ++i) {
    if (ArgIs(a[i], "nx")) {
      nx = true;
    } else if (ArgIs(a[i], "xx")) {
      xx = true;
    } else if (ArgIs(a[i], "gt")) {
      gt = true;
    } else if (ArgIs(a[i], "lt")) {
      lt = true;
    } else {
      return pr::AppendError(
          reply, "ERR Unsupported option " + std::string(CStr(a[i])));
    }
  }
  if (nx && (xx || gt || lt)) {
    return pr::AppendError(
        reply,
        "ERR NX and XX, GT or LT options at the same time are not compatible");
  }
  if (gt && lt) {
    return pr::AppendError(
        reply, "ERR GT and LT options at the same time are not compatible");
  }
  int64_t when = 0;
  if (!ParseInt64(a[2], &when)) return pr::AppendError(reply, kNotInteger);
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  const std::string bad =
      std::string("ERR invalid expire time in '") + name + "' command";
  if (seconds) {
    if (when > kMax / 1000 || when < kMin / 1000)
      return pr::AppendError(reply, bad);
    when *= 1000;
  }
  const int64_t now = static_cast<int64_t>(shm::NowUnixMs());
  const int64_t base = relative ? now : 0;
  if (when > kMax - base) return pr::AppendError(reply, bad);
  when += base;
  Loaded v;
  if (!LoadOrReply(ctx, a[1], &v, reply)) return;
  if (!v.found) return pr::AppendInteger(reply, 0);
  const int64_t cur = static_cast<int64_t>(v.expiry_ms);
  // No TTL counts as an infinite one for GT and LT, as in Redis.
  if ((nx && cur != 0) || (xx && cur == 0) ||
      (gt && (cur == 0 || when <= cur)) || (lt && cur != 0 && when >= cur)) {
    return pr::AppendInteger(reply, 0);
  }
  if (when <= now) {
    ctx.keys->Remove(a[1]);
  } else {
    // It is stored already; checked all the same (Store requires it).
    if (ReplyIfCannotStore(ctx, a[1], v.value.size(), reply)) return;
    ctx.keys->Store(a[1], v.value, static_cast<uint64_t>(when));
  }
  pr::AppendInteger(reply, 1);
}

void CmdExpire(const Args& a, CommandContext& ctx, std::string* reply) {
  ExpireGeneric(a, ctx, /*relative=*/true, /*seconds=*/true, "expire", reply);
}
void CmdPExpire(const Args& a, CommandContext& ctx, std::string* reply) {
  ExpireGeneric(a, ctx, /*relative=*/true, /*seconds=*/false, "pexpire", reply);
}
void CmdExpireAt(const Args& a, CommandContext& ctx, std::string* reply) {
  ExpireGeneric(a, ctx, /*relative=*/false, /*seconds=*/true, "expireat",
                reply);
}
void CmdPExpireAt(const Args& a, CommandContext& ctx, std::string* reply) {
  ExpireGeneric(a, ctx, /*relative=*/false, /*seconds=*/false, "pexpireat",
                reply);
}

// Redis's ttlGenericCommand: -2 missing, -1 no expiry, else the time left
// (or the expiry itself with `absolute`) in ms, or in seconds rounded.
static void ReplyTtl(const Args& a, CommandContext& ctx, bool ms, bool absolute,
                     std::string* reply) {
  Loaded v;
  if (!LoadOrReply(ctx, a[1], &v, reply)) return;
  if (!v.found) return pr::AppendInteger(reply, -2);
  if (v.expiry_ms == 0) return pr::AppendInteger(reply, -1);
  const uint64_t now = shm::NowUnixMs();
  uint64_t t = v.expiry_ms;
  if (!absolute) t = v.expiry_ms > now ? v.expiry_ms - now : 0;
  // Unsigned, so that the rounding cannot overflow (Redis's GCC build
  // divides unsigned too: PEXPIREAT INT64_MAX gives 9223372036854776).
  pr::AppendInteger(reply, static_cast<int64_t>(ms ? t : (t + 500) / 1000));
}

void CmdTtl(const Args& a, CommandContext& ctx, std::string* reply) {
  ReplyTtl(a, ctx, /*ms=*/false, /*absolute=*/false, reply);
}
void CmdPTtl(const Args& a, CommandContext& ctx, std::string* reply) {
  ReplyTtl(a, ctx, /*ms=*/true, /*absolute=*/false, reply);
}
void CmdExpireTime(const Args& a, CommandContext& ctx, std::string* reply) {
  ReplyTtl(a, ctx, /*ms=*/false, /*absolute=*/true, reply);
}
void CmdPExpireTime(const Args& a, CommandContext& ctx, std::string* reply) {
  ReplyTtl(a, ctx, /*ms=*/true, /*absolute=*/true, reply);
}

void CmdPersist(const Args& a, CommandContext& ctx, std::string* reply) {
  Loaded v;
  if (!LoadOrReply(ctx, a[1], &v, reply)) return;
  if (!v.found || v.expiry_ms == 0) return pr::AppendInteger(reply, 0);
  if (ReplyIfCannotStore(ctx, a[1], v.value.size(), reply)) return;
  ctx.keys->Store(a[1], v.value, 0);
  pr::AppendInteger(reply, 1);
}

}  // namespace ember::server
