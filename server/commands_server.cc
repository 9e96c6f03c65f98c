// server/commands_server.cc: PING ECHO AUTH HELLO SELECT QUIT INFO DEBUG:
// connection and server state, no keys. CLIENT and RESET are in
// commands_client.cc, COMMAND in commands_introspection.cc, CONFIG in
// commands_config.cc, SLOWLOG and LATENCY in commands_monitor.cc.
#include <chrono>
#include <cstdlib>
#include <thread>

#include "protocol/resp_writer.h"
#include "server/command_table.h"
#include "server/command_util.h"
#include "server/commands.h"
#include "server/server_info.h"

namespace ember::server {
namespace pr = ember::protocol;

void CmdPing(const Args& a, CommandContext&, std::string* reply) {
  if (a.size() > 2)
    return pr::AppendError(reply,
                           "ERR wrong number of arguments for 'ping' command");
  a.size() == 2 ? pr::AppendBulk(reply, a[1])
                : pr::AppendSimpleString(reply, "PONG");
}

void CmdEcho(const Args& a, CommandContext&, std::string* reply) {
  pr::AppendBulk(reply, a[1]);
}

// AUTH [username] password; the only user is "default".
static bool CheckAuth(const std::string* user, const std::string& pass,
                      CommandContext& ctx, std::string* reply) {
  const std::string want = ctx.info->config().requirepass.get();
  if (want.empty()) {
    pr::AppendError(
        reply,
        "ERR AUTH <password> called without any password configured for "
        "the default user. Are you sure your configuration is correct?");
    return false;
  }
  if ((user != nullptr && *user != "default") || pass != want) {
    pr::AppendError(
        reply, "WRONGPASS invalid username-password pair or user is disabled.");
    return false;
  }
  ctx.session->authenticated = true;
  return true;
}

void CmdAuth(const Args& a, CommandContext& ctx, std::string* reply) {
  if (a.size() > 3) return pr::AppendError(reply, kSyntaxError);
  const bool ok = a.size() == 3 ? CheckAuth(&a[1], a[2], ctx, reply)
                                : CheckAuth(nullptr, a[1], ctx, reply);
  if (ok) pr::AppendOk(reply);
}

// HELLO [protover [AUTH username password] [SETNAME clientname]]: RESP2 only.
void CmdHello(const Args& a, CommandContext& ctx, std::string* reply) {
  size_t i = 1;
  if (a.size() > 1) {
    int64_t ver = 0;
    if (!ParseInt64(a[1], &ver)) {
      return pr::AppendError(
          reply, "ERR Protocol version is not an integer or out of range");
    }
    if (ver != 2)
      return pr::AppendError(reply, "NOPROTO unsupported protocol version");
    i = 2;
  }
  for (; i < a.size(); ++i) {
    const std::string o = Lower(a[i]);
    if (o == "auth" && i + 2 < a.size()) {
      if (!CheckAuth(&a[i + 1], a[i + 2], ctx, reply)) return;
      i += 2;
    } else if (o == "setname" && i + 1 < a.size()) {
      ctx.session->SetName(a[++i]);
    } else {
      return pr::AppendError(reply,
                             "ERR Syntax error in HELLO option '" + a[i] + "'");
    }
  }
  if (!ctx.session->authenticated) {
    return pr::AppendError(
        reply,
        "NOAUTH HELLO must be called with the client already "
        "authenticated, otherwise the HELLO <proto> AUTH <user> "
        "<pass> option can be used to authenticate the client and "
        "select the RESP protocol version at the same time");
  }
  pr::AppendArrayHeader(reply, 14);
  pr::AppendBulk(reply, "server");
  pr::AppendBulk(reply, "ember");
  pr::AppendBulk(reply, "version");
  pr::AppendBulk(reply, "7.0.0");  // the Redis API level Ember follows
  pr::AppendBulk(reply, "proto");
  pr::AppendInteger(reply, 2);
  pr::AppendBulk(reply, "id");
  pr::AppendInteger(reply, static_cast<int64_t>(ctx.session->id));
  pr::AppendBulk(reply, "mode");
  pr::AppendBulk(reply, "standalone");
  pr::AppendBulk(reply, "role");
  pr::AppendBulk(reply, "master");
  pr::AppendBulk(reply, "modules");
  pr::AppendArrayHeader(reply, 0);
}

// SELECT index: later commands of this connection use that database.
void CmdSelect(const Args& a, CommandContext& ctx, std::string* reply) {
  const int db = DbIndexOrReply(ctx, a[1], reply);
  if (db < 0) return;
  ctx.session->SetDb(static_cast<uint8_t>(db));
  pr::AppendOk(reply);
}

void CmdQuit(const Args&, CommandContext& ctx, std::string* reply) {
  ctx.session->quit = true;
  pr::AppendOk(reply);
}

// INFO [section ...]
void CmdInfo(const Args& a, CommandContext& ctx, std::string* reply) {
  std::string sections;
  for (size_t i = 1; i < a.size(); ++i) {
    if (i > 1) sections += ' ';
    sections += Lower(a[i]);
  }
  pr::AppendBulk(reply, ctx.info->InfoText(sections));
}

// DEBUG SLEEP <seconds>: sleeps inside the group commit that runs it, so
// every write waits behind it (Redis's DEBUG SLEEP blocks its one thread).
// For tests of what a stalled commit must not stop: local zero-copy reads,
// the heartbeat, reads on other connections.
void CmdDebug(const Args& a, CommandContext&, std::string* reply) {
  const std::string sub = Lower(a[1]);
  if (sub == "sleep" && a.size() == 3) {
    char* end = nullptr;
    const double seconds = std::strtod(a[2].c_str(), &end);
    if (end == a[2].c_str() || *end != '\0' || !(seconds >= 0) ||
        seconds > 3600) {
      return protocol::AppendError(reply, "ERR value is not a valid float");
    }
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
    return protocol::AppendOk(reply);
  }
  protocol::AppendError(reply,
                        "ERR unknown subcommand or wrong number of "
                        "arguments for '" +
                            a[1] + "'. Try DEBUG HELP.");
}

}  // namespace ember::server
