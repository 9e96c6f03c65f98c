// The writer with a real RocksDB and a real arena, in both commit modes:
// on the writer thread (fsync=always) and inline on the submitting event
// loop (fsync everysec/no).
#include "server/writer.h"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <future>
#include <thread>

#include "server/applier.h"
#include "server/db_keyspace.h"
#include "server/redo_log.h"
#include "server/server_info.h"
#include "tests/server/faulty_env.h"
#include "tests/str_cat.h"

namespace ember::server {
namespace {

// The server-level answers the writer's commands may ask for.
class FixedInfo : public ServerInfo {
 public:
  explicit FixedInfo(const Config& c) : config_(c) {}
  const Config& config() const override { return config_; }
  std::string InfoText(std::string_view) override { return ""; }
  uint64_t RememberCursor(const std::string&) override { return 1; }
  bool RecallCursor(uint64_t, std::string*) override { return false; }

 private:
  const Config& config_;
};

class WriterTest : public ::testing::TestWithParam<FsyncMode> {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ember-writer-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    ASSERT_TRUE(ColdStore::Open(dir_ + "/db", &cold_, faulty_.env()).ok());
    ASSERT_TRUE(
        RedoLog::Open({dir_ + "/redo", GetParam(), 1 << 20}, &log_).ok());
    ASSERT_TRUE(log_->Start(1).ok());
    dirty_ =
        std::make_unique<DirtyTable>(DirtyTable::Limits{1 << 20, 10000}, 0);
    applier_ = std::make_unique<Applier>(dirty_.get(), cold_.get(), log_.get(),
                                         std::chrono::milliseconds(1));
    applier_->Start();
    shm::ArenaOptions o;
    o.name = "wt" + std::to_string(getpid());
    o.run_dir = dir_;
    o.arena_bytes = 8 << 20;
    o.page_bytes = 64 << 10;
    o.remove_on_close = true;
    ASSERT_TRUE(shm::ArenaWriter::Create(o, &arena_).ok());
    config_.max_value_bytes_hot = 32 << 10;
    config_.fsync = GetParam();
    info_ = std::make_unique<FixedInfo>(config_);
    writer_ = std::make_unique<Writer>(config_, cold_.get(), arena_.get(),
                                       info_.get(), &stats_,
                                       WriteBack{log_.get(), dirty_.get(), 1});
    writer_->Start();
    ASSERT_TRUE(shm::ArenaReader::Open(o.name, dir_, &reader_).ok());
  }
  void TearDown() override {
    faulty_.stalled = false;
    writer_.reset();
    applier_.reset();
    dirty_.reset();
    log_.reset();
    reader_.reset();
    arena_.reset();
    cold_.reset();
    std::filesystem::remove_all(dir_);
  }
  // Queues one command from event loop `io`; its reply lands in `*reply`.
  void Queue(asio::io_context* io, Args args, std::string* reply) {
    std::vector<WriteJob> jobs;
    jobs.push_back(WriteJob{FindCommand(args[0]), std::move(args), io,
                            [reply](std::string r) { *reply = std::move(r); }});
    writer_->Submit(&jobs);
  }
  // Runs `io`'s handlers until `reply` is set (the reply is posted there,
  // or sent in place by a Flush posted there).
  static void RunUntil(asio::io_context* io, const std::string& reply) {
    while (reply.empty()) {
      io->restart();
      io->run_one_for(std::chrono::milliseconds(10));
    }
  }
  // Runs one command through the writer and returns its reply.
  std::string Run(Args args) {
    std::string reply;
    Queue(&io_, std::move(args), &reply);
    RunUntil(&io_, reply);
    return reply;
  }
  // Two round trips: fills queued before the first are applied by the time
  // the second is answered (the writer applies fills after each batch).
  void Drain() {
    EXPECT_EQ(Run({"PING"}), "+PONG\r\n");
    EXPECT_EQ(Run({"PING"}), "+PONG\r\n");
  }
  bool Hot(const std::string& key) {
    shm::ReadGuard g(reader_.get());
    std::string_view v;
    return g.Get(StoredKey(0, key), &v).ok();
  }

