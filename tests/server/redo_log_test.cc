// The redo log on a real file system: records, segments, rotation and
// deletion, and recovery's judgement of torn tails and damage, replayed
// into a real RocksDB.
#include "server/redo_log.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>

#include "server/cold_store.h"
#include "server/log_record.h"
#include "server/log_recovery.h"
#include "tests/str_cat.h"

namespace ember::server {
namespace {

TEST(LogRecordTest, RoundTripsEveryKind) {
  std::string buf;
  AppendLogRecord(&buf, 7, 5, LogKind::kPut, 123, "key", std::string("v\0l", 3),
                  false);
  AppendLogRecord(&buf, 8, 5, LogKind::kDelete, 0, "gone", "", false);
  AppendLogRecord(&buf, 9, 5, LogKind::kClear, 0, "", "");
  LogRecord r;
  size_t used = 0, off = 0;
  ASSERT_EQ(DecodeLogRecord(buf, &r, &used), DecodeResult::kOk);
  EXPECT_EQ(r.lsn, 7u);
  EXPECT_EQ(r.synced_lsn, 5u);
  EXPECT_FALSE(r.commit_end);
  EXPECT_EQ(r.kind, LogKind::kPut);
  EXPECT_EQ(r.expiry_ms, 123u);
  EXPECT_EQ(r.key, "key");
  EXPECT_EQ(r.value, std::string_view("v\0l", 3));
  EXPECT_EQ(used, RecordBytes(3, 3));
  off += used;
  ASSERT_EQ(DecodeLogRecord(std::string_view(buf).substr(off), &r, &used),
            DecodeResult::kOk);
  EXPECT_EQ(r.kind, LogKind::kDelete);
  off += used;
  ASSERT_EQ(DecodeLogRecord(std::string_view(buf).substr(off), &r, &used),
            DecodeResult::kOk);
  EXPECT_EQ(r.kind, LogKind::kClear);
  EXPECT_TRUE(r.commit_end);
  off += used;
  EXPECT_EQ(off, buf.size());
  EXPECT_EQ(DecodeLogRecord(std::string(64, '\0'), &r, &used),
            DecodeResult::kEnd);
}

// A SWAPDB's record carries the whole map; one that is not a permutation
// of 256 databases, or that has a key, is damage.
TEST(LogRecordTest, DbMapRecordsCarryAPermutation) {
  DbMap map = IdentityDbMap();
  std::swap(map[0], map[9]);
  std::string buf;
  AppendLogRecord(&buf, 3, 2, LogKind::kDbMap, 0, "", DbMapBytes(map));
  LogRecord r;
  size_t used = 0;
  ASSERT_EQ(DecodeLogRecord(buf, &r, &used), DecodeResult::kOk);
  EXPECT_EQ(r.kind, LogKind::kDbMap);
  DbMap back;
  ASSERT_TRUE(ParseDbMap(r.value, &back));
  EXPECT_EQ(back, map);
  map[9] = 1;  // 1 twice, 0 never
  for (const auto& [key, value] :
       {std::pair<std::string, std::string>{"", std::string(DbMapBytes(map))},
        {"", std::string(DbMapBytes(map)).substr(1)},
        {"k", std::string(DbMapBytes(IdentityDbMap()))}}) {
    buf.clear();
    AppendLogRecord(&buf, 3, 2, LogKind::kDbMap, 0, key, value);
    EXPECT_EQ(DecodeLogRecord(buf, &r, &used), DecodeResult::kBad);
  }
}

TEST(LogRecordTest, EveryFlippedBitIsCaught) {
  std::string buf;
  AppendLogRecord(&buf, 42, 41, LogKind::kPut, 0, "k", "value");
  for (size_t byte = 0; byte < buf.size(); ++byte) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string bad = buf;
      bad[byte] = static_cast<char>(bad[byte] ^ (1 << bit));
      LogRecord r;
      size_t used = 0;
      EXPECT_NE(DecodeLogRecord(bad, &r, &used), DecodeResult::kOk)
          << "byte " << byte << " bit " << bit;
    }
  }
  LogRecord r;
  size_t used = 0;
  EXPECT_EQ(DecodeLogRecord(std::string_view(buf).substr(0, buf.size() - 1), &r,
                            &used),
            DecodeResult::kShort);
}

