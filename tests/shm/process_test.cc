// Real processes on one arena (fork/exec of shm_worker): a writer and two
// multi-threaded readers checking every value, and readers killed with
// SIGKILL while they hold guards.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <random>
#include <thread>
#include <vector>

#include "tests/shm/arena_test_util.h"

namespace ember::shm::testing {
namespace {

// A child process running shm_worker; its stdout is a pipe we can read.
struct Child {
  pid_t pid = -1;
  int out = -1;
};

Child Spawn(const std::vector<std::string>& args) {
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
std::string ReadAll(int fd) {
  std::string out;
  char buf[512];
  ssize_t n;
  while ((n = read(fd, buf, sizeof(buf))) > 0) out.append(buf, n);
  return out;
}

int Wait(const Child& c) {
  int status = 0;
  waitpid(c.pid, &status, 0);
  close(c.out);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

class ProcessTest : public ArenaFixture {};

TEST_F(ProcessTest, WriterAndTwoReaderProcessesSeeNoTornValues) {
  const std::string ready = run_dir_ + "/ready";
  const std::string keys = "20000", seconds = "4";
  Child writer = Spawn({"writer", options_.name, run_dir_, "5", keys, ready});
  for (int i = 0; i < 500 && access(ready.c_str(), F_OK) != 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(access(ready.c_str(), F_OK), 0) << "writer never became ready";
  Child r1 = Spawn({"reader", options_.name, run_dir_, seconds, keys, "3"});
  Child r2 = Spawn({"reader", options_.name, run_dir_, seconds, keys, "3"});
  const std::string out1 = ReadAll(r1.out), out2 = ReadAll(r2.out);
  EXPECT_EQ(Wait(r1), 0) << out1;
  EXPECT_EQ(Wait(r2), 0) << out2;
  const std::string wout = ReadAll(writer.out);
  EXPECT_EQ(Wait(writer), 0) << wout;
  std::printf("%s%s%s", out1.c_str(), out2.c_str(), wout.c_str());
  EXPECT_NE(out1.find(" 0 torn"), std::string::npos);
}

TEST_F(ProcessTest, KilledReadersNeverStallReclamation) {
  options_.max_readers = 8;  // 100 kills reuse each slot many times
  CreateWriter();
  const std::string value(100, 'x');
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(writer_->Put("k" + std::to_string(i), value).ok());
  }
  const uint64_t chunk_bytes_start = writer_->header().stats.chunk_bytes.load();
  std::mt19937 rng(1);
  uint64_t max_pending = 0;
  for (int round = 0; round < 100; ++round) {
    Child holder =
        Spawn({"holder", options_.name, run_dir_, "k" + std::to_string(round)});
    char buf[8] = {0};
    ASSERT_EQ(read(holder.out, buf, 5), 5) << "holder did not start";
    ASSERT_STREQ(buf, "held\n");
    // Rewrite everything: the held item's chunk must wait for the holder.
    for (int i = 0; i < 100; ++i) {
      ASSERT_TRUE(writer_->Put("k" + std::to_string(i), value).ok());
    }
    writer_->Tick();
    EXPECT_GT(writer_->header().stats.retired_pending.load(), 0u)
        << "a live guard holds its epoch";
    std::this_thread::sleep_for(std::chrono::microseconds(rng() % 2000));
    kill(holder.pid, SIGKILL);
    EXPECT_EQ(Wait(holder), 128 + SIGKILL);
    // The broker's thread frees the slot when it sees the connection hang
    // up, within microseconds of the kill; allow it a second.
    for (int i = 0; i < 1000 && writer_->registry()->live() > 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    writer_->Tick();
    max_pending =
        std::max(max_pending, writer_->header().stats.retired_pending.load());
    ASSERT_EQ(writer_->header().stats.retired_pending.load(), 0u)
        << "round " << round << ": a dead reader stalls reclamation";
  }
  EXPECT_EQ(writer_->header().stats.chunk_bytes.load(), chunk_bytes_start);
  EXPECT_EQ(writer_->header().stats.items.load(), 100u);
  // Every slot is claimable again.
  std::vector<std::unique_ptr<ArenaReader>> readers;
  for (uint32_t i = 0; i < options_.max_readers; ++i)
    readers.push_back(OpenReader());
  for (auto& r : readers) ASSERT_NE(r, nullptr);
  EXPECT_EQ(Read(readers.back().get(), "k7"), value);
}

}  // namespace
}  // namespace ember::shm::testing