  std::string dir_;
  testing::FaultyEnv faulty_;  // outlives cold_
  Config config_;
  Stats stats_;
  asio::io_context io_;
  std::unique_ptr<ColdStore> cold_;
  std::unique_ptr<RedoLog> log_;
  std::unique_ptr<DirtyTable> dirty_;
  std::unique_ptr<Applier> applier_;
  std::unique_ptr<shm::ArenaWriter> arena_;
  std::unique_ptr<FixedInfo> info_;
  std::unique_ptr<Writer> writer_;
  std::unique_ptr<shm::ArenaReader> reader_;
};

// The reply comes once the log and the arena have the write; the applier
// brings RocksDB up to date behind it.
TEST_P(WriterTest, ReplyComesAfterTheLogAndArenaHaveTheWrite) {
  const uint64_t log_before = log_->bytes();
  EXPECT_EQ(Run({"SET", "k", "v"}), "+OK\r\n");
  EXPECT_GT(log_->bytes(), log_before);
  EXPECT_TRUE(Hot("k"));
  dirty_->Sync();
  std::string v;
  uint64_t e = 0;
  ASSERT_TRUE(cold_->Get(StoredKey(0, "k"), &v, &e).ok());
  EXPECT_EQ(v, "v");
  EXPECT_EQ(cold_->applied_lsn(), dirty_->counters().committed_lsn);
}

TEST_P(WriterTest, FillWithATokenOlderThanAWriteIsDropped) {
  EXPECT_EQ(Run({"SET", "k", "old"}), "+OK\r\n");
  const uint64_t token = writer_->completed_seq();
  EXPECT_EQ(Run({"SET", "k", "new"}), "+OK\r\n");
  EXPECT_EQ(Run({"DEL", "k"}), ":1\r\n");
  writer_->SubmitFill(StoredKey(0, "k"), "old", 0,
                      token);  // read before the writes
  Drain();
  EXPECT_FALSE(Hot("k"));
}

// Regression: FLUSHALL changes no key's write sequence, so a promotion read
// before it used to bring a flushed value back into the arena.
TEST_P(WriterTest, FillReadBeforeFlushAllIsDropped) {
  EXPECT_EQ(Run({"SET", "k", "v"}), "+OK\r\n");
  const uint64_t token = writer_->completed_seq();
  EXPECT_EQ(Run({"FLUSHALL"}), "+OK\r\n");
  writer_->SubmitFill(StoredKey(0, "k"), "v", 0, token);
  Drain();
  EXPECT_FALSE(Hot("k"));
  EXPECT_EQ(stats_.promotions.load(), 0u);
}

TEST_P(WriterTest, FillWithACurrentTokenIsPromoted) {
  writer_->SubmitFill(StoredKey(0, "cold"), "x", 0, writer_->completed_seq());
  Drain();
  EXPECT_TRUE(Hot("cold"));
  EXPECT_EQ(stats_.promotions.load(), 1u);
}

// Writes queued in one event-loop round, from any of its connections, share
// a group commit; each gets its own reply. (The writer thread's millisecond
// tick may drain part of the round early, hence "a few" commits.)
TEST_P(WriterTest, OneRoundsWritesShareAGroupCommit) {
  if (GetParam() == FsyncMode::kAlways) GTEST_SKIP() << "inline mode only";
  constexpr int kJobs = 100;
  std::vector<std::string> replies(kJobs);
  const uint64_t before = stats_.group_commits.load();
  for (int i = 0; i < kJobs; ++i)
    Queue(&io_, {"SET", 'k' + std::to_string(i), "v"}, &replies[i]);
  for (const std::string& r : replies) RunUntil(&io_, r);
  for (const std::string& r : replies) EXPECT_EQ(r, "+OK\r\n");
  EXPECT_LE(stats_.group_commits.load() - before, 10u);
  EXPECT_TRUE(Hot("k0"));
  EXPECT_TRUE(Hot("k99"));
}

// Regression: after one deep queue handed commits to the writer thread,
// it kept them for as long as writes kept coming, and every small write
// paid the thread hand-off the inline design removes.
TEST_P(WriterTest, AfterADeepQueueSmallRoundsCommitInlineAgain) {
  if (GetParam() == FsyncMode::kAlways) GTEST_SKIP() << "inline mode only";
  std::vector<std::string> replies(200);
  for (int i = 0; i < 200; ++i)
    Queue(&io_, {"SET", 'd' + std::to_string(i), "v"}, &replies[i]);
  for (const std::string& r : replies) RunUntil(&io_, r);
  const uint64_t inline_before = stats_.inline_commits.load();
  for (int i = 0; i < 20; ++i) {  // writes keep coming, one at a time
    EXPECT_EQ(Run({"SET", "s", std::to_string(i)}), "+OK\r\n");
  }
  EXPECT_GE(stats_.inline_commits.load() - inline_before, 15u);
}

// A job of another event loop, committed by whoever ran first, is answered
// on its own loop, never on the committer's.
TEST_P(WriterTest, RepliesGoToTheSubmittingEventLoop) {
  asio::io_context other(1);
  std::string mine, theirs;
  Queue(&other, {"SET", "o", "x"}, &theirs);
  Queue(&io_, {"SET", "m", "y"}, &mine);
  RunUntil(&io_, mine);  // may commit both
  const std::string before = theirs;
  RunUntil(&other, theirs);
  EXPECT_EQ(before, "") << "answered outside its event loop";
  EXPECT_EQ(theirs, "+OK\r\n");
  EXPECT_TRUE(Hot("o"));
}

// A log write that fails (here the file-size limit, as a full disk would)
// fails the batch: an error reply, nothing of it in the arena or the dirty
// table; once the disk has room again, writes go on.
TEST_P(WriterTest, FailedLogWriteFailsTheBatchAndPublishesNothing) {
  EXPECT_EQ(Run({"SET", "k", "old"}), "+OK\r\n");
  std::signal(SIGXFSZ, SIG_IGN);
  rlimit saved;
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &saved), 0);
  rlimit low = saved;
  low.rlim_cur = log_->bytes();  // the current segment's end of records
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &low), 0);
  const std::string reply = Run({"SET", "k", "new"});
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &saved), 0);
  EXPECT_EQ(reply.rfind("-ERR write failed: ", 0), 0u) << reply;
  EXPECT_NE(reply.find("redo log write"), std::string::npos) << reply;
  EXPECT_EQ(stats_.cold_write_errors.load(), 1u);
  {
    shm::ReadGuard g(reader_.get());
    std::string_view v;
    ASSERT_TRUE(g.Get(StoredKey(0, "k"), &v).ok());
    EXPECT_EQ(v, "old");
  }
  EXPECT_EQ(Run({"GET", "k"}), "$3\r\nold\r\n");
  EXPECT_EQ(Run({"SET", "k", "newer"}), "+OK\r\n");
  EXPECT_EQ(Run({"GET", "k"}), "$5\r\nnewer\r\n");
}

