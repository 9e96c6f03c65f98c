// Eviction keeps the hot set: S3-FIFO admission plus CLOCK over reader hints.
#include <cstdio>

#include "shm/clock.h"
#include "tests/shm/arena_test_util.h"

namespace ember::shm::testing {
namespace {

class EvictionTest : public ArenaFixture {
 protected:
  static std::string Key(const char* prefix, int i) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%s:%08d", prefix, i);
    return buf;
  }
};

TEST_F(EvictionTest, HotSetSurvivesAScanOfTenTimesTheArena) {
  options_.arena_bytes = 4 << 20;
  CreateWriter();
  auto r = OpenReader();
  const std::string value(100, 'v');
  // Capacity in items of this size: chunks of its class in every page.
  const uint64_t capacity = writer_->header().geo.data_bytes / 136;
  const int hot = static_cast<int>(capacity / 10);
  for (int i = 0; i < hot; ++i)
    ASSERT_TRUE(writer_->Put(Key("hot", i), value).ok());
  auto read_hot = [&] {
    int hits = 0;
    for (int i = 0; i < hot; ++i) hits += Read(r.get(), Key("hot", i)) == value;
    return hits;
  };
  ASSERT_EQ(read_hot(), hot);
  // A scan of one-hit keys, 10x the arena, while the hot set is read on.
  const int scan = static_cast<int>(capacity * 10);
  uint64_t hot_reads = 0, hot_hits = 0;
  for (int i = 0; i < scan; ++i) {
    ASSERT_TRUE(writer_->Put(Key("scan", i), value).ok());
    if (i % 500 == 0) {
      hot_hits += read_hot();
      hot_reads += hot;
      writer_->Tick();
    }
  }
  const double during = static_cast<double>(hot_hits) / hot_reads;
  const double after = static_cast<double>(read_hot()) / hot;
  int scan_tail_hits = 0;
  for (int i = scan - 100; i < scan; ++i) {
    scan_tail_hits += Read(r.get(), Key("scan", i)) == value;
  }
  std::printf(
      "[ measured ] capacity %llu items, hot set %d, scan %d keys: "
      "hot hit ratio %.4f during the scan, %.4f after; evictions %llu\n",
      static_cast<unsigned long long>(capacity), hot, scan, during, after,
      static_cast<unsigned long long>(
          writer_->header().stats.evictions.load()));
  EXPECT_GE(during, 0.95);
  EXPECT_GE(after, 0.95);
  EXPECT_GT(writer_->header().stats.evictions.load(),
            static_cast<uint64_t>(scan / 2));
  EXPECT_EQ(scan_tail_hits, 100) << "new keys are admitted";
}

TEST_F(EvictionTest, WithoutReadsTheOldestKeysGoFirst) {
  options_.arena_bytes = 2 << 20;
  CreateWriter();
  auto r = OpenReader();
  const std::string value(100, 'v');
  const int n = static_cast<int>(writer_->header().geo.data_bytes / 136 * 3);
  for (int i = 0; i < n; ++i)
    ASSERT_TRUE(writer_->Put(Key("k", i), value).ok());
  EXPECT_EQ(Read(r.get(), Key("k", n - 1)), value);
  EXPECT_EQ(Read(r.get(), Key("k", 0)), "<miss>");
  EXPECT_EQ(writer_->header().stats.put_failures.load(), 0u);
}

TEST_F(EvictionTest, NewSizeClassTakesAPageFromAFullArena) {
  options_.arena_bytes = 2 << 20;
  options_.bytes_per_index_slot = 16;  // 40-byte items: pages fill first
  CreateWriter();
  auto r = OpenReader();
  const uint64_t n = writer_->header().geo.data_bytes / 64 * 2;
  for (uint64_t i = 0; i < n; ++i) {
    ASSERT_TRUE(writer_->Put(Key("small", static_cast<int>(i)), "v").ok());
  }
  EXPECT_EQ(writer_->header().stats.free_pages.load(), 0u);
  const std::string big(5000, 'B');
  for (int i = 0; i < 20; ++i) {
    Status s = writer_->Put(Key("big", i), big);
    ASSERT_TRUE(s.ok()) << s.ToString();
    EXPECT_EQ(Read(r.get(), Key("big", i)), big);
  }
  EXPECT_GE(writer_->header().stats.page_moves.load(), 1u);
}

TEST_F(EvictionTest, GuardHeldPastLeaseIsRevokedWhenMemoryIsShort) {
  ManualClock clock;  // the lease runs only as the test moves time
  options_.arena_bytes = 1 << 20;
  options_.reader_lease_ms = 50;
  CreateWriter();
  auto r = OpenReader();
  const std::string value(100, 'v');
  ASSERT_TRUE(writer_->Put("held", value).ok());
  ReadGuard g(r.get());
  std::string_view v;
  ASSERT_TRUE(g.Get("held", &v).ok());
  // Fill far past capacity: retired chunks cannot be freed while the guard
  // blocks them, so some puts fail until the lease runs out.
  const int n = static_cast<int>(writer_->header().geo.data_bytes / 136 * 3);
  int busy = 0;
  uint64_t waited_ms = 0;
  for (int i = 0; i < n; ++i) {
    Status s = writer_->Put(Key("fill", i), value);
    if (s.code() == Code::kBusy) {
      ++busy;
      if (waited_ms < 50) {
        ASSERT_EQ(writer_->header().stats.revocations.load(), 0u)
            << "revoked after " << waited_ms << " ms of a 50 ms lease";
      }
      clock.Advance(1);
      ++waited_ms;
    } else {
      ASSERT_TRUE(s.ok()) << s.ToString();
    }
  }
  EXPECT_GT(busy, 0);
  EXPECT_GE(writer_->header().stats.revocations.load(), 1u);
  Status released = g.Release();
  EXPECT_EQ(released.code(), Code::kRevoked) << released.ToString();
  // The reader goes on normally with a new guard.
  EXPECT_EQ(Read(r.get(), Key("fill", n - 1)), value);
}

// Regression (review of the trust-boundary change): a revoked reader's next
// guard, taken before the writer's next scan, announced an epoch the
// revocation told the writer to ignore, so chunks were reused under it and
// its Release still said kOk. Now that guard counts: what it reads stays
// unchanged, or its Release says kRevoked.
TEST_F(EvictionTest, AGuardTakenRightAfterARevocationIsProtected) {
  ManualClock clock;
  options_.arena_bytes = 1 << 20;
  options_.reader_lease_ms = 50;
  CreateWriter();
  auto r = OpenReader();
  const std::string value(100, 'v');
  ASSERT_TRUE(writer_->Put("held", value).ok());
  ASSERT_TRUE(writer_->Put("victim", value).ok());
  const int n = static_cast<int>(writer_->header().geo.data_bytes / 136 * 3);
  // Puts until `stop` (or n puts); a put that finds no memory waits a bit.
  auto fill = [&](const char* tag, char byte, auto stop) {
    const std::string other(100, byte);
    for (int i = 0; i < n && !stop(); ++i) {
      Status s = writer_->Put(Key(tag, i), other);
      if (s.code() == Code::kBusy) clock.Advance(1);
    }
  };
  auto revoked = [&] { return writer_->header().stats.revocations.load() > 0; };
  {
    ReadGuard g(r.get());
    std::string_view v;
    ASSERT_TRUE(g.Get("held", &v).ok());
    fill("fill", 'w', revoked);  // stops right after the revoking scan
    ASSERT_TRUE(revoked());
    ASSERT_EQ(g.Release().code(), Code::kRevoked);
  }
  // No scan between the revocation and this guard. The chunk it reads,
  // retired now, must wait for it: the next scan may not free it.
  ReadGuard g2(r.get());
  std::string_view v2;
  ASSERT_TRUE(g2.Get("victim", &v2).ok());
  ASSERT_EQ(v2, value);
  ASSERT_TRUE(writer_->Put("victim", std::string(100, 'x')).ok());
  writer_->Tick();
  EXPECT_GT(writer_->header().stats.retired_pending.load(), 0u)
      << "a chunk under a live guard was freed";
  EXPECT_EQ(v2, value);
  EXPECT_TRUE(g2.Release().ok());
  writer_->Tick();
  EXPECT_EQ(writer_->header().stats.retired_pending.load(), 0u);
}

// CONFIG SET reader_lease_ms: a guard held under a lease of an hour is
// revoked once the lease is cut to 50 ms while it is held.
TEST_F(EvictionTest, LeaseChangedAtRunTimeAppliesToHeldGuards) {
  ManualClock clock;
  options_.arena_bytes = 1 << 20;
  options_.reader_lease_ms = 3600 * 1000;
  CreateWriter();
  EXPECT_EQ(writer_->reader_lease_ms(), 3600u * 1000);
  auto r = OpenReader();
  const std::string value(100, 'v');
  ASSERT_TRUE(writer_->Put("held", value).ok());
  ReadGuard g(r.get());
  std::string_view v;
  ASSERT_TRUE(g.Get("held", &v).ok());
  const int n = static_cast<int>(writer_->header().geo.data_bytes / 136 * 3);
  // Puts until `busy_wanted` of them found no memory (or `n` puts).
  auto fill = [&](int first, int busy_wanted) {
    int busy = 0;
    for (int i = first; i < first + n && busy < busy_wanted; ++i) {
      if (writer_->Put(Key("fill", i), value).code() == Code::kBusy) {
        ++busy;
        clock.Advance(1);
      }
    }
    return busy;
  };
  EXPECT_EQ(fill(0, 20), 20);  // the guard pins memory: puts fail
  EXPECT_EQ(writer_->header().stats.revocations.load(), 0u);
  writer_->SetReaderLeaseMs(50);
  EXPECT_EQ(writer_->reader_lease_ms(), 50u);
  fill(n, 200);
  EXPECT_GE(writer_->header().stats.revocations.load(), 1u);
  EXPECT_EQ(g.Release().code(), Code::kRevoked);
}

}  // namespace
}  // namespace ember::shm::testing