TEST(LogRecordTest, SegmentNamesAndHeaders) {
  uint64_t lsn = 0;
  EXPECT_EQ(RedoLog::SegmentName(12), "log-00000000000000000012.ember");
  EXPECT_TRUE(RedoLog::ParseSegmentName(RedoLog::SegmentName(12), &lsn));
  EXPECT_EQ(lsn, 12u);
  EXPECT_FALSE(RedoLog::ParseSegmentName("log-12.ember", &lsn));
  EXPECT_FALSE(RedoLog::ParseSegmentName("LOCK", &lsn));
  EXPECT_TRUE(DecodeSegmentHeader(EncodeSegmentHeader(99), &lsn));
  EXPECT_EQ(lsn, 99u);
  std::string h = EncodeSegmentHeader(99);
  h[8] = 1;  // another version (1: bare keys, before databases)
  uint32_t version = 0;
  EXPECT_FALSE(DecodeSegmentHeader(h, &lsn, &version));
  EXPECT_EQ(version, 1u);
}

class RedoLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ember-redo-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    log_dir_ = dir_ + "/redo";
  }
  void TearDown() override {
    log_.reset();
    std::filesystem::remove_all(dir_);
  }
  void OpenLog(uint64_t next_lsn, uint64_t segment_bytes = 1 << 20) {
    shm::Status s =
        RedoLog::Open({log_dir_, FsyncMode::kAlways, segment_bytes}, &log_);
    ASSERT_TRUE(s.ok()) << s.ToString();
    s = log_->Start(next_lsn);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  // One commit of `n` puts "k<lsn>" = "v<lsn>" from next_ on.
  void Commit(int n, size_t value_bytes = 8) {
    std::string buf;
    const uint64_t synced = log_->synced_lsn();
    for (int i = 0; i < n; ++i, ++next_) {
      std::string v = ember::testing::Cat("v", next_);
      v.resize(std::max(v.size(), value_bytes), '.');
      AppendLogRecord(&buf, next_, synced, LogKind::kPut, 0,
                      ember::testing::Cat("k", next_), v, i + 1 == n);
    }
    ASSERT_TRUE(log_->Append(buf, next_ - 1).ok());
  }
  // The LSNs ReadLog hands on after `from`, or the error.
  std::string Replay(uint64_t from, LogReadReport* report) {
    std::string lsns;
    shm::Status s = ReadLog(
        log_dir_, from,
        [&](const LogRecord& r) {
          lsns += std::to_string(r.lsn) + ",";
          return shm::Status::Ok();
        },
        report);
    return s.ok() ? lsns : "error: " + s.message();
  }
  std::vector<std::string> Segments() {
    std::vector<std::string> names;
    for (const auto& e : std::filesystem::directory_iterator(log_dir_)) {
      uint64_t lsn = 0;
      if (RedoLog::ParseSegmentName(e.path().filename().string(), &lsn))
        names.push_back(e.path().string());
    }
    std::sort(names.begin(), names.end());
    return names;
  }
  void Corrupt(const std::string& path, uint64_t offset) {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(static_cast<std::streamoff>(offset));
    char c = 0;
    f.read(&c, 1);
    c = static_cast<char>(c ^ 0x5a);
    f.seekp(static_cast<std::streamoff>(offset));
    f.write(&c, 1);
  }

  std::string dir_, log_dir_;
  std::unique_ptr<RedoLog> log_;
  uint64_t next_ = 1;
};

TEST_F(RedoLogTest, RecordsReadBackInOrderAcrossSegments) {
  OpenLog(1, 1 << 20);
  for (int i = 0; i < 40; ++i) Commit(10, 4000);  // 1.6 MB: two segments
  EXPECT_GE(log_->segments(), 2u);
  log_.reset();
  LogReadReport report;
  const std::string lsns = Replay(0, &report);
  std::string want;
  for (int i = 1; i <= 400; ++i) want += std::to_string(i) + ",";
  EXPECT_EQ(lsns, want);
  EXPECT_EQ(report.last_lsn, 400u);
  EXPECT_TRUE(report.dropped.empty());
  // From an applied LSN on, only the rest.
  EXPECT_EQ(Replay(398, &report), "399,400,");
  EXPECT_EQ(report.skipped, 398u);
}

