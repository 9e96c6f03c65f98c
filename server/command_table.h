// server/command_table.h: the commands Ember answers, with Redis's arity and
// where each runs. Thread safety: immutable.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "server/keyspace.h"
#include "server/session.h"

namespace ember::server {

class ServerInfo;
using Args = std::vector<std::string>;

enum CommandFlags : unsigned {
  kRead = 1,    // may run on a network thread (or in the writer, in order)
  kWrite = 2,   // runs in the writer thread's group commit
  kNoAuth = 4,  // allowed before AUTH (AUTH, HELLO, QUIT, PING is not)
  kServer = 8,  // connection or server state only; runs where it arrives
  kDebug = 16,  // refused unless enable_debug_command admits the peer
};

struct CommandContext {
  Keyspace* keys;  // the session's database (a DbKeyspace): user keys
  Session* session;
  ServerInfo* info;
  // Every database: stored keys (db_keyspace.h). FLUSHALL, MOVE and COPY
  // DB reach past the session's database through it.
  Keyspace* stored;
};

using Handler = void (*)(const Args& args, CommandContext& ctx,
                         std::string* reply);

struct CommandSpec {
  const char* name;  // lower case
  int arity;         // Redis: > 0 exact argument count, < 0 at least -arity
  unsigned flags;
  Handler handler;
};

// The spec of `name` (any case), or nullptr when Ember has no such command.
const CommandSpec* FindCommand(std::string_view name);
// Every command, for COMMAND and COMMAND COUNT.
const std::vector<CommandSpec>& AllCommands();

// Checks arity and auth and runs the handler, appending one RESP2 reply.
void Execute(const CommandSpec& spec, const Args& args, CommandContext& ctx,
             std::string* reply);
// The reply to a command Ember does not have, in Redis's words.
std::string UnknownCommandError(const Args& args);

}  // namespace ember::server
