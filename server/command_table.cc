// server/command_table.cc: the table and the checks every command passes
// (arity, authentication) before its handler runs.
#include "server/command_table.h"

#include "protocol/resp_writer.h"
#include "server/command_util.h"
#include "server/commands.h"
#include "server/telemetry.h"

namespace ember::server {

const std::vector<CommandSpec>& AllCommands() {
  static const std::vector<CommandSpec> kTable = {
      {"get", 2, kRead, CmdGet},
      {"set", -3, kWrite, CmdSet},
      {"getdel", 2, kWrite, CmdGetDel},
      {"mget", -2, kRead, CmdMGet},
      {"mset", -3, kWrite, CmdMSet},
      {"incr", 2, kWrite, CmdIncr},
      {"incrby", 3, kWrite, CmdIncrBy},
      {"decr", 2, kWrite, CmdDecr},
      {"decrby", 3, kWrite, CmdDecrBy},
      {"append", 3, kWrite, CmdAppend},
      {"strlen", 2, kRead, CmdStrLen},
      {"del", -2, kWrite, CmdDel},
      {"unlink", -2, kWrite, CmdDel},
      {"exists", -2, kRead, CmdExists},
      {"expire", -3, kWrite, CmdExpire},
      {"pexpire", -3, kWrite, CmdPExpire},
      {"ttl", 2, kRead, CmdTtl},
      {"pttl", 2, kRead, CmdPTtl},
      {"persist", 2, kWrite, CmdPersist},
      {"type", 2, kRead, CmdType},
      {"dbsize", 1, kRead, CmdDbSize},
      {"flushall", -1, kWrite, CmdFlushAll},
      {"scan", -2, kRead, CmdScan},
      {"ping", -1, kServer, CmdPing},
      {"echo", 2, kServer, CmdEcho},
      {"auth", -2, kServer | kNoAuth, CmdAuth},
      {"hello", -1, kServer | kNoAuth, CmdHello},
      {"client", -2, kServer, CmdClient},
      {"command", -1, kServer, CmdCommand},
      {"select", 2, kServer, CmdSelect},
      {"quit", -1, kServer | kNoAuth, CmdQuit},
      {"info", -1, kServer, CmdInfo},
      {"config", -2, kServer, CmdConfig},
      {"slowlog", -2, kServer, CmdSlowlog},
      {"latency", -2, kServer, CmdLatency},
      // A write job: DEBUG SLEEP holds a group commit (fault injection).
      {"debug", -2, kWrite | kDebug, CmdDebug},
  };
  return kTable;
}

const CommandSpec* FindCommand(std::string_view name) {
  if (name.size() > 16) return nullptr;
  const std::string lower = Lower(name);
  for (const CommandSpec& c : AllCommands()) {
    if (lower == c.name) return &c;
  }
  return nullptr;
}

std::string UnknownCommandError(const Args& args) {
  // Redis: ERR unknown command 'foo', with args beginning with: 'a' 'b'
  // Appended piece by piece: GCC 12 at -O3 reports a bogus -Wrestrict for
  // "literal" + std::string&& (GCC bugs 105329, 105651).
  std::string msg = "ERR unknown command '";
  msg.append(args[0], 0, 128);
  msg += "', with args beginning with: ";
  for (size_t i = 1; i < args.size() && msg.size() < 512; ++i) {
    msg += '\'';
    msg.append(args[i], 0, 128);
    msg += "' ";
  }
  std::string reply;
  protocol::AppendError(&reply, msg);
  return reply;
}

void Execute(const CommandSpec& spec, const Args& args, CommandContext& ctx,
             std::string* reply) {
  const size_t start = reply->size();
  auto refuse = [&](const std::string& error) {
    protocol::AppendError(reply, error);
    RecordCommand(ctx, spec, args, 0, CommandStats::Outcome::kRejected,
                  std::string_view(*reply).substr(start));
  };
  const int n = static_cast<int>(args.size());
  if ((spec.arity > 0 && n != spec.arity) ||
      (spec.arity < 0 && n < -spec.arity)) {
    return refuse(std::string("ERR wrong number of arguments for '") +
                  spec.name + "' command");
  }
  if (!ctx.session->authenticated && !(spec.flags & kNoAuth)) {
    return refuse("NOAUTH Authentication required.");
  }
  const uint64_t began = MonotonicNs();
  spec.handler(args, ctx, reply);
  const uint64_t ns = MonotonicNs() - began;
  const std::string_view r = std::string_view(*reply).substr(start);
  RecordCommand(ctx, spec, args, ns,
                r.starts_with('-') ? CommandStats::Outcome::kFailed
                                   : CommandStats::Outcome::kOk,
                r);
}

}  // namespace ember::server
