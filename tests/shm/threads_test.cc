// Writer and readers as threads of one process, sharing one mapping, so
// ThreadSanitizer sees every access of the read and write protocols (it
// cannot follow two processes). Values name their key and version.
#include <atomic>
#include <chrono>
#include <random>
#include <thread>
#include <vector>

#include "tests/shm/arena_test_util.h"
#include "tests/str_cat.h"

namespace ember::shm::testing {
namespace {

// Runs with both announce modes: plain store + writer membarrier, and
// exchange (the only mode TSan builds use).
class ThreadsTest : public ArenaFixture,
                    public ::testing::WithParamInterface<bool> {};

std::string ValueFor(int key, uint64_t version) {
  std::string v = ember::testing::Cat(key, ":", version, ":");
  v.append(version % 150, static_cast<char>('a' + key % 26));
  return v;
}

bool Sound(int key, std::string_view v) {
  const std::string prefix = std::to_string(key) + ":";
  if (v.substr(0, prefix.size()) != prefix) return false;
  const size_t colon = v.find(':', prefix.size());
  if (colon == std::string_view::npos) return false;
  const uint64_t version =
      std::stoull(std::string(v.substr(prefix.size(), colon)));
  return v == ValueFor(key, version);
}

TEST_P(ThreadsTest, ReadersNeverSeeTornValuesWhileTheWriterEvicts) {
  options_.arena_bytes = 2 << 20;  // small: eviction and reuse all the time
  options_.use_membarrier = GetParam();
  CreateWriter();
  constexpr int kKeys = 30000;
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> reads{0}, hits{0}, torn{0};
  auto reader = [&](int seed) {
    std::unique_ptr<ArenaReader> r;
    Status s = ArenaReader::Attach(*writer_, &r);
    ASSERT_TRUE(s.ok()) << s.ToString();
    std::mt19937 rng(seed);
    uint64_t n = 0, h = 0, bad = 0;
    while (!stop.load(std::memory_order_relaxed)) {
      ReadGuard g(r.get());
      for (int i = 0; i < 8; ++i) {
        const int k = static_cast<int>(rng() % kKeys);
        std::string_view v;
        ++n;
        if (g.Get(std::to_string(k), &v).ok()) {
          ++h;
          bad += !Sound(k, v);
        }
      }
      Status rel = g.Release();
      bad += !rel.ok();
    }
    reads += n;
    hits += h;
    torn += bad;
  };
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) readers.emplace_back(reader, t + 1);
  std::mt19937 rng(99);
  for (uint64_t version = 1; version < 100000; ++version) {
    const int k = static_cast<int>(rng() % kKeys);
    Status s = version % 7 == 0
                   ? writer_->Delete(std::to_string(k))
                   : writer_->Put(std::to_string(k), ValueFor(k, version));
    ASSERT_TRUE(s.ok() || s.IsNotFound() || s.code() == Code::kBusy)
        << s.ToString();
    if (version % 64 == 0) writer_->Tick();
  }
  stop = true;
  for (auto& t : readers) t.join();
  std::printf(
      "[ measured ] %llu reads, %llu hits, %llu torn, evictions %llu, "
      "puts refused (kBusy) %llu\n",
      static_cast<unsigned long long>(reads.load()),
      static_cast<unsigned long long>(hits.load()),
      static_cast<unsigned long long>(torn.load()),
      static_cast<unsigned long long>(writer_->header().stats.evictions.load()),
      static_cast<unsigned long long>(
          writer_->header().stats.put_failures.load()));
  EXPECT_EQ(torn.load(), 0u);
  EXPECT_GT(hits.load(), 0u);
  EXPECT_GT(writer_->header().stats.evictions.load(), 0u);
}

// SWAPDB's map (ArenaHeader::db_map) changing under readers: the map
// published as seq s is the identity rotated by s, so a reader whose seq
// did not change around its load knows the only right answer, and every
// whole-map read must be one rotation.
TEST_P(ThreadsTest, ReadersNeverSeeHalfADatabaseMap) {
  options_.use_membarrier = GetParam();
  CreateWriter();
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> checked{0}, wrong{0};
  auto reader = [&](int seed) {
    std::unique_ptr<ArenaReader> r;
    Status s = ArenaReader::Attach(*writer_, &r);
    ASSERT_TRUE(s.ok()) << s.ToString();
    std::mt19937 rng(seed);
    uint64_t bad = 0;
    while (!stop.load(std::memory_order_relaxed)) {
      const auto db = static_cast<uint8_t>(rng());
      uint64_t seq = 0;
      const uint8_t physical = r->PhysicalDb(db, &seq);
      if (r->DbMapSeq() != seq) continue;  // a swap came: not trusted
      checked.fetch_add(1, std::memory_order_relaxed);
      bad += physical != static_cast<uint8_t>(db + seq);
      uint8_t whole[256];
      writer_->ReadDbMap(whole);  // INFO's read, from another thread
      for (int i = 1; i < 256; ++i)
        bad += static_cast<uint8_t>(whole[i] - whole[0]) != i;
    }
    wrong += bad;
  };
  std::vector<std::thread> readers;
  for (int t = 0; t < 2; ++t) readers.emplace_back(reader, t + 7);
  uint8_t map[256];
  // 20000 swaps at least, and on until the readers (which a loaded machine
  // may not have run yet) have checked some reads; 20 s at most.
  const auto give_up =
      std::chrono::steady_clock::now() + std::chrono::seconds(20);
  uint64_t seq = 0;
  while (seq < 20000 || (checked.load() < 1000 &&
                         std::chrono::steady_clock::now() < give_up)) {
    ++seq;
    for (int i = 0; i < 256; ++i) map[i] = static_cast<uint8_t>(i + seq);
    writer_->SetDbMap(map);
  }
  stop = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(wrong.load(), 0u);
  EXPECT_GT(checked.load(), 0u);
  EXPECT_EQ(writer_->db_map_seq(), seq);
}

INSTANTIATE_TEST_SUITE_P(AnnounceModes, ThreadsTest, ::testing::Bool(),
                         [](const auto& info) {
                           return info.param ? "Membarrier" : "Exchange";
                         });

}  // namespace
}  // namespace ember::shm::testing
