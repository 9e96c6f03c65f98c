// The index keeps every key at high load (two-choice buckets with
// displacement), and the writer's bookkeeping stays bounded.
#include <cstdio>

#include "tests/shm/arena_test_util.h"

namespace ember::shm::testing {
namespace {

class IndexTest : public ArenaFixture {};

TEST_F(IndexTest, HighLoadDropsNoKeys) {
  options_.arena_bytes = 16 << 20;
  options_.bytes_per_index_slot = 64;
  CreateWriter();
  const auto& geo = writer_->header().geo;
  const uint64_t slots = geo.bucket_count * kSlotsPerBucket;
  const uint64_t n = slots * 85 / 100;  // 85% of all index slots
  ASSERT_LT(n * 48, geo.data_bytes) << "pages must not be the limit";
  char key[32];
  for (uint64_t i = 0; i < n; ++i) {
    std::snprintf(key, sizeof(key), "key:%012llu",
                  static_cast<unsigned long long>(i));
    ASSERT_TRUE(writer_->Put(key, "v").ok());
  }
  const auto& st = writer_->header().stats;
  std::printf(
      "[ measured ] %llu keys in %llu slots: %llu moved, %llu dropped\n",
      static_cast<unsigned long long>(n),
      static_cast<unsigned long long>(slots),
      static_cast<unsigned long long>(st.index_moves.load()),
      static_cast<unsigned long long>(st.index_evictions.load()));
  EXPECT_EQ(st.index_evictions.load(), 0u);
  EXPECT_EQ(st.items.load(), n);
  auto r = OpenReader();
  for (uint64_t i = 0; i < n; i += 97) {
    std::snprintf(key, sizeof(key), "key:%012llu",
                  static_cast<unsigned long long>(i));
    ASSERT_EQ(Read(r.get(), key), "v") << key;
  }
}

TEST_F(IndexTest, OverwritesDoNotGrowTheWritersHeap) {
  CreateWriter();
  for (int i = 0; i < 1000; ++i)
    ASSERT_TRUE(writer_->Put("k" + std::to_string(i), "v").ok());
  writer_->Tick();
  const uint64_t before = writer_->PrivateBytes();
  for (int round = 0; round < 500; ++round) {
    for (int i = 0; i < 1000; ++i) {
      ASSERT_TRUE(writer_->Put("k" + std::to_string(i), "w").ok());
    }
    writer_->Tick();
  }
  EXPECT_LT(writer_->PrivateBytes(), before + 64 * 1024)
      << "500k overwrites of 1000 keys must not leave a trail";
}

}  // namespace
}  // namespace ember::shm::testing
