// server/config.h: ember-server's settings, read from an INI file
// (conf/ember.conf) and `--key value` overrides by Boost.Program_options.
// Thread safety: a Config is a value, read-only once the server starts.
#pragma once

#include <cstdint>
#include <string>

#include "shm/arena_options.h"

namespace ember::server {

enum class FsyncMode { kAlways, kEverySec, kNo };
enum class ColdTier { kRocksDb, kNone };
enum class LogLevel { kDebug, kInfo, kWarning, kError };
// Redis's enable-debug-command: DEBUG from nobody, anyone, or only
// connections from the Unix socket or a loopback address.
enum class DebugCommand { kNo, kYes, kLocal };

struct Config {
  std::string bind = "127.0.0.1";
  uint16_t port = 7379;  // 0: an ephemeral port (tests)
  std::string unix_socket = "/tmp/ember/ember.sock";  // "" disables
  uint32_t unix_socket_mode = 0660;
  std::string run_dir = "/tmp/ember";
  uint32_t threads = 2;
  std::string name = "default";
  uint64_t arena_bytes = uint64_t{256} << 20;
  uint32_t page_bytes = 1u << 20;
  uint64_t max_value_bytes_hot = 256 << 10;
  uint32_t reader_lease_ms = 1000;
  shm::HugePages huge_pages = shm::HugePages::kTry;
  std::string data_dir = "./data";
  FsyncMode fsync = FsyncMode::kEverySec;
  ColdTier cold_tier = ColdTier::kRocksDb;
  std::string requirepass;
  uint32_t max_clients = 10000;
  uint64_t proto_max_bulk_len = uint64_t{512} << 20;
  LogLevel log_level = LogLevel::kInfo;
  DebugCommand enable_debug_command = DebugCommand::kNo;
  std::string config_file;  // "" when none was given
};

// Parses `ember-server [CONFIG_FILE] [--key value ...]`. Throws
// std::runtime_error naming the key for an unknown key or a bad value, or
// the file when it cannot be read. `--help` sets *help and returns the usage.
Config ParseConfig(int argc, const char* const* argv, bool* help,
                   std::string* usage);

const char* FsyncName(FsyncMode m);

}  // namespace ember::server
