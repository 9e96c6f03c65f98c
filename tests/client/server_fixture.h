// tests/client/server_fixture.h: runs the real ember-server binary for the
// client tests, as tests/integration/ember_fixture.py does for Python.
// EmberServer is one server process on 127.0.0.1 with a fresh data_dir,
// run_dir and Unix socket under one temporary directory and a unique arena
// name; ServerTest is a GoogleTest fixture that starts one in SetUp and stops
// it in TearDown. Thread safety: use from the test's thread only.
#pragma once

#include <gtest/gtest.h>
#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace ember::testing {

struct ServerOptions {
  // Non-empty: --requirepass.
  std::string requirepass;
  // False: no Unix socket (--unix_socket "").
  bool unix_socket = true;
  // Any other settings, e.g. {"--fsync", "always"}; given last, so they
  // override the fixture's own (except port and paths).
  std::vector<std::string> extra_args = {"--arena_bytes", "16mb", "--threads",
                                         "1"};
};

class EmberServer {
 public:
  // The binary: env EMBER_SERVER, else EMBER_SERVER_PATH from CMake.
  explicit EmberServer(ServerOptions options = {});
  // Kills a server still running; removes the temporary directory and the
  // arena's /dev/shm objects.
  ~EmberServer();
  EmberServer(const EmberServer&) = delete;
  EmberServer& operator=(const EmberServer&) = delete;

  // Starts the server and waits (up to 10 s) until it logs that it listens
  // on TCP (and on its Unix socket). The first start takes an ephemeral
  // port; a restart asks for the same port again, so clients can reconnect
  // to the same address. Fails with the server's output.
  ::testing::AssertionResult Start();
  // SIGTERM, wait (up to 30 s, then SIGKILL) and expect exit code 0.
  ::testing::AssertionResult Stop();
  // Stop, then Start with the same data_dir, name, socket and port.
  ::testing::AssertionResult Restart();
  // SIGKILL and wait: a crash. The arena and socket file stay behind.
  void Kill();
  bool running() const { return pid_ > 0; }

  uint16_t port() const { return port_; }
  const std::string& unix_socket() const { return unix_socket_; }
  const std::string& name() const { return name_; }
  const std::string& run_dir() const { return run_dir_; }
  const std::string& data_dir() const { return data_dir_; }
  const std::string& password() const { return options_.requirepass; }
  // Everything the server printed (stdout and stderr), all runs.
  std::string log() const;

 private:
  // Signals the server and waits for it; returns its wait status.
  int SignalAndWait(int signal);

  ServerOptions options_;
  std::string binary_;
  std::string name_;
  std::string root_;  // temporary directory holding all of the below
  std::string data_dir_;
  std::string run_dir_;
  std::string unix_socket_;
  std::string log_path_;
  uint16_t port_ = 0;  // 0 until the first start
  pid_t pid_ = -1;     // -1 when not running
};

// Starts an EmberServer with `server_options_` (set them in the derived
// fixture's constructor) before each test and stops it after.
class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;
  EmberServer& server() { return *server_; }

  ServerOptions server_options_;

 private:
  std::unique_ptr<EmberServer> server_;
};

}  // namespace ember::testing
