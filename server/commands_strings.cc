// server/commands_strings.cc: GET SET SETNX SETEX PSETEX GETSET GETEX
// GETDEL MGET MSET MSETNX, with Redis's semantics and reply texts; the
// helpers every handler shares.
#include <limits>

#include "protocol/resp_writer.h"
#include "server/command_table.h"
#include "server/command_util.h"
#include "server/commands.h"
#include "server/server_info.h"
#include "shm/reclaimer.h"

namespace ember::server {
namespace pr = ember::protocol;

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

bool LoadOrReply(CommandContext& ctx, std::string_view key, Loaded* out,
                 std::string* reply) {
  const shm::Status s = ctx.keys->Load(key, &out->value, &out->expiry_ms);
  if (ReplyIfFailed(s, reply)) return false;
  out->found = s.ok();
  if (!out->found) out->value.clear(), out->expiry_ms = 0;
  return true;
}

namespace {

// The options of SET (from argument 3) and GETEX (from 2), read as Redis's
// parseExtendedStringArgumentsOrReply reads them: an expiry option may be
// repeated (the last one counts, and only it is parsed), two different
// ones conflict, and so do KEEPTTL or PERSIST with any of them.
struct StringOptions {
  enum Expire { kNone, kEx, kPx, kExAt, kPxAt };
  bool nx = false, xx = false, get = false, keepttl = false, persist = false;
  Expire kind = kNone;
  const std::string* when = nullptr;  // the expiry option's argument
};

bool ParseStringOptions(const Args& a, size_t from, bool for_set,
                        StringOptions* o) {
  static constexpr std::pair<std::string_view, StringOptions::Expire>
      kExpiries[] = {{"ex", StringOptions::kEx},
                     {"px", StringOptions::kPx},
                     {"exat", StringOptions::kExAt},
                     {"pxat", StringOptions::kPxAt}};
  for (size_t j = from; j < a.size(); ++j) {
    const std::string& opt = a[j];
    if (for_set && ArgIs(opt, "nx") && !o->xx) {
      o->nx = true;
    } else if (for_set && ArgIs(opt, "xx") && !o->nx) {
      o->xx = true;
    } else if (for_set && ArgIs(opt, "get")) {
      o->get = true;
    } else if (for_set && ArgIs(opt, "keepttl") &&
               o->kind == StringOptions::kNone) {
      o->keepttl = true;
    } else if (!for_set && ArgIs(opt, "persist") &&
               o->kind == StringOptions::kNone) {
      o->persist = true;
    } else {
      bool matched = false;
      for (const auto& [name, kind] : kExpiries) {
        if (ArgIs(opt, name) && !o->keepttl && !o->persist &&
            (o->kind == StringOptions::kNone || o->kind == kind) &&
            j + 1 < a.size()) {
          o->kind = kind;
          o->when = &a[++j];
          matched = true;
          break;
        }
      }
      if (!matched) return false;
    }
  }
  return true;
}

// Redis's getExpireMillisecondsOrReply: the option's expiry as Unix ms.
bool ExpiryMs(StringOptions::Expire kind, const std::string& when,
              const char* command, uint64_t* out, std::string* reply) {
  int64_t ms = 0;
  if (!ParseInt64(when, &ms)) {
    pr::AppendError(reply, kNotInteger);
    return false;
  }
  const bool secs = kind == StringOptions::kEx || kind == StringOptions::kExAt;
  const bool relative =
      kind == StringOptions::kEx || kind == StringOptions::kPx;
  const int64_t now = static_cast<int64_t>(shm::NowUnixMs());
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  if (ms <= 0 || (secs && ms > kMax / 1000) ||
      (relative && (secs ? ms * 1000 : ms) > kMax - now)) {
    pr::AppendError(reply, std::string("ERR invalid expire time in '") +
                               command + "' command");
    return false;
  }
  if (secs) ms *= 1000;
  *out = static_cast<uint64_t>(relative ? ms + now : ms);
  return true;
}

// Stores `value` for `key` with `expiry_ms`, or removes the key when that
// expiry has passed (an EXAT or PXAT in the past: set, then expired).
void StoreOrExpire(CommandContext& ctx, std::string_view key,
                   std::string_view value, uint64_t expiry_ms) {
  if (expiry_ms != 0 && expiry_ms <= shm::NowUnixMs()) {
    ctx.keys->Remove(key);
  } else {
    ctx.keys->Store(key, value, expiry_ms);
  }
}

// SET key value [NX|XX] [GET] [EX|PX|EXAT|PXAT t | KEEPTTL], and the SETNX
// SETEX PSETEX forms (setGenericCommand). `ok` and `abort` are the replies
// for a set and for an NX/XX refusal when GET is not given (null: +OK, nil).
void SetGeneric(const std::string& key, const std::string& value,
                const StringOptions& o, const char* command,
                CommandContext& ctx, std::string* reply,
                const char* ok = nullptr, const char* abort = nullptr) {
  uint64_t expiry = 0;
  if (o.when != nullptr && !ExpiryMs(o.kind, *o.when, command, &expiry, reply))
    return;
  Loaded old;
  // A plain SET need not read first.
  if ((o.nx || o.xx || o.get || o.keepttl) &&
      !LoadOrReply(ctx, key, &old, reply))
    return;
  if ((o.nx && old.found) || (o.xx && !old.found)) {
    if (o.get)
      return old.found ? pr::AppendBulk(reply, old.value)
                       : pr::AppendNullBulk(reply);
    if (abort == nullptr) return pr::AppendNullBulk(reply);
    reply->append(abort);
    return;
  }
  if (ReplyIfCannotStore(ctx, key, value.size(), reply)) return;
  if (o.keepttl && old.found) expiry = old.expiry_ms;
  StoreOrExpire(ctx, key, value, expiry);
  if (o.get) {
    return old.found ? pr::AppendBulk(reply, old.value)
                     : pr::AppendNullBulk(reply);
  }
  ok == nullptr ? pr::AppendOk(reply) : static_cast<void>(reply->append(ok));
}

}  // namespace

void CmdGet(const Args& a, CommandContext& ctx, std::string* reply) {
  Loaded v;
  if (!LoadOrReply(ctx, a[1], &v, reply)) return;
  v.found ? pr::AppendBulk(reply, v.value) : pr::AppendNullBulk(reply);
}

void CmdGetDel(const Args& a, CommandContext& ctx, std::string* reply) {
  Loaded v;
  if (!LoadOrReply(ctx, a[1], &v, reply)) return;
  if (!v.found) return pr::AppendNullBulk(reply);
  ctx.keys->Remove(a[1]);
  pr::AppendBulk(reply, v.value);
}

void CmdSet(const Args& a, CommandContext& ctx, std::string* reply) {
  StringOptions o;
  if (!ParseStringOptions(a, 3, /*for_set=*/true, &o))
    return pr::AppendError(reply, kSyntaxError);
  SetGeneric(a[1], a[2], o, "set", ctx, reply);
}

void CmdSetNx(const Args& a, CommandContext& ctx, std::string* reply) {
  StringOptions o;
  o.nx = true;
  SetGeneric(a[1], a[2], o, "setnx", ctx, reply, ":1\r\n", ":0\r\n");
}

void CmdSetEx(const Args& a, CommandContext& ctx, std::string* reply) {
  StringOptions o;
  o.kind = StringOptions::kEx;
  o.when = &a[2];
  SetGeneric(a[1], a[3], o, "setex", ctx, reply);
}

void CmdPSetEx(const Args& a, CommandContext& ctx, std::string* reply) {
  StringOptions o;
  o.kind = StringOptions::kPx;
  o.when = &a[2];
  SetGeneric(a[1], a[3], o, "psetex", ctx, reply);
}

void CmdGetSet(const Args& a, CommandContext& ctx, std::string* reply) {
  Loaded old;
  if (!LoadOrReply(ctx, a[1], &old, reply)) return;
  if (ReplyIfCannotStore(ctx, a[1], a[2].size(), reply)) return;
  ctx.keys->Store(a[1], a[2], 0);  // the TTL goes, as with SET
  old.found ? pr::AppendBulk(reply, old.value) : pr::AppendNullBulk(reply);
}

// GETEX key [EX|PX|EXAT|PXAT t | PERSIST]: options first, then the key (a
// missing one is nil whatever its expiry says), then the expiry's value.
void CmdGetEx(const Args& a, CommandContext& ctx, std::string* reply) {
  StringOptions o;
  if (!ParseStringOptions(a, 2, /*for_set=*/false, &o))
    return pr::AppendError(reply, kSyntaxError);
  Loaded v;
  if (!LoadOrReply(ctx, a[1], &v, reply)) return;
  if (!v.found) return pr::AppendNullBulk(reply);
  uint64_t expiry = 0;
  if (o.when != nullptr && !ExpiryMs(o.kind, *o.when, "getex", &expiry, reply))
    return;
  const bool change = o.when != nullptr || (o.persist && v.expiry_ms != 0);
  // Stored already; checked all the same (Store requires it).
  if (change && ReplyIfCannotStore(ctx, a[1], v.value.size(), reply)) return;
  if (change) StoreOrExpire(ctx, a[1], v.value, expiry);
  pr::AppendBulk(reply, v.value);
}

void CmdMGet(const Args& a, CommandContext& ctx, std::string* reply) {
  std::string body;
  for (size_t i = 1; i < a.size(); ++i) {
    Loaded v;
    if (!LoadOrReply(ctx, a[i], &v, reply)) return;
    v.found ? pr::AppendBulk(&body, v.value) : pr::AppendNullBulk(&body);
  }
  pr::AppendArrayHeader(reply, a.size() - 1);
  reply->append(body);
}

// MSET and MSETNX (msetGenericCommand): all or nothing, every pair checked
// before the first is stored; a repeated key gets its last value.
static void MSetGeneric(const Args& a, bool nx, CommandContext& ctx,
                        std::string* reply) {
  if (a.size() % 2 != 1) {
    return pr::AppendError(reply,
                           std::string("ERR wrong number of arguments for '") +
                               (nx ? "msetnx" : "mset") + "' command");
  }
  for (size_t i = 1; nx && i < a.size(); i += 2) {
    Loaded v;
    if (!LoadOrReply(ctx, a[i], &v, reply)) return;
    if (v.found) return pr::AppendInteger(reply, 0);
  }
  for (size_t i = 1; i < a.size(); i += 2) {
    if (ReplyIfCannotStore(ctx, a[i], a[i + 1].size(), reply)) return;
  }
  for (size_t i = 1; i < a.size(); i += 2) ctx.keys->Store(a[i], a[i + 1], 0);
  nx ? pr::AppendInteger(reply, 1) : pr::AppendOk(reply);
}

void CmdMSet(const Args& a, CommandContext& ctx, std::string* reply) {
  MSetGeneric(a, /*nx=*/false, ctx, reply);
}
void CmdMSetNx(const Args& a, CommandContext& ctx, std::string* reply) {
  MSetGeneric(a, /*nx=*/true, ctx, reply);
}

}  // namespace ember::server
