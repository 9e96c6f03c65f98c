// The warm restart (shm/arena_warm.cc): a writer process killed at a random
// moment, its arena taken over item by item while reader processes of the
// dead writer still map it; what a takeover must refuse (another layout,
// size, boot, cold store, a truncated segment) and what it must drop
// (in-flight keys, damaged items and slots); readers of the previous
// writer cut off; memory they may read held for one lease.
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>
#include <thread>

#include "shm/clock.h"
#include "shm/key_hash.h"
#include "tests/shm/arena_test_util.h"
#include "tests/shm/child_process.h"
#include "tests/shm/worker_value.h"
#include "tests/str_cat.h"

namespace ember::shm::testing {
namespace {

using ember::testing::Cat;
using Report = ArenaWriter::StartReport;

class WarmRestartTest : public ArenaFixture {
 protected:
  void SetUp() override {
    ArenaFixture::SetUp();
    options_.remove_on_close = false;  // a stop leaves the arena behind
  }
  // A writer that takes over what the last one left (or starts cold).
  Report Restart(uint64_t store_id = 0, bool warm = true) {
    writer_.reset();
    Report r;
    Status s = ArenaWriter::Open(options_, store_id, warm, &writer_, &r);
    EXPECT_TRUE(s.ok()) << s.ToString();
    if (writer_) writer_->Activate();
    return r;
  }
  void Fill(int n, const std::string& prefix = "key:") {
    for (int i = 0; i < n; ++i) {
      const std::string k = Cat(prefix, i);
      ASSERT_TRUE(writer_->Put(k, WorkerValue(k, 1)).ok()) << k;
    }
  }
  // The data segment, mapped read-write by its owner (this process), as
  // someone damaging it would.
  char* MapSegment(uint64_t* bytes) {
    const std::string path = Cat("/dev/shm/", PathsFor(options_.name).data_shm);
    const int fd = open(path.c_str(), O_RDWR);
    EXPECT_GE(fd, 0) << path;
    *bytes = lseek(fd, 0, SEEK_END);
    void* p = mmap(nullptr, *bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    EXPECT_NE(p, MAP_FAILED);
    return static_cast<char*>(p);
  }
  // Offset of `key`'s item, and the index slot that points to it.
  static uint64_t ItemOffset(const char* base, std::string_view key,
                             uint64_t** slot_out = nullptr) {
    const auto* h = reinterpret_cast<const ArenaHeader*>(base);
    const Probe p = MakeProbe(HashKey(key, h->hash_seed), h->geo.bucket_count);
    auto* buckets = reinterpret_cast<Bucket*>(const_cast<char*>(base) +
                                              h->geo.index_offset);
    for (uint64_t b : {p.b1, p.b2}) {
      for (auto& slot : buckets[b].slot) {
        const uint64_t v = slot.load();
        if (v == 0 || (v & kSlotTagMask) != p.tag_bits) continue;
        const uint64_t off = SlotOffset(v);
        const auto* it = reinterpret_cast<const ItemHeader*>(base + off);
        if (std::string_view(reinterpret_cast<const char*>(it + 1),
                             it->key_len) == key) {
          if (slot_out) *slot_out = reinterpret_cast<uint64_t*>(&slot);
          return off;
        }
      }
    }
    return 0;
  }
  std::string ReadNow(std::string_view key) {
    std::unique_ptr<ArenaReader> r;
    Status s = ArenaReader::Attach(*writer_, &r);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return r ? Read(r.get(), key) : "<no reader>";
  }
};

TEST_F(WarmRestartTest, StoppedWriterItemsAreKept) {
  Restart();
  Fill(1000);
  const Report r = Restart();
  EXPECT_TRUE(r.warm) << r.reason;
  EXPECT_EQ(r.kept, 1000u);
  EXPECT_EQ(r.dropped, 0u);
  EXPECT_EQ(writer_->header().generation.load(), 2u);
  EXPECT_EQ(writer_->header().stats.items.load(), 1000u);
  for (int i = 0; i < 1000; i += 97) {
    const std::string k = Cat("key:", i);
    EXPECT_EQ(ReadNow(k), WorkerValue(k, 1));
  }
  // The arena goes on working: overwrite, delete, add.
  ASSERT_TRUE(writer_->Put("key:1", "new").ok());
  ASSERT_TRUE(writer_->Delete("key:2").ok());
  ASSERT_TRUE(writer_->Put("fresh", "x").ok());
  EXPECT_EQ(ReadNow("key:1"), "new");
  EXPECT_EQ(ReadNow("key:2"), "<miss>");
  EXPECT_EQ(ReadNow("fresh"), "x");
  EXPECT_EQ(writer_->header().stats.items.load(), 1000u);
}

TEST_F(WarmRestartTest, FirstStartAndWarmOffAreColdWithAReason) {
  Report r = Restart();
  EXPECT_FALSE(r.warm);
  EXPECT_NE(r.reason.find("no arena"), std::string::npos) << r.reason;
  Fill(10);
  r = Restart(0, /*warm=*/false);
  EXPECT_FALSE(r.warm);
  EXPECT_NE(r.reason.find("off"), std::string::npos) << r.reason;
  EXPECT_EQ(ReadNow("key:1"), "<miss>");
  EXPECT_EQ(writer_->header().generation.load(), 1u);
}

TEST_F(WarmRestartTest, InFlightKeysAreDropped) {
  Restart();
  Fill(100);
  // A write of key:7 was between its intent and its publication.
  writer_->intents().Begin(writer_->HashOf("key:7"), 42);
  const Report r = Restart();
  ASSERT_TRUE(r.warm) << r.reason;
  EXPECT_EQ(r.kept, 99u);
  EXPECT_EQ(r.dropped_pending, 1u);
  EXPECT_EQ(ReadNow("key:7"), "<miss>");
  EXPECT_EQ(ReadNow("key:8"), WorkerValue("key:8", 1));
  // The ring starts empty: the next restart keeps everything.
  EXPECT_TRUE(IntentRing::List(reinterpret_cast<const IntentSlot*>(
                                   writer_->data_base() +
                                   writer_->header().geo.intent_offset),
                               writer_->header().geo.intent_slots)
                  .empty());
}

TEST_F(WarmRestartTest, DamagedItemsAndSlotsAreDroppedTheRestKept) {
  Restart();
  Fill(500);
  writer_.reset();
  uint64_t bytes = 0;
  char* base = MapSegment(&bytes);
  std::mt19937_64 rng(7);
  std::vector<int> damaged;
  for (int i = 0; i < 500; i += 10) {
    const std::string k = Cat("key:", i);
    uint64_t* slot = nullptr;
    const uint64_t off = ItemOffset(base, k, &slot);
    ASSERT_NE(off, 0u) << k;
    const auto* it = reinterpret_cast<const ItemHeader*>(base + off);
    const uint64_t len = sizeof(ItemHeader) + it->key_len + it->value_len;
    switch (i / 10 % 3) {
      case 0:  // a value or key byte
        base[off + sizeof(ItemHeader) + rng() % (len - sizeof(ItemHeader))] ^=
            static_cast<char>(1 + rng() % 255);
        break;
      case 1:  // a header byte
        base[off + rng() % sizeof(ItemHeader)] ^=
            static_cast<char>(1 + rng() % 255);
        break;
      case 2:  // the index slot: offset or tag bits
        *slot ^= uint64_t{1} << (rng() % 64);
        break;
    }
    damaged.push_back(i);
  }
  munmap(base, bytes);
  const Report r = Restart();
  ASSERT_TRUE(r.warm) << r.reason;
  EXPECT_EQ(r.kept, 500u - damaged.size());
  EXPECT_EQ(r.dropped_damaged, damaged.size());
  std::unique_ptr<ArenaReader> reader;
  ASSERT_TRUE(ArenaReader::Attach(*writer_, &reader).ok());
  for (int i = 0; i < 500; ++i) {
    const std::string k = Cat("key:", i);
    const std::string v = Read(reader.get(), k);
    if (i % 10 == 0) {
      EXPECT_EQ(v, "<miss>") << k;
    } else {
      EXPECT_EQ(v, WorkerValue(k, 1)) << k;
    }
  }
}

TEST_F(WarmRestartTest, WhatCannotBeTrustedStartsCold) {
  struct Case {
    const char* what;
    std::function<void(char* base, uint64_t bytes)> damage;
    const char* reason;
  };
  const std::vector<Case> cases = {
      {"another layout version",
       [](char* b, uint64_t) {
         reinterpret_cast<ArenaHeader*>(b)->layout_version = kLayoutVersion - 1;
       },
       "layout version"},
      {"another build",
       [](char* b, uint64_t) {
         reinterpret_cast<ArenaHeader*>(b)->abi_hash ^= 1;
       },
       "ABI"},
      {"a bad magic", [](char* b, uint64_t) { b[0] ^= 0x20; }, "magic"},
      {"another boot",
       [](char* b, uint64_t) {
         reinterpret_cast<ArenaHeader*>(b)->boot_id ^= 1;
       },
       "booted"},
      {"an unfinished creation",
       [](char* b, uint64_t) {
         reinterpret_cast<ArenaHeader*>(b)->state.store(
             static_cast<uint32_t>(ArenaState::kInit));
       },
       "state"},
      {"a database map that is not a permutation",
       [](char* b, uint64_t) {
         auto* h = reinterpret_cast<ArenaHeader*>(b);
         h->db_map[h->db_map_seq.load() & 1][7].store(3);
       },
       "database map"},
      {"a retired segment",
       [](char* b, uint64_t) {
         reinterpret_cast<ArenaHeader*>(b)->state.store(
             static_cast<uint32_t>(ArenaState::kRetired));
       },
       "state"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    Restart();
    Fill(20);
    writer_.reset();
    uint64_t bytes = 0;
    char* base = MapSegment(&bytes);
    c.damage(base, bytes);
    munmap(base, bytes);
    const Report r = Restart();
    EXPECT_FALSE(r.warm);
    EXPECT_NE(r.reason.find(c.reason), std::string::npos) << r.reason;
    EXPECT_EQ(ReadNow("key:3"), "<miss>");
    EXPECT_EQ(writer_->header().generation.load(), 1u);  // a fresh segment
  }
}

// SWAPDB's map lives in the header: a fresh arena has the identity, a
// warm one keeps the map it had (the server's only copy without a cold
// tier).
TEST_F(WarmRestartTest, TheDatabaseMapIsKept) {
  Restart();
  for (int i = 0; i < 256; ++i) EXPECT_EQ(writer_->db_map(i), i);
  Fill(5);
  uint8_t map[256];
  for (int i = 0; i < 256; ++i) map[i] = static_cast<uint8_t>(i);
  std::swap(map[0], map[9]);
  writer_->SetDbMap(map);
  uint8_t read[256];
  writer_->ReadDbMap(read);
  EXPECT_EQ(std::memcmp(read, map, 256), 0);
  writer_.reset();
  // A writer killed inside a SetDbMap leaves the other copy half written:
  // the current one is whole, and kept.
  uint64_t bytes = 0;
  char* base = MapSegment(&bytes);
  auto* h = reinterpret_cast<ArenaHeader*>(base);
  EXPECT_EQ(h->db_map_seq.load(), 1u);
  h->db_map[0][7].store(3);  // the copy not in use
  munmap(base, bytes);
  const Report r = Restart();
  ASSERT_TRUE(r.warm) << r.reason;
  EXPECT_EQ(writer_->db_map(0), 9);
  EXPECT_EQ(writer_->db_map(9), 0);
  EXPECT_EQ(writer_->db_map(1), 1);
  EXPECT_EQ(writer_->db_map(7), 7);
}

TEST_F(WarmRestartTest, TruncatedSegmentStartsCold) {
  Restart();
  Fill(20);
  writer_.reset();
  const std::string path = Cat("/dev/shm/", PathsFor(options_.name).data_shm);
  ASSERT_EQ(truncate(path.c_str(), options_.arena_bytes / 2), 0);
  const Report r = Restart();
  EXPECT_FALSE(r.warm);
  EXPECT_NE(r.reason.find("bytes"), std::string::npos) << r.reason;
  EXPECT_EQ(writer_->header().segment_bytes, options_.arena_bytes);
}

TEST_F(WarmRestartTest, OtherSizeOrColdStoreStartsCold) {
  Restart(/*store_id=*/5);
  Fill(20);
  Report r = Restart(/*store_id=*/6);
  EXPECT_FALSE(r.warm);
  EXPECT_NE(r.reason.find("cold store"), std::string::npos) << r.reason;
  Fill(20);
  options_.arena_bytes *= 2;
  r = Restart(6);
  EXPECT_FALSE(r.warm);
  EXPECT_NE(r.reason.find("layout differs"), std::string::npos) << r.reason;
  r = Restart(6);
  EXPECT_TRUE(r.warm) << r.reason;
}

TEST_F(WarmRestartTest, ReadersOfThePreviousWriterAreCutOff) {
  Restart();
  Fill(50);
  std::unique_ptr<ArenaReader> old = OpenReader();
  ASSERT_NE(old, nullptr);
  ReadGuard held(old.get());
  std::string_view v;
  ASSERT_TRUE(held.Get("key:4", &v).ok());
  writer_.reset();  // stops, as a crash would: the reader keeps its maps
  const Report r = Restart();
  ASSERT_TRUE(r.warm) << r.reason;
  // The new writer cannot see the old slot: the held guard is revoked, and
  // no new guard may begin on it.
  EXPECT_TRUE(held.revoked());
  EXPECT_EQ(held.Release().code(), Code::kRevoked);
  EXPECT_FALSE(old->active());
  ReadGuard next(old.get());
  EXPECT_EQ(next.status().code(), Code::kUnavailable);
  // A reader that attaches again reads the kept items.
  std::unique_ptr<ArenaReader> fresh = OpenReader();
  ASSERT_NE(fresh, nullptr);
  EXPECT_EQ(Read(fresh.get(), "key:4"), WorkerValue("key:4", 1));
}

TEST_F(WarmRestartTest, MemoryOldReadersMayReadIsHeldForALease) {
  ManualClock clock;
  options_.reader_lease_ms = 300;
  Restart();
  // Full, with items of one size class: every chunk has held an item, so
  // every free chunk after the takeover is one an old reader may still be
  // reading. (Keys and values of one length: one class.)
  auto key = [](const char* prefix, int i) { return Cat(prefix, 100000 + i); };
  int n = 0;
  while (writer_->header().stats.evictions.load() == 0) {
    const std::string k = key("fill:", n++);
    ASSERT_TRUE(writer_->Put(k, WorkerValue(k, 1)).ok());
  }
  for (int i = 0; i < n; i += 2) writer_->Delete(key("fill:", i));
  const std::string in_flight = key("fill:", n);
  ASSERT_TRUE(writer_->Put(in_flight, WorkerValue(in_flight, 1)).ok());
  writer_->intents().Begin(writer_->HashOf(in_flight), 1);
  writer_.reset();
  uint64_t bytes = 0;
  char* base = MapSegment(&bytes);
  const uint64_t dropped_off = ItemOffset(base, in_flight);
  ASSERT_NE(dropped_off, 0u);
  const std::string before(base + dropped_off, 64);
  const Report r = Restart();
  ASSERT_TRUE(r.warm) << r.reason;
  EXPECT_TRUE(writer_->holding());
  // New items get no chunk that held an item (a retired one, or the
  // dropped in-flight one): they are not cached for now.
  int refused = 0;
  for (int i = 0; i < 200; ++i) {
    const std::string k = key("new:0", i);
    if (writer_->Put(k, WorkerValue(k, 1)).code() == Code::kBusy) ++refused;
    writer_->Tick();
  }
  EXPECT_EQ(refused, 200);
  EXPECT_EQ(std::string(base + dropped_off, 64), before);
  // Once the lease is over, the held memory is free and puts succeed.
  clock.Advance(299);
  writer_->Tick();
  EXPECT_TRUE(writer_->holding());
  clock.Advance(1);
  writer_->Tick();
  EXPECT_FALSE(writer_->holding());
  for (int i = 0; i < 200; ++i) {
    const std::string k = key("late:", i);
    EXPECT_TRUE(writer_->Put(k, WorkerValue(k, 1)).ok()) << k;
  }
  munmap(base, bytes);
}

// A writer process killed at a random moment of its writes, two reader
// processes of it reading on: the next writer keeps the arena, every kept
// value is one the dead writer wrote for its key, and the old readers are
// cut off without reading anything torn.
TEST_F(WarmRestartTest, KilledWriterProcessIsTakenOverWhileItsReadersRead) {
  const uint64_t seed = std::random_device{}();
  std::printf("seed %llu\n", static_cast<unsigned long long>(seed));
  std::mt19937_64 rng(seed);
  // The worker's geometry.
  options_.arena_bytes = 64 << 20;
  options_.page_bytes = 64 << 10;
  options_.max_readers = 256;
  for (int round = 0; round < 3; ++round) {
    SCOPED_TRACE(Cat("round ", round, " seed ", seed));
    const std::string ready = Cat(run_dir_, "/ready", round);
    Child writer =
        Spawn({"writer", options_.name, run_dir_, "30", "3000", ready});
    for (int i = 0; i < 1000 && access(ready.c_str(), F_OK) != 0; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    ASSERT_EQ(access(ready.c_str(), F_OK), 0) << "writer never became ready";
    Child r1 = Spawn(
        {"reader", options_.name, run_dir_, "30", "3000", "2", "takeover-ok"});
    Child r2 = Spawn(
        {"reader", options_.name, run_dir_, "30", "3000", "1", "takeover-ok"});
    std::this_thread::sleep_for(std::chrono::milliseconds(50 + rng() % 300));
    ASSERT_EQ(kill(writer.pid, SIGKILL), 0);
    EXPECT_EQ(Wait(writer), 128 + SIGKILL);
    const Report r = Restart();
    ASSERT_TRUE(r.warm) << r.reason;
    // Every tenth key may be deleted; the rest were all written.
    EXPECT_GE(r.kept, 2700u);
    EXPECT_EQ(r.dropped_damaged, 0u);
    std::unique_ptr<ArenaReader> reader;
    ASSERT_TRUE(ArenaReader::Attach(*writer_, &reader).ok());
    uint64_t found = 0;
    for (int i = 0; i < 3000; ++i) {
      const std::string k = Cat("key:", i);
      const std::string v = Read(reader.get(), k);
      if (v == "<miss>") continue;
      ++found;
      EXPECT_TRUE(WorkerValueIsSound(k, v)) << k << " = " << v;
    }
    EXPECT_EQ(found, r.kept);
    reader.reset();
    for (Child* c : {&r1, &r2}) {
      const std::string out = ReadAll(c->out);
      EXPECT_EQ(Wait(*c), 0) << out;
      EXPECT_NE(out.find(" 0 torn"), std::string::npos) << out;
      EXPECT_EQ(out.find(", 0 threads cut off"), std::string::npos) << out;
    }
    // The next round's worker creates its own arena (cold) over this one.
    writer_.reset();
  }
}

}  // namespace
}  // namespace ember::shm::testing
