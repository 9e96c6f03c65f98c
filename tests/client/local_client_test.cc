// LocalClient against the real ember-server: zero-copy hits, the socket
// fallback (miss, cold value, server stopped, killed, restarted, arena
// recreated), read-your-writes across processes (local_worker), a reader
// SIGKILLed while holding a guard, fork, threads, MultiGet.
#include "client/local_client.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "client/arena_info.h"
#include "client/remote_client.h"
#include "shm/clock.h"
#include "tests/client/local_worker_process.h"
#include "tests/client/server_fixture.h"
#include "tests/str_cat.h"

namespace ember::client {
namespace {

using shm::Code;
using std::chrono::milliseconds;

class LocalClientTest : public testing::ServerTest {
 protected:
  LocalClientTest() {
    server_options_.extra_args = {"--arena_bytes",
                                  "16mb",
                                  "--threads",
                                  "1",
                                  "--max_value_bytes_hot",
                                  "4096",
                                  "--enable_debug_command",
                                  "local"};
  }
  LocalOptions Options() {
    LocalOptions o;
    o.name = server().name();
    o.run_dir = server().run_dir();
    o.remote.unix_socket = server().unix_socket();
    o.stale_heartbeat_ms = 300;
    o.reopen_interval_ms = 20;
    return o;
  }
  std::unique_ptr<LocalClient> Open() {
    std::unique_ptr<LocalClient> c;
    EXPECT_TRUE(LocalClient::Open(Options(), &c).ok());
    return c;
  }
  // Gets `key` until it is served zero-copy (promotion is asynchronous) or
  // `ms` pass; returns the last status.
  static shm::Status GetUntilHot(LocalClient* c, const std::string& key,
                                 Value* v, int ms = 5000) {
    shm::Status s;
    for (int i = 0; i < ms / 10; ++i) {
      s = c->Get(key, v);
      if (s.ok() && v->zero_copy()) break;
      v->Release();
      std::this_thread::sleep_for(milliseconds(10));
    }
    return s;
  }
};

TEST_F(LocalClientTest, HitIsZeroCopyFromTheArena) {
  auto c = Open();
  ASSERT_TRUE(c->Set("greeting", "hello").ok());
  Value v;
  ASSERT_TRUE(c->Get("greeting", &v).ok());
  EXPECT_TRUE(v.zero_copy());
  EXPECT_EQ(v.view(), "hello");
  EXPECT_TRUE(c->arena_ready());
  EXPECT_TRUE(v.Release().ok());
  EXPECT_EQ(c->stats().arena_hits, 1u);
  EXPECT_EQ(c->stats().server_reads, 0u);
}

TEST_F(LocalClientTest, EachDatabaseIsReadZeroCopyWithItsOwnKeys) {
  LocalOptions o3 = Options();
  o3.db = 3;
  std::unique_ptr<LocalClient> c3;
  ASSERT_TRUE(LocalClient::Open(o3, &c3).ok());
  auto c0 = Open();
  ASSERT_TRUE(c0->Set("k", "zero").ok());
  ASSERT_TRUE(c3->Set("k", "three").ok());
  ASSERT_TRUE(c3->Set("only3", "x").ok());
  Value v;
  ASSERT_TRUE(c3->Get("k", &v).ok());
  EXPECT_TRUE(v.zero_copy());
  EXPECT_EQ(v.view(), "three");
  EXPECT_TRUE(v.Release().ok());
  ASSERT_TRUE(c0->Get("k", &v).ok());
  EXPECT_TRUE(v.zero_copy());
  EXPECT_EQ(v.view(), "zero");
  EXPECT_TRUE(v.Release().ok());
  EXPECT_EQ(c0->Get("only3", &v).code(), Code::kNotFound);
  // MultiGet looks up the database's keys in place as well.
  std::vector<std::string_view> values;
  std::vector<bool> found;
  ASSERT_TRUE(c3->MultiGet({"k", "only3", "none"}, &values, &found).ok());
  EXPECT_EQ(found, (std::vector<bool>{true, true, false}));
  EXPECT_EQ(values[0], "three");
  EXPECT_EQ(values[1], "x");
  ASSERT_TRUE(c3->ReleaseMulti().ok());
  EXPECT_EQ(c3->stats().arena_hits, 3u);
  EXPECT_EQ(c3->stats().server_reads, 1u);  // "none", asked in database 3
  // Writes and the socket fallback go to database 3 too.
  int64_t deleted = 0;
  ASSERT_TRUE(c3->Del("k", &deleted).ok());
  EXPECT_EQ(deleted, 1);
  EXPECT_EQ(c3->Get("k", &v).code(), Code::kNotFound);
  ASSERT_TRUE(c0->Get("k", &v).ok());
  EXPECT_EQ(v.view(), "zero");
  EXPECT_TRUE(v.Release().ok());
}

// SWAPDB: a LocalClient of database 1 reads database 0's keys zero-copy as
// soon as the swap is answered, and still after a SIGKILL and a warm
// restart (the map is in the redo log and the arena's header).
TEST_F(LocalClientTest, SwapDbIsReadZeroCopyAndSurvivesAKill) {
  LocalOptions o1 = Options();
  o1.db = 1;
  std::unique_ptr<LocalClient> c1;
  ASSERT_TRUE(LocalClient::Open(o1, &c1).ok());
  auto c0 = Open();
  ASSERT_TRUE(c0->Set("k", "zero").ok());
  ASSERT_TRUE(c1->Set("k", "one").ok());
  Value v;
  ASSERT_TRUE(GetUntilHot(c1.get(), "k", &v).ok());
  EXPECT_EQ(v.view(), "one");
  EXPECT_TRUE(v.Release().ok());
  ASSERT_TRUE(GetUntilHot(c0.get(), "k", &v).ok());
  EXPECT_TRUE(v.Release().ok());
  RemoteOptions ro;
  ro.unix_socket = server().unix_socket();
  RemoteClient admin(ro);
  protocol::Reply r;
  ASSERT_TRUE(admin.Command({"SWAPDB", "0", "1"}, &r).ok());
  ASSERT_EQ(r.str, "OK");
  const uint64_t hits = c1->stats().arena_hits;
  ASSERT_TRUE(c1->Get("k", &v).ok());
  EXPECT_TRUE(v.zero_copy());  // no promotion needed: the same items
  EXPECT_EQ(v.view(), "zero");
  EXPECT_TRUE(v.Release().ok());
  ASSERT_TRUE(c0->Get("k", &v).ok());
  EXPECT_TRUE(v.zero_copy());
  EXPECT_EQ(v.view(), "one");
  EXPECT_TRUE(v.Release().ok());
  std::vector<std::string_view> values;
  std::vector<bool> found;
  ASSERT_TRUE(c1->MultiGet({"k"}, &values, &found).ok());
  EXPECT_EQ(values[0], "zero");
  ASSERT_TRUE(c1->ReleaseMulti().ok());
  EXPECT_EQ(c1->stats().arena_hits, hits + 2);
  server().Kill();
  ASSERT_TRUE(server().Start());
  ASSERT_TRUE(GetUntilHot(c1.get(), "k", &v).ok());
  EXPECT_EQ(v.view(), "zero");
  EXPECT_TRUE(v.Release().ok());
  ASSERT_TRUE(GetUntilHot(c0.get(), "k", &v).ok());
  EXPECT_EQ(v.view(), "one");
  EXPECT_TRUE(v.Release().ok());
}

TEST_F(LocalClientTest, ADatabaseOutOfRangeIsRefused) {
  LocalOptions o = Options();
  o.db = 256;
  std::unique_ptr<LocalClient> c;
  EXPECT_EQ(LocalClient::Open(o, &c).code(), Code::kInvalidArgument);
  o.db = 16;  // the server's databases: its SELECT refuses
  ASSERT_TRUE(LocalClient::Open(o, &c).ok());
  EXPECT_EQ(c->Set("k", "v").code(), Code::kInvalidArgument);
}

TEST_F(LocalClientTest, MissingKeyIsNotFoundAfterAskingTheServer) {
  auto c = Open();
  Value v;
  EXPECT_EQ(c->Get("nope", &v).code(), Code::kNotFound);
  EXPECT_EQ(c->stats().server_reads, 1u);
}

TEST_F(LocalClientTest, ValueTooBigForTheArenaComesFromTheServer) {
  auto c = Open();
  const std::string big(10000, 'b');  // over max_value_bytes_hot
  ASSERT_TRUE(c->Set("big", big).ok());
  Value v;
  ASSERT_TRUE(c->Get("big", &v).ok());
  EXPECT_FALSE(v.zero_copy());
  EXPECT_EQ(v.view(), big);
}

TEST_F(LocalClientTest, NestedValuesShareOneGuardAndBothStayValid) {
  auto c = Open();
  ASSERT_TRUE(c->Set("a", "1").ok());
  ASSERT_TRUE(c->Set("b", "2").ok());
  Value a, b;
  ASSERT_TRUE(c->Get("a", &a).ok());
  ASSERT_TRUE(c->Get("b", &b).ok());
  EXPECT_TRUE(b.Release().ok());
  EXPECT_EQ(a.view(), "1");  // still protected by a's use of the guard
  EXPECT_TRUE(a.zero_copy());
}

TEST_F(LocalClientTest, WritesExpireAndDelete) {
  auto c = Open();
  ASSERT_TRUE(c->Set("t", "x", 100).ok());
  Value v;
  ASSERT_TRUE(c->Get("t", &v).ok());
  v.Release();
  std::this_thread::sleep_for(milliseconds(200));
  EXPECT_EQ(c->Get("t", &v).code(), Code::kNotFound);
  ASSERT_TRUE(c->Set("d", "y").ok());
  int64_t deleted = 0;
  ASSERT_TRUE(c->Del("d", &deleted).ok());
  EXPECT_EQ(deleted, 1);
  EXPECT_EQ(c->Get("d", &v).code(), Code::kNotFound);
  int64_t n = 0;
  ASSERT_TRUE(c->Incr("n", &n).ok());
  ASSERT_TRUE(c->Get("n", &v).ok());
  EXPECT_EQ(v.view(), "1");
}

TEST_F(LocalClientTest, MultiGetMixesArenaHitsAndServerAnswers) {
  auto c = Open();
  ASSERT_TRUE(c->Set("h1", "one").ok());
  ASSERT_TRUE(c->Set("h2", "two").ok());
  ASSERT_TRUE(c->Set("big", std::string(5000, 'z')).ok());
  std::vector<std::string_view> keys = {"h1", "missing", "big", "h2"};
  std::vector<std::string_view> values;
  std::vector<bool> found;
  ASSERT_TRUE(c->MultiGet(keys, &values, &found).ok());
  EXPECT_EQ(found, (std::vector<bool>{true, false, true, true}));
  EXPECT_EQ(values[0], "one");
  EXPECT_EQ(values[2], std::string(5000, 'z'));
  EXPECT_EQ(values[3], "two");
  EXPECT_TRUE(c->ReleaseMulti().ok());
  EXPECT_EQ(c->stats().arena_hits, 2u);
}

// After Set returns in one process, a Get in another sees the new value,
// from the arena, every time.
TEST_F(LocalClientTest, ReadYourWritesAcrossProcesses) {
  auto c = Open();
  testing::LocalWorker w(server());
  for (int i = 0; i < 200; ++i) {
    const std::string v = ember::testing::Cat("v", i);
    ASSERT_TRUE(c->Set("shared", v).ok());
    ASSERT_EQ(w.Ask("GET shared"), "HIT " + v) << "round " << i;
  }
  // And the other way round.
  ASSERT_EQ(w.Ask("SET back from-worker"), "OK");
  Value v;
  ASSERT_TRUE(c->Get("back", &v).ok());
  EXPECT_EQ(v.view(), "from-worker");
  EXPECT_TRUE(v.zero_copy());
}

TEST_F(LocalClientTest, ServerStoppedIsUnavailableNotStale) {
  auto c = Open();
  ASSERT_TRUE(c->Set("k", "v").ok());
  ASSERT_TRUE(server().Stop());
  Value v;
  // The arena was marked CLEAN: no zero-copy read of a stopped server.
  EXPECT_EQ(c->Get("k", &v).code(), Code::kUnavailable);
  EXPECT_FALSE(c->arena_ready());
}

TEST_F(LocalClientTest, RestartRecreatesTheArenaAndReadsComeBack) {
  auto c = Open();
  ASSERT_TRUE(c->Set("k", "durable").ok());
  Value v;
  ASSERT_TRUE(c->Get("k", &v).ok());
  v.Release();
  ASSERT_TRUE(server().Restart());
  // The new arena starts empty: the first read is a cold hit through the
  // socket (from RocksDB), which promotes the key; then zero-copy again.
  ASSERT_TRUE(GetUntilHot(c.get(), "k", &v).ok());
  EXPECT_TRUE(v.zero_copy());
  EXPECT_EQ(v.view(), "durable");
}

TEST_F(LocalClientTest, KilledServerStopsZeroCopyReadsOnceItsHeartbeatIsStale) {
  auto c = Open();
  ASSERT_TRUE(c->Set("k", "v").ok());
  Value v;
  ASSERT_TRUE(c->Get("k", &v).ok());
  ASSERT_TRUE(v.zero_copy());
  v.Release();
  server().Kill();  // the arena stays ACTIVE, its heartbeat stops
  {
    // This process's clock (LocalClient's) moves past the last beat, with
    // no sleep; the dead server's clock does not matter.
    shm::ManualClock clock;
    clock.Advance(Options().stale_heartbeat_ms + 1);
    // The clock is read once per 64 Gets of a thread.
    shm::Status s;
    for (int i = 0; i < 65; ++i) {
      s = c->Get("k", &v);
      v.Release();
    }
    EXPECT_EQ(s.code(), Code::kUnavailable);
  }
  ASSERT_TRUE(server().Start());
  ASSERT_TRUE(GetUntilHot(c.get(), "k", &v).ok());
  EXPECT_EQ(v.view(), "v");
}

// Regression: a killed server's arena stayed ACTIVE, with a fresh heartbeat
// for stale_heartbeat_ms, so a client went on reading its old values while
// a restarted server took new writes. The new server retires the old
// segment before replacing it.
TEST_F(LocalClientTest, RestartAfterAKillRetiresTheOldArenaAtOnce) {
  LocalOptions o = Options();
  o.stale_heartbeat_ms = 60000;  // the heartbeat alone would not tell
  std::unique_ptr<LocalClient> c;
  ASSERT_TRUE(LocalClient::Open(o, &c).ok());
  ASSERT_TRUE(c->Set("k", "before").ok());
  Value v;
  ASSERT_TRUE(c->Get("k", &v).ok());
  ASSERT_TRUE(v.zero_copy());
  v.Release();
  server().Kill();
  ASSERT_TRUE(server().Start());  // well within stale_heartbeat_ms
  ASSERT_TRUE(c->Set("k", "after").ok());
  ASSERT_TRUE(c->Get("k", &v).ok());
  EXPECT_EQ(v.view(), "after");
}

// A reader killed while it holds a guard must not stall the server: the
// writer ignores dead readers' slots, so memory is reclaimed and new writes
// are published (served zero-copy) after churning through the arena.
TEST_F(LocalClientTest, ReaderKilledHoldingAGuardLeavesTheServerHealthy) {
  auto c = Open();
  ASSERT_TRUE(c->Set("pinned", "x").ok());
  {
    testing::LocalWorker w(server());
    ASSERT_EQ(w.Ask("HOLD pinned"), "HELD HIT x");
    w.Kill();
  }
  const std::string value(2000, 'v');
  for (int i = 0; i < 20000; ++i) {  // 40 MB through a 16 MiB arena
    ASSERT_TRUE(c->Set(ember::testing::Cat("churn", i % 5000), value).ok());
  }
  ASSERT_TRUE(c->Set("fresh", "y").ok());
  Value v;
  ASSERT_TRUE(c->Get("fresh", &v).ok());
  EXPECT_TRUE(v.zero_copy());
}

// The heartbeat beats on its own thread: a group commit held for 3 s (DEBUG
// SLEEP inside it) must not make local readers think the server died and
// fall back to the socket (stale_heartbeat_ms is 300 here). When the
// committer beat it, every read after 300 ms went to the socket.
TEST_F(LocalClientTest, ACommitHeldForThreeSecondsLeavesReadsZeroCopy) {
  auto c = Open();
  ASSERT_TRUE(c->Set("k", "v").ok());
  Value v;
  ASSERT_TRUE(GetUntilHot(c.get(), "k", &v).ok());
  v.Release();
  std::atomic<bool> slept{false};
  std::thread stall([&] {
    RemoteOptions o;
    o.port = server().port();
    o.io_timeout_ms = 10000;
    RemoteClient r(o);
    protocol::Reply reply;
    slept = r.Command({"DEBUG", "SLEEP", "3"}, &reply).ok() &&
            reply.kind == protocol::Reply::Kind::kStatus;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const auto end =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(2600);
  int reads = 0, from_socket = 0;
  while (std::chrono::steady_clock::now() < end) {
    ASSERT_TRUE(c->Get("k", &v).ok());
    EXPECT_EQ(v.view(), "v");
    if (!v.zero_copy()) ++from_socket;
    ++reads;
    v.Release();
    std::this_thread::sleep_for(std::chrono::microseconds(500));
  }
  stall.join();
  EXPECT_TRUE(slept) << "DEBUG SLEEP did not hold a commit";
  EXPECT_GT(reads, 1000);
  EXPECT_EQ(from_socket, 0) << "of " << reads << " reads during the stall";
}

TEST_F(LocalClientTest, ForkedChildGetsItsOwnSlotAndConnection) {
  auto c = Open();
  ASSERT_TRUE(c->Set("k", "parent").ok());
  Value held;  // the parent holds a guard across the fork
  ASSERT_TRUE(c->Get("k", &held).ok());
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // The parent's guard may end any time: a child's release of a Value
    // read before the fork is told its bytes were not protected.
    bool ok = held.Release().code() == shm::Code::kRevoked;
    Value v;
    ok = ok && c->Get("k", &v).ok() && v.view() == "parent" && v.zero_copy();
    v.Release();
    ok = ok && c->Set("child", "was here").ok();
    ok = ok && c->Get("child", &v).ok() && v.view() == "was here";
    _exit(ok ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  // The parent's guard, slot and socket are intact.
  EXPECT_EQ(held.view(), "parent");
  EXPECT_TRUE(held.Release().ok());
  Value v;
  ASSERT_TRUE(c->Get("child", &v).ok());
  EXPECT_EQ(v.view(), "was here");
  ASSERT_TRUE(c->Set("after", "fork").ok());
}

// The arena's description line of this process's slot, or "".
std::string MySlotLine(const testing::EmberServer& server) {
  std::string text;
  if (!DescribeArena(server.name(), server.run_dir(), &text).ok()) return "";
  const std::string pid = ember::testing::Cat("pid ", getpid()) + " ";
  for (size_t at = text.find(pid); at != std::string::npos;
       at = text.find(pid, at + 1)) {
    const size_t start = text.rfind('\n', at) + 1;
    return text.substr(start, text.find('\n', at) - start);
  }
  return "";
}

// Regression: a child that released a Value from before the fork (by
// reusing it for a Get) or destroyed the LocalClient cleared the parent's
// announce and unlocked its slot, so the writer could reclaim bytes the
// parent was still reading.
TEST_F(LocalClientTest, ChildLeavesTheParentsReadingSlotAlone) {
  for (const bool destroy : {false, true}) {
    auto c = Open();
    ASSERT_TRUE(c->Set("k", "v").ok());
    Value held;
    ASSERT_TRUE(c->Get("k", &held).ok());
    ASSERT_TRUE(held.zero_copy());
    const std::string before = MySlotLine(server());
    ASSERT_NE(before.find("client   reading"), std::string::npos) << before;
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      if (destroy) {
        c.reset();  // frees the parent's states too
      } else {
        c->Get("k", &held);  // releases the pre-fork Value first
      }
      _exit(0);
    }
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    EXPECT_EQ(MySlotLine(server()), before) << (destroy ? "destroy" : "get");
    EXPECT_TRUE(held.Release().ok());
  }
}

TEST_F(LocalClientTest, ThreadsEachReadThroughTheirOwnSlot) {
  auto c = Open();
  for (int i = 0; i < 100; ++i)
    ASSERT_TRUE(c->Set(ember::testing::Cat("k", i), std::to_string(i)).ok());
  std::vector<std::thread> threads;
  std::atomic<int> bad{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int round = 0; round < 50; ++round) {
        for (int i = 0; i < 100; ++i) {
          Value v;
          if (!c->Get(ember::testing::Cat("k", i), &v).ok() ||
              v.view() != std::to_string(i) || !v.zero_copy()) {
            ++bad;
          }
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_EQ(c->stats().arena_hits, 4u * 50 * 100);
}

// client/ember.h from a C program (tests/client/c_api_test.c): set, a
// zero-copy get, release, del, TTL, NULL arguments, no server.
TEST_F(LocalClientTest, CApiDrivenFromC) {
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    execl(EMBER_C_API_TEST, EMBER_C_API_TEST, server().name().c_str(),
          server().run_dir().c_str(), server().unix_socket().c_str(), nullptr);
    _exit(127);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "see c_api_test's lines above";
}

// README.md's example (cut out of README.md by CMake) runs and reads its
// key zero-copy. It uses the default socket, <run_dir>/ember.sock.
TEST_F(LocalClientTest, ReadmeExampleRuns) {
  const std::string link = server().run_dir() + "/ember.sock";
  ASSERT_EQ(symlink(server().unix_socket().c_str(), link.c_str()), 0);
  const std::string cmd = std::string(EMBER_README_EXAMPLE) + " " +
                          server().name() + " " + server().run_dir();
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  char buf[256] = {};
  const size_t n = fread(buf, 1, sizeof(buf) - 1, p);
  const int status = pclose(p);
  EXPECT_EQ(std::string(buf, n), "hello (zero-copy)\n");
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

TEST(LocalClientOpenTest, BadNameIsRejected) {
  LocalOptions o;
  o.name = "../etc";
  std::unique_ptr<LocalClient> c;
  EXPECT_EQ(LocalClient::Open(o, &c).code(), Code::kInvalidArgument);
}

TEST(LocalClientOpenTest, NoServerIsUnavailable) {
  LocalOptions o;
  o.name = ember::testing::Cat("absent", getpid());
  o.run_dir = "/tmp/ember-no-such-dir";
  std::unique_ptr<LocalClient> c;
  ASSERT_TRUE(LocalClient::Open(o, &c).ok());
  Value v;
  EXPECT_EQ(c->Get("k", &v).code(), Code::kUnavailable);
  EXPECT_EQ(c->Set("k", "v").code(), Code::kUnavailable);
}

}  // namespace
}  // namespace ember::client
