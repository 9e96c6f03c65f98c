// server/commands_counters.cc: INCR INCRBY DECR DECRBY INCRBYFLOAT, with
// Redis's semantics and reply texts. Each keeps the key's TTL.
#include <cmath>
#include <limits>

#include "protocol/resp_writer.h"
#include "server/command_table.h"
#include "server/command_util.h"
#include "server/commands.h"

namespace ember::server {
namespace pr = ember::protocol;

// INCR, DECR, INCRBY, DECRBY: the value as a 64-bit integer, TTL kept.
static void AddTo(const std::string& key, int64_t delta, CommandContext& ctx,
                  std::string* reply) {
  Loaded v;
  if (!LoadOrReply(ctx, key, &v, reply)) return;
  int64_t cur = 0;
  if (v.found && !ParseInt64(v.value, &cur))
    return pr::AppendError(reply, kNotInteger);
  if ((delta > 0 && cur > std::numeric_limits<int64_t>::max() - delta) ||
      (delta < 0 && cur < std::numeric_limits<int64_t>::min() - delta)) {
    return pr::AppendError(reply, "ERR increment or decrement would overflow");
  }
  cur += delta;
  const std::string text = std::to_string(cur);
  if (ReplyIfCannotStore(ctx, key, text.size(), reply)) return;
  ctx.keys->Store(key, text, v.expiry_ms);
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

// INCRBYFLOAT key increment: in long double (x86's 80 bits, as Redis),
// written back in Redis's human format ("%.17Lf", trailing zeros gone), so
// 10.5 + 0.1 is "10.6" and 1e308 + 1e308 is a 309-digit integer.
void CmdIncrByFloat(const Args& a, CommandContext& ctx, std::string* reply) {
  Loaded v;
  if (!LoadOrReply(ctx, a[1], &v, reply)) return;
  long double value = 0, incr = 0;
  if ((v.found && !ParseLongDouble(v.value, &value)) ||
      !ParseLongDouble(a[2], &incr)) {
    return pr::AppendError(reply, kNotFloat);
  }
  value += incr;
  if (std::isnan(value) || std::isinf(value)) {
    return pr::AppendError(reply,
                           "ERR increment would produce NaN or Infinity");
  }
  const std::string text = FormatLongDouble(value);
  if (ReplyIfCannotStore(ctx, a[1], text.size(), reply)) return;
  ctx.keys->Store(a[1], text, v.expiry_ms);
  pr::AppendBulk(reply, text);
}

}  // namespace ember::server
