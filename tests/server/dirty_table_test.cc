// DirtyTable: coalescing, what reads find in its two generations, the
// FLUSHALL mark, back-pressure and Sync, with real threads; the applier's
// delay and the lag cap under a ManualClock (time moves when told).
#include "server/dirty_table.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "shm/clock.h"

namespace ember::server {
namespace {

void Put(DirtyTable* t, uint64_t lsn, std::string key, std::string value,
         bool clear = false) {
  DirtyTable::Changes c;
  c.push_back({std::move(key), DirtyEntry{std::move(value), 0, false, {}}});
  t->Publish(&c, clear, lsn, [](const DirtyTable::EntryRefs&) {});
}

std::string Read(const DirtyTable& t, std::string_view key) {
  std::string v;
  uint64_t e = 0;
  switch (t.Lookup(key, 1, &v, &e)) {
    case DirtyTable::Hit::kValue:
      return v;
    case DirtyTable::Hit::kAbsent:
      return "<absent>";
    case DirtyTable::Hit::kMiss:
      break;
  }
  return "<miss>";
}

TEST(DirtyTableTest, AKeyWrittenManyTimesIsAppliedOnceWithItsLastValue) {
  DirtyTable t({}, 0);
  for (int i = 1; i <= 1000; ++i) Put(&t, i, "hot", std::to_string(i));
  Put(&t, 1001, "other", "x");
  EXPECT_EQ(t.counters().keys, 2u);
  DirtyTable::Batch b;
  t.TakeBatch(&b);
  EXPECT_EQ(b.entries.size(), 2u);
  EXPECT_EQ(b.last_lsn, 1001u);
  for (const auto& [k, e] : b.entries) {
    if (k == "hot") {
      EXPECT_EQ(e->value, "1000");
    }
  }
  t.FinishBatch();
  EXPECT_EQ(t.counters().applied_lsn, 1001u);
  EXPECT_EQ(t.counters().keys, 0u);
  EXPECT_EQ(Read(t, "hot"), "<miss>");
}

// A SWAPDB's map goes to the applier with its generation, alone too (the
// applier wakes for it); a FLUSHALL after it in the generation keeps it.
TEST(DirtyTableTest, ADbMapTravelsWithItsGeneration) {
  DirtyTable t({}, 0);
  DbMap map = IdentityDbMap();
  std::swap(map[0], map[5]);
  DirtyTable::Changes none;
  t.Publish(&none, false, &map, 1, [](const DirtyTable::EntryRefs&) {});
  EXPECT_TRUE(t.WaitForWork(std::chrono::milliseconds(0)));
  Put(&t, 2, "k", "v", /*clear=*/true);
  DirtyTable::Batch b;
  t.TakeBatch(&b);
  ASSERT_TRUE(b.db_map.has_value());
  EXPECT_EQ(*b.db_map, map);
  EXPECT_TRUE(b.clear_first);
  EXPECT_EQ(b.last_lsn, 2u);
  t.FinishBatch();
  Put(&t, 3, "k", "w");
  t.TakeBatch(&b);
  EXPECT_FALSE(b.db_map.has_value());  // unchanged since
  t.FinishBatch();
}

TEST(DirtyTableTest, ReadsFindTheNewestGenerationFirst) {
  DirtyTable t({}, 0);
  Put(&t, 1, "a", "old");
  Put(&t, 2, "b", "b1");
  DirtyTable::Batch b;
  t.TakeBatch(&b);  // a, b being applied
  Put(&t, 3, "a", "new");
  EXPECT_EQ(Read(t, "a"), "new");
  EXPECT_EQ(Read(t, "b"), "b1");  // still readable while applied
  DirtyTable::Changes del;
  del.push_back({"b", DirtyEntry{"", 0, true, {}}});
  t.Publish(&del, false, 4, [](const DirtyTable::EntryRefs&) {});
  EXPECT_EQ(Read(t, "b"), "<absent>");
  EXPECT_EQ(Read(t, "c"), "<miss>");
}

TEST(DirtyTableTest, AFlushAllHidesEverythingOlderUntilApplied) {
  DirtyTable t({}, 0);
  Put(&t, 1, "a", "1");
  DirtyTable::Batch b;
  t.TakeBatch(&b);
  Put(&t, 3, "n", "after", /*clear=*/true);
  EXPECT_EQ(Read(t, "a"), "<absent>");      // in the older generation
  EXPECT_EQ(Read(t, "rocks"), "<absent>");  // RocksDB's, not yet cleared
  EXPECT_EQ(Read(t, "n"), "after");
  EXPECT_TRUE(t.Contains("rocks"));  // no promotion from RocksDB meanwhile
  t.FinishBatch();
  t.TakeBatch(&b);
  EXPECT_TRUE(b.clear_first);
  t.FinishBatch();
  EXPECT_EQ(Read(t, "rocks"), "<miss>");
  EXPECT_FALSE(t.Contains("rocks"));
}

// At the byte cap a commit waits until the applier finishes a batch; it is
// never refused while the applier works.
TEST(DirtyTableTest, ACommitOverTheCapWaitsForTheApplier) {
  DirtyTable t({/*max_bytes=*/4096, /*max_lag_ms=*/60000}, 0);
  Put(&t, 1, "k", std::string(4000, 'x'));
  std::atomic<bool> done{false};
  std::thread commit([&] {
    EXPECT_TRUE(t.WaitForRoom(2000).ok());
    done = true;
  });
  ASSERT_TRUE(t.WaitForWork(std::chrono::milliseconds(60000)));  // woken
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(done.load());
  DirtyTable::Batch b;
  t.TakeBatch(&b);
  t.FinishBatch();
  commit.join();
  EXPECT_TRUE(done.load());
  EXPECT_EQ(t.counters().waits, 1u);
}

TEST(DirtyTableTest, AFailedApplierTurnsWaitingIntoAnError) {
  DirtyTable t({4096, 60000}, 0);
  Put(&t, 1, "k", std::string(4000, 'x'));
  std::thread fail([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    t.MarkFailed("injected");
  });
  const shm::Status s = t.WaitForRoom(2000);
  fail.join();
  EXPECT_EQ(s.code(), shm::Code::kIOError);
  EXPECT_NE(s.message().find("injected"), std::string::npos);
  EXPECT_EQ(Read(t, "k"), std::string(4000, 'x'));  // never dropped
}

// Spins (no sleep) until `done`, for at most 5 s of real time.
template <typename F>
bool Eventually(F done) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!done()) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::yield();
  }
  return true;
}

