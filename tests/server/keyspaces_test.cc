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
    ASSERT_TRUE(ColdStore::Open(dir_ + "/db", FsyncMode::kNo, &cold_).ok());
    uint64_t seq = 0;
    std::vector<ColdOp> ops;
    for (const char* k : {"a", "c", "e", "g"})
      ops.push_back({k, "v", 0, false});
    ASSERT_TRUE(cold_->Write(ops, &seq).ok());
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
      cursor = ks.Scan(cursor, page, &keys);
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

}  // namespace
}  // namespace ember::server
