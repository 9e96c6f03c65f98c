// Real processes on one arena (fork/exec of shm_worker): a writer and two
// multi-threaded readers checking every value, readers killed with SIGKILL
// while they hold guards, a writer killed and replaced before it is reaped,
// and a hostile client beside honest readers.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <random>
#include <thread>
#include <vector>

#include "tests/shm/arena_test_util.h"
#include "tests/shm/child_process.h"
#include "tests/shm/worker_value.h"
#include "tests/str_cat.h"

namespace ember::shm::testing {
namespace {

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
    ASSERT_TRUE(writer_->Put(ember::testing::Cat("k", i), value).ok());
  }
  const uint64_t chunk_bytes_start = writer_->header().stats.chunk_bytes.load();
  std::mt19937 rng(1);
  uint64_t max_pending = 0;
  for (int round = 0; round < 100; ++round) {
    Child holder = Spawn(
        {"holder", options_.name, run_dir_, ember::testing::Cat("k", round)});
    char buf[8] = {0};
    ASSERT_EQ(read(holder.out, buf, 5), 5) << "holder did not start";
    ASSERT_STREQ(buf, "held\n");
    // Rewrite everything: the held item's chunk must wait for the holder.
    for (int i = 0; i < 100; ++i) {
      ASSERT_TRUE(writer_->Put(ember::testing::Cat("k", i), value).ok());
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

// Liveness is the segment's writer lock, which the kernel drops when the
// process dies; a killed writer's pid stays taken until it is reaped, so a
// pid check refused this restart ("in use by a live server").
TEST_F(ProcessTest, RestartRightAfterKillBeforeTheDeadWriterIsReaped) {
  const std::string ready = run_dir_ + "/ready";
  Child writer = Spawn({"writer", options_.name, run_dir_, "30", "100", ready});
  for (int i = 0; i < 500 && access(ready.c_str(), F_OK) != 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(access(ready.c_str(), F_OK), 0) << "writer never became ready";
  ASSERT_EQ(kill(writer.pid, SIGKILL), 0);
  // Not reaped: the zombie keeps its pid. Its locks are gone once it is a
  // zombie, which takes a moment after the signal.
  Status s;
  for (int i = 0; i < 200; ++i) {
    s = ArenaWriter::Create(options_, &writer_);
    if (s.code() != Code::kBusy) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(kill(writer.pid, 0), 0) << "the dead writer was reaped too early";
  EXPECT_EQ(Wait(writer), 128 + SIGKILL);
  ASSERT_NE(writer_, nullptr);
  ASSERT_TRUE(writer_->Put("k", "v").ok());
  auto r = OpenReader();
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(Read(r.get(), "k"), "v");
}

// A local client in the server's group (not root) does everything it can
// to what it can reach, while honest reader processes check every value
// and this process writes: the writer never crashes, no honest read is
// wrong, the hostile slot is revoked (reclamation waits at most a lease),
// and everything it could not do is refused.
TEST_F(ProcessTest, HostileClientHarmsNoOneButItself) {
  if (geteuid() != 0)
    GTEST_SKIP() << "needs root to run a client as another uid";
  ASSERT_EQ(chmod(run_dir_.c_str(), 0750), 0);  // the group may enter
  // Small enough that the ancient guard makes memory short (so the lease
  // is what ends it) within its hold even in a TSan build (about 13,000
  // puts a second: 8 MiB took longer than the hold), large enough for the
  // live keys several times over; small pages, so every size class the
  // values need has pages.
  options_.arena_bytes = 4 << 20;
  options_.page_bytes = 64 << 10;
  options_.reader_lease_ms = 50;
  CreateWriter();
  const uint64_t keys = 5000;
  std::vector<uint64_t> version(keys, 0);
  auto put = [&](uint64_t i) {
    const std::string k = ember::testing::Cat("key:", i);
    return writer_->Put(k, WorkerValue(k, version[i]));
  };
  for (uint64_t i = 0; i < keys; ++i) ASSERT_TRUE(put(i).ok());
  // The hostile client holds an ancient guard for the first half of its
  // run. The writer writes flat out until that guard is revoked (however
  // slow the build: TSan), then at an easy pace.
  const std::string secs = "6";
  Child hostile = Spawn({"hostile", options_.name, run_dir_, secs, "65534",
                         std::to_string(getegid())});
  Child r1 = Spawn({"reader", options_.name, run_dir_, secs,
                    std::to_string(keys), "2", "misses-ok"});
  Child r2 = Spawn({"reader", options_.name, run_dir_, secs,
                    std::to_string(keys), "2", "misses-ok"});
  std::mt19937_64 rng(3);
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  uint64_t puts = 0, busy = 0, max_pending = 0;
  while (std::chrono::steady_clock::now() < end) {
    for (int n = 0; n < 64; ++n) {
      const uint64_t i = 1 + rng() % (keys - 1);
      if (i % 10 == 0) continue;  // readers may miss only these
      ++version[i];
      if (put(i).ok())
        ++puts;
      else
        ++busy;
    }
    writer_->Tick();
    max_pending =
        std::max(max_pending, writer_->header().stats.retired_pending.load());
    if (writer_->header().stats.revocations.load() > 0) {
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  }
  const std::string hout = ReadAll(hostile.out);
  const std::string out1 = ReadAll(r1.out), out2 = ReadAll(r2.out);
  EXPECT_EQ(Wait(hostile), 0) << hout;
  EXPECT_EQ(Wait(r1), 0) << out1;
  EXPECT_EQ(Wait(r2), 0) << out2;
  std::printf(
      "%s%s%s%llu puts, %llu busy (while the ancient guard held memory), %llu "
      "most chunks waiting, %llu "
      "revocations\n",
      hout.c_str(), out1.c_str(), out2.c_str(),
      static_cast<unsigned long long>(puts),
      static_cast<unsigned long long>(busy),
      static_cast<unsigned long long>(max_pending),
      static_cast<unsigned long long>(
          writer_->header().stats.revocations.load()));
  EXPECT_EQ(hout.find("ALLOWED"), std::string::npos) << hout;
  EXPECT_NE(hout.find("refused shrink a memfd"), std::string::npos) << hout;
  // A put may answer kBusy while the ancient guard holds memory, until its
  // lease ends (the server then keeps that key cold); the readers tolerate
  // those misses, never a wrong value. Once it is revoked, puts succeed.
  EXPECT_GT(puts, 1000u);
  EXPECT_GE(writer_->header().stats.revocations.load(), 1u)
      << "the ancient guard held memory past the lease";
  EXPECT_EQ(access((run_dir_ + "/planted").c_str(), F_OK), -1);
  // Its scribbles blocked reclamation at most a lease at a time, and not
  // at all once it is gone.
  for (int i = 0; i < 1000 && writer_->registry()->live() > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  writer_->Tick();
  EXPECT_EQ(writer_->header().stats.retired_pending.load(), 0u);
  auto r = OpenReader();
  ASSERT_NE(r, nullptr);
  for (uint64_t i = 1; i < keys; i += 97) {
    if (i % 10 == 0) continue;
    ASSERT_TRUE(put(i).ok());
    const std::string k = ember::testing::Cat("key:", i);
    EXPECT_EQ(Read(r.get(), k), WorkerValue(k, version[i]));
  }
}

}  // namespace
}  // namespace ember::shm::testing