// RocksDB stops answering (its table-file writes hang): the applier stalls
// in its flush, the dirty table fills to its cap, and commits wait instead
// of growing it; once RocksDB answers, they go on and nothing is lost.
TEST_P(WriterTest, AStalledRocksDbMakesCommitsWaitAndResume) {
  faulty_.stalled = true;
  const std::string big(16 << 10, 'b');
  // Unstalls from another thread: an inline commit waits on this one.
  std::thread unstall([this] {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    EXPECT_GE(dirty_->counters().waits, 1u);
    EXPECT_LE(dirty_->counters().bytes, 1u << 20);
    faulty_.stalled = false;
  });
  // 3 MiB of writes into a 1 MiB table: they run into the cap and wait.
  for (int i = 0; i < 200; ++i)
    EXPECT_EQ(Run({"SET", ember::testing::Cat("big", i), big}), "+OK\r\n");
  unstall.join();
  dirty_->Sync();
  for (int i = 0; i < 200; i += 37) {
    std::string v;
    uint64_t e = 0;
    ASSERT_TRUE(
        cold_->Get(StoredKey(0, ember::testing::Cat("big", i)), &v, &e).ok());
    EXPECT_EQ(v, big);
  }
}

// RocksDB fails (a full disk under its flush): acknowledged writes stay in
// the log and the dirty table, readable; once the table is full, commits
// get an error that says why instead of waiting forever.
TEST_P(WriterTest, AFailedRocksDbKeepsDirtyWritesAndRefusesWhenFull) {
  faulty_.failing = true;
  const std::string big(16 << 10, 'f');
  std::string last;
  int acked = 0;
  for (int i = 0; i < 400 && last.rfind("-ERR", 0) != 0; ++i) {
    last = Run({"SET", ember::testing::Cat("f", i), big});
    if (last == "+OK\r\n") ++acked;
  }
  EXPECT_EQ(last.rfind("-ERR write failed: ", 0), 0u) << last;
  EXPECT_NE(last.find("restart ember-server"), std::string::npos) << last;
  EXPECT_TRUE(dirty_->counters().failed);
  for (int i = 0; i < acked; i += 13) {
    EXPECT_EQ(Run({"STRLEN", ember::testing::Cat("f", i)}),
              ember::testing::Cat(":", big.size(), "\r\n"));
  }
}

