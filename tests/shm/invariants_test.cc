// One test per invariant of shm/arena_format.h (and DESIGN.md).
#include <sys/wait.h>

#include <cstring>
#include <vector>

#include "shm/intent_ring.h"
#include "shm/key_hash.h"
#include "tests/shm/arena_test_util.h"

namespace ember::shm::testing {
namespace {

class InvariantsTest : public ArenaFixture {};

// 1. A published item is not rewritten while a guard that can see it lives.
TEST_F(InvariantsTest, ItemIsNotReusedWhileAGuardCanSeeIt) {
  CreateWriter();
  auto r = OpenReader();
  ASSERT_TRUE(writer_->Put("k", "original").ok());
  ReadGuard g(r.get());
  std::string_view v;
  ASSERT_TRUE(g.Get("k", &v).ok());
  const uint64_t reclaimed_before = writer_->header().stats.reclaimed.load();
  for (int i = 0; i < 2000;
       ++i) {  // same class: the freed chunk would be reused
    ASSERT_TRUE(writer_->Put("k", "version" + std::to_string(i % 10)).ok());
    writer_->Tick();
  }
  EXPECT_EQ(v, "original");
  EXPECT_EQ(writer_->header().stats.reclaimed.load(), reclaimed_before)
      << "nothing retired after the guard's epoch may be freed";
  EXPECT_TRUE(g.Release().ok());
  writer_->Tick();
  EXPECT_GE(writer_->header().stats.reclaimed.load(), 2000u);
  EXPECT_EQ(writer_->header().stats.retired_pending.load(), 0u);
}

// 2. A slot changes only by one 8-byte store, after its item is complete:
// every slot, at any time, points at an item whose checksum holds.
TEST_F(InvariantsTest, EverySlotPointsAtACompleteItem) {
  CreateWriter();
  const char* base = writer_->data_base();
  const auto& geo = writer_->header().geo;
  const auto* buckets =
      reinterpret_cast<const Bucket*>(base + geo.index_offset);
  for (int round = 0; round < 20; ++round) {
    for (int i = 0; i < 300; ++i) {
      std::string key = "key" + std::to_string(i);
      ASSERT_TRUE(
          writer_->Put(key, std::string(i % 97 + round, 'a' + i % 26)).ok());
    }
    for (uint64_t b = 0; b < geo.bucket_count; ++b) {
      for (const auto& s : buckets[b].slot) {
        const uint64_t v = s.load();
        if (v == 0) continue;
        ItemHeader h;
        std::memcpy(&h, base + SlotOffset(v), sizeof(h));
        ASSERT_EQ(h.magic, kItemMagic);
        std::string bytes(base + SlotOffset(v),
                          sizeof(h) + h.key_len + h.value_len);
        std::memset(bytes.data() + offsetof(ItemHeader, checksum), 0, 4);
        ASSERT_EQ(
            static_cast<uint32_t>(XXH3_64bits(bytes.data(), bytes.size())),
            h.checksum);
        const uint64_t hash = writer_->HashOf(
            std::string_view(base + SlotOffset(v) + sizeof(h), h.key_len));
        const Probe p = MakeProbe(hash, geo.bucket_count);
        ASSERT_TRUE(b == p.b1 || b == p.b2)
            << "item indexed in a foreign bucket";
        ASSERT_EQ(v & kSlotTagMask, p.tag_bits);
      }
    }
  }
}

// 3. Readers map the data segment read-only: a stray write faults.
TEST_F(InvariantsTest, ReaderCannotWriteTheDataSegment) {
  CreateWriter();
  auto r = OpenReader();
  auto* epoch = const_cast<std::atomic<uint64_t>*>(&r->header().global_epoch);
  // Killed by SIGSEGV, or (under a sanitizer, which catches the SEGV and
  // reports it) exited non-zero: anything but surviving the write.
  auto faulted = [](int status) {
    return (WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV) ||
           (WIFEXITED(status) && WEXITSTATUS(status) != 0);
  };
  EXPECT_EXIT(
      {
        epoch->store(0);
        std::_Exit(0);
      },
      faulted, "");
}

// 4. Links are offsets: a copy of the segment at another address reads the
// same keys and values (the basis of a warm restart).
TEST_F(InvariantsTest, CopyAtAnotherAddressReadsTheSame) {
  CreateWriter();
  for (int i = 0; i < 500; ++i) {
    ASSERT_TRUE(
        writer_->Put('k' + std::to_string(i), 'v' + std::to_string(i * 7))
            .ok());
  }
  // The heartbeat word is stored by the broker's thread meanwhile: copied
  // with an atomic load, the rest byte for byte.
  const char* src = writer_->data_base();
  const size_t beat = offsetof(ArenaHeader, heartbeat_unix_ms);
  std::vector<char> copy(src, src + beat);
  const uint64_t beat_ms = writer_->header().heartbeat_unix_ms.load();
  copy.insert(copy.end(), reinterpret_cast<const char*>(&beat_ms),
              reinterpret_cast<const char*>(&beat_ms) + 8);
  copy.insert(copy.end(), src + beat + 8, src + writer_->data_bytes());
  const char* base = copy.data();
  const auto* h = reinterpret_cast<const ArenaHeader*>(base);
  const auto* buckets =
      reinterpret_cast<const Bucket*>(base + h->geo.index_offset);
  int found = 0;
  for (uint64_t b = 0; b < h->geo.bucket_count; ++b) {
    for (const auto& s : buckets[b].slot) {
      const uint64_t v = s.load();
      if (v == 0) continue;
      const auto* it =
          reinterpret_cast<const ItemHeader*>(base + SlotOffset(v));
      std::string key(reinterpret_cast<const char*>(it + 1), it->key_len);
      std::string val(reinterpret_cast<const char*>(it + 1) + it->key_len,
                      it->value_len);
      EXPECT_EQ(val, "v" + std::to_string(std::stoi(key.substr(1)) * 7));
      ++found;
    }
  }
  EXPECT_EQ(found, 500);
}

// 5. Epoch, generation and seed only increase or stay.
TEST_F(InvariantsTest, EpochGenerationAndSeedNeverDecrease) {
  CreateWriter();
  const auto& h = writer_->header();
  const uint64_t seed = h.hash_seed;
  uint64_t last_epoch = h.global_epoch.load();
  const uint32_t gen = h.generation.load();
  for (int i = 0; i < 1000; ++i) {
    ASSERT_TRUE(writer_->Put('k' + std::to_string(i % 50), "v").ok());
    if (i % 10 == 0) writer_->Tick();
    const uint64_t e = h.global_epoch.load();
    ASSERT_GE(e, last_epoch);
    last_epoch = e;
  }
  EXPECT_GT(last_epoch, 1u);
  EXPECT_EQ(h.generation.load(), gen);
  EXPECT_EQ(h.hash_seed, seed);
}

// DESIGN.md invariant 10: pending writes are visible in the intent ring, from
// another process's mapping, until they are marked done.
TEST_F(InvariantsTest, IntentRingShowsPendingWritesToOtherMappings) {
  CreateWriter();
  auto r = OpenReader();
  const auto* ring = reinterpret_cast<const IntentSlot*>(
      reinterpret_cast<const char*>(&r->header()) +
      r->header().geo.intent_offset);
  const uint32_t n = r->header().geo.intent_slots;
  int64_t a = writer_->intents().Begin(writer_->HashOf("a"), 41);
  int64_t b = writer_->intents().Begin(writer_->HashOf("b"), 42);
  ASSERT_GE(a, 0);
  ASSERT_GE(b, 0);
  auto pending = IntentRing::List(ring, n);
  ASSERT_EQ(pending.size(), 2u);
  EXPECT_EQ(pending[0].key_hash, writer_->HashOf("a"));
  EXPECT_EQ(pending[1].seq, 42u);
  writer_->intents().End(a);
  pending = IntentRing::List(ring, n);
  ASSERT_EQ(pending.size(), 1u);
  EXPECT_EQ(pending[0].key_hash, writer_->HashOf("b"));
  writer_->intents().End(b);
  EXPECT_TRUE(IntentRing::List(ring, n).empty());
  // A full ring says so instead of overwriting a pending record.
  for (uint32_t i = 0; i < n; ++i) ASSERT_GE(writer_->intents().Begin(i, i), 0);
  EXPECT_EQ(writer_->intents().Begin(1, 1), -1);
}

}  // namespace
}  // namespace ember::shm::testing
