// server/commands_monitor.cc: SLOWLOG (GET, LEN, RESET, HELP) and LATENCY
// (LATEST, HISTORY, RESET, HELP), with Redis 7's reply shapes and errors.
#include "protocol/resp_writer.h"
#include "server/command_util.h"
#include "server/commands.h"
#include "server/server_info.h"
#include "server/telemetry.h"

namespace ember::server {
namespace pr = ember::protocol;
namespace {

void AppendHelp(std::string* reply, std::initializer_list<const char*> lines) {
  pr::AppendArrayHeader(reply, lines.size());
  for (const char* line : lines) pr::AppendSimpleString(reply, line);
}

// Redis's subcommand checks: unknown first, then that subcommand's arity.
bool CheckSub(const Args& a, std::string_view command,
              std::initializer_list<std::pair<const char*, int>> subs,
              std::string* reply) {
  const std::string sub = Lower(a[1]);
  for (const auto& [name, arity] : subs) {
    if (sub != name) continue;
    const int n = static_cast<int>(a.size());
    if (arity > 0 ? n == arity : n >= -arity) return true;
    pr::AppendError(reply, "ERR wrong number of arguments for '" +
                               Lower(command) + "|" + sub + "' command");
    return false;
  }
  pr::AppendError(reply, "ERR unknown subcommand '" + a[1] + "'. Try " +
                             std::string(command) + " HELP.");
  return false;
}

}  // namespace

void CmdSlowlog(const Args& a, CommandContext& ctx, std::string* reply) {
  if (!CheckSub(a, "SLOWLOG",
                {{"get", -2}, {"len", 2}, {"reset", 2}, {"help", 2}}, reply))
    return;
  Telemetry* t = ctx.info->telemetry();
  const std::string sub = Lower(a[1]);
  if (sub == "help") {
    return AppendHelp(
        reply,
        {"SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
         "GET [<count>]",
         ("    Return top <count> entries from the slowlog (default: 10, -1 "
          "mean all)."),
         "    Entries are made of:",
         ("    id, timestamp, time in microseconds, arguments array, client "
          "IP and port,"),
         "    client name", "LEN", "    Return the length of the slowlog.",
         "RESET", "    Reset the slowlog.", "HELP", "    Prints this help."});
  }
  if (sub == "len") {
    return pr::AppendInteger(reply,
                             t ? static_cast<int64_t>(t->slowlog.size()) : 0);
  }
  if (sub == "reset") {
    if (t != nullptr) t->slowlog.Reset();
    return pr::AppendOk(reply);
  }
  if (a.size() > 3) {
    return pr::AppendError(reply,
                           "ERR unknown subcommand or wrong number of "
                           "arguments for '" +
                               a[1] + "'. Try SLOWLOG HELP.");
  }
  int64_t count = 10;
  if (a.size() == 3 && (!ParseInt64(a[2], &count) || count < -1)) {
    return pr::AppendError(reply,
                           "ERR count should be greater than or equal to -1");
  }
  const std::vector<SlowLog::Entry> entries =
      t ? t->slowlog.Newest(count) : std::vector<SlowLog::Entry>();
  pr::AppendArrayHeader(reply, entries.size());
  for (const SlowLog::Entry& e : entries) {
    pr::AppendArrayHeader(reply, 6);
    pr::AppendInteger(reply, static_cast<int64_t>(e.id));
    pr::AppendInteger(reply, e.unix_seconds);
    pr::AppendInteger(reply, static_cast<int64_t>(e.usec));
    pr::AppendArrayHeader(reply, e.args.size());
    for (const std::string& arg : e.args) pr::AppendBulk(reply, arg);
    pr::AppendBulk(reply, e.peer);
    pr::AppendBulk(reply, e.client_name);
  }
}

void CmdLatency(const Args& a, CommandContext& ctx, std::string* reply) {
  if (!CheckSub(a, "LATENCY",
                {{"latest", 2}, {"history", 3}, {"reset", -2}, {"help", 2}},
                reply))
    return;
  Telemetry* t = ctx.info->telemetry();
  const std::string sub = Lower(a[1]);
  if (sub == "help") {
    return AppendHelp(
        reply,
        {"LATENCY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
         "HISTORY <event>",
         "    Return time-latency samples for the <event> class.", "LATEST",
         "    Return the latest latency samples for all events.",
         "RESET [<event> ...]",
         "    Reset latency data of one or more <event> classes.",
         "    (default: reset all data for all event classes)", "HELP",
         "    Prints this help."});
  }
  if (sub == "latest") {
    const auto events =
        t ? t->latency.Latest() : std::vector<LatencyMonitor::Event>();
    pr::AppendArrayHeader(reply, events.size());
    for (const auto& e : events) {
      pr::AppendArrayHeader(reply, 4);
      pr::AppendBulk(reply, e.name);
      pr::AppendInteger(reply, e.latest.unix_seconds);
      pr::AppendInteger(reply, static_cast<int64_t>(e.latest.ms));
      pr::AppendInteger(reply, static_cast<int64_t>(e.max_ms));
    }
    return;
  }
  if (sub == "history") {
    const auto samples =
        t ? t->latency.History(a[2]) : std::vector<LatencyMonitor::Sample>();
    pr::AppendArrayHeader(reply, samples.size());
    for (const auto& s : samples) {
      pr::AppendArrayHeader(reply, 2);
      pr::AppendInteger(reply, s.unix_seconds);
      pr::AppendInteger(reply, static_cast<int64_t>(s.ms));
    }
    return;
  }
  const std::vector<std::string> events(a.begin() + 2, a.end());
  pr::AppendInteger(reply,
                    t ? static_cast<int64_t>(t->latency.Reset(events)) : 0);
}

}  // namespace ember::server