// The applier's delay: a write waits `delay` of the seam's clock, however
// much real time passes, and goes at once when the clock gets there.
TEST(DirtyTableTest, TheApplierTakesAWriteOnceItIsDelayOld) {
  shm::ManualClock clock;
  DirtyTable t({/*max_bytes=*/1 << 20, /*max_lag_ms=*/60000}, 0);
  Put(&t, 1, "k", "v");
  clock.Advance(999);
  EXPECT_EQ(t.counters().lag_ms, 999u);
  std::atomic<bool> took{false};
  std::thread applier([&] {
    EXPECT_TRUE(t.WaitForWork(std::chrono::milliseconds(1000)));
    took = true;
  });
  // Real time passing changes nothing (the one short sleep of this test).
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_FALSE(took.load());
  clock.Advance(1);
  EXPECT_TRUE(Eventually([&] { return took.load(); }));
  applier.join();
  EXPECT_EQ(t.counters().lag_ms, 1000u);
}

// The lag cap: below max_lag_ms a commit goes on; at it, the commit waits
// (and wakes the applier) until the batch is applied.
TEST(DirtyTableTest, CommitsWaitOnceTheOldestWriteIsMaxLagOld) {
  shm::ManualClock clock;
  DirtyTable t({/*max_bytes=*/1 << 20, /*max_lag_ms=*/5000}, 0);
  Put(&t, 1, "a", "1");
  clock.Advance(4999);
  EXPECT_TRUE(t.WaitForRoom(10).ok());
  EXPECT_EQ(t.counters().waits, 0u);
  clock.Advance(1);
  std::atomic<bool> done{false};
  std::thread commit([&] {
    EXPECT_TRUE(t.WaitForRoom(10).ok());
    done = true;
  });
  ASSERT_TRUE(Eventually([&] { return t.counters().waits == 1; }));
  EXPECT_FALSE(done.load());
  ASSERT_TRUE(t.WaitForWork(std::chrono::milliseconds(60000)));  // woken
  DirtyTable::Batch b;
  t.TakeBatch(&b);
  t.FinishBatch();
  commit.join();
  EXPECT_TRUE(done.load());
  EXPECT_EQ(t.counters().lag_ms, 0u);  // nothing dirty
}

