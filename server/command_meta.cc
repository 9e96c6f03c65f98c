// server/command_meta.cc: the Redis 7 metadata of every command Ember has
// (COMMAND INFO, LIST, GETKEYS, DOCS), and key extraction by key specs.
#include "server/command_meta.h"

#include <algorithm>

namespace ember::server {

const CommandMeta* FindMeta(std::string_view full_name) {
  for (const CommandMeta& m : CommandMetaTable()) {
    if (full_name == m.name) return &m;
  }
  return nullptr;
}

std::vector<const CommandMeta*> Subcommands(std::string_view container) {
  std::vector<const CommandMeta*> out;
  for (const CommandMeta& m : CommandMetaTable()) {
    const std::string_view name = m.name;
    if (name.size() > container.size() && name.starts_with(container) &&
        name[container.size()] == '|') {
      out.push_back(&m);
    }
  }
  return out;
}

const char* FullName(const char* command, const Args& args) {
  // Called for every command a connection runs: only the few containers
  // (names that prefix a "container|sub" entry) look further.
  static const std::vector<std::string_view> kContainers = [] {
    std::vector<std::string_view> out;
    for (const CommandMeta& m : CommandMetaTable()) {
      const std::string_view name = m.name;
      const size_t bar = name.find('|');
      if (bar != std::string_view::npos &&
          std::find(out.begin(), out.end(), name.substr(0, bar)) == out.end())
        out.push_back(name.substr(0, bar));
    }
    return out;
  }();
  if (args.size() < 2 || args[1].size() > 32 ||
      std::find(kContainers.begin(), kContainers.end(), command) ==
          kContainers.end())
    return command;
  std::string full = command;
  full += '|';
  for (char c : args[1]) full += (c >= 'A' && c <= 'Z') ? c + 32 : c;
  const CommandMeta* m = FindMeta(full);
  return m != nullptr ? m->name : command;
}

void LegacyKeyRange(const CommandMeta& meta, int* first, int* last, int* step) {
  *first = *last = *step = 0;
  if (meta.keys.empty()) return;
  *first = meta.keys[0].index;
  *step = meta.keys[0].keystep;
  for (const KeySpec& k : meta.keys) {
    if (k.lastkey < 0) {
      *last = k.lastkey;
      return;
    }
    *last = std::max(*last, k.index + k.lastkey);
  }
}

bool FindKeys(const CommandMeta& meta, const Args& args,
              std::vector<std::pair<size_t, const KeySpec*>>* keys) {
  const int argc = static_cast<int>(args.size());
  for (const KeySpec& k : meta.keys) {
    if (k.index >= argc) continue;  // an optional key left out
    int last = k.lastkey >= 0 ? k.index + k.lastkey : argc + k.lastkey;
    if (k.lastkey < 0 && k.limit > 1)
      last = k.index + ((last - k.index) / k.limit);
    if (last >= argc || last < k.index) return false;
    for (int i = k.index; i <= last; i += k.keystep) {
      keys->emplace_back(static_cast<size_t>(i), &k);
    }
  }
  return true;
}

}  // namespace ember::server
