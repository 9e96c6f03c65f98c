// shm/evictor.h: which item to drop when a size class is full. S3-FIFO per
// class: new keys enter a small FIFO; one read while there (a reader's
// access hint) promotes them to main, otherwise they leave and their hash
// goes to a ghost set; a key seen in the ghost set enters main directly.
// Main is a CLOCK over the class's chunks that skips (and clears) hinted
// items. So a scan of one-hit keys cycles through the small FIFO and does
// not flush a hot set that readers keep hinting.
// Thread safety: writer thread only (readers only set hint bytes).
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <vector>

#include "shm/arena_format.h"
#include "shm/slab_allocator.h"

namespace ember::shm {

class Evictor {
 public:
  enum State : uint8_t { kFree = 0, kSmall = 1, kMain = 2, kRetired = 3 };

  // `hints` is the control segment's hint array (one byte per granule).
  Evictor(const Geometry& geo, const SlabAllocator* slabs,
          std::atomic<uint8_t>* hints, int class_count);

  // A new item was published at `off` in class `cls`. `replaced` is the
  // chunk of the previous item of the same key, or 0 for a new key; the new
  // item inherits its queue and access hint.
  void OnPublish(uint64_t off, int cls, uint64_t hash, uint64_t replaced);
  // Warm restart: the item at `off` of class `cls` survived the previous
  // writer; it enters main (it was hot enough to be kept).
  void Adopt(uint64_t off, int cls) {
    meta_[Granule(off)] = kMain;
    ++main_live_[cls];
  }
  // The item at `off` left the index (evicted, deleted or replaced).
  void OnUnlink(uint64_t off, int cls);
  // The chunk at `off` was reclaimed.
  // Keeps the generation, so FIFO entries of the chunk's earlier lives stay
  // recognisably stale after it is reused.
  void OnFree(uint64_t off) {
    uint8_t& m = meta_[Granule(off)];
    m = static_cast<uint8_t>((m & ~3) | kFree);
  }
  State StateOf(uint64_t off) const {
    return static_cast<State>(meta_[Granule(off)] & 3);
  }

  struct Victim {
    uint64_t off = 0;         // 0: the class holds no live item
    bool from_small = false;  // caller remembers its hash in the ghost set
  };
  // The next item of class `cls` to evict; it stays live until the caller
  // unlinks it and calls OnUnlink.
  Victim Next(int cls);
  // Remembers the hash of an item evicted from the small FIFO.
  void RememberEvicted(uint64_t hash);

  bool Hinted(uint64_t off) const {
    return hints_[Granule(off)].load(std::memory_order_relaxed) != 0;
  }
  uint64_t small_items(int cls) const { return small_live_[cls]; }
  // Heap bytes held: metadata, ghost set and FIFO entries (capacities).
  uint64_t PrivateBytes() const;
  uint64_t main_items(int cls) const { return main_live_[cls]; }

 private:
  size_t Granule(uint64_t off) const {
    return (off - data_offset_) >> kGranuleShift;
  }
  void ClearHint(uint64_t off) {
    hints_[Granule(off)].store(0, std::memory_order_relaxed);
  }
  bool GhostTake(uint64_t hash);
  uint64_t NextMain(int cls);
  void CompactSmall(int cls);

  struct Hand {
    size_t page_index = 0;
    uint32_t chunk = 0;
  };
  uint64_t data_offset_;
  const SlabAllocator* slabs_;
  std::atomic<uint8_t>* hints_;
  std::vector<uint8_t> meta_;  // per granule: state | generation << 2
  std::vector<std::deque<uint64_t>> small_;  // (off-data)/8 | generation << 56
  std::vector<uint64_t> small_live_, main_live_;
  std::vector<Hand> hands_;
  std::vector<uint32_t> ghost_;  // direct-mapped hash fingerprints
};

}  // namespace ember::shm
