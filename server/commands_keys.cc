// server/commands_keys.cc: DEL UNLINK EXISTS TOUCH TYPE RENAME RENAMENX COPY
// MOVE OBJECT, with Redis's semantics and reply texts.
#include <limits>

#include "protocol/resp_writer.h"
#include "server/command_table.h"
#include "server/command_util.h"
#include "server/commands.h"
#include "server/db_keyspace.h"

namespace ember::server {
namespace pr = ember::protocol;

// How many of the keys in a[1..] exist (each counted as often as named),
// removing them when `remove`. False when the cold tier failed (replied).
static bool CountExisting(const Args& a, CommandContext& ctx, bool remove,
                          int64_t* n, std::string* reply) {
  *n = 0;
  for (size_t i = 1; i < a.size(); ++i) {
    Loaded v;
    if (!LoadOrReply(ctx, a[i], &v, reply)) return false;
    if (!v.found) continue;
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

// EXISTS and TOUCH (Ember keeps no access times to touch).
void CmdExists(const Args& a, CommandContext& ctx, std::string* reply) {
  int64_t n = 0;
  if (CountExisting(a, ctx, /*remove=*/false, &n, reply))
    pr::AppendInteger(reply, n);
}

void CmdType(const Args& a, CommandContext& ctx, std::string* reply) {
  Loaded v;
  if (!LoadOrReply(ctx, a[1], &v, reply)) return;
  pr::AppendSimpleString(reply, v.found ? "string" : "none");
}

// RENAME and RENAMENX key newkey: the value moves with its TTL; a key
// renamed to itself is left alone (but must exist).
static void RenameGeneric(const Args& a, bool nx, CommandContext& ctx,
                          std::string* reply) {
  Loaded src;
  if (!LoadOrReply(ctx, a[1], &src, reply)) return;
  if (!src.found) return pr::AppendError(reply, "ERR no such key");
  if (a[1] == a[2])
    return nx ? pr::AppendInteger(reply, 0) : pr::AppendOk(reply);
  if (nx) {
    Loaded dst;
    if (!LoadOrReply(ctx, a[2], &dst, reply)) return;
    if (dst.found) return pr::AppendInteger(reply, 0);
  }
  if (ReplyIfCannotStore(ctx, a[2], src.value.size(), reply)) return;
  ctx.keys->Store(a[2], src.value, src.expiry_ms);
  ctx.keys->Remove(a[1]);
  nx ? pr::AppendInteger(reply, 1) : pr::AppendOk(reply);
}

void CmdRename(const Args& a, CommandContext& ctx, std::string* reply) {
  RenameGeneric(a, /*nx=*/false, ctx, reply);
}
void CmdRenameNx(const Args& a, CommandContext& ctx, std::string* reply) {
  RenameGeneric(a, /*nx=*/true, ctx, reply);
}

namespace {

// COPY's and MOVE's work: `from` of the session's database to `to_key` of
// database `db` (as clients number it) with its expiry, unless `from` is
// missing or `to_key` is there and not `replace` (0). `move`: `from` goes.
// Both changes are one job of one group commit.
void CopyAcrossDb(CommandContext& ctx, std::string_view from,
                  std::string_view to_key, int db, bool replace, bool move,
                  std::string* reply) {
  DbKeyspace target(ctx.stored, static_cast<uint8_t>(db));
  CommandContext to{&target, ctx.session, ctx.info, ctx.stored};
  Loaded src, dst;
  if (!LoadOrReply(ctx, from, &src, reply)) return;
  if (!src.found) return pr::AppendInteger(reply, 0);
  if (!LoadOrReply(to, to_key, &dst, reply)) return;
  if (dst.found && !replace) return pr::AppendInteger(reply, 0);
  if (ReplyIfCannotStore(to, to_key, src.value.size(), reply)) return;
  target.Store(to_key, src.value, src.expiry_ms);
  if (move) ctx.keys->Remove(from);
  pr::AppendInteger(reply, 1);
}

}  // namespace

// COPY source destination [DB destination-db] [REPLACE]: into the session's
// database or another.
void CmdCopy(const Args& a, CommandContext& ctx, std::string* reply) {
  bool replace = false;
  int db = ctx.session->db;
  for (size_t j = 3; j < a.size(); ++j) {
    if (ArgIs(a[j], "replace")) {
      replace = true;
    } else if (ArgIs(a[j], "db") && j + 1 < a.size()) {
      db = DbIndexOrReply(ctx, a[++j], reply);
      if (db < 0) return;
    } else {
      return pr::AppendError(reply, kSyntaxError);
    }
  }
  if (db == ctx.session->db && a[1] == a[2]) {
    return pr::AppendError(reply,
                           "ERR source and destination objects are the same");
  }
  CopyAcrossDb(ctx, a[1], a[2], db, replace, /*move=*/false, reply);
}

// MOVE key db: to another database, with its expiry, unless the key is
// there already (0). One job of one group commit: both changes are
// published, logged and applied together.
void CmdMove(const Args& a, CommandContext& ctx, std::string* reply) {
  const int db = DbIndexOrReply(ctx, a[2], reply);
  if (db < 0) return;
  if (db == ctx.session->db) {
    return pr::AppendError(reply,
                           "ERR source and destination objects are the same");
  }
  CopyAcrossDb(ctx, a[1], a[1], db, /*replace=*/false, /*move=*/true, reply);
}

namespace {

// The encoding Redis gives a string that SET stored (tryObjectEncoding):
// an integer of at most 20 bytes is "int", up to 44 bytes "embstr".
const char* StringEncoding(std::string_view v) {
  int64_t n = 0;
  if (v.size() <= 20 && ParseInt64(v, &n)) return "int";
  return v.size() <= 44 ? "embstr" : "raw";
}

// Redis shares the objects of the integers 0..9999 (OBJ_SHARED_INTEGERS),
// whose refcount reads INT_MAX.
int64_t RefCount(std::string_view v) {
  int64_t n = 0;
  const bool shared =
      v.size() <= 20 && ParseInt64(v, &n) && n >= 0 && n < 10000;
  return shared ? std::numeric_limits<int>::max() : 1;
}

constexpr const char* kObjectHelp[] = {
    "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "ENCODING <key>",
    "    Return the kind of internal representation used in order to store "
    "the value",
    "    associated with a <key>.",
    "FREQ <key>",
    "    Return the access frequency index of the <key>. The returned integer "
    "is",
    "    proportional to the logarithm of the recent access frequency of the "
    "key.",
    "IDLETIME <key>",
    "    Return the idle time of the <key>, that is the approximated number "
    "of",
    "    seconds elapsed since the last access to the key.",
    "REFCOUNT <key>",
    "    Return the number of references of the value associated with the "
    "specified",
    "    <key>.",
    "HELP",
    "    Prints this help.",
};

}  // namespace

// OBJECT ENCODING|FREQ|IDLETIME|REFCOUNT key, OBJECT HELP: subcommands with
// their own arity, as Redis 7's container commands ("object|encoding").
void CmdObject(const Args& a, CommandContext& ctx, std::string* reply) {
  const std::string sub = Lower(CStr(a[1]));
  const bool known = sub == "encoding" || sub == "freq" || sub == "idletime" ||
                     sub == "refcount";
  if (!known && sub != "help") {
    // Redis: %.128s of the subcommand as sent.
    return pr::AppendError(reply, "ERR unknown subcommand '" +
                                      std::string(CStr(a[1]).substr(0, 128)) +
                                      "'. Try OBJECT HELP.");
  }
  if (a.size() != (sub == "help" ? 2u : 3u)) {
    return pr::AppendError(reply, "ERR wrong number of arguments for 'object|" +
                                      sub + "' command");
  }
  if (sub == "help") {
    pr::AppendArrayHeader(reply, std::size(kObjectHelp));
    for (const char* line : kObjectHelp) pr::AppendSimpleString(reply, line);
    return;
  }
  Loaded v;
  if (!LoadOrReply(ctx, a[2], &v, reply)) return;
  if (!v.found) return pr::AppendNullBulk(reply);
  if (sub == "encoding") return pr::AppendBulk(reply, StringEncoding(v.value));
  if (sub == "refcount") return pr::AppendInteger(reply, RefCount(v.value));
  // Ember keeps no access times: every key reads as just used.
  if (sub == "idletime") return pr::AppendInteger(reply, 0);
  pr::AppendError(reply,
                  "ERR An LFU maxmemory policy is not selected, access "
                  "frequency not tracked. Please note that when switching "
                  "between policies at runtime LRU and LFU data will take "
                  "some time to adjust.");
}

}  // namespace ember::server
