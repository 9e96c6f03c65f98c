// tests/shm/child_process.h: shm_worker (tests/shm/shm_worker.cc) as a
// child process of a test (fork/exec), with its stdout on a pipe.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

namespace ember::shm::testing {

// A child process running shm_worker; its stdout is a pipe we can read.
struct Child {
  pid_t pid = -1;
  int out = -1;
};

inline Child Spawn(const std::vector<std::string>& args) {
  int fds[2];
  EXPECT_EQ(pipe2(fds, O_CLOEXEC), 0);
  Child c;
  c.pid = fork();
  if (c.pid == 0) {
    dup2(fds[1], STDOUT_FILENO);
    std::vector<char*> argv;
    std::string worker = EMBER_SHM_WORKER;
    argv.push_back(worker.data());
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(worker.c_str(), argv.data());
    _exit(127);
  }
  close(fds[1]);
  c.out = fds[0];
  return c;
}

// Everything the child printed until it closed stdout.
inline std::string ReadAll(int fd) {
  std::string out;
  char buf[512];
  ssize_t n;
  while ((n = read(fd, buf, sizeof(buf))) > 0) out.append(buf, n);
  return out;
}

inline int Wait(const Child& c) {
  int status = 0;
  waitpid(c.pid, &status, 0);
  close(c.out);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace ember::shm::testing
