// DbKeyspace over a BatchKeyspace and a real RocksDB: keys carry their
// database's byte below it, user keys above it, and DBSIZE, SCAN,
// RANDOMKEY and FLUSHDB stay inside one database. Also the conversion of
// a store written before databases.
#include "server/db_keyspace.h"

#include <gtest/gtest.h>
#include <rocksdb/db.h>
#include <unistd.h>

#include <filesystem>
#include <set>

#include "server/cold_store.h"
#include "server/keyspaces.h"
#include "shm/clock.h"
#include "tests/server/cold_store_fixture.h"

namespace ember::server {
namespace {

class DbKeyspaceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ember-dbks-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    ASSERT_TRUE(ColdStore::Open(dir_ + "/db", &cold_).ok());
  }
  void TearDown() override {
    cold_.reset();
    std::filesystem::remove_all(dir_);
  }
  // Puts user keys `keys` of database `db` into RocksDB.
  void Put(uint8_t db, std::initializer_list<const char*> keys,
           uint64_t expiry_ms = 0) {
    std::vector<std::string> stored;
    for (const char* k : keys) stored.push_back(StoredKey(db, k));
    std::vector<ColdOp> ops;
    for (const auto& k : stored) ops.push_back({k, "v", expiry_ms, false});
    ASSERT_TRUE(cold_->Apply(ops, false, ++lsn_).ok());
  }
  std::vector<std::string> AllKeys(Keyspace& ks, size_t page) {
    std::vector<std::string> keys;
    std::string cursor;
    do {
      cursor = ks.Scan(cursor, page, &keys);
    } while (!cursor.empty());
    return keys;
  }
  std::string dir_;
  std::unique_ptr<ColdStore> cold_;
  uint64_t lsn_ = 0;
};

TEST_F(DbKeyspaceTest, StoresAndRemovesUnderTheDatabaseByte) {
  BatchKeyspace batch(nullptr, cold_.get());
  DbKeyspace db3(&batch, 3);
  db3.Store("k", "v", 7);
  db3.Remove("gone");
  ASSERT_EQ(batch.changes().size(), 2u);
  EXPECT_EQ(batch.changes().begin()->first, std::string("\x03gone", 5));
  EXPECT_TRUE(batch.changes().begin()->second.deleted);
  EXPECT_EQ(std::next(batch.changes().begin())->first, std::string("\x03k"));
}

// SWAPDB in a batch: the databases numbered after it read and write each
// other's stored keys; the batch says its map changed, swapping back or a
// database with itself changes nothing of the map.
TEST_F(DbKeyspaceTest, SwapDbRemapsTheDatabasesAfterIt) {
  Put(0, {"a"});
  Put(1, {"b"});
  BatchKeyspace batch(nullptr, cold_.get());
  batch.SwapDb(4, 4);
  EXPECT_FALSE(batch.db_map_changed());
  DbKeyspace(&batch, 0).Store("before", "v", 0);
  batch.SwapDb(0, 1);
  EXPECT_TRUE(batch.db_map_changed());
  EXPECT_TRUE(batch.HasWork());
  DbKeyspace db0(&batch, 0), db1(&batch, 1);
  EXPECT_EQ(db0.db(), 1);
  EXPECT_EQ(db1.db(), 0);
  std::string v;
  uint64_t e = 0;
  EXPECT_TRUE(db0.Load("b", &v, &e).ok());
  EXPECT_TRUE(db1.Load("a", &v, &e).ok());
  EXPECT_TRUE(db1.Load("before", &v, &e).ok());
  EXPECT_TRUE(db0.Load("a", &v, &e).IsNotFound());
  db0.Store("after", "v", 0);
  EXPECT_EQ(batch.changes().count(StoredKey(1, "after")), 1u);
  EXPECT_EQ(batch.changes().count(StoredKey(0, "before")), 1u);
  EXPECT_EQ(db0.CountKeys(), 1u);  // b (the batch's own are not counted)
  batch.SwapDb(1, 0);
  EXPECT_EQ(batch.db_map(), IdentityDbMap());
  batch.Reset();
  EXPECT_FALSE(batch.HasWork());
}

// The map RocksDB records is read back at open; a damaged one is refused.
TEST_F(DbKeyspaceTest, TheStoredDbMapIsReadAtOpenAndChecked) {
  DbMap map = IdentityDbMap();
  std::swap(map[3], map[200]);
  ASSERT_TRUE(cold_->Apply({}, false, ++lsn_, &map).ok());
  EXPECT_EQ(cold_->db_map(), map);
  cold_.reset();
  ASSERT_TRUE(ColdStore::Open(dir_ + "/db", &cold_).ok());
  EXPECT_EQ(cold_->db_map(), map);
  cold_.reset();
  testing::WithRawStore(dir_ + "/db", [](rocksdb::DB* db, auto& handles) {
    ASSERT_TRUE(
        db->Put(rocksdb::WriteOptions(), handles[1], "db_map", "short").ok());
  });
  const shm::Status s = ColdStore::Open(dir_ + "/db", &cold_);
  EXPECT_EQ(s.code(), shm::Code::kCorruption);
  EXPECT_NE(s.message().find("db_map"), std::string::npos) << s.ToString();
}

