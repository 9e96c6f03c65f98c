// server/commands_config.cc: CONFIG GET, SET, RESETSTAT, REWRITE and HELP,
// over the settings table, with Redis 7's replies and error texts.
#include <algorithm>

#include "protocol/resp_writer.h"
#include "server/command_util.h"
#include "server/commands.h"
#include "server/server_info.h"
#include "server/settings.h"

namespace ember::server {
namespace pr = ember::protocol;
namespace {

// Never shown by CONFIG GET (Redis shows it; Ember keeps it to the file).
bool Hidden(const Setting& s) { return s.name == "requirepass"; }

void ConfigGet(const Args& a, CommandContext& ctx, std::string* reply) {
  const Config& c = ctx.info->config();
  // Name -> value in the order found; each name once. A pattern without
  // glob characters is looked up as it is (any case) and answered with
  // the name as the client wrote it, as Redis does.
  std::vector<std::pair<std::string, std::string>> found;
  auto add = [&](std::string name, std::string value) {
    for (const auto& f : found) {
      if (f.first == name) return;
    }
    found.emplace_back(std::move(name), std::move(value));
  };
  for (size_t i = 2; i < a.size(); ++i) {
    if (a[i].find_first_of("*?[") == std::string::npos) {
      if (const Setting* s = FindSetting(a[i]); s != nullptr && !Hidden(*s)) {
        add(a[i], s->format(c));
      }
      for (const RedisView& v : RedisViews()) {
        if (Lower(a[i]) == v.name) add(a[i], v.format(c));
      }
      continue;
    }
    const std::string pattern = Lower(a[i]);
    for (const Setting& s : AllSettings()) {
      if (Hidden(s)) continue;
      if (GlobMatch(pattern, s.name)) add(std::string(s.name), s.format(c));
      if (!s.alias.empty() && s.alias != s.name && GlobMatch(pattern, s.alias))
        add(std::string(s.alias), s.format(c));
    }
    for (const RedisView& v : RedisViews()) {
      if (GlobMatch(pattern, v.name)) add(std::string(v.name), v.format(c));
    }
  }
  pr::AppendArrayHeader(reply, found.size() * 2);
  for (const auto& [name, value] : found) {
    pr::AppendBulk(reply, name);
    pr::AppendBulk(reply, value);
  }
}

std::string SetFailed(const std::string& arg, const std::string& why) {
  return "ERR CONFIG SET failed (possibly related to argument '" + arg +
         "') - " + why;
}

// All pairs or none: unknown names, immutable settings and duplicates are
// found before any value is parsed; then every value is parsed into a copy;
// then the server applies them (it may still refuse, e.g. max_clients past
// what the open-files limit allows).
void ConfigSet(const Args& a, CommandContext& ctx, std::string* reply) {
  if (a.size() % 2 != 0) {
    return pr::AppendError(
        reply, "ERR wrong number of arguments for 'config|set' command");
  }
  std::vector<std::pair<std::string, const Setting*>> changed;
  for (size_t i = 2; i < a.size(); i += 2) {
    const Setting* s = FindSetting(a[i]);
    bool view = false;
    for (const RedisView& v : RedisViews()) view |= Lower(a[i]) == v.name;
    if (s == nullptr && !view) {
      return pr::AppendError(
          reply,
          "ERR Unknown option or number of arguments for CONFIG SET - '" +
              a[i] + "'");
    }
    if (s == nullptr || !s->runtime) {
      return pr::AppendError(reply,
                             SetFailed(a[i], "can't set immutable config"));
    }
    for (const auto& [name, other] : changed) {
      if (other == s)
        return pr::AppendError(reply, SetFailed(a[i], "duplicate parameter"));
    }
    changed.emplace_back(a[i], s);
  }
  Config next = ctx.info->config();
  for (size_t i = 2; i < a.size(); i += 2) {
    std::string why;
    if (!changed[(i - 2) / 2].second->parse(a[i + 1], &next, &why))
      return pr::AppendError(reply, SetFailed(a[i], why));
  }
  const std::string error = ctx.info->ApplyConfig(next, changed);
  if (!error.empty()) return pr::AppendError(reply, error);
  pr::AppendOk(reply);
}

constexpr const char* kHelp[] = {
    "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "GET <pattern>",
    ("    Return parameters matching the glob-like <pattern> and their "
     "values."),
    "SET <directive> <value>",
    "    Set the configuration <directive> to <value>.",
    "RESETSTAT",
    "    Reset statistics reported by the INFO command.",
    "REWRITE",
    "    Rewrite the configuration file.",
    "HELP",
    "    Prints this help.",
};

}  // namespace

void CmdConfig(const Args& a, CommandContext& ctx, std::string* reply) {
  const std::string sub = Lower(a[1]);
  // Redis 7's subcommand arities: GET -3, SET -4, the others 2.
  const int want = sub == "get" ? -3 : sub == "set" ? -4 : 2;
  const bool known = sub == "get" || sub == "set" || sub == "resetstat" ||
                     sub == "rewrite" || sub == "help";
  if (!known) {
    return pr::AppendError(
        reply, "ERR unknown subcommand '" + a[1] + "'. Try CONFIG HELP.");
  }
  const int n = static_cast<int>(a.size());
  if (want > 0 ? n != want : n < -want) {
    return pr::AppendError(reply, "ERR wrong number of arguments for 'config|" +
                                      sub + "' command");
  }
  if (sub == "get") return ConfigGet(a, ctx, reply);
  if (sub == "set") return ConfigSet(a, ctx, reply);
  if (sub == "resetstat") {
    ctx.info->ResetStats();
    return pr::AppendOk(reply);
  }
  if (sub == "rewrite") {
    const std::string error = ctx.info->RewriteConfig();
    return error.empty() ? pr::AppendOk(reply) : pr::AppendError(reply, error);
  }
  pr::AppendArrayHeader(reply, std::size(kHelp));
  for (const char* line : kHelp) pr::AppendSimpleString(reply, line);
}

}  // namespace ember::server
