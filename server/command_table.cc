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
      // Strings (commands_strings.cc, _counters, _string_ranges).
      {"get", 2, kRead, CmdGet},
      {"set", -3, kWrite, CmdSet},
      {"setnx", 3, kWrite, CmdSetNx},
      {"setex", 4, kWrite, CmdSetEx},
      {"psetex", 4, kWrite, CmdPSetEx},
      {"getset", 3, kWrite, CmdGetSet},
      {"getex", -2, kWrite, CmdGetEx},
      {"getdel", 2, kWrite, CmdGetDel},
      {"mget", -2, kRead, CmdMGet},
      {"mset", -3, kWrite, CmdMSet},
      {"msetnx", -3, kWrite, CmdMSetNx},
      {"incr", 2, kWrite, CmdIncr},
      {"incrby", 3, kWrite, CmdIncrBy},
      {"decr", 2, kWrite, CmdDecr},
      {"decrby", 3, kWrite, CmdDecrBy},
      {"incrbyfloat", 3, kWrite, CmdIncrByFloat},
      {"append", 3, kWrite, CmdAppend},
      {"strlen", 2, kRead, CmdStrLen},
      {"setrange", 4, kWrite, CmdSetRange},
      {"getrange", 4, kRead, CmdGetRange},
      {"substr", 4, kRead, CmdGetRange},
      {"lcs", -3, kRead, CmdLcs},
      // Bits (commands_bits.cc, commands_bitfield.cc).
      {"setbit", 4, kWrite, CmdSetBit},
      {"getbit", 3, kRead, CmdGetBit},
      {"bitcount", -2, kRead, CmdBitCount},
      {"bitpos", -3, kRead, CmdBitPos},
      {"bitop", -4, kWrite, CmdBitOp},
      {"bitfield", -2, kWrite, CmdBitField},
      {"bitfield_ro", -2, kRead, CmdBitFieldRo},
      // Keys (commands_keys.cc, _expire, _db, _dump; MEMORY in _memory).
      {"del", -2, kWrite, CmdDel},
      {"unlink", -2, kWrite, CmdDel},
      {"exists", -2, kRead, CmdExists},
      {"touch", -2, kRead, CmdExists},
      {"type", 2, kRead, CmdType},
      {"rename", 3, kWrite, CmdRename},
      {"renamenx", 3, kWrite, CmdRenameNx},
      {"copy", -3, kWrite, CmdCopy},
      {"move", 3, kWrite, CmdMove},
      {"object", -2, kRead, CmdObject},
      {"expire", -3, kWrite, CmdExpire},
      {"pexpire", -3, kWrite, CmdPExpire},
      {"expireat", -3, kWrite, CmdExpireAt},
      {"pexpireat", -3, kWrite, CmdPExpireAt},
      {"ttl", 2, kRead, CmdTtl},
      {"pttl", 2, kRead, CmdPTtl},
      {"expiretime", 2, kRead, CmdExpireTime},
      {"pexpiretime", 2, kRead, CmdPExpireTime},
      {"persist", 2, kWrite, CmdPersist},
      {"dbsize", 1, kRead, CmdDbSize},
      {"flushall", -1, kWrite, CmdFlushAll},
      {"flushdb", -1, kWrite, CmdFlushDb},
      {"swapdb", 3, kWrite, CmdSwapDb},
      {"scan", -2, kRead, CmdScan},
      {"keys", 2, kRead, CmdKeys},
      {"randomkey", 1, kRead, CmdRandomKey},
      {"dump", 2, kRead, CmdDump},
      {"restore", -4, kWrite, CmdRestore},
      {"memory", -2, kRead, CmdMemory},
      // Server (commands_server.cc, _client, _introspection; TIME and WAIT in
      // commands_db.cc).
      {"ping", -1, kServer, CmdPing},
      {"echo", 2, kServer, CmdEcho},
      {"time", 1, kServer, CmdTime},
      {"wait", 3, kServer, CmdWait},
      {"auth", -2, kServer | kNoAuth, CmdAuth},
      {"hello", -1, kServer | kNoAuth, CmdHello},
      {"client", -2, kServer, CmdClient},
      {"command", -1, kServer, CmdCommand},
      {"select", 2, kServer, CmdSelect},
      {"quit", -1, kServer | kNoAuth, CmdQuit},
      {"reset", 1, kServer | kNoAuth, CmdReset},
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
