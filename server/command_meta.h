// server/command_meta.h: what COMMAND tells of each command in Redis 7's
// terms (flags, ACL categories, tips, key specs) and the subcommands of the
// container commands, each with its arity. The values are Redis 7.0's for
// the same command, so that clients which route by key specs (cluster
// clients, proxies) see what they expect; test_introspection.py holds them
// against a real redis-server. Thread safety: immutable.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ember::server {

using Args = std::vector<std::string>;

// One key spec: Redis's begin_search "index" and find_keys "range". The
// keys are the arguments from `index` to `index + lastkey` (lastkey < 0:
// to argc + lastkey), every `keystep`-th; with `limit` > 1 only the first
// 1/limit of that span.
struct KeySpec {
  const char* flags;  // space-separated: "RW access update"
  int index;
  int lastkey;
  int keystep;
  int limit;
  const char* notes = nullptr;
};

struct CommandMeta {
  const char* name;   // "get", or "client|list" for a subcommand
  int arity;          // subcommands only: a command's is in its CommandSpec
  const char* flags;  // space-separated Redis command flags
  const char* acl;    // "@read @string @fast"
  const char* tips;   // "request_policy:multi_shard ..."
  std::vector<KeySpec> keys;
};

// Every row, commands first, then subcommands (command_meta_table.cc).
const std::vector<CommandMeta>& CommandMetaTable();
// The metadata of `full_name` ("get", "client|list"; lower case), or null.
const CommandMeta* FindMeta(std::string_view full_name);
// The subcommands of `container` Ember answers, in table order; empty for a
// command without subcommands.
std::vector<const CommandMeta*> Subcommands(std::string_view container);
// The name Redis 7 shows for a call (CLIENT LIST's cmd=): "client|list" for
// a known subcommand of a container, else `command` itself. The pointer is
// static.
const char* FullName(const char* command, const Args& args);
// Redis's legacy first key, last key and step, derived from the key specs
// (0 0 0 without keys).
void LegacyKeyRange(const CommandMeta& meta, int* first, int* last, int* step);
// The positions of the keys in `args` (args[0] is the command) with the
// spec each comes from. False when the arguments do not fit the specs
// (Redis's "Invalid arguments specified for command").
bool FindKeys(const CommandMeta& meta, const Args& args,
              std::vector<std::pair<size_t, const KeySpec*>>* keys);

}  // namespace ember::server