TEST_F(RedoLogTest, ReleaseDeletesFinishedSegmentsRocksDbHolds) {
  OpenLog(1, 1 << 20);
  for (int i = 0; i < 60; ++i) Commit(10, 4000);
  const size_t before = Segments().size();
  ASSERT_GE(before, 3u);
  log_->Release(5);  // the first segment holds more than LSN 5
  EXPECT_EQ(Segments().size(), before);
  log_->Release(next_ - 1);  // everything: all but the current one go
  EXPECT_EQ(Segments().size(), 1u);
  EXPECT_EQ(log_->segments(), 1u);
}

// A write the disk refuses half way (here the file-size limit, as a full
// disk would) leaves no part of its commit: the bytes that went in are
// zeroed, the next commit takes the same offset and LSNs, and recovery
// finds only what was acknowledged.
TEST_F(RedoLogTest, APartlyWrittenRefusedCommitLeavesNothingBehind) {
  OpenLog(1);
  Commit(2);
  std::signal(SIGXFSZ, SIG_IGN);
  rlimit saved;
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &saved), 0);
  rlimit low = saved;
  low.rlim_cur = log_->bytes() + RecordBytes(2, 8) + 30;  // mid second record
  std::string buf;
  for (uint64_t l = 3; l <= 5; ++l)
    AppendLogRecord(&buf, l, 2, LogKind::kPut, 0, ember::testing::Cat("k", l),
                    "refused!", l == 5);
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &low), 0);
  const shm::Status s = log_->Append(buf, 5);
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &saved), 0);
  EXPECT_EQ(s.code(), shm::Code::kIOError);
  EXPECT_FALSE(log_->failed());  // a full disk is not a broken one
  Commit(1, 2);  // LSN 3 again, shorter: the old record 4 would follow it
  log_.reset();
  LogReadReport report;
  std::string values;
  ASSERT_TRUE(ReadLog(
                  log_dir_, 0,
                  [&](const LogRecord& r) {
                    values += std::string(r.value) + ",";
                    return shm::Status::Ok();
                  },
                  &report)
                  .ok());
  EXPECT_EQ(values, "v1......,v2......,v3,");
  EXPECT_TRUE(report.dropped.empty()) << report.dropped;
}

TEST_F(RedoLogTest, ASecondServerCannotOpenTheSameLog) {
  OpenLog(1);
  std::unique_ptr<RedoLog> second;
  shm::Status s =
      RedoLog::Open({log_dir_, FsyncMode::kAlways, 1 << 20}, &second);
  EXPECT_EQ(s.code(), shm::Code::kIOError);
  EXPECT_NE(s.message().find("in use"), std::string::npos) << s.ToString();
}

// A crash inside a write leaves part of a record: the log ends before it,
// and the report says what was dropped.
TEST_F(RedoLogTest, ATornTailIsDroppedAndReported) {
  OpenLog(1);
  Commit(5);
  Commit(1, 100);
  log_.reset();
  const std::string seg = Segments().back();
  // Cut into the last record: zero its second half, as a write that
  // stopped half way leaves it (the segment is preallocated).
  const uint64_t end =
      kSegmentHeaderBytes + 5 * RecordBytes(2, 8) + RecordBytes(2, 100);
  std::filesystem::resize_file(seg, end - 50);
  std::filesystem::resize_file(seg, 1 << 20);
  LogReadReport report;
  EXPECT_EQ(Replay(0, &report), "1,2,3,4,5,");
  EXPECT_NE(report.dropped.find("torn record"), std::string::npos)
      << report.dropped;
  EXPECT_NE(report.dropped.find(seg), std::string::npos);
}

// A commit is applied whole or not at all: a crash (or a power cut, which
// writes unsynced pages in any order) that leaves the start or the end of
// the last commit's records drops the whole commit, even its valid ones.
TEST_F(RedoLogTest, AnUnfinishedLastCommitIsDroppedWhole) {
  OpenLog(1);
  Commit(3);  // LSNs 1-3, synced
  Commit(4);  // LSNs 4-7: its second record is torn, its others valid
  log_.reset();
  const std::string seg = Segments().back();
  Corrupt(seg, kSegmentHeaderBytes + 4 * RecordBytes(2, 8) + 20);
  LogReadReport report;
  EXPECT_EQ(Replay(0, &report), "1,2,3,");
  EXPECT_NE(report.dropped.find("LSN 4"), std::string::npos) << report.dropped;
  EXPECT_NE(report.dropped.find("2 unsynced records after it"),
            std::string::npos)
      << report.dropped;
  // Its last record cut off: the same.
  std::filesystem::resize_file(seg,
                               kSegmentHeaderBytes + 7 * RecordBytes(2, 8) - 3);
  EXPECT_EQ(Replay(0, &report), "1,2,3,");
}

