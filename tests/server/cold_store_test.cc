// ColdStore on a real RocksDB in a temporary directory.
#include "server/cold_store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <set>

#include "shm/clock.h"
#include "shm/reclaimer.h"
#include "tests/server/cold_store_fixture.h"
#include "tests/server/faulty_env.h"

namespace ember::server {
namespace {

class ColdStoreTest : public testing::ColdStoreFixture {
 protected:
  std::string Get(const std::string& key) {
    std::string v;
    uint64_t e = 0;
    shm::Status s = store_->Get(key, &v, &e);
    return s.ok() ? v : (s.IsNotFound() ? "<none>" : s.ToString());
  }
};

TEST_F(ColdStoreTest, WritesSurviveReopen) {
  OpenStore();
  Write({{"a", "1", 0, false}, {"b", std::string("\0x", 2), 0, false}});
  store_.reset();
  OpenStore();
  EXPECT_EQ(Get("a"), "1");
  EXPECT_EQ(Get("b"), std::string("\0x", 2));
  EXPECT_EQ(Get("c"), "<none>");
}

TEST_F(ColdStoreTest, BatchAppliesPutsAndDeletesInOrder) {
  OpenStore();
  Write({{"a", "1", 0, false}, {"b", "2", 0, false}});
  uint64_t seq1 = store_->LatestSequence();
  Write({{"a", "", 0, true}, {"b", "3", 0, false}});
  EXPECT_GT(store_->LatestSequence(), seq1);
  EXPECT_EQ(Get("a"), "<none>");
  EXPECT_EQ(Get("b"), "3");
}

// An expired key is invisible at once; it counts until ReclaimExpired
// deletes it (cold_counts_test.cc tests the counts).
TEST_F(ColdStoreTest, ExpiredKeysAreInvisibleAndCountedUntilReclaimed) {
  OpenStore();
  const uint64_t now = shm::NowUnixMs();
  Write({{"old", "x", now - 1, false},
         {"new", "y", now + 60000, false},
         {"forever", "z", 0, false}});
  EXPECT_EQ(Get("old"), "<none>");
  EXPECT_EQ(Get("new"), "y");
  std::vector<std::string> keys;
  EXPECT_EQ(store_->ScanFrom("", 10, &keys), "");
  EXPECT_EQ(keys, (std::vector<std::string>{"forever", "new"}));
  EXPECT_EQ(store_->CountKeys(), 3u);
  ASSERT_TRUE(store_->ReclaimExpired(shm::NowUnixMs()).ok());
  EXPECT_EQ(store_->CountKeys(), 2u);
}

TEST_F(ColdStoreTest, ScanPagesThroughEveryKey) {
  OpenStore();
  std::vector<std::string> names;  // the ops view these
  for (int i = 0; i < 25; ++i) names.push_back('k' + std::to_string(100 + i));
  std::vector<ColdOp> ops;
  for (const std::string& k : names) ops.push_back({k, "v", 0, false});
  Write(ops);
  std::string cursor;
  size_t seen = 0;
  do {
    std::vector<std::string> keys;
    cursor = store_->ScanFrom(cursor, 10, &keys);
    seen += keys.size();
  } while (!cursor.empty());
  EXPECT_EQ(seen, 25u);
}

TEST_F(ColdStoreTest, RandomKeyPicksEveryLiveKeyAndNothingElse) {
  OpenStore();
  std::string key;
  EXPECT_FALSE(store_->RandomKey(&key));
  const uint64_t now = shm::NowUnixMs();
  Write({{"", "e", 0, false},
         {"bar", "1", 0, false},
         {"foo", "2", 0, false},
         {"foo2", "3", 0, false},
         {"foobar", "4", 0, false},
         {"old", "5", now - 1, false},
         {std::string("z\xff\0", 3), "6", 0, false}});
  // The walk reaches foo2 with p = 1/26 * 1/50 (the root's 26 byte choices
  // 'b'..'z' and the empty key, then foo's 50): 30,000 walks miss it with
  // p < 1e-9 (2,000 missed it one run in five).
  std::set<std::string> seen;
  for (int i = 0; i < 30000 && seen.size() < 6; ++i) {
    ASSERT_TRUE(store_->RandomKey(&key));
    seen.insert(key);
  }
  EXPECT_EQ(seen, (std::set<std::string>{"", "bar", "foo", "foo2", "foobar",
                                         std::string("z\xff\0", 3)}));
}

TEST_F(ColdStoreTest, RandomKeyIsUniformOverKeysThatDifferInTheSameBytes) {
  OpenStore();
  std::vector<std::string> keys;
  for (int i = 0; i < 100; ++i)
    keys.push_back("user:" + std::to_string(100 + i));
  std::vector<ColdOp> ops;
  for (const auto& k : keys) ops.push_back({k, "v", 0, false});
  Write(ops);
  std::map<std::string, int> counts;
  std::string key;
  for (int i = 0; i < 10000; ++i) {
    ASSERT_TRUE(store_->RandomKey(&key));
    ++counts[key];
  }
  ASSERT_EQ(counts.size(), keys.size());
  for (const auto& [k, n] : counts) EXPECT_GT(n, 40) << k;  // 100 expected
}

TEST_F(ColdStoreTest, RandomKeyOfOnlyExpiredKeysIsNone) {
  OpenStore();
  const uint64_t now = shm::NowUnixMs();
  Write({{"a", "1", now - 1, false}, {"b", "2", now - 1, false}});
  std::string key;
  EXPECT_FALSE(store_->RandomKey(&key));
}

TEST_F(ColdStoreTest, ClearRemovesEverything) {
  OpenStore();
  Write({{"a", "1", 0, false}, {"b", "2", 0, false}, {"z", "3", 0, false}});
  Write({}, /*clear_first=*/true);
  EXPECT_EQ(store_->CountKeys(), 0u);
  EXPECT_EQ(Get("a"), "<none>");
  EXPECT_EQ(Get("z"), "<none>");
}

// FLUSHALL then writes, applied as one batch: the writes stay.
TEST_F(ColdStoreTest, ClearFirstKeepsTheBatchsOwnWrites) {
  OpenStore();
  Write({{"a", "1", 0, false}, {"m", "2", 0, false}});
  Write({{"m", "new", 0, false}, {"q", "4", 0, false}}, /*clear_first=*/true);
  EXPECT_EQ(Get("a"), "<none>");
  EXPECT_EQ(Get("m"), "new");
  EXPECT_EQ(Get("q"), "4");
  EXPECT_EQ(store_->CountKeys(), 2u);
}

// The WAL is off: a clean close flushes, and applied_lsn comes back with
// the data it describes.
TEST_F(ColdStoreTest, AppliedLsnComesBackWithItsData) {
  OpenStore();
  EXPECT_EQ(store_->applied_lsn(), 0u);
  Write({{"a", "1", 0, false}});
  Write({{"b", "2", 0, false}});
  EXPECT_EQ(store_->applied_lsn(), 2u);
  store_.reset();
  OpenStore();
  EXPECT_EQ(store_->applied_lsn(), 2u);
  EXPECT_EQ(Get("b"), "2");
}

TEST_F(ColdStoreTest, UnwritableDataDirIsAnIOErrorNamingIt) {
  const std::string file = dir_ + "/not-a-dir";
  std::FILE* f = std::fopen(file.c_str(), "w");
  ASSERT_NE(f, nullptr);
  std::fclose(f);
  shm::Status s = ColdStore::Open(file + "/db", &store_);
  EXPECT_EQ(s.code(), shm::Code::kIOError);
  EXPECT_NE(s.message().find(file), std::string::npos) << s.ToString();
}

TEST_F(ColdStoreTest, SecondOpenOfTheSameDirIsRefused) {
  OpenStore();
  std::unique_ptr<ColdStore> second;
  shm::Status s = ColdStore::Open(dir_ + "/db", &second);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("lock"), std::string::npos) << s.ToString();
}

TEST(ColdValueTest, EncodingRoundTripsExpiryAndBytes) {
  std::string enc =
      EncodeColdValue(std::string("a\0b", 3), 0x0102030405060708ULL);
  std::string_view v;
  uint64_t e = 0;
  ASSERT_TRUE(DecodeColdValue(enc, &v, &e));
  EXPECT_EQ(e, 0x0102030405060708ULL);
  EXPECT_EQ(v, std::string_view("a\0b", 3));
  EXPECT_FALSE(DecodeColdValue("short", &v, &e));
}

// A failing disk fails the flush with a message; later writes are refused
// with a message saying why, reads go on, and a restart finds exactly the
// last flushed state with its applied_lsn: the data and the LSN reach the
// disk together or not at all (atomic_flush), so the redo log can replay
// the rest.
TEST_F(ColdStoreTest, FailedFlushStopsWritesAndARestartFindsTheFlushedLsn) {
  {
    testing::FaultyEnv faulty;
    shm::Status s = ColdStore::Open(dir_ + "/db", &store_, faulty.env());
    ASSERT_TRUE(s.ok()) << s.ToString();
    Write({{"before", "1"}});
    ASSERT_TRUE(store_->Flush().ok());
    faulty.failing = true;
    Write({{"during", "2"}});  // the memtable takes it
    s = store_->Flush();
    EXPECT_EQ(s.code(), shm::Code::kIOError);
    EXPECT_NE(s.ToString().find("injected"), std::string::npos) << s.ToString();
    faulty.failing = false;
    s = store_->Apply({{"after", "3"}}, false, ++lsn_);
    EXPECT_EQ(s.code(), shm::Code::kIOError);
    EXPECT_NE(s.ToString().find("restart ember-server"), std::string::npos)
        << s.ToString();
    EXPECT_EQ(Get("before"), "1");  // reads go on
    store_.reset();                 // closes without another flush, no abort
  }
  OpenStore();
  EXPECT_EQ(store_->applied_lsn(), 1u);
  EXPECT_EQ(Get("before"), "1");
  EXPECT_EQ(Get("during"), "<none>");
  lsn_ = 1;
  Write({{"after", "3"}});
  EXPECT_EQ(Get("after"), "3");
}

}  // namespace
}  // namespace ember::server
