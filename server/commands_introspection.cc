// server/commands_introspection.cc: COMMAND (COUNT INFO LIST DOCS GETKEYS
// GETKEYSANDFLAGS HELP), answered from the command table and its Redis 7
// metadata (command_meta.h) in Redis 7's reply shapes.
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "protocol/resp_writer.h"
#include "server/command_meta.h"
#include "server/command_table.h"
#include "server/command_util.h"
#include "server/commands.h"

namespace ember::server {
namespace pr = ember::protocol;
namespace {

std::vector<std::string_view> Words(const char* s) {
  std::vector<std::string_view> out;
  std::string_view rest = s;
  while (!rest.empty()) {
    const size_t sp = rest.find(' ');
    out.push_back(rest.substr(0, sp));
    if (sp == std::string_view::npos) break;
    rest.remove_prefix(sp + 1);
  }
  return out;
}

void AppendSimpleWords(std::string* reply, const char* s) {
  const auto words = Words(s);
  pr::AppendArrayHeader(reply, words.size());
  for (std::string_view w : words) pr::AppendSimpleString(reply, w);
}

// One half of a key spec: `name`, then a map of its type and its spec's
// integer fields.
void AppendStep(std::string* reply, std::string_view name,
                std::string_view type,
                std::initializer_list<std::pair<std::string_view, int>> spec) {
  pr::AppendBulk(reply, name);
  pr::AppendArrayHeader(reply, 4);
  pr::AppendBulk(reply, "type");
  pr::AppendBulk(reply, type);
  pr::AppendBulk(reply, "spec");
  pr::AppendArrayHeader(reply, 2 * spec.size());
  for (const auto& [field, value] : spec) {
    pr::AppendBulk(reply, field);
    pr::AppendInteger(reply, value);
  }
}

void AppendKeySpec(std::string* reply, const KeySpec& k) {
  pr::AppendArrayHeader(reply, k.notes != nullptr ? 8 : 6);
  if (k.notes != nullptr) {
    pr::AppendBulk(reply, "notes");
    pr::AppendBulk(reply, k.notes);
  }
  pr::AppendBulk(reply, "flags");
  AppendSimpleWords(reply, k.flags);
  AppendStep(reply, "begin_search", "index", {{"index", k.index}});
  AppendStep(
      reply, "find_keys", "range",
      {{"lastkey", k.lastkey}, {"keystep", k.keystep}, {"limit", k.limit}});
}

// One COMMAND INFO entry: name, arity, flags, first key, last key, step,
// ACL categories, tips, key specs, subcommands.
void AppendInfo(std::string* reply, const CommandMeta& m, int arity) {
  pr::AppendArrayHeader(reply, 10);
  pr::AppendBulk(reply, m.name);
  pr::AppendInteger(reply, arity);
  AppendSimpleWords(reply, m.flags);
  int first = 0, last = 0, step = 0;
  LegacyKeyRange(m, &first, &last, &step);
  pr::AppendInteger(reply, first);
  pr::AppendInteger(reply, last);
  pr::AppendInteger(reply, step);
  AppendSimpleWords(reply, m.acl);
  const auto tips = Words(m.tips);
  pr::AppendArrayHeader(reply, tips.size());
  for (std::string_view t : tips) pr::AppendBulk(reply, t);
  pr::AppendArrayHeader(reply, m.keys.size());
  for (const KeySpec& k : m.keys) AppendKeySpec(reply, k);
  const auto subs = Subcommands(m.name);
  pr::AppendArrayHeader(reply, subs.size());
  for (const CommandMeta* s : subs) AppendInfo(reply, *s, s->arity);
}

// The metadata and arity of a command or "container|sub" named by a client.
const CommandMeta* Lookup(std::string_view name, int* arity) {
  const std::string lower = Lower(name);
  const CommandMeta* m = FindMeta(lower);
  if (m == nullptr) return nullptr;
  if (const CommandSpec* spec = FindCommand(lower)) {
    *arity = spec->arity;
  } else if (m->arity != 0) {
    *arity = m->arity;
  } else {
    return nullptr;  // metadata of a command Ember does not have
  }
  return m;
}

// COMMAND DOCS: a group per command (Redis's summaries, arguments and
// history are not kept: the reply is minimal but well formed).
const char* Group(const CommandMeta& m) {
  // Where Redis's group is not what the ACL categories suggest.
  static constexpr std::pair<std::string_view, const char*> kGroups[] = {
      {"dbsize", "server"}, {"flushall", "server"},  {"flushdb", "server"},
      {"swapdb", "server"}, {"command", "server"},   {"object", "generic"},
      {"wait", "generic"},  {"client", "connection"}};
  for (const auto& [name, group] : kGroups)
    if (m.name == name) return group;
  for (std::string_view acl : Words(m.acl)) {
    if (acl == "@string") return "string";
    if (acl == "@bitmap") return "bitmap";
    if (acl == "@keyspace") return "generic";
    if (acl == "@connection") return "connection";
  }
  return "server";
}

void AppendDocs(std::string* reply, const CommandMeta& m) {
  pr::AppendBulk(reply, m.name);
  const auto subs = Subcommands(m.name);
  pr::AppendArrayHeader(reply, subs.empty() ? 2 : 4);
  pr::AppendBulk(reply, "group");
  pr::AppendBulk(reply, Group(m));
  if (subs.empty()) return;
  pr::AppendBulk(reply, "subcommands");
  pr::AppendArrayHeader(reply, 2 * subs.size());
  for (const CommandMeta* s : subs) AppendDocs(reply, *s);
}

bool AclMatches(const CommandMeta& m, std::string_view category) {
  for (std::string_view acl : Words(m.acl)) {
    if (acl.size() == category.size() + 1 &&
        Lower(acl.substr(1)) == Lower(category))
      return true;
  }
  return false;
}

// COMMAND GETKEYS / GETKEYSANDFLAGS: the keys of the command in a[2...].
void GetKeys(const Args& a, bool with_flags, std::string* reply) {
  const Args target(a.begin() + 2, a.end());
  const CommandSpec* spec = FindCommand(target[0]);
  const CommandMeta* meta = spec ? FindMeta(spec->name) : nullptr;
  if (meta == nullptr)
    return pr::AppendError(reply, "ERR Invalid command specified");
  int arity = spec->arity;
  if (!Subcommands(spec->name).empty()) {
    // A container: the subcommand's specs and arity.
    const char* full = target.size() > 1 ? FullName(spec->name, target) : "";
    meta = FindMeta(full);
    if (meta == nullptr || full == spec->name)
      return pr::AppendError(reply, "ERR Invalid command specified");
    arity = meta->arity;
  }
  const int n = static_cast<int>(target.size());
  if ((arity > 0 && n != arity) || n < -arity) {
    return pr::AppendError(
        reply, "ERR Invalid number of arguments specified for command");
  }
  std::vector<std::pair<size_t, const KeySpec*>> keys;
  if (!FindKeys(*meta, target, &keys))
    return pr::AppendError(reply,
                           "ERR Invalid arguments specified for command");
  if (keys.empty())
    return pr::AppendError(reply, "ERR The command has no key arguments");
  pr::AppendArrayHeader(reply, keys.size());
  for (const auto& [i, k] : keys) {
    if (!with_flags) {
      pr::AppendBulk(reply, target[i]);
      continue;
    }
    pr::AppendArrayHeader(reply, 2);
    pr::AppendBulk(reply, target[i]);
    // Redis resolves the variable flags of SET (RW access only with GET)
    // and BITFIELD (RO access unless it has SET or INCRBY).
    const char* flags = k->flags;
    const std::string_view name = spec->name;
    if (name == "set" || name == "bitfield") {
      bool found = false;
      for (size_t j = 3; j < target.size(); ++j) {
        found |= name == "set"
                     ? ArgIs(target[j], "get")
                     : ArgIs(target[j], "set") || ArgIs(target[j], "incrby");
      }
      flags = name == "set" ? (found ? "RW access update" : "OW update")
              : found       ? "RW access update"
                            : "RO access";
    }
    AppendSimpleWords(reply, flags);
  }
}

constexpr const char* kCommandHelp[] = {
    "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "(no subcommand)",
    "    Return details about all Ember commands.",
    "COUNT",
    "    Return the total number of commands in this Ember server.",
    "LIST",
    "    Return a list of all commands in this Ember server.",
    "INFO [<command-name> ...]",
    "    Return details about multiple Ember commands.",
    "    If no command names are given, documentation details for all",
    "    commands are returned.",
    "DOCS [<command-name> ...]",
    "    Return documentation details about multiple Ember commands.",
    "    If no command names are given, documentation details for all",
    "    commands are returned.",
    "GETKEYS <full-command>",
    "    Return the keys from a full Ember command.",
    "GETKEYSANDFLAGS <full-command>",
    "    Return the keys and the access flags from a full Ember command.",
    ("LIST [FILTERBY (MODULE <module-name>|ACLCAT <category>|PATTERN "
     "<pattern>)]"),
    "    Return a list of all commands in this Ember server.",
    "HELP",
    "    Print this help.",
};

}  // namespace

const CommandMeta* SubcommandOrReply(const char* container, const Args& a,
                                     std::string* reply) {
  const char* full = FullName(container, a);
  const CommandMeta* m = full != container ? FindMeta(full) : nullptr;
  if (m == nullptr) {
    std::string msg = "ERR unknown subcommand '";
    msg.append(CStr(a[1]).substr(0, 128));
    msg += "'. Try ";
    for (const char* c = container; *c != '\0'; ++c)
      msg += static_cast<char>(*c >= 'a' && *c <= 'z' ? *c - 32 : *c);
    msg += " HELP.";
    pr::AppendError(reply, msg);
    return nullptr;
  }
  const int n = static_cast<int>(a.size());
  if ((m->arity > 0 && n != m->arity) || n < -m->arity) {
    std::string msg = "ERR wrong number of arguments for '";
    msg += full;
    msg += "' command";
    pr::AppendError(reply, msg);
    return nullptr;
  }
  return m;
}

void AppendHelp(std::string* reply, const char* const* lines, size_t n) {
  pr::AppendArrayHeader(reply, n);
  for (size_t i = 0; i < n; ++i) pr::AppendSimpleString(reply, lines[i]);
}

void CmdCommand(const Args& a, CommandContext&, std::string* reply) {
  const auto& all = AllCommands();
  if (a.size() == 1) {
    pr::AppendArrayHeader(reply, all.size());
    for (const CommandSpec& c : all)
      AppendInfo(reply, *FindMeta(c.name), c.arity);
    return;
  }
  const CommandMeta* sub_meta = SubcommandOrReply("command", a, reply);
  if (sub_meta == nullptr) return;
  const std::string_view sub = sub_meta->name + 8;  // past "command|"
  if (sub == "count")
    return pr::AppendInteger(reply, static_cast<int64_t>(all.size()));
  if (sub == "help")
    return AppendHelp(reply, kCommandHelp, std::size(kCommandHelp));
  if (sub == "getkeys" || sub == "getkeysandflags")
    return GetKeys(a, sub == "getkeysandflags", reply);
  if (sub == "info" || sub == "docs") {
    const bool docs = sub == "docs";
    if (a.size() == 2) {
      pr::AppendArrayHeader(reply, docs ? 2 * all.size() : all.size());
      for (const CommandSpec& c : all) {
        docs ? AppendDocs(reply, *FindMeta(c.name))
             : AppendInfo(reply, *FindMeta(c.name), c.arity);
      }
      return;
    }
    std::string body;
    size_t found = 0;
    for (size_t i = 2; i < a.size(); ++i) {
      int arity = 0;
      const CommandMeta* m = Lookup(a[i], &arity);
      if (docs) {
        if (m != nullptr) AppendDocs(&body, *m), ++found;
      } else if (m != nullptr) {
        AppendInfo(&body, *m, arity);
      } else {
        pr::AppendNullBulk(&body);
      }
    }
    pr::AppendArrayHeader(reply, docs ? 2 * found : a.size() - 2);
    reply->append(body);
    return;
  }
  // LIST [FILTERBY MODULE name | ACLCAT category | PATTERN glob]
  std::string filter;
  if (a.size() == 5 && ArgIs(a[2], "filterby")) {
    filter = Lower(CStr(a[3]));
    if (filter != "module" && filter != "aclcat" && filter != "pattern")
      return pr::AppendError(reply, kSyntaxError);
  } else if (a.size() != 2) {
    return pr::AppendError(reply, kSyntaxError);
  }
  std::vector<const char*> names;
  auto consider = [&](const CommandMeta& m) {
    if (filter == "module") return;  // Ember has no modules
    if (filter == "aclcat" && !AclMatches(m, a[4])) return;
    if (filter == "pattern" && !GlobMatch(Lower(a[4]), m.name)) return;
    names.push_back(m.name);
  };
  for (const CommandSpec& c : all) {
    consider(*FindMeta(c.name));
    for (const CommandMeta* s : Subcommands(c.name)) consider(*s);
  }
  pr::AppendArrayHeader(reply, names.size());
  for (const char* n : names) pr::AppendBulk(reply, n);
}

}  // namespace ember::server
