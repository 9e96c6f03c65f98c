// server/main.cc: ember-server [CONFIG_FILE] [--key value ...]
#include <spdlog/spdlog.h>

#include <csignal>
#include <cstdio>
#include <exception>

#include "server/server.h"

int main(int argc, char** argv) {
  // A file-size limit (ulimit -f) makes a log write fail with EFBIG, which
  // the log handles as a full disk, instead of killing the server.
  std::signal(SIGXFSZ, SIG_IGN);
  using namespace ember::server;
  try {
    bool help = false;
    std::string usage;
    Config config = ParseConfig(argc, argv, &help, &usage);
    if (help) {
      std::fputs(usage.c_str(), stdout);
      return 0;
    }
    ApplyLogLevel(config.log_level);
    spdlog::info("ember-server 0.1.0 starting (pid {}, config '{}')", getpid(),
                 config.config_file);
    Server server(std::move(config));
    ember::shm::Status s = server.Start();
    if (!s.ok()) {
      spdlog::error("cannot start: {}", s.ToString());
      return 1;
    }
    server.Run();
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ember-server: %s\n", e.what());
    return 2;
  }
}
