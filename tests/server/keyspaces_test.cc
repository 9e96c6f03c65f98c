// BatchKeyspace over a real RocksDB (no arena): what a command run inside a
// group commit sees of the keys, this batch's changes included.
#include "server/keyspaces.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <set>

namespace ember::server {
namespace {

class BatchKeyspaceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ember-keyspaces-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    ASSERT_TRUE(ColdStore::Open(dir_ + "/db", &cold_).ok());
    std::vector<ColdOp> ops;
    for (const char* k : {"a", "c", "e", "g"})
      ops.push_back({k, "v", 0, false});
    ASSERT_TRUE(cold_->Apply(ops, false, 1).ok());
  }
  void TearDown() override {
    cold_.reset();
    std::filesystem::remove_all(dir_);
  }
  // Every key, page by page.
  std::vector<std::string> AllKeys(BatchKeyspace& ks, size_t page) {
    std::vector<std::string> keys;
    std::string cursor;
    do {
      const size_t before = keys.size();
      cursor = ks.Scan(cursor, page, &keys);
      // A page holds at most about `page` keys (the batch's own may add).
      EXPECT_LE(keys.size() - before, page + 2) << "page " << page;
    } while (!cursor.empty());
    return keys;
  }
  std::string dir_;
  std::unique_ptr<ColdStore> cold_;
};

TEST_F(BatchKeyspaceTest, ScanMergesTheBatchsStoresAndRemovals) {
  BatchKeyspace ks(nullptr, cold_.get());
  ks.Store("b", "new", 0);
  ks.Store("c", "over", 0);
  ks.Remove("e");
  ks.Store("z", "last", 0);
  for (size_t page : {1, 2, 3, 100}) {
    EXPECT_EQ(AllKeys(ks, page),
              (std::vector<std::string>{"a", "b", "c", "g", "z"}))
        << "page " << page;
  }
}

TEST_F(BatchKeyspaceTest, AfterRemoveAllOnlyTheBatchsKeysAreSeen) {
  BatchKeyspace ks(nullptr, cold_.get());
  ks.RemoveAll();
  EXPECT_TRUE(AllKeys(ks, 10).empty());
  std::string key;
  EXPECT_TRUE(ks.RandomKey(&key).IsNotFound());
  ks.Store("n", "v", 0);
  EXPECT_EQ(AllKeys(ks, 10), (std::vector<std::string>{"n"}));
  ASSERT_TRUE(ks.RandomKey(&key).ok());
  EXPECT_EQ(key, "n");
}

TEST_F(BatchKeyspaceTest, RandomKeyNeverNamesAKeyTheBatchRemoved) {
  BatchKeyspace ks(nullptr, cold_.get());
  for (const char* k : {"a", "c", "e"}) ks.Remove(k);
  std::set<std::string> seen;
  std::string key;
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE(ks.RandomKey(&key).ok());
    seen.insert(key);
  }
  EXPECT_EQ(seen, (std::set<std::string>{"g"}));
}

// Committed writes RocksDB does not hold yet: SCAN and reads see them, a
// dirty delete hides RocksDB's key, on every page size.
TEST_F(BatchKeyspaceTest, ScanAndLoadSeeTheDirtyTableOverRocksDb) {
  DirtyTable dirty({}, 1);
  DirtyTable::Changes changes;
  changes.push_back({"b", DirtyEntry{"dirty", 0, false, {}}});
  changes.push_back({"c", DirtyEntry{"", 0, true, {}}});
  changes.push_back({"zz", DirtyEntry{"last", 0, false, {}}});
  dirty.Publish(&changes, false, 4, [](const DirtyTable::EntryRefs&) {});
  BatchKeyspace ks(nullptr, cold_.get(), nullptr, &dirty);
  for (size_t page : {1, 2, 3, 100}) {
    EXPECT_EQ(AllKeys(ks, page),
              (std::vector<std::string>{"a", "b", "e", "g", "zz"}))
        << "page " << page;
  }
  std::string v;
  uint64_t e = 0;
  ASSERT_TRUE(ks.Load("b", &v, &e).ok());
  EXPECT_EQ(v, "dirty");
  EXPECT_TRUE(ks.Load("c", &v, &e).IsNotFound());
  ASSERT_TRUE(ks.Load("a", &v, &e).ok());  // RocksDB's
  EXPECT_EQ(v, "v");
}

// A FLUSHALL the applier has not written yet: RocksDB's keys are gone for
// every reader, the writes after it are there.
TEST_F(BatchKeyspaceTest, APendingFlushAllHidesRocksDbsKeys) {
  DirtyTable dirty({}, 1);
  DirtyTable::Changes changes;
  changes.push_back({"x", DirtyEntry{"after", 0, false, {}}});
  changes.push_back({"y", DirtyEntry{"after", 0, false, {}}});
  changes.push_back({"z", DirtyEntry{"after", 0, false, {}}});
  dirty.Publish(&changes, true, 3, [](const DirtyTable::EntryRefs&) {});
  BatchKeyspace ks(nullptr, cold_.get(), nullptr, &dirty);
  EXPECT_EQ(AllKeys(ks, 1), (std::vector<std::string>{"x", "y", "z"}));
  std::string v;
  uint64_t e = 0;
  EXPECT_TRUE(ks.Load("a", &v, &e).IsNotFound());
  ASSERT_TRUE(ks.Load("x", &v, &e).ok());
  EXPECT_EQ(v, "after");
}

}  // namespace
}  // namespace ember::server
