// server/commands.h: the command handlers (see command_table.h for the
// contract every handler follows: append exactly one reply) and the small
// helpers they share. Each commands_*.cc file opens with the commands it
// holds.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

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

// A key as a handler reads it: absent, or a value with its expiry.
struct Loaded {
  bool found = false;
  std::string value;
  uint64_t expiry_ms = 0;  // Unix ms, 0 = none
};
// Loads `key` into *out. False when the cold tier failed (then the error is
// replied); an absent key is true with out->found false.
bool LoadOrReply(CommandContext& ctx, std::string_view key, Loaded* out,
                 std::string* reply);

// Redis's getBitOffsetFromArgument (SETBIT, GETBIT, BITFIELD): `arg` as an
// integer, or with `field_bits` > 0 also "#n", the n-th
// field of that width. False for anything else, a negative offset, or one
// whose byte is at or past `max_bytes` (proto_max_bulk_len).
bool ParseBitOffset(std::string_view arg, int field_bits, uint64_t max_bytes,
                    uint64_t* offset);

// Redis's getIntFromObjectOrReply then selectDb for a database index (SELECT,
// MOVE, COPY DB): the index, or -1 after appending the error.
int DbIndexOrReply(CommandContext& ctx, std::string_view arg,
                   std::string* reply);

struct CommandMeta;
// For container commands: the metadata of subcommand a[1] of `container`
// ("client"), or null after appending Redis 7's error (unknown subcommand,
// or the subcommand's wrong number of arguments).
const CommandMeta* SubcommandOrReply(const char* container, const Args& a,
                                     std::string* reply);
// A HELP reply: the lines as simple strings.
void AppendHelp(std::string* reply, const char* const* lines, size_t n);

#define EMBER_COMMAND(fn) \
  void fn(const Args& a, CommandContext& ctx, std::string* reply)
// commands_strings.cc
EMBER_COMMAND(CmdGet);
EMBER_COMMAND(CmdSet);
EMBER_COMMAND(CmdSetNx);
EMBER_COMMAND(CmdSetEx);
EMBER_COMMAND(CmdPSetEx);
EMBER_COMMAND(CmdGetSet);
EMBER_COMMAND(CmdGetEx);
EMBER_COMMAND(CmdGetDel);
EMBER_COMMAND(CmdMGet);
EMBER_COMMAND(CmdMSet);
EMBER_COMMAND(CmdMSetNx);
// commands_counters.cc
EMBER_COMMAND(CmdIncr);
EMBER_COMMAND(CmdIncrBy);
EMBER_COMMAND(CmdDecr);
EMBER_COMMAND(CmdDecrBy);
EMBER_COMMAND(CmdIncrByFloat);
// commands_string_ranges.cc
EMBER_COMMAND(CmdAppend);
EMBER_COMMAND(CmdStrLen);
EMBER_COMMAND(CmdSetRange);
EMBER_COMMAND(CmdGetRange);
EMBER_COMMAND(CmdLcs);
// commands_bits.cc
EMBER_COMMAND(CmdSetBit);
EMBER_COMMAND(CmdGetBit);
EMBER_COMMAND(CmdBitCount);
EMBER_COMMAND(CmdBitPos);
EMBER_COMMAND(CmdBitOp);
// commands_bitfield.cc
EMBER_COMMAND(CmdBitField);
EMBER_COMMAND(CmdBitFieldRo);
// commands_keys.cc
EMBER_COMMAND(CmdDel);
EMBER_COMMAND(CmdExists);
EMBER_COMMAND(CmdType);
EMBER_COMMAND(CmdRename);
EMBER_COMMAND(CmdRenameNx);
EMBER_COMMAND(CmdCopy);
EMBER_COMMAND(CmdMove);
EMBER_COMMAND(CmdObject);
// commands_expire.cc
EMBER_COMMAND(CmdExpire);
EMBER_COMMAND(CmdPExpire);
EMBER_COMMAND(CmdExpireAt);
EMBER_COMMAND(CmdPExpireAt);
EMBER_COMMAND(CmdTtl);
EMBER_COMMAND(CmdPTtl);
EMBER_COMMAND(CmdExpireTime);
EMBER_COMMAND(CmdPExpireTime);
EMBER_COMMAND(CmdPersist);
// commands_db.cc
EMBER_COMMAND(CmdDbSize);
EMBER_COMMAND(CmdFlushAll);
EMBER_COMMAND(CmdFlushDb);
EMBER_COMMAND(CmdSwapDb);
EMBER_COMMAND(CmdScan);
EMBER_COMMAND(CmdKeys);
EMBER_COMMAND(CmdRandomKey);
EMBER_COMMAND(CmdTime);
EMBER_COMMAND(CmdWait);
// commands_server.cc
EMBER_COMMAND(CmdPing);
EMBER_COMMAND(CmdEcho);
EMBER_COMMAND(CmdAuth);
EMBER_COMMAND(CmdHello);
EMBER_COMMAND(CmdSelect);
EMBER_COMMAND(CmdQuit);
EMBER_COMMAND(CmdInfo);
EMBER_COMMAND(CmdConfig);
EMBER_COMMAND(CmdSlowlog);
EMBER_COMMAND(CmdLatency);
EMBER_COMMAND(CmdDebug);
// commands_client.cc
EMBER_COMMAND(CmdClient);
EMBER_COMMAND(CmdReset);
// commands_introspection.cc
EMBER_COMMAND(CmdCommand);
// commands_memory.cc
EMBER_COMMAND(CmdMemory);
// commands_dump.cc
EMBER_COMMAND(CmdDump);
EMBER_COMMAND(CmdRestore);
#undef EMBER_COMMAND

}  // namespace ember::server
