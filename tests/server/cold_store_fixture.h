// tests/server/cold_store_fixture.h: a ColdStore on a real RocksDB in a
// temporary directory, removed after the test; batches get increasing
// LSNs as the applier's do.
#pragma once

#include <gtest/gtest.h>
#include <rocksdb/db.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "server/cold_store.h"

namespace ember::server::testing {

class ColdStoreFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ember-cold-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  // Opens (or closes and opens again) the store in dir_/db.
  void OpenStore() {
    store_.reset();
    shm::Status s = ColdStore::Open(dir_ + "/db", &store_);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  // One applier batch, with the next LSN.
  void Write(std::vector<ColdOp> ops, bool clear_first = false) {
    shm::Status s = store_->Apply(ops, clear_first, ++lsn_);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  std::string dir_;
  std::unique_ptr<ColdStore> store_;
  uint64_t lsn_ = 0;
};

// Opens the store's RocksDB in `dir` itself, with its three column families
// (the keys, ember_meta, ember_expiry), and runs f(db, handles) on it: for
// tests that write what only damage or an older Ember would.
template <typename F>
void WithRawStore(const std::string& dir, F f) {
  rocksdb::Options o;
  const std::vector<rocksdb::ColumnFamilyDescriptor> families = {
      {rocksdb::kDefaultColumnFamilyName, {}},
      {"ember_meta", {}},
      {"ember_expiry", {}}};
  std::vector<rocksdb::ColumnFamilyHandle*> h;
  rocksdb::DB* raw = nullptr;
  ASSERT_TRUE(rocksdb::DB::Open(o, dir, families, &h, &raw).ok());
  f(raw, h);
  for (auto* c : h) raw->DestroyColumnFamilyHandle(c);
  delete raw;
}

}  // namespace ember::server::testing