INSTANTIATE_TEST_SUITE_P(BothCommitModes, WriterTest,
                         ::testing::Values(FsyncMode::kAlways,
                                           FsyncMode::kEverySec),
                         [](const auto& info) {
                           return std::string(FsyncName(info.param));
                         });

// cold_tier none: the arena is the only copy. A tiny arena of two 64 KiB
// pages: "small" (34-byte items) and "mid" (1027) take one page each, and a
// third size class finds no page (Put answers kBusy).
class HotOnlyWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ember-writer-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    shm::ArenaOptions o;
    o.name = "wh" + std::to_string(getpid());
    o.run_dir = dir_;
    o.arena_bytes = 256 << 10;
    o.page_bytes = 64 << 10;
    o.remove_on_close = true;
    ASSERT_TRUE(shm::ArenaWriter::Create(o, &arena_).ok());
    ASSERT_EQ(arena_->header().geo.page_count, 2u);
    config_.cold_tier = ColdTier::kNone;
    config_.max_value_bytes_hot = 8 << 10;
    info_ = std::make_unique<FixedInfo>(config_);
    writer_ = std::make_unique<Writer>(config_, nullptr, arena_.get(),
                                       info_.get(), &stats_);
    writer_->Start();
    ASSERT_EQ(Run({"SET", "small", "s-old"}), "+OK\r\n");
    ASSERT_EQ(Run({"SET", "mid", std::string(1000, 'm')}), "+OK\r\n");
  }
  void TearDown() override {
    writer_.reset();
    arena_.reset();
    std::filesystem::remove_all(dir_);
  }
  void Queue(Args args, std::string* reply) {
    std::vector<WriteJob> jobs;
    jobs.push_back(WriteJob{FindCommand(args[0]), std::move(args), &io_,
                            [reply](std::string r) { *reply = std::move(r); }});
    writer_->Submit(&jobs);
  }
  void RunUntil(const std::string& reply) {
    while (reply.empty()) {
      io_.restart();
      io_.run_one_for(std::chrono::milliseconds(10));
    }
  }
  std::string Run(Args args) {
    std::string reply;
    Queue(std::move(args), &reply);
    RunUntil(reply);
    return reply;
  }
  static std::string Bulk(const std::string& v) {
    return "$" + std::to_string(v.size()) + "\r\n" + v + "\r\n";
  }

  static constexpr const char* kOom =
      "-OOM command not allowed when used memory > 'maxmemory'.\r\n";
  std::string dir_;
  Config config_;
  Stats stats_;
  asio::io_context io_;
  std::unique_ptr<shm::ArenaWriter> arena_;
  std::unique_ptr<FixedInfo> info_;
  std::unique_ptr<Writer> writer_;
};

// Queued in one round, so committed together: each job is answered as if it
// ran alone, and a refused one changes nothing (an MSET none of its keys).
TEST_F(HotOnlyWriterTest, EachJobOfABatchIsAnsweredAsIfItRanAlone) {
  const std::string big(5000, 'b');
  std::vector<std::string> r(6);
  Queue({"SET", "small", "s-new"}, &r[0]);
  Queue({"SET", "small", big}, &r[1]);  // a third size class: kBusy
  Queue({"GET", "small"}, &r[2]);
  Queue(
      {"MSET", "mid", std::string(1000, 'n'), "small", "s-mset", "third", big},
      &r[3]);
  Queue({"GET", "mid"}, &r[4]);
  Queue({"SET", "big", std::string(9000, 'v')}, &r[5]);  // > 8 KiB
  for (const std::string& reply : r) RunUntil(reply);
  EXPECT_EQ(r[0], "+OK\r\n");
  EXPECT_EQ(r[1], kOom);
  EXPECT_EQ(r[2], Bulk("s-new"));
  EXPECT_EQ(r[3], kOom);
  EXPECT_EQ(r[4], Bulk(std::string(1000, 'm')));
  EXPECT_EQ(r[5],
            "-ERR string exceeds maximum allowed size "
            "(max_value_bytes_hot)\r\n");
  EXPECT_EQ(Run({"MGET", "small", "mid", "third", "big"}),
            "*4\r\n" + Bulk("s-new") + Bulk(std::string(1000, 'm')) +
                "$-1\r\n$-1\r\n");
  EXPECT_EQ(stats_.oom_keys_dropped.load(), 0u);
}

}  // namespace
}  // namespace ember::server
