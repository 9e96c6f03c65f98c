// tests/client/local_worker_process.h: runs tests/client/local_worker as a
// child process (fork/exec) against an EmberServer and talks to it through
// pipes, one line per request and per answer. Test thread only.
#pragma once

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "tests/client/server_fixture.h"

namespace ember::testing {

class LocalWorker {
 public:
  explicit LocalWorker(const EmberServer& server) {
    int to_child[2], from_child[2];
    if (pipe(to_child) != 0 || pipe(from_child) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      dup2(to_child[0], 0);
      dup2(from_child[1], 1);
      close(to_child[1]);
      close(from_child[0]);
      execl(EMBER_LOCAL_WORKER, EMBER_LOCAL_WORKER, server.name().c_str(),
            server.run_dir().c_str(), server.unix_socket().c_str(), nullptr);
      _exit(127);
    }
    close(to_child[0]);
    close(from_child[1]);
    in_ = to_child[1];
    out_ = from_child[0];
  }
  ~LocalWorker() {
    if (pid_ > 0) Kill();
    if (in_ >= 0) close(in_);
    if (out_ >= 0) close(out_);
  }
  LocalWorker(const LocalWorker&) = delete;
  LocalWorker& operator=(const LocalWorker&) = delete;

  // Sends one request line; returns the answer line, or "TIMEOUT" after
  // 10 s, or "EOF" when the worker is gone.
  std::string Ask(const std::string& line) {
    const std::string req = line + "\n";
    if (write(in_, req.data(), req.size()) != ssize_t(req.size())) return "EOF";
    std::string answer;
    char ch;
    while (true) {
      pollfd p{out_, POLLIN, 0};
      if (poll(&p, 1, 10000) <= 0) return "TIMEOUT";
      if (read(out_, &ch, 1) != 1) return "EOF";
      if (ch == '\n') return answer;
      answer += ch;
    }
  }
  // SIGKILL and reap: the worker dies wherever it is.
  void Kill() {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

 private:
  pid_t pid_ = -1;
  int in_ = -1;   // the worker's stdin
  int out_ = -1;  // the worker's stdout
};

}  // namespace ember::testing