TEST_F(RedoLogTest, DamageBeforeValidRecordsStopsTheStartNamingTheOffset) {
  OpenLog(1);
  for (int i = 0; i < 10; ++i) Commit(1);
  log_.reset();
  const std::string seg = Segments().back();
  const uint64_t third = kSegmentHeaderBytes + 2 * RecordBytes(2, 8);
  Corrupt(seg, third + 20);
  LogReadReport report;
  const std::string r = Replay(0, &report);
  EXPECT_EQ(r.rfind("error: ", 0), 0u) << r;
  EXPECT_NE(r.find(seg), std::string::npos) << r;
  EXPECT_NE(r.find(ember::testing::Cat("offset ", third)), std::string::npos)
      << r;
  EXPECT_NE(r.find("not a torn tail"), std::string::npos) << r;
}

TEST_F(RedoLogTest, ATruncatedEarlierSegmentStopsTheStart) {
  OpenLog(1, 1 << 20);
  for (int i = 0; i < 40; ++i) Commit(10, 4000);
  log_.reset();
  const std::vector<std::string> segs = Segments();
  ASSERT_GE(segs.size(), 2u);
  std::filesystem::resize_file(segs[0], 100000);  // mid-record
  LogReadReport report;
  const std::string r = Replay(0, &report);
  EXPECT_NE(r.find("not the last segment"), std::string::npos) << r;
  EXPECT_NE(r.find(segs[0]), std::string::npos) << r;
}

TEST_F(RedoLogTest, AMissingSegmentOrForeignHeaderStopsTheStart) {
  OpenLog(1, 1 << 20);
  for (int i = 0; i < 60; ++i) Commit(10, 4000);
  log_.reset();
  std::vector<std::string> segs = Segments();
  ASSERT_GE(segs.size(), 3u);
  std::filesystem::remove(segs[1]);
  LogReadReport report;
  std::string r = Replay(0, &report);
  EXPECT_NE(r.find("a segment is missing"), std::string::npos) << r;
  // A segment RocksDB no longer needs may be gone, though.
  std::filesystem::remove(segs[0]);
  uint64_t first_of_third = 0;
  ASSERT_TRUE(RedoLog::ParseSegmentName(
      std::filesystem::path(segs[2]).filename().string(), &first_of_third));
  EXPECT_EQ(Replay(first_of_third - 1, &report).rfind("error", 0),
            std::string::npos);
  Corrupt(segs[2], 3);  // the magic
  r = Replay(first_of_third - 1, &report);
  EXPECT_NE(r.find("bad header"), std::string::npos) << r;
}

