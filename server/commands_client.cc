// server/commands_client.cc: CLIENT (LIST INFO KILL NO-EVICT REPLY ID
// GETNAME SETNAME SETINFO HELP) and RESET: a connection's own state and what
// it may see and do to the others, with Redis 7's replies and errors.
#include <algorithm>
#include <memory>
#include <vector>

#include "protocol/resp_writer.h"
#include "server/command_meta.h"
#include "server/command_util.h"
#include "server/commands.h"
#include "server/server_info.h"
#include "shm/reclaimer.h"

namespace ember::server {
namespace pr = ember::protocol;
namespace {

// Redis's client types; every Ember client is "normal".
bool KnownType(std::string_view t, bool* normal) {
  const std::string s = Lower(CStr(t));
  *normal = s == "normal";
  return *normal || s == "slave" || s == "replica" || s == "pubsub" ||
         s == "master";
}

// Redis's getRangeLongFromObjectOrReply(1, LONG_MAX) for client ids.
bool ParseClientId(std::string_view s, uint64_t* id) {
  int64_t v = 0;
  if (!ParseInt64(s, &v) || v < 1) return false;
  *id = static_cast<uint64_t>(v);
  return true;
}

// CLIENT LIST [TYPE type] [ID id [id ...]]
void List(const Args& a, CommandContext& ctx, std::string* reply) {
  std::vector<uint64_t> ids;
  bool everyone = true;
  if (a.size() == 4 && ArgIs(a[2], "type")) {
    if (!KnownType(a[3], &everyone)) {
      return pr::AppendError(
          reply, "ERR Unknown client type '" + std::string(CStr(a[3])) + "'");
    }
  } else if (a.size() > 3 && ArgIs(a[2], "id")) {
    for (size_t i = 3; i < a.size(); ++i) {
      // Any integer (Redis 7.0 lists nothing for 0 or -1).
      int64_t id = 0;
      if (!ParseInt64(a[i], &id))
        return pr::AppendError(reply, "ERR Invalid client ID");
      ids.push_back(static_cast<uint64_t>(id));
    }
    if (ids.empty()) ids.push_back(0);  // no id matches 0
  } else if (a.size() != 2) {
    return pr::AppendError(reply, kSyntaxError);
  }
  std::string text;
  const uint64_t now = shm::NowUnixMs();
  if (everyone) {
    for (const auto& c : ctx.info->Clients()) {
      if (ids.empty() ||
          std::find(ids.begin(), ids.end(), c->id()) != ids.end())
        text += c->Line(now);
    }
  }
  pr::AppendBulk(reply, text);
}

// CLIENT KILL addr:port, or CLIENT KILL <filter value> ... with ID, TYPE,
// USER, ADDR, LADDR and SKIPME (yes by default).
void Kill(const Args& a, CommandContext& ctx, std::string* reply) {
  const uint64_t self = ctx.session->id;
  if (a.size() == 3) {
    for (const auto& c : ctx.info->Clients()) {
      if (c->addr() != a[2]) continue;
      if (c->id() == self) {
        ctx.session->quit = true;  // after this reply, as Redis
      } else {
        ctx.info->KillClient(c->id());
      }
      return pr::AppendOk(reply);
    }
    return pr::AppendError(reply, "ERR No such client");
  }
  uint64_t id = 0;
  bool any_type = true, skipme = true;
  const std::string *addr = nullptr, *laddr = nullptr;
  for (size_t i = 2; i < a.size(); i += 2) {
    if (i + 1 >= a.size()) return pr::AppendError(reply, kSyntaxError);
    const std::string& v = a[i + 1];
    if (ArgIs(a[i], "id")) {
      if (!ParseClientId(v, &id)) {
        return pr::AppendError(reply, "ERR client-id should be greater than 0");
      }
    } else if (ArgIs(a[i], "type")) {
      if (!KnownType(v, &any_type)) {
        return pr::AppendError(
            reply, "ERR Unknown client type '" + std::string(CStr(v)) + "'");
      }
    } else if (ArgIs(a[i], "addr")) {
      addr = &v;
    } else if (ArgIs(a[i], "laddr")) {
      laddr = &v;
    } else if (ArgIs(a[i], "user")) {
      if (v != "default") {
        return pr::AppendError(
            reply, "ERR No such user '" + std::string(CStr(v)) + "'");
      }
    } else if (ArgIs(a[i], "skipme")) {
      if (ArgIs(v, "yes")) {
        skipme = true;
      } else if (ArgIs(v, "no")) {
        skipme = false;
      } else {
        return pr::AppendError(reply, kSyntaxError);
      }
    } else {
      return pr::AppendError(reply, kSyntaxError);
    }
  }
  int64_t killed = 0;
  if (any_type) {
    for (const auto& c : ctx.info->Clients()) {
      if ((id != 0 && c->id() != id) || (addr && c->addr() != *addr) ||
          (laddr && c->laddr() != *laddr) || (skipme && c->id() == self))
        continue;
      if (c->id() == self) {
        ctx.session->quit = true;
      } else {
        ctx.info->KillClient(c->id());
      }
      ++killed;
    }
  }
  pr::AppendInteger(reply, killed);
}

constexpr const char* kClientHelp[] = {
    "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "GETNAME",
    "    Return the name of the current connection.",
    "ID",
    "    Return the ID of the current connection.",
    "INFO",
    "    Return information about the current client connection.",
    "KILL <ip:port>",
    "    Kill connection made from <ip:port>.",
    "KILL <option> <value> [<option> <value> [...]]",
    "    Kill connections. Options are:",
    "    * ADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made from the specified address",
    "    * LADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made to specified local address",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Kill connections by type.",
    "    * USER <username>",
    "      Kill connections authenticated by <username>.",
    "    * SKIPME (YES|NO)",
    "      Skip killing current connection (default: yes).",
    "    * ID <client-id>",
    "      Kill connections by client id.",
    "LIST [options ...]",
    "    Return information about client connections. Options:",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Return clients of specified type.",
    "    * ID <client-id> [<client-id> ...]",
    "      Return clients of specified IDs.",
    "NO-EVICT (ON|OFF)",
    "    Protect current client connection from eviction.",
    "REPLY (ON|OFF|SKIP)",
    "    Control the replies sent to the current connection.",
    "SETNAME <name>",
    "    Assign the name <name> to the current connection.",
    "SETINFO <LIB-NAME|LIB-VER> <value>",
    "    Accepted and ignored.",
    "HELP",
    "    Print this help.",
};

}  // namespace

void CmdClient(const Args& a, CommandContext& ctx, std::string* reply) {
  const CommandMeta* m = SubcommandOrReply("client", a, reply);
  if (m == nullptr) return;
  const std::string_view sub = m->name + 7;  // past "client|"
  Session& s = *ctx.session;
  if (sub == "list") return List(a, ctx, reply);
  if (sub == "kill") return Kill(a, ctx, reply);
  if (sub == "info") {
    return pr::AppendBulk(
        reply, s.client ? s.client->Line(shm::NowUnixMs()) : std::string());
  }
  if (sub == "id") return pr::AppendInteger(reply, static_cast<int64_t>(s.id));
  if (sub == "getname") {
    return s.name.empty() ? pr::AppendNullBulk(reply)
                          : pr::AppendBulk(reply, s.name);
  }
  if (sub == "setname") {
    for (char c : a[2]) {
      if (c <= ' ' || c > '~') {
        return pr::AppendError(reply,
                               "ERR Client names cannot contain spaces, "
                               "newlines or special characters.");
      }
    }
    s.SetName(a[2]);
    return pr::AppendOk(reply);
  }
  if (sub == "no-evict") {
    // Ember never evicts clients; the flag shows in CLIENT LIST ('e').
    const bool on = ArgIs(a[2], "on");
    if (!on && !ArgIs(a[2], "off")) return pr::AppendError(reply, kSyntaxError);
    if (s.client) s.client->set_no_evict(on);
    return pr::AppendOk(reply);
  }
  if (sub == "reply") {
    // OFF and SKIP answer nothing; the connection drops what follows.
    if (ArgIs(a[2], "on")) {
      s.reply_off = s.reply_skip = false;
      return pr::AppendOk(reply);
    }
    if (ArgIs(a[2], "off")) {
      s.reply_off = true;
      return;
    }
    if (ArgIs(a[2], "skip")) {
      if (!s.reply_off) s.reply_skip = true;
      return;
    }
    return pr::AppendError(reply, kSyntaxError);
  }
  if (sub == "setinfo") return pr::AppendOk(reply);  // Redis 7.2: ignored
  AppendHelp(reply, kClientHelp, std::size(kClientHelp));
}

// RESET: the connection as it was when it connected, as far as Redis 7.0
// resets it: no name, replies on, not authenticated when a password is set
// (CLIENT NO-EVICT stays, as in Redis).
void CmdReset(const Args&, CommandContext& ctx, std::string* reply) {
  Session& s = *ctx.session;
  s.SetName("");
  s.SetDb(0);
  s.reply_off = s.reply_skip = false;
  s.authenticated = ctx.info->config().requirepass.get().empty();
  pr::AppendSimpleString(reply, "RESET");
}

}  // namespace ember::server
