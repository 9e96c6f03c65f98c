// Put, Get, Delete, expiry and limits through a real arena in /dev/shm.
#include <string>

#include "shm/key_hash.h"
#include "tests/shm/arena_test_util.h"

namespace ember::shm::testing {
namespace {

class ArenaWriterTest : public ArenaFixture {};

TEST_F(ArenaWriterTest, PutThenGetReturnsTheValue) {
  CreateWriter();
  auto r = OpenReader();
  ASSERT_TRUE(writer_->Put("alpha", "one").ok());
  ASSERT_TRUE(writer_->Put("beta", "two").ok());
  EXPECT_EQ(Read(r.get(), "alpha"), "one");
  EXPECT_EQ(Read(r.get(), "beta"), "two");
  EXPECT_EQ(Read(r.get(), "gamma"), "<miss>");
  EXPECT_EQ(writer_->header().stats.items.load(), 2u);
}

// One guard object serves reads one after another: a deferred guard holds
// nothing (and reads nothing) until Renew(); Renew() after Release()
// announces again; on an arena that is no longer kActive it says so.
TEST_F(ArenaWriterTest, ADeferredGuardReadsOnlyAfterRenew) {
  CreateWriter();
  ASSERT_TRUE(writer_->Put("k", "v").ok());
  auto r = OpenReader();
  ReadGuard g(r.get(), ReadGuard::Deferred{});
  std::string_view v;
  EXPECT_EQ(g.Get("k", &v).code(), Code::kUnavailable);
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(g.Renew());
    ASSERT_TRUE(g.Get("k", &v).ok());
    EXPECT_EQ(v, "v");
    EXPECT_TRUE(g.Release().ok());
  }
  writer_->SetState(ArenaState::kClean);
  EXPECT_FALSE(g.Renew());
  EXPECT_EQ(g.status().code(), Code::kUnavailable);
  writer_->SetState(ArenaState::kActive);
  EXPECT_TRUE(g.Renew());
  EXPECT_TRUE(g.status().ok());
  EXPECT_TRUE(g.Get("k", &v).ok());
}

TEST_F(ArenaWriterTest, OverwriteReplacesAndDeleteRemoves) {
  CreateWriter();
  auto r = OpenReader();
  ASSERT_TRUE(writer_->Put("k", "v1").ok());
  ASSERT_TRUE(writer_->Put("k", "a longer second value").ok());
  EXPECT_EQ(Read(r.get(), "k"), "a longer second value");
  EXPECT_EQ(writer_->header().stats.items.load(), 1u);
  EXPECT_TRUE(writer_->Delete("k").ok());
  EXPECT_TRUE(writer_->Delete("k").IsNotFound());
  EXPECT_EQ(Read(r.get(), "k"), "<miss>");
  EXPECT_EQ(writer_->header().stats.items.load(), 0u);
}

// Put and Delete say what they replaced (the cold tier's key counts use
// it): nothing, or the old item with its expiry.
TEST_F(ArenaWriterTest, PutAndDeleteReportTheItemTheyReplace) {
  CreateWriter();
  ArenaWriter::OldItem old;
  ASSERT_TRUE(writer_->Put("k", "v1", 12345, &old).ok());
  EXPECT_FALSE(old.found);
  ASSERT_TRUE(writer_->Put("k", "v2", 0, &old).ok());
  EXPECT_TRUE(old.found);
  EXPECT_EQ(old.expiry_unix_ms, 12345u);
  ASSERT_TRUE(writer_->Put("k", "v3", 777, &old).ok());
  EXPECT_TRUE(old.found);
  EXPECT_EQ(old.expiry_unix_ms, 0u);
  EXPECT_TRUE(writer_->Delete("k", &old).ok());
  EXPECT_TRUE(old.found);
  EXPECT_EQ(old.expiry_unix_ms, 777u);
  EXPECT_TRUE(writer_->Delete("k", &old).IsNotFound());
  EXPECT_FALSE(old.found);
  // Too large for a page: not cached, and the old item still reported.
  ASSERT_TRUE(writer_->Put("big", "v", 0, &old).ok());
  const std::string huge(options_.page_bytes * 2, 'x');
  EXPECT_FALSE(writer_->Put("big", huge, 0, &old).ok());
  EXPECT_TRUE(old.found);
}

TEST_F(ArenaWriterTest, ValuesAreBinarySafe) {
  CreateWriter();
  auto r = OpenReader();
  std::string key("k\0ey", 4), value("\0\xff\0\n\r", 5);
  ASSERT_TRUE(writer_->Put(key, value).ok());
  ASSERT_TRUE(writer_->Put("empty", "").ok());
  EXPECT_EQ(Read(r.get(), key), value);
  EXPECT_EQ(Read(r.get(), std::string("k\0ex", 4)), "<miss>");
  EXPECT_EQ(Read(r.get(), "empty"), "");
}

TEST_F(ArenaWriterTest, ExpiredItemsAreInvisibleAndSweptAway) {
  CreateWriter();
  auto r = OpenReader();
  const uint64_t now = NowUnixMs();
  ASSERT_TRUE(writer_->Put("past", "x", now - 1).ok());
  ASSERT_TRUE(writer_->Put("future", "y", now + 60'000).ok());
  EXPECT_EQ(Read(r.get(), "past"), "<miss>");
  EXPECT_EQ(Read(r.get(), "future"), "y");
  const uint64_t buckets = writer_->header().geo.bucket_count;
  for (uint64_t i = 0; i <= buckets / 64; ++i) writer_->Tick();
  EXPECT_EQ(writer_->header().stats.items.load(), 1u);
  EXPECT_EQ(writer_->expired_items(), 1u);
}

TEST_F(ArenaWriterTest, PutAndDeleteOverAnExpiredItemCountItExpired) {
  CreateWriter();
  const uint64_t now = NowUnixMs();
  ASSERT_TRUE(writer_->Put("a", "x", now - 1).ok());
  ASSERT_TRUE(writer_->Put("b", "x", now - 1).ok());
  ASSERT_TRUE(writer_->Put("c", "x", now + 60'000).ok());
  ASSERT_TRUE(writer_->Put("a", "new").ok());   // replaces an expired item
  ASSERT_TRUE(writer_->Delete("b").ok());       // deletes one
  ASSERT_TRUE(writer_->Put("c", "live").ok());  // a live one: not counted
  ASSERT_TRUE(writer_->Delete("c").ok());
  EXPECT_EQ(writer_->expired_items(), 2u);
}

TEST_F(ArenaWriterTest, RejectsKeysAndItemsOverTheLimits) {
  CreateWriter();
  auto r = OpenReader();
  EXPECT_EQ(writer_->Put("", "v").code(), Code::kInvalidArgument);
  EXPECT_EQ(writer_->Put(std::string(kMaxKeyBytes + 1, 'k'), "v").code(),
            Code::kInvalidArgument);
  // An item larger than a page belongs to the cold tier only; the older
  // value must not stay visible.
  ASSERT_TRUE(writer_->Put("big", "small").ok());
  Status s = writer_->Put("big", std::string(options_.page_bytes, 'v'));
  EXPECT_EQ(s.code(), Code::kInvalidArgument) << s.ToString();
  EXPECT_NE(s.message().find("page_bytes"), std::string::npos);
  EXPECT_EQ(Read(r.get(), "big"), "<miss>");
  // The largest item that fits works.
  std::string fits(options_.page_bytes - sizeof(ItemHeader) - 3, 'f');
  ASSERT_TRUE(writer_->Put("fit", fits).ok());
  EXPECT_EQ(Read(r.get(), "fit"), fits);
}

TEST_F(ArenaWriterTest, ChecksumsCoverHeaderKeyAndValue) {
  CreateWriter();
  ASSERT_TRUE(writer_->Put("sum", "value").ok());
  const char* base = reinterpret_cast<const char*>(&writer_->header());
  const auto& geo = writer_->header().geo;
  const auto* buckets =
      reinterpret_cast<const Bucket*>(base + geo.index_offset);
  int checked = 0;
  for (uint64_t b = 0; b < geo.bucket_count; ++b) {
    for (const auto& s : buckets[b].slot) {
      uint64_t v = s.load();
      if (v == 0) continue;
      ItemHeader h;
      std::memcpy(&h, base + SlotOffset(v), sizeof(h));
      const uint32_t stored = h.checksum;
      std::string bytes(base + SlotOffset(v),
                        sizeof(h) + h.key_len + h.value_len);
      std::memset(bytes.data() + offsetof(ItemHeader, checksum), 0, 4);
      EXPECT_EQ(static_cast<uint32_t>(XXH3_64bits(bytes.data(), bytes.size())),
                stored);
      ++checked;
    }
  }
  EXPECT_EQ(checked, 1);
}

}  // namespace
}  // namespace ember::shm::testing

namespace ember::shm::testing {
namespace {

TEST_F(ArenaWriterTest, GetReportsExpiryAndClearEmptiesTheArena) {
  CreateWriter();
  auto r = OpenReader();
  const uint64_t when = NowUnixMs() + 60'000;
  ASSERT_TRUE(writer_->Put("ttl", "v", when).ok());
  ASSERT_TRUE(writer_->Put("plain", "w").ok());
  {
    ReadGuard g(r.get());
    std::string_view v;
    uint64_t expiry = 1;
    ASSERT_TRUE(g.Get("ttl", &v, &expiry).ok());
    EXPECT_EQ(v, "v");
    EXPECT_EQ(expiry, when);
    ASSERT_TRUE(g.Get("plain", &v, &expiry).ok());
    EXPECT_EQ(expiry, 0u);
  }
  writer_->Clear();
  EXPECT_EQ(writer_->header().stats.items.load(), 0u);
  EXPECT_EQ(Read(r.get(), "ttl"), "<miss>");
  EXPECT_EQ(Read(r.get(), "plain"), "<miss>");
  ASSERT_TRUE(writer_->Put("after", "x").ok());
  EXPECT_EQ(Read(r.get(), "after"), "x");
}

}  // namespace
}  // namespace ember::shm::testing
