// shm/arena_writer_index.cc: the writer's side of the index: finding a key
// or a chunk in its two buckets, and making room for a new key (an empty
// slot, cuckoo displacement, or the coldest of 16 items).
#include <cstring>
#include <string_view>

#include "shm/arena_writer.h"
#include "shm/key_hash.h"

namespace ember::shm {

ArenaWriter::SlotRef ArenaWriter::Find(uint64_t hash,
                                       std::string_view key) const {
  const Probe p = MakeProbe(hash, header_->geo.bucket_count);
  for (uint64_t b : {p.b1, p.b2}) {
    Bucket* bucket = BucketAt(b);
    for (auto& slot : bucket->slot) {
      const uint64_t v = slot.load(std::memory_order_relaxed);
      if (v == 0 || (v & kSlotTagMask) != p.tag_bits) continue;
      const uint64_t off = SlotOffset(v);
      const ItemHeader* it = ItemAt(off);
      if (it->key_len == key.size() &&
          std::memcmp(it + 1, key.data(), key.size()) == 0) {
        return SlotRef{&slot, off};
      }
    }
  }
  return SlotRef{};
}

ArenaWriter::SlotRef ArenaWriter::FindOffset(uint64_t hash,
                                             uint64_t off) const {
  const Probe p = MakeProbe(hash, header_->geo.bucket_count);
  for (uint64_t b : {p.b1, p.b2}) {
    for (auto& slot : BucketAt(b)->slot) {
      const uint64_t v = slot.load(std::memory_order_relaxed);
      if (v != 0 && SlotOffset(v) == off) return SlotRef{&slot, off};
    }
  }
  return SlotRef{};
}

uint64_t ArenaWriter::OtherBucket(uint64_t slot_value, uint64_t b) const {
  const ItemHeader* it = ItemAt(SlotOffset(slot_value));
  const Probe q = MakeProbe(
      HashKey(
          std::string_view(reinterpret_cast<const char*>(it + 1), it->key_len),
          seed_),
      header_->geo.bucket_count);
  return q.b1 == b ? q.b2 : q.b1;
}

std::atomic<uint64_t>* ArenaWriter::EmptySlotIn(uint64_t b) const {
  for (auto& slot : BucketAt(b)->slot) {
    if (slot.load(std::memory_order_relaxed) == 0) return &slot;
  }
  return nullptr;
}

// Moves `from`'s item into `to` (copy first, then clear or overwrite `from`:
// a racing reader at worst misses, and a miss is never an answer).
static void MoveSlot(std::atomic<uint64_t>* from, std::atomic<uint64_t>* to) {
  to->store(from->load(std::memory_order_relaxed), std::memory_order_seq_cst);
  from->store(0, std::memory_order_seq_cst);
}

std::atomic<uint64_t>* ArenaWriter::MakeRoom(const Probe& p) {
  auto ours = [&](uint64_t b) { return b == p.b1 || b == p.b2; };
  // Depth 1: an occupant of b1/b2 whose other bucket has room moves there.
  // Depth 2: else an occupant of that other bucket moves on to its own
  // other bucket first. Cuckoo hashing, bounded to two steps.
  for (int depth = 1; depth <= 2; ++depth) {
    for (uint64_t b : {p.b1, p.b2}) {
      for (auto& slot : BucketAt(b)->slot) {
        const uint64_t alt =
            OtherBucket(slot.load(std::memory_order_relaxed), b);
        if (ours(alt)) continue;
        if (depth == 1) {
          if (std::atomic<uint64_t>* to = EmptySlotIn(alt)) {
            MoveSlot(&slot, to);
            header_->stats.index_moves.fetch_add(1, std::memory_order_relaxed);
            return &slot;
          }
          continue;
        }
        for (auto& next : BucketAt(alt)->slot) {
          const uint64_t alt2 =
              OtherBucket(next.load(std::memory_order_relaxed), alt);
          if (alt2 == alt || ours(alt2)) continue;
          if (std::atomic<uint64_t>* to = EmptySlotIn(alt2)) {
            MoveSlot(&next, to);
            MoveSlot(&slot, &next);
            header_->stats.index_moves.fetch_add(2, std::memory_order_relaxed);
            return &slot;
          }
        }
      }
    }
  }
  return nullptr;
}

std::atomic<uint64_t>* ArenaWriter::FreeSlot(uint64_t hash) {
  const Probe p = MakeProbe(hash, header_->geo.bucket_count);
  for (uint64_t b : {p.b1, p.b2}) {
    for (auto& slot : BucketAt(b)->slot) {
      if (slot.load(std::memory_order_relaxed) == 0) return &slot;
    }
  }
  if (std::atomic<uint64_t>* freed = MakeRoom(p)) return freed;
  // Still full: drop the coldest of the 16 items (unhinted, small
  // FIFO first) to make room.
  std::atomic<uint64_t>* victim = nullptr;
  int victim_rank = 99;
  for (uint64_t b : {p.b1, p.b2}) {
    for (auto& slot : BucketAt(b)->slot) {
      const uint64_t off = SlotOffset(slot.load(std::memory_order_relaxed));
      const int rank = (evictor_.Hinted(off) ? 2 : 0) +
                       (evictor_.StateOf(off) == Evictor::kMain ? 1 : 0);
      if (rank < victim_rank) {
        victim = &slot;
        victim_rank = rank;
      }
    }
  }
  Unlink(SlotRef{victim, SlotOffset(victim->load(std::memory_order_relaxed))},
         /*clear=*/true);
  header_->stats.index_evictions.fetch_add(1, std::memory_order_relaxed);
  return victim;
}

}  // namespace ember::shm