TEST(DirtyTableTest, SyncReturnsOnceEverythingPublishedIsApplied) {
  DirtyTable t({}, 5);
  t.Sync();  // nothing dirty: at once
  Put(&t, 6, "a", "1");
  std::thread applier([&] {
    ASSERT_TRUE(t.WaitForWork(std::chrono::milliseconds(60000)));
    DirtyTable::Batch b;
    t.TakeBatch(&b);
    t.FinishBatch();
  });
  t.Sync();
  EXPECT_EQ(t.counters().applied_lsn, 6u);
  applier.join();
}

}  // namespace
}  // namespace ember::server

namespace ember::server {
namespace {

// A pass on time (pass_every) runs with nothing due and takes no write
// before the applier's delay; the write goes when it is due.
TEST(DirtyTableTest, APassOnTimeTakesNoWriteBeforeItsDelay) {
  shm::ManualClock clock;
  DirtyTable t({}, 0);
  Put(&t, 1, "k", "v");
  const std::chrono::milliseconds delay(1000), every(100);
  clock.Advance(100);
  ASSERT_TRUE(t.WaitForWork(delay, every));
  DirtyTable::Batch b;
  t.TakeBatch(&b);
  EXPECT_TRUE(b.empty());
  t.FinishBatch();
  EXPECT_EQ(t.counters().passes, 1u);
  EXPECT_EQ(t.counters().batches, 0u);
  EXPECT_EQ(t.counters().applied_lsn, 0u);
  EXPECT_EQ(Read(t, "k"), "v");
  clock.Advance(900);
  ASSERT_TRUE(t.WaitForWork(delay, every));
  t.TakeBatch(&b);
  EXPECT_EQ(b.entries.size(), 1u);
  t.FinishBatch();
  EXPECT_EQ(t.counters().batches, 1u);
  EXPECT_EQ(t.counters().applied_lsn, 1u);
}

// An expired value written over before the applier took it never reaches
// RocksDB (which counts the expiries it sees): the table counts it, once.
TEST(DirtyTableTest, AnExpiredValueWrittenOverIsCountedOnce) {
  shm::ManualClock clock;
  DirtyTable t({}, 0);
  auto put = [&](uint64_t lsn, const char* key, uint64_t expiry) {
    DirtyTable::Changes c;
    c.push_back({key, DirtyEntry{"v", expiry, false, {}}});
    t.Publish(&c, false, lsn, [](const DirtyTable::EntryRefs&) {});
  };
  const uint64_t now = shm::NowUnixMs();
  put(1, "gone", now + 10);
  put(2, "live", now + 1000);
  clock.Advance(10);
  put(3, "gone", 0);  // expired: counted
  put(4, "live", 0);  // not yet expired
  put(5, "gone", 0);  // no expiry any more
  EXPECT_EQ(t.counters().expired_overwritten, 1u);
}

// Each entry carries RocksDB's state of its key before the batch that
// applies it: the applying batch's, absent under a clear, or the arena's
// to ask (kAskArena, resolved by the publish callback); a key written
// again keeps its first prior (an unresolved ask becomes unknown).
TEST(DirtyTableTest, EntriesCarryTheKeysStateBeforeTheirBatch) {
  DirtyTable t({}, 0);
  auto publish = [&](uint64_t lsn, const char* key, bool del, bool clear,
                     KeyPrior::State resolve) {
    DirtyTable::Changes c;
    c.push_back({key, DirtyEntry{del ? "" : "v", del ? 0u : 99u, del, {}}});
    t.Publish(&c, clear, lsn, [&](const DirtyTable::EntryRefs& refs) {
      for (const auto& [k, e] : refs) {
        if (e->prior.state == KeyPrior::kAskArena) {
          e->prior.state = resolve;
          e->prior.expiry_ms = 5;
        }
      }
    });
  };
  auto prior = [&](const DirtyTable::Batch& b, std::string_view key) {
    for (const auto& [k, e] : b.entries) {
      if (k == key) return e->prior;
    }
    return KeyPrior{};
  };
  publish(1, "hot", false, false, KeyPrior::kPresent);   // the arena had it
  publish(2, "cold", false, false, KeyPrior::kUnknown);  // the arena had not
  publish(3, "hot", false, false, KeyPrior::kAbsent);    // kept: not asked
  DirtyTable::Batch b;
  t.TakeBatch(&b);  // "hot" and "cold" are applying now
  EXPECT_EQ(prior(b, "hot").state, KeyPrior::kPresent);
  EXPECT_EQ(prior(b, "hot").expiry_ms, 5u);
  EXPECT_EQ(prior(b, "cold").state, KeyPrior::kUnknown);
  publish(4, "hot", true, false, KeyPrior::kUnknown);
  publish(5, "cold", false, false, KeyPrior::kUnknown);
  DirtyTable::Batch next;
  t.FinishBatch();
  t.TakeBatch(&next);
  // RocksDB will hold the applying batch's values: present, expiry 99.
  EXPECT_EQ(prior(next, "hot").state, KeyPrior::kPresent);
  EXPECT_EQ(prior(next, "hot").expiry_ms, 99u);
  EXPECT_EQ(prior(next, "cold").state, KeyPrior::kPresent);
  publish(6, "hot", false, false, KeyPrior::kUnknown);  // "hot" was deleted
  publish(7, "new", false, true, KeyPrior::kPresent);   // after a FLUSHALL
  t.FinishBatch();
  t.TakeBatch(&b);
  EXPECT_EQ(prior(b, "new").state, KeyPrior::kAbsent);
  t.FinishBatch();
  publish(8, "a", false, false, KeyPrior::kUnknown);  // asked, not known
  publish(9, "a", false, false, KeyPrior::kPresent);  // kept: unknown
  t.TakeBatch(&b);
  EXPECT_EQ(prior(b, "a").state, KeyPrior::kUnknown);
  t.FinishBatch();
}

// SyncPass returns only after a pass that began after it: not when the
// pass under way at its call ends, and even with nothing to apply.
TEST(DirtyTableTest, SyncPassWaitsForAPassThatBeganAfterIt) {
  DirtyTable t({}, 0);
  DirtyTable::Batch b;
  ASSERT_TRUE(t.WaitForWork(std::chrono::milliseconds(60000),
                            std::chrono::milliseconds(1)));
  t.TakeBatch(&b);  // a pass under way
  std::atomic<bool> done{false};
  std::thread sync([&] {
    t.SyncPass();
    done = true;
  });
  // Whether SyncPass begins before or after the old pass ends, that pass
  // began before it: ending it must not end the SyncPass.
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  t.FinishBatch();
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_FALSE(done.load());
  // The SyncPass makes the next pass due at once, with no write waiting.
  ASSERT_TRUE(t.WaitForWork(std::chrono::milliseconds(60000)));
  t.TakeBatch(&b);
  EXPECT_TRUE(b.empty());
  t.FinishBatch();
  sync.join();
  EXPECT_TRUE(done.load());
  EXPECT_EQ(t.counters().passes, 2u);
}

}  // namespace
}  // namespace ember::server