TEST_F(RedoLogTest, AVersion1SegmentOfBareKeysStopsTheStartByName) {
  OpenLog(1);
  Commit(3);
  log_.reset();
  const std::vector<std::string> segs = Segments();
  ASSERT_EQ(segs.size(), 1u);
  {
    // What an Ember before databases wrote: the same header, version 1
    // (named by the version field alone, whatever the checksum says).
    std::fstream f(segs[0], std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(8);
    f.put('\x01');
  }
  LogReadReport report;
  const std::string r = Replay(0, &report);
  EXPECT_NE(r.find("before databases (log version 1"), std::string::npos) << r;
}

TEST_F(RedoLogTest, ASegmentCutOffBeforeItsHeaderIsATornTail) {
  OpenLog(1);
  Commit(3);
  log_.reset();
  // A crash between creating the next segment and writing its header.
  const std::string empty = log_dir_ + "/" + RedoLog::SegmentName(4);
  std::ofstream(empty).write(std::string(4096, '\0').data(), 4096);
  LogReadReport report;
  EXPECT_EQ(Replay(0, &report), "1,2,3,");
  EXPECT_NE(report.dropped.find("without its header"), std::string::npos);
}

// Recovery replays puts, deletes and FLUSHALLs into RocksDB from its
// applied_lsn, flushes, deletes the segments; a second run finds nothing
// to do and the same data.
TEST_F(RedoLogTest, RecoveryBringsRocksDbUpToTheLogAndDeletesIt) {
  std::unique_ptr<ColdStore> cold;
  ASSERT_TRUE(ColdStore::Open(dir_ + "/db", &cold).ok());
  ASSERT_TRUE(cold->Apply({{"old", "1", 0, false}}, false, 3).ok());
  ASSERT_TRUE(cold->Flush().ok());
  OpenLog(1);
  std::string buf;
  AppendLogRecord(&buf, 1, 0, LogKind::kPut, 0, "stale", "x");  // <= 3
  AppendLogRecord(&buf, 2, 0, LogKind::kPut, 0, "stale2", "x");
  AppendLogRecord(&buf, 3, 0, LogKind::kPut, 0, "old", "1");
  AppendLogRecord(&buf, 4, 0, LogKind::kClear, 0, "", "", false);
  AppendLogRecord(&buf, 5, 0, LogKind::kPut, 0, "a", "A", false);
  AppendLogRecord(&buf, 6, 0, LogKind::kPut, 0, "b", "B", false);
  AppendLogRecord(&buf, 7, 0, LogKind::kDelete, 0, "a", "");
  ASSERT_TRUE(log_->Append(buf, 7).ok());
  log_.reset();
  for (int run = 0; run < 2; ++run) {
    RecoveryReport report;
    shm::Status s = RecoverColdStore(log_dir_, cold.get(), &report);
    ASSERT_TRUE(s.ok()) << s.ToString();
    EXPECT_EQ(report.log.records, run == 0 ? 4u : 0u);
    EXPECT_EQ(report.next_lsn, 8u);
    EXPECT_TRUE(Segments().empty());
    EXPECT_EQ(cold->applied_lsn(), 7u);
    std::string v;
    uint64_t e = 0;
    EXPECT_TRUE(cold->Get("old", &v, &e).IsNotFound());
    EXPECT_TRUE(cold->Get("a", &v, &e).IsNotFound());
    ASSERT_TRUE(cold->Get("b", &v, &e).ok());
    EXPECT_EQ(v, "B");
    EXPECT_EQ(cold->CountKeys(), 1u);
    cold.reset();  // reopen: the replay is on disk
    ASSERT_TRUE(ColdStore::Open(dir_ + "/db", &cold).ok());
  }
}

// SWAPDB's map reaches RocksDB's ember_meta with the replay (the newest
// record wins, a FLUSHALL after it keeps it) and stays after a reopen.
TEST_F(RedoLogTest, RecoveryRecordsTheNewestDbMap) {
  std::unique_ptr<ColdStore> cold;
  ASSERT_TRUE(ColdStore::Open(dir_ + "/db", &cold).ok());
  EXPECT_EQ(cold->db_map(), IdentityDbMap());
  DbMap first = IdentityDbMap(), second = IdentityDbMap();
  std::swap(first[0], first[1]);
  second = first;
  std::swap(second[2], second[15]);
  OpenLog(1);
  std::string buf;
  AppendLogRecord(&buf, 1, 0, LogKind::kDbMap, 0, "", DbMapBytes(first));
  AppendLogRecord(&buf, 2, 0, LogKind::kPut, 0, std::string("\x01k", 2), "v");
  AppendLogRecord(&buf, 3, 0, LogKind::kDbMap, 0, "", DbMapBytes(second),
                  false);
  AppendLogRecord(&buf, 4, 0, LogKind::kClear, 0, "", "");
  ASSERT_TRUE(log_->Append(buf, 4).ok());
  log_.reset();
  RecoveryReport report;
  ASSERT_TRUE(RecoverColdStore(log_dir_, cold.get(), &report).ok());
  EXPECT_EQ(report.log.records, 4u);
  EXPECT_EQ(cold->db_map(), second);
  EXPECT_EQ(cold->CountKeys(), 0u);
  cold.reset();
  ASSERT_TRUE(ColdStore::Open(dir_ + "/db", &cold).ok());
  EXPECT_EQ(cold->db_map(), second);
  EXPECT_EQ(cold->applied_lsn(), 4u);
}

}  // namespace
}  // namespace ember::server