TEST_F(DbKeyspaceTest, LoadSeesOnlyItsOwnDatabase) {
  Put(0, {"a"});
  Put(3, {"b"});
  BatchKeyspace batch(nullptr, cold_.get());
  DbKeyspace db0(&batch, 0), db3(&batch, 3);
  std::string v;
  uint64_t e = 0;
  EXPECT_TRUE(db0.Load("a", &v, &e).ok());
  EXPECT_TRUE(db0.Load("b", &v, &e).IsNotFound());
  EXPECT_TRUE(db3.Load("b", &v, &e).ok());
  EXPECT_TRUE(db3.Load("a", &v, &e).IsNotFound());
}

TEST_F(DbKeyspaceTest, ScanCountAndRandomKeyStayInTheDatabase) {
  Put(2, {"x", "y"});
  Put(3, {"", "a", "b", "c", "d", "e"});
  Put(4, {"z"});
  Put(3, {"t"}, 1);  // long expired
  // What the applier does in every pass (this keyspace has none).
  ASSERT_TRUE(cold_->ReclaimExpired(shm::NowUnixMs()).ok());
  BatchKeyspace batch(nullptr, cold_.get());
  DbKeyspace db3(&batch, 3);
  batch.Store(StoredKey(3, "bb"), "v", 0);  // this batch's own
  batch.Remove(StoredKey(3, "c"));
  for (size_t page : {1, 2, 100}) {
    EXPECT_EQ(AllKeys(db3, page),
              (std::vector<std::string>{"", "a", "b", "bb", "d", "e"}))
        << "page " << page;
  }
  // Counted from RocksDB before the batch applies.
  EXPECT_EQ(db3.CountKeys(), 6u);
  EXPECT_EQ(DbKeyspace(&batch, 4).CountKeys(), 1u);
  EXPECT_EQ(DbKeyspace(&batch, 5).CountKeys(), 0u);
  std::set<std::string> seen;
  for (int i = 0; i < 300; ++i) {
    std::string k;
    ASSERT_TRUE(db3.RandomKey(&k).ok());
    seen.insert(k);
  }
  // Never another database's, an expired or a removed key (RocksDB's keys
  // come first, so the batch's own "bb" need not show up).
  const std::set<std::string> live = {"", "a", "b", "bb", "d", "e"};
  for (const auto& s : seen) EXPECT_TRUE(live.count(s)) << s;
  EXPECT_GE(seen.size(), 5u);
  std::string k;
  EXPECT_TRUE(DbKeyspace(&batch, 5).RandomKey(&k).IsNotFound());
  EXPECT_TRUE(DbKeyspace(&batch, 255).RandomKey(&k).IsNotFound());
}

TEST_F(DbKeyspaceTest, FlushDbAloneIsOneClearElseADeletePerKey) {
  Put(3, {"a", "b"});
  {
    BatchKeyspace batch(nullptr, cold_.get());
    DbKeyspace(&batch, 3).RemoveAll();
    EXPECT_TRUE(batch.clear_all());  // no other database has keys
  }
  Put(0, {"keep"});
  Put(9, {"keep"});
  BatchKeyspace batch(nullptr, cold_.get());
  DbKeyspace(&batch, 3).RemoveAll();
  EXPECT_FALSE(batch.clear_all());
  std::vector<std::string> removed;
  for (const auto& [key, c] : batch.changes()) {
    EXPECT_TRUE(c.deleted);
    removed.push_back(key);
  }
  EXPECT_EQ(removed, (std::vector<std::string>{"\x03"
                                               "a",
                                               "\x03"
                                               "b"}));
  std::string v;
  uint64_t e = 0;
  EXPECT_TRUE(DbKeyspace(&batch, 0).Load("keep", &v, &e).ok());
  EXPECT_TRUE(DbKeyspace(&batch, 9).Load("keep", &v, &e).ok());
}

TEST(ColdStoreConversionTest, BareKeysOfAnOlderStoreMoveToDatabaseZero) {
  char tmpl[] = "/tmp/ember-conv-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string dir = std::string(tmpl) + "/db";
  {
    // What an Ember before databases left: bare keys, no key_format.
    rocksdb::Options o;
    o.create_if_missing = true;
    o.create_missing_column_families = true;
    std::vector<rocksdb::ColumnFamilyDescriptor> families = {
        {rocksdb::kDefaultColumnFamilyName, {}}, {"ember_meta", {}}};
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(o, dir, families, &handles, &raw).ok());
    ASSERT_TRUE(raw->Put({}, handles[0], "old", EncodeColdValue("v", 0)).ok());
    for (auto* h : handles) raw->DestroyColumnFamilyHandle(h);
    delete raw;
  }
  for (int open = 0; open < 2; ++open) {  // converted once, then kept
    std::unique_ptr<ColdStore> cold;
    ASSERT_TRUE(ColdStore::Open(dir, &cold).ok());
    std::string v;
    uint64_t e = 0;
    EXPECT_TRUE(cold->Get(StoredKey(0, "old"), &v, &e).ok()) << open;
    EXPECT_EQ(v, "v");
    EXPECT_TRUE(cold->Get("old", &v, &e).IsNotFound());
    EXPECT_EQ(cold->CountKeys(), 1u);
  }
  std::filesystem::remove_all(tmpl);
}

}  // namespace
}  // namespace ember::server
