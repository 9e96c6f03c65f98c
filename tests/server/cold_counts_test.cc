// ColdStore's key counts and expiry index (server/cold_counts.cc) on a real
// RocksDB in a temporary directory: every kind of write, ReclaimExpired,
// a reopen, a store that kept no counts, and a random history checked
// against a model (its seed printed).
#include <gtest/gtest.h>
#include <rocksdb/db.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <random>

#include "server/cold_store.h"
#include "shm/clock.h"
#include "tests/server/cold_store_fixture.h"

namespace ember::server {
namespace {

class ColdCountsTest : public testing::ColdStoreFixture {
 protected:
  uint64_t Reclaim() {
    uint64_t n = 0;
    shm::Status s = store_->ReclaimExpired(shm::NowUnixMs(), &n);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return n;
  }
  // "keys/expires" of database `db` (the key's first byte).
  std::string Counts(char db) {
    uint64_t e = 0;
    const uint64_t k = store_->CountKeysDb(static_cast<uint8_t>(db), &e);
    return std::to_string(k) + "/" + std::to_string(e);
  }
};

TEST_F(ColdCountsTest, EveryKindOfWriteMovesTheCountsOfItsDatabase) {
  OpenStore();
  const uint64_t later = shm::NowUnixMs() + 600000;
  Write({{"a1", "v", 0, false},
         {"a2", "v", later, false},
         {"b1", "v", 0, false}});
  EXPECT_EQ(Counts('a'), "2/1");
  EXPECT_EQ(Counts('b'), "1/0");
  Write({{"a1", "w", 0, false}});  // overwrite: no new key
  EXPECT_EQ(Counts('a'), "2/1");
  Write({{"a1", "w", later, false}, {"a2", "w", 0, false}});  // TTLs trade
  EXPECT_EQ(Counts('a'), "2/1");
  Write({{"a2", "", 0, true}, {"a9", "", 0, true}});  // present, absent
  EXPECT_EQ(Counts('a'), "1/1");
  Write({{"a1", "", 0, true}});
  EXPECT_EQ(Counts('a'), "0/0");
  uint64_t expires = 0;
  EXPECT_EQ(store_->CountKeys(&expires), 1u);
  EXPECT_EQ(expires, 0u);
  EXPECT_EQ(Reclaim(), 0u);  // nothing has expired
  EXPECT_EQ(store_->CountKeys(), 1u);
}

// The index follows rewrites: a key whose expiry was dropped or moved is
// not reclaimed by its old expiry, and one rewritten with an expiry is.
TEST_F(ColdCountsTest, ReclaimDeletesOnlyKeysWhoseOwnExpiryPassed) {
  shm::ManualClock clock;
  OpenStore();
  const uint64_t now = shm::NowUnixMs();
  EXPECT_EQ(store_->earliest_expiry_ms(), 0u);  // not known before a pass
  Write({{"kept", "v", now + 100, false},
         {"moved", "v", now + 100, false},
         {"gone", "v", now + 100, false},
         {"late", "v", now + 5000, false}});
  Write({{"kept", "v", 0, false}, {"moved", "v", now + 1000, false}});
  EXPECT_EQ(Reclaim(), 0u);
  EXPECT_EQ(store_->earliest_expiry_ms(), now + 100);
  clock.Advance(100);
  EXPECT_EQ(store_->CountKeys(), 4u);  // "gone" is counted until reclaimed
  EXPECT_EQ(Reclaim(), 1u);
  EXPECT_EQ(store_->earliest_expiry_ms(), now + 1000);
  EXPECT_EQ(Counts('g'), "0/0");
  EXPECT_EQ(Counts('k'), "1/0");
  EXPECT_EQ(Counts('m'), "1/1");
  clock.Advance(4900);
  EXPECT_EQ(Reclaim(), 2u);
  EXPECT_EQ(store_->earliest_expiry_ms(), UINT64_MAX);
  EXPECT_EQ(store_->CountKeys(), 1u);
  EXPECT_EQ(store_->expired_keys(), 3u);
  std::string v;
  uint64_t e = 0;
  EXPECT_TRUE(store_->Get("kept", &v, &e).ok());
  // A write with an expiry already past (applied late) is reclaimed too.
  Write({{"past", "v", now, false}});
  EXPECT_EQ(store_->earliest_expiry_ms(), now);
  EXPECT_EQ(Reclaim(), 1u);
  EXPECT_EQ(store_->CountKeys(), 1u);
  EXPECT_EQ(store_->expired_keys(), 4u);
  // Written over, or deleted, once expired but before a reclaim: expired
  // once, and the index entry goes with the old value.
  Write({{"over", "v", now + 5001, false}, {"del", "v", now + 5001, false}});
  clock.Advance(1);
  Write({{"over", "w", 0, false}, {"del", "", 0, true}});
  EXPECT_EQ(store_->expired_keys(), 6u);
  EXPECT_EQ(Reclaim(), 0u);
  EXPECT_EQ(store_->CountKeys(), 2u);
  EXPECT_EQ(store_->earliest_expiry_ms(), UINT64_MAX);
}

// Many expiries: in chunks, a bounded number per call (the applier's
// pass), all of them over the calls.
TEST_F(ColdCountsTest, ReclaimTakesEveryExpiredKeyInBoundedCalls) {
  shm::ManualClock clock;
  OpenStore();
  const uint64_t now = shm::NowUnixMs();
  std::vector<std::string> keys;
  for (int i = 0; i < 70000; ++i) {
    std::string k(1, 'k');  // (not "k" + ...: GCC 12's -Wrestrict at -O3)
    k += std::to_string(i);
    keys.push_back(std::move(k));
  }
  std::vector<ColdOp> ops;
  for (int i = 0; i < 70000; ++i)
    ops.push_back({keys[i], "v", now + 1 + i % 3, false});
  Write(ops);
  clock.Advance(3);
  EXPECT_EQ(Reclaim(), 16u * 4096);
  EXPECT_LE(store_->earliest_expiry_ms(), now + 3);  // more to do
  EXPECT_EQ(Reclaim(), 70000u - 16 * 4096);
  EXPECT_EQ(Reclaim(), 0u);
  EXPECT_EQ(store_->earliest_expiry_ms(), UINT64_MAX);
  EXPECT_EQ(store_->CountKeys(), 0u);
}

TEST_F(ColdCountsTest, ClearEmptiesTheCountsAndTheIndex) {
  shm::ManualClock clock;
  OpenStore();
  const uint64_t now = shm::NowUnixMs();
  Write({{"a", "v", now + 100, false}, {"b", "v", 0, false}});
  // FLUSHALL, then "a" again without an expiry, in one batch.
  Write({{"a", "v", 0, false}}, /*clear_first=*/true);
  EXPECT_EQ(Counts('a'), "1/0");
  EXPECT_EQ(Counts('b'), "0/0");
  clock.Advance(200);
  EXPECT_EQ(Reclaim(), 0u);  // the old entry went with the clear
  EXPECT_EQ(Counts('a'), "1/0");
}

// Recovery's batches may name a key several times: the last op decides.
TEST_F(ColdCountsTest, AKeyNamedTwiceInABatchCountsOnce) {
  shm::ManualClock clock;
  OpenStore();
  const uint64_t now = shm::NowUnixMs();
  Write({{"k", "1", now + 100, false},
         {"j", "1", 0, false},
         {"k", "", 0, true},
         {"k", "2", now + 200, false},
         {"j", "", 0, true}});
  EXPECT_EQ(Counts('k'), "1/1");
  EXPECT_EQ(Counts('j'), "0/0");
  clock.Advance(100);
  EXPECT_EQ(Reclaim(), 0u);  // its first expiry was never indexed
  clock.Advance(100);
  EXPECT_EQ(Reclaim(), 1u);
  EXPECT_EQ(store_->CountKeys(), 0u);
}

TEST_F(ColdCountsTest, CountsAndIndexSurviveAReopen) {
  shm::ManualClock clock;
  OpenStore();
  const uint64_t now = shm::NowUnixMs();
  Write({{"a", "v", now + 100, false}, {"b", "v", 0, false}});
  OpenStore();
  EXPECT_EQ(Counts('a'), "1/1");
  EXPECT_EQ(Counts('b'), "1/0");
  clock.Advance(100);
  EXPECT_EQ(Reclaim(), 1u);
  OpenStore();  // the reclaim was recorded too
  EXPECT_EQ(store_->CountKeys(), 1u);
}

// The counts are read, not counted, at Open: a record that says 7 keys
// is believed. Without the record (or of another applied_lsn) the store is
// counted once and its expiry index built.
TEST_F(ColdCountsTest, OpenReadsTheRecordedCountsOrCountsOnce) {
  shm::ManualClock clock;
  OpenStore();
  const uint64_t now = shm::NowUnixMs();
  Write({{"a", "v", now + 100, false}, {"b", "v", 0, false}});
  store_.reset();
  const std::string db = dir_ + "/db";
  testing::WithRawStore(db, [](rocksdb::DB* raw, auto& h) {
    std::string v;
    ASSERT_TRUE(raw->Get({}, h[1], "key_counts", &v).ok());
    // The applied_lsn, then 17 bytes per database: 'a', then 'b'.
    ASSERT_EQ(v.size(), 8u + 2 * 17);
    ASSERT_EQ(v[8 + 17], 'b');
    v[8 + 17 + 1] = 7;  // database 'b' holds "7" keys
    ASSERT_TRUE(raw->Put({}, h[1], "key_counts", v).ok());
  });
  OpenStore();
  EXPECT_EQ(Counts('b'), "7/0");
  store_.reset();
  // A record that does not decode is counted again.
  testing::WithRawStore(db, [](rocksdb::DB* raw, auto& h) {
    ASSERT_TRUE(raw->Put({}, h[1], "key_counts", "short").ok());
  });
  OpenStore();
  EXPECT_EQ(Counts('b'), "1/0");
  store_.reset();
  testing::WithRawStore(db, [](rocksdb::DB* raw, auto& h) {
    ASSERT_TRUE(raw->Delete({}, h[1], "key_counts").ok());
    // An index entry with no key behind it, as an older store's could be.
    ASSERT_TRUE(raw->Put({}, h[2], ExpiryIndexKey(1, "zz"), "").ok());
  });
  OpenStore();
  EXPECT_EQ(Counts('a'), "1/1");
  EXPECT_EQ(Counts('b'), "1/0");
  clock.Advance(100);
  EXPECT_EQ(Reclaim(), 1u);  // the rebuilt index found "a"
  EXPECT_EQ(store_->CountKeys(), 1u);
}

// The tests' check (EMBER_VERIFY_PRIORS): a prior that RocksDB
// contradicts stops the server at once.
TEST_F(ColdCountsTest, AWrongPriorAbortsUnderTheTestsCheck) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  setenv("EMBER_VERIFY_PRIORS", "1", 1);
  OpenStore();
  unsetenv("EMBER_VERIFY_PRIORS");
  Write({{"a", "v", 0, false}});
  const std::vector<KeyPrior> right = {{KeyPrior::kPresent, 0}};
  ASSERT_TRUE(
      store_->Apply({{"a", "w", 0, false}}, false, ++lsn_, nullptr, &right)
          .ok());
  const std::vector<KeyPrior> wrong = {{KeyPrior::kAbsent, 0}};
  // (The reason goes to the log, spdlog's stdout.)
  EXPECT_EXIT(
      store_->Apply({{"a", "x", 0, false}}, false, ++lsn_, nullptr, &wrong),
      ::testing::KilledBySignal(SIGABRT), "");
}

// A random history of puts (with and without expiries), deletes, clears,
// reclaims, clock moves and reopens, against a model of what the store
// holds (expired keys until reclaimed).
TEST_F(ColdCountsTest, RandomHistoryMatchesAModel) {
  const unsigned seed = std::random_device{}();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::printf("RandomHistoryMatchesAModel seed %u\n", seed);
  std::mt19937 rng(seed);
  shm::ManualClock clock;
  OpenStore();
  std::map<std::string, uint64_t> model;  // key -> expiry (0: none)
  std::vector<std::string> names;
  for (char db : {'\0', '\1', '\7'}) {
    for (int i = 0; i < 40; ++i)
      names.push_back(std::string(1, db) + "k" + std::to_string(i));
  }
  for (int step = 0; step < 400; ++step) {
    const int what = static_cast<int>(rng() % 100);
    const uint64_t now = shm::NowUnixMs();
    if (what < 70) {
      std::vector<ColdOp> ops;
      std::vector<std::string> keep;  // ops' views
      keep.reserve(16);
      const bool clear = rng() % 40 == 0;
      // Half the batches as the applier's: sorted, distinct, and with the
      // state before the batch given for some keys (as the dirty table
      // knows it), which Apply must trust instead of reading.
      const bool as_applier = rng() % 2 == 0;
      const auto before = model;
      if (clear) model.clear();
      const int n = 1 + static_cast<int>(rng() % 12);
      std::map<std::string, ColdOp> last;
      for (int i = 0; i < n; ++i) {
        keep.push_back(names[rng() % names.size()]);
        const bool del = rng() % 4 == 0;
        const uint64_t e = rng() % 2 ? 0 : now + rng() % 300 - 50;
        const ColdOp op{keep.back(), "v", del ? 0 : e, del};
        if (as_applier)
          last[keep.back()] = op;
        else
          ops.push_back(op);
        if (del)
          model.erase(keep.back());
        else
          model[keep.back()] = e;
      }
      std::vector<KeyPrior> priors;
      for (const auto& [k, op] : last) {
        ops.push_back(op);
        KeyPrior p;
        if (rng() % 3 != 0) {
          auto it = before.find(k);
          p.state = it == before.end() ? KeyPrior::kAbsent : KeyPrior::kPresent;
          p.expiry_ms = it == before.end() ? 0 : it->second;
        }
        priors.push_back(p);
      }
      shm::Status s = store_->Apply(ops, clear, ++lsn_, nullptr,
                                    as_applier ? &priors : nullptr);
      ASSERT_TRUE(s.ok()) << s.ToString();
    } else if (what < 85) {
      Reclaim();
      for (auto it = model.begin(); it != model.end();) {
        if (it->second != 0 && it->second <= now)
          it = model.erase(it);
        else
          ++it;
      }
    } else if (what < 97) {
      clock.Advance(rng() % 100);
    } else {
      OpenStore();
    }
    for (char db : {'\0', '\1', '\7'}) {
      uint64_t keys = 0, expires = 0;
      for (const auto& [k, e] : model) {
        if (k[0] != db) continue;
        ++keys;
        if (e != 0) ++expires;
      }
      ASSERT_EQ(Counts(db),
                std::to_string(keys) + "/" + std::to_string(expires))
          << "step " << step << " db " << int(db);
    }
  }
}

}  // namespace
}  // namespace ember::server
