// shm/arena_writer.cc: the write protocol: allocate a chunk, write the
// item, publish it with one slot store, retire the old one; eviction,
// reclamation and the expiry sweep. (Creating and stopping an arena:
// arena_create.cc.)
#include "shm/arena_writer.h"

#include <algorithm>
#include <cassert>
#include <cstring>

#include "shm/barrier.h"
#include "shm/clock.h"
#include "shm/key_hash.h"
#include "shm/layout.h"

namespace ember::shm {

uint64_t ArenaWriter::HashOf(std::string_view key) const {
  return HashKey(key, seed_);
}

void ArenaWriter::WriteItem(uint64_t off, int cls, std::string_view key,
                            std::string_view value, uint64_t expiry) {
  char* p = data_.base() + off;
  ItemHeader h{};
  h.magic = kItemMagic;
  h.size_class = static_cast<uint8_t>(cls);
  h.value_len = static_cast<uint32_t>(value.size());
  h.key_len = static_cast<uint16_t>(key.size());
  h.expiry_unix_ms = expiry;
  std::memcpy(p, &h, sizeof(h));
  std::memcpy(p + sizeof(h), key.data(), key.size());
  std::memcpy(p + sizeof(h) + key.size(), value.data(), value.size());
  const uint64_t sum = XXH3_64bits(p, sizeof(h) + key.size() + value.size());
  reinterpret_cast<ItemHeader*>(p)->checksum = static_cast<uint32_t>(sum);
}

void ArenaWriter::Unlink(const SlotRef& ref, bool clear) {
  if (clear) ref.slot->store(0, std::memory_order_seq_cst);
  const ItemHeader* it = ItemAt(ref.off);
  const int cls = it->size_class;
  if (it->expiry_unix_ms != 0) --expiring_items_;
  evictor_.OnUnlink(ref.off, cls);
  reclaimer_.Retire(ref.off);
  ++retires_since_reclaim_;
  auto& st = header_->stats;
  st.items.fetch_sub(1, std::memory_order_relaxed);
  st.kv_bytes.fetch_sub(it->key_len + uint64_t{it->value_len},
                        std::memory_order_relaxed);
  st.chunk_bytes.fetch_sub(classes_.chunk_bytes(cls),
                           std::memory_order_relaxed);
  header_->classes[cls].items.fetch_sub(1, std::memory_order_relaxed);
  header_->classes[cls].chunk_bytes_used.fetch_sub(classes_.chunk_bytes(cls),
                                                   std::memory_order_relaxed);
}

void ArenaWriter::CountIfExpired(uint64_t off) {
  const uint64_t expiry = ItemAt(off)->expiry_unix_ms;
  if (expiry != 0 && expiry <= NowUnixMs())
    expired_.store(expired_.load(std::memory_order_relaxed) + 1,
                   std::memory_order_relaxed);
}

void ArenaWriter::NoteOld(uint64_t off, OldItem* old_item) {
  CountIfExpired(off);
  if (old_item == nullptr) return;
  old_item->found = true;
  old_item->expiry_unix_ms = ItemAt(off)->expiry_unix_ms;
}

bool ArenaWriter::Evict(uint64_t off, bool from_small) {
  const ItemHeader* it = ItemAt(off);
  const uint64_t hash = HashKey(
      std::string_view(reinterpret_cast<const char*>(it + 1), it->key_len),
      seed_);
  SlotRef ref = FindOffset(hash, off);
  assert(ref.slot != nullptr && "live chunk missing from the index");
  if (ref.slot == nullptr) return false;
  const int cls = it->size_class;
  Unlink(ref, /*clear=*/true);
  if (from_small) evictor_.RememberEvicted(hash);
  header_->stats.evictions.fetch_add(1, std::memory_order_relaxed);
  header_->classes[cls].evictions.fetch_add(1, std::memory_order_relaxed);
  return true;
}

size_t ArenaWriter::EvictBatch(int cls, size_t n) {
  size_t done = 0;
  while (done < n) {
    Evictor::Victim v = evictor_.Next(cls);
    if (v.off == 0 || !Evict(v.off, v.from_small)) break;
    ++done;
  }
  return done;
}

bool ArenaWriter::StealPage(int cls) {
  const int victim = slabs_.RichestClass(cls);
  if (victim < 0) return false;
  const auto& pages = slabs_.PagesOf(victim);
  uint32_t& cursor = steal_cursor_[victim];
  for (size_t tries = 0; tries < pages.size(); ++tries) {
    const uint32_t page = pages[cursor++ % pages.size()];
    if (slabs_.Draining(page)) continue;
    const uint32_t chunk = slabs_.ChunkBytes(victim);
    const uint64_t base = slabs_.PageOffset(page);
    for (uint32_t i = 0; i < slabs_.ChunksPerPage(victim); ++i) {
      const uint64_t off = base + uint64_t{i} * chunk;
      const auto st = evictor_.StateOf(off);
      if (st == Evictor::kSmall || st == Evictor::kMain) Evict(off, false);
    }
    slabs_.StartDrain(page);
    return true;
  }
  return false;
}

uint64_t ArenaWriter::SteadyMs() { return NowMonotonicMs(); }

size_t ArenaWriter::ReclaimNow(bool memory_short) {
  retires_since_reclaim_ = 0;
  // After a warm restart, readers of the previous writer are invisible to
  // the scan: nothing retired is freed until their lease is over.
  if (slabs_.holding()) return 0;
  return reclaimer_.Reclaim(memory_short, [this](uint64_t off) {
    evictor_.OnFree(off);
    slabs_.Free(off);
  });
}

uint64_t ArenaWriter::AllocateChunk(int cls) {
  // A reader holds an epoch for about one lookup, but one preempted inside
  // a guard holds it for a scheduler slice. The writer never waits that
  // long: a few short rounds, then kBusy (the key is just not cached).
  constexpr int kRounds = 32;
  // Holding after a warm restart: evicting would free nothing for now.
  if (slabs_.holding()) return slabs_.Allocate(cls);
  bool evicted = false;
  for (int round = 0; round < kRounds; ++round) {
    if (uint64_t off = slabs_.Allocate(cls)) return off;
    if (ReclaimNow(/*memory_short=*/round > 0) > 0) continue;
    if (!evicted) {
      evicted = true;
      // Evict ahead in a batch so one epoch scan frees several chunks, but
      // not while many evicted chunks already wait for a slow reader.
      const uint64_t items =
          evictor_.small_items(cls) + evictor_.main_items(cls);
      const size_t batch = std::clamp<uint64_t>(items / 64, 1, 64);
      if (reclaimer_.pending() < 4 * batch && EvictBatch(cls, batch) == 0 &&
          !StealPage(cls) && reclaimer_.pending() == 0) {
        return 0;  // nothing to evict, no page to take, nothing to wait for
      }
      if (ReclaimNow(false) > 0) continue;
    }
    for (int i = 0; i < 64; ++i) __builtin_ia32_pause();  // ~1-2 us
  }
  return 0;
}

Status ArenaWriter::Put(std::string_view key, std::string_view value,
                        uint64_t expiry_unix_ms, OldItem* old_item) {
  if (old_item != nullptr) *old_item = OldItem();
  if (key.empty() || key.size() > header_->geo.max_key_bytes) {
    return Status::InvalidArgument(
        "key of " + std::to_string(key.size()) + " bytes; keys are 1.." +
        std::to_string(header_->geo.max_key_bytes) + " bytes");
  }
  const uint64_t hash = HashKey(key, seed_);
  const uint64_t item_bytes = sizeof(ItemHeader) + key.size() + value.size();
  const int cls = classes_.ClassFor(item_bytes);
  uint64_t off = 0;
  if (cls >= 0) off = AllocateChunk(cls);
  if (off == 0) {
    // Not cached: make sure no older value stays visible either.
    if (SlotRef old = Find(hash, key); old.slot) {
      NoteOld(old.off, old_item);
      Unlink(old, true);
    }
    if (cls < 0) {
      return Status::InvalidArgument("item of " + std::to_string(item_bytes) +
                                     " bytes exceeds page_bytes " +
                                     std::to_string(header_->geo.page_bytes));
    }
    header_->stats.put_failures.fetch_add(1, std::memory_order_relaxed);
    return Status::Busy("arena full: no " +
                        std::to_string(classes_.chunk_bytes(cls)) +
                        "-byte chunk could be freed (readers holding guards?)");
  }
  WriteItem(off, cls, key, value, expiry_unix_ms);
  if (expiry_unix_ms != 0) ++expiring_items_;
  const uint64_t tag = MakeProbe(hash, header_->geo.bucket_count).tag_bits;
  // Looked up after allocating: eviction may have removed the old item.
  SlotRef old = Find(hash, key);
  if (old.slot != nullptr) {
    evictor_.OnPublish(off, cls, hash, old.off);
    old.slot->store(MakeSlot(tag, off), std::memory_order_seq_cst);
    NoteOld(old.off, old_item);
    Unlink(old, /*clear=*/false);
  } else {
    std::atomic<uint64_t>* slot = FreeSlot(hash);
    evictor_.OnPublish(off, cls, hash, 0);
    slot->store(MakeSlot(tag, off), std::memory_order_seq_cst);
  }
  auto& st = header_->stats;
  st.puts.fetch_add(1, std::memory_order_relaxed);
  st.items.fetch_add(1, std::memory_order_relaxed);
  st.kv_bytes.fetch_add(key.size() + value.size(), std::memory_order_relaxed);
  st.chunk_bytes.fetch_add(classes_.chunk_bytes(cls),
                           std::memory_order_relaxed);
  header_->classes[cls].items.fetch_add(1, std::memory_order_relaxed);
  header_->classes[cls].chunk_bytes_used.fetch_add(classes_.chunk_bytes(cls),
                                                   std::memory_order_relaxed);
  // Tick() reclaims every millisecond; reclaim here only when a burst of
  // writes retires many chunks in between (each scan may cost a membarrier,
  // an interrupt on every CPU that runs a reader).
  if (retires_since_reclaim_ >= 4096) ReclaimNow(false);
  return Status::Ok();
}

Status ArenaWriter::Delete(std::string_view key, OldItem* old_item) {
  if (old_item != nullptr) *old_item = OldItem();
  SlotRef ref = Find(HashKey(key, seed_), key);
  if (ref.slot == nullptr) return Status::NotFound();
  NoteOld(ref.off, old_item);
  Unlink(ref, /*clear=*/true);
  header_->stats.deletes.fetch_add(1, std::memory_order_relaxed);
  return Status::Ok();
}

void ArenaWriter::Clear() {
  const uint64_t n = header_->geo.bucket_count;
  for (uint64_t b = 0; b < n; ++b) {
    for (auto& slot : BucketAt(b)->slot) {
      const uint64_t v = slot.load(std::memory_order_relaxed);
      if (v != 0) Unlink(SlotRef{&slot, SlotOffset(v)}, /*clear=*/true);
    }
  }
  ReclaimNow(false);
}

void ArenaWriter::SweepExpired(uint32_t buckets) {
  // Readers already treat expired items as misses; this only frees their
  // memory early. Nothing to find without items that expire.
  if (expiring_items_ == 0) return;
  const uint64_t now = NowUnixMs();
  const uint64_t n = header_->geo.bucket_count;
  for (uint32_t i = 0; i < buckets && i < n; ++i) {
    Bucket* b = BucketAt(sweep_cursor_);
    sweep_cursor_ = (sweep_cursor_ + 1 == n) ? 0 : sweep_cursor_ + 1;
    for (auto& slot : b->slot) {
      const uint64_t v = slot.load(std::memory_order_relaxed);
      if (v == 0) continue;
      const ItemHeader* it = ItemAt(SlotOffset(v));
      if (it->expiry_unix_ms != 0 && it->expiry_unix_ms <= now) {
        Unlink(SlotRef{&slot, SlotOffset(v)}, /*clear=*/true);
        expired_.store(expired_.load(std::memory_order_relaxed) + 1,
                       std::memory_order_relaxed);
      }
    }
  }
}

void ArenaWriter::Tick() {
  if (slabs_.holding() && SteadyMs() >= hold_until_ms_) slabs_.ReleaseHeld();
  SweepExpired(64);
  ReclaimNow(false);
}

uint64_t ArenaWriter::PrivateBytes() const {
  return evictor_.PrivateBytes() + slabs_.PrivateBytes() +
         reclaimer_.PrivateBytes() + steal_cursor_.capacity() * 4;
}

}  // namespace ember::shm
