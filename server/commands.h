// server/commands.h: the command handlers (see command_table.h for the
// contract every handler follows: append exactly one reply).
#pragma once

#include <string>

#include "server/command_table.h"
#include "shm/status.h"

namespace ember::server {

// Appends "-ERR <status>" for a cold-tier failure; true when it did.
bool ReplyIfFailed(const shm::Status& s, std::string* reply);
// Appends the error and returns true when `key` with a value of
// `value_bytes` cannot be stored (Keyspace::CheckStore). Call it for every
// key before the first Store, so that a refused command changes nothing.
bool ReplyIfCannotStore(CommandContext& ctx, std::string_view key,
                        size_t value_bytes, std::string* reply);

#define EMBER_COMMAND(fn) \
  void fn(const Args& a, CommandContext& ctx, std::string* reply)
EMBER_COMMAND(CmdGet);
EMBER_COMMAND(CmdSet);
EMBER_COMMAND(CmdGetDel);
EMBER_COMMAND(CmdMGet);
EMBER_COMMAND(CmdMSet);
EMBER_COMMAND(CmdIncr);
EMBER_COMMAND(CmdIncrBy);
EMBER_COMMAND(CmdDecr);
EMBER_COMMAND(CmdDecrBy);
EMBER_COMMAND(CmdAppend);
EMBER_COMMAND(CmdStrLen);
EMBER_COMMAND(CmdDel);
EMBER_COMMAND(CmdExists);
EMBER_COMMAND(CmdExpire);
EMBER_COMMAND(CmdPExpire);
EMBER_COMMAND(CmdTtl);
EMBER_COMMAND(CmdPTtl);
EMBER_COMMAND(CmdPersist);
EMBER_COMMAND(CmdType);
EMBER_COMMAND(CmdDbSize);
EMBER_COMMAND(CmdFlushAll);
EMBER_COMMAND(CmdScan);
EMBER_COMMAND(CmdPing);
EMBER_COMMAND(CmdEcho);
EMBER_COMMAND(CmdAuth);
EMBER_COMMAND(CmdHello);
EMBER_COMMAND(CmdClient);
EMBER_COMMAND(CmdCommand);
EMBER_COMMAND(CmdSelect);
EMBER_COMMAND(CmdQuit);
EMBER_COMMAND(CmdInfo);
EMBER_COMMAND(CmdConfig);
EMBER_COMMAND(CmdSlowlog);
EMBER_COMMAND(CmdLatency);
EMBER_COMMAND(CmdDebug);
#undef EMBER_COMMAND

}  // namespace ember::server
