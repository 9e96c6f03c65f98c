// The writer thread with a real RocksDB and a real arena.
#include "server/writer.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <future>

#include "server/server_info.h"

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

class WriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ember-writer-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    ASSERT_TRUE(ColdStore::Open(dir_ + "/db", FsyncMode::kNo, &cold_).ok());
    shm::ArenaOptions o;
    o.name = "wt" + std::to_string(getpid());
    o.run_dir = dir_;
    o.arena_bytes = 8 << 20;
    o.page_bytes = 64 << 10;
    o.remove_on_close = true;
    ASSERT_TRUE(shm::ArenaWriter::Create(o, &arena_).ok());
    config_.max_value_bytes_hot = 32 << 10;
    info_ = std::make_unique<FixedInfo>(config_);
    writer_ = std::make_unique<Writer>(config_, cold_.get(), arena_.get(),
                                       info_.get(), &stats_);
    writer_->Start();
    ASSERT_TRUE(shm::ArenaReader::Open(o.name, dir_, &reader_).ok());
  }
  void TearDown() override {
    writer_.reset();
    reader_.reset();
    arena_.reset();
    cold_.reset();
    std::filesystem::remove_all(dir_);
  }
  // Runs one command through the writer and returns its reply.
  std::string Run(Args args) {
    std::promise<std::string> done;
    std::vector<WriteJob> jobs;
    jobs.push_back(
        WriteJob{FindCommand(args[0]), std::move(args), &io_,
                 [&done](std::string r) { done.set_value(std::move(r)); }});
    writer_->Submit(&jobs);
    io_.restart();
    while (io_.run_one() == 0)
      io_.restart();  // the writer posts the reply here
    return done.get_future().get();
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
    return g.Get(key, &v).ok();
  }

  std::string dir_;
  Config config_;
  Stats stats_;
  asio::io_context io_;
  std::unique_ptr<ColdStore> cold_;
  std::unique_ptr<shm::ArenaWriter> arena_;
  std::unique_ptr<FixedInfo> info_;
  std::unique_ptr<Writer> writer_;
  std::unique_ptr<shm::ArenaReader> reader_;
};

TEST_F(WriterTest, ReplyComesAfterRocksDbAndArenaHaveTheWrite) {
  EXPECT_EQ(Run({"SET", "k", "v"}), "+OK\r\n");
  std::string v;
  uint64_t e = 0;
  ASSERT_TRUE(cold_->Get("k", &v, &e).ok());
  EXPECT_EQ(v, "v");
  EXPECT_TRUE(Hot("k"));
}

TEST_F(WriterTest, FillWithATokenOlderThanAWriteIsDropped) {
  EXPECT_EQ(Run({"SET", "k", "old"}), "+OK\r\n");
  const uint64_t token = writer_->completed_seq();
  EXPECT_EQ(Run({"SET", "k", "new"}), "+OK\r\n");
  EXPECT_EQ(Run({"DEL", "k"}), ":1\r\n");
  writer_->SubmitFill("k", "old", 0, token);  // read before the writes
  Drain();
  EXPECT_FALSE(Hot("k"));
}

// Regression: FLUSHALL changes no key's write sequence, so a promotion read
// before it used to bring a flushed value back into the arena.
TEST_F(WriterTest, FillReadBeforeFlushAllIsDropped) {
  EXPECT_EQ(Run({"SET", "k", "v"}), "+OK\r\n");
  const uint64_t token = writer_->completed_seq();
  EXPECT_EQ(Run({"FLUSHALL"}), "+OK\r\n");
  writer_->SubmitFill("k", "v", 0, token);
  Drain();
  EXPECT_FALSE(Hot("k"));
  EXPECT_EQ(stats_.promotions.load(), 0u);
}

TEST_F(WriterTest, FillWithACurrentTokenIsPromoted) {
  writer_->SubmitFill("cold", "x", 0, writer_->completed_seq());
  Drain();
  EXPECT_TRUE(Hot("cold"));
  EXPECT_EQ(stats_.promotions.load(), 1u);
}

}  // namespace
}  // namespace ember::server
