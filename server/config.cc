// server/config.cc: INI file + command line -> Config, with a message that
// names the offending key for anything unknown or malformed.
#include "server/config.h"

#include <boost/program_options.hpp>
#include <cctype>
#include <fstream>
#include <initializer_list>
#include <limits>
#include <sstream>
#include <stdexcept>

namespace ember::server {
namespace po = boost::program_options;
namespace {

[[noreturn]] void Bad(const std::string& key, const std::string& value,
                      const std::string& want) {
  throw std::runtime_error("bad value '" + value + "' for '" + key +
                           "': " + want);
}

// "4096", "256k", "256kb", "64mb", "1gb" (powers of 1024, as Redis).
uint64_t ParseBytes(const std::string& key, const std::string& v) {
  size_t pos = 0;
  uint64_t n = 0;
  try {
    n = std::stoull(v, &pos);
  } catch (const std::exception&) {
    Bad(key, v, "expected a byte count such as 268435456 or 256mb");
  }
  std::string unit;
  for (char c : v.substr(pos)) unit += static_cast<char>(std::tolower(c));
  uint64_t mul = 1;
  if (unit == "k" || unit == "kb")
    mul = uint64_t{1} << 10;
  else if (unit == "m" || unit == "mb")
    mul = uint64_t{1} << 20;
  else if (unit == "g" || unit == "gb")
    mul = uint64_t{1} << 30;
  else if (!unit.empty() || v.empty() || v[0] == '-') {
    Bad(key, v, "expected a byte count such as 268435456 or 256mb");
  }
  if (n > std::numeric_limits<uint64_t>::max() / mul) Bad(key, v, "too large");
  return n * mul;
}

// One of the named `choices`; otherwise an error listing them
// ("expected a, b or c").
template <typename T>
T ParseChoice(const std::string& key, const std::string& v,
              std::initializer_list<std::pair<const char*, T>> choices) {
  std::string want = "expected ";
  size_t i = 0;
  for (const auto& [name, value] : choices) {
    if (v == name) return value;
    if (i > 0) want += i + 1 == choices.size() ? " or " : ", ";
    want += name;
    ++i;
  }
  Bad(key, v, want);
}

uint64_t ParseUint(const std::string& key, const std::string& v, uint64_t lo,
                   uint64_t hi, int base = 10) {
  size_t pos = 0;
  uint64_t n = 0;
  try {
    n = std::stoull(v, &pos, base);
  } catch (const std::exception&) {
    pos = 0;
  }
  if (v.empty() || v[0] == '-' || pos != v.size() || n < lo || n > hi) {
    Bad(key, v,
        "expected an integer from " + std::to_string(lo) + " to " +
            std::to_string(hi));
  }
  return n;
}

}  // namespace

const char* FsyncName(FsyncMode m) {
  switch (m) {
    case FsyncMode::kAlways:
      return "always";
    case FsyncMode::kEverySec:
      return "everysec";
    case FsyncMode::kNo:
      return "no";
  }
  return "?";
}

Config ParseConfig(int argc, const char* const* argv, bool* help,
                   std::string* usage) {
  // Every key is a string here; the typed checks below name the key.
  const char* kKeys[] = {"bind",
                         "port",
                         "unix_socket",
                         "unix_socket_mode",
                         "run_dir",
                         "threads",
                         "name",
                         "arena_bytes",
                         "page_bytes",
                         "max_value_bytes_hot",
                         "reader_lease_ms",
                         "huge_pages",
                         "data_dir",
                         "fsync",
                         "cold_tier",
                         "requirepass",
                         "max_clients",
                         "proto_max_bulk_len",
                         "log_level",
                         "enable_debug_command"};
  po::options_description keys(
      "Settings (file: key = value; command line: --key value)");
  for (const char* k : kKeys) keys.add_options()(k, po::value<std::string>());
  po::options_description cli("Command line");
  cli.add_options()("help,h", "print this help")(
      "config", po::value<std::string>(),
      "config file (or the first argument)");
  cli.add(keys);
  po::positional_options_description positional;
  positional.add("config", 1);
  std::ostringstream out;
  out << "usage: ember-server [CONFIG_FILE] [--key value ...]\n" << cli;
  *usage = out.str();

  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc, argv)
                  .options(cli)
                  .positional(positional)
                  .run(),
              vm);
    *help = vm.count("help") > 0;
    if (vm.count("config")) {
      const std::string file = vm["config"].as<std::string>();
      std::ifstream in(file);
      if (!in)
        throw std::runtime_error("cannot read config file '" + file + "'");
      // Stored after the command line, so the command line wins.
      po::store(po::parse_config_file(in, keys, /*allow_unregistered=*/false),
                vm);
    }
    po::notify(vm);
  } catch (const po::error& e) {
    throw std::runtime_error(std::string("config: ") + e.what());
  }

  Config c;
  if (vm.count("config")) c.config_file = vm["config"].as<std::string>();
  auto get = [&](const char* k, auto apply) {
    if (vm.count(k)) apply(std::string(k), vm[k].as<std::string>());
  };
  get("bind", [&](auto, auto v) { c.bind = v; });
  get("port", [&](auto k, auto v) { c.port = ParseUint(k, v, 0, 65535); });
  get("unix_socket", [&](auto, auto v) { c.unix_socket = v; });
  get("unix_socket_mode", [&](auto k, auto v) {
    c.unix_socket_mode = ParseUint(k, v, 0, 0777, 8);
  });
  get("run_dir", [&](auto, auto v) { c.run_dir = v; });
  get("threads", [&](auto k, auto v) { c.threads = ParseUint(k, v, 0, 256); });
  get("name", [&](auto, auto v) { c.name = v; });
  get("arena_bytes", [&](auto k, auto v) { c.arena_bytes = ParseBytes(k, v); });
  get("page_bytes", [&](auto k, auto v) { c.page_bytes = ParseBytes(k, v); });
  get("max_value_bytes_hot",
      [&](auto k, auto v) { c.max_value_bytes_hot = ParseBytes(k, v); });
  get("reader_lease_ms",
      [&](auto k, auto v) { c.reader_lease_ms = ParseUint(k, v, 1, 3600000); });
  get("huge_pages", [&](auto k, auto v) {
    c.huge_pages = ParseChoice<shm::HugePages>(k, v,
                                               {{"try", shm::HugePages::kTry},
                                                {"on", shm::HugePages::kOn},
                                                {"off", shm::HugePages::kOff}});
  });
  get("data_dir", [&](auto, auto v) { c.data_dir = v; });
  get("fsync", [&](auto k, auto v) {
    c.fsync = ParseChoice<FsyncMode>(k, v,
                                     {{"always", FsyncMode::kAlways},
                                      {"everysec", FsyncMode::kEverySec},
                                      {"no", FsyncMode::kNo}});
  });
  get("cold_tier", [&](auto k, auto v) {
    c.cold_tier = ParseChoice<ColdTier>(
        k, v, {{"rocksdb", ColdTier::kRocksDb}, {"none", ColdTier::kNone}});
  });
  get("requirepass", [&](auto, auto v) { c.requirepass = v; });
  get("max_clients",
      [&](auto k, auto v) { c.max_clients = ParseUint(k, v, 1, 1000000); });
  get("proto_max_bulk_len", [&](auto k, auto v) {
    c.proto_max_bulk_len = ParseBytes(k, v);
    if (c.proto_max_bulk_len < 1024) Bad(k, v, "must be at least 1kb");
  });
  get("log_level", [&](auto k, auto v) {
    c.log_level = ParseChoice<LogLevel>(k, v,
                                        {{"debug", LogLevel::kDebug},
                                         {"info", LogLevel::kInfo},
                                         {"warning", LogLevel::kWarning},
                                         {"error", LogLevel::kError}});
  });
  get("enable_debug_command", [&](auto k, auto v) {
    c.enable_debug_command =
        ParseChoice<DebugCommand>(k, v,
                                  {{"no", DebugCommand::kNo},
                                   {"yes", DebugCommand::kYes},
                                   {"local", DebugCommand::kLocal}});
  });
  if (c.max_value_bytes_hot + 64 * 1024 > c.page_bytes) {
    Bad("max_value_bytes_hot", std::to_string(c.max_value_bytes_hot),
        "must leave room for the longest key within page_bytes");
  }
  return c;
}

}  // namespace ember::server
