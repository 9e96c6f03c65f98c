// shm/evictor.cc: S3-FIFO admission and CLOCK eviction per size class.
#include "shm/evictor.h"

#include <bit>

namespace ember::shm {

Evictor::Evictor(const Geometry& geo, const SlabAllocator* slabs,
                 std::atomic<uint8_t>* hints, int class_count)
    : data_offset_(geo.data_offset),
      slabs_(slabs),
      hints_(hints),
      meta_(geo.data_bytes >> kGranuleShift, kFree),
      small_(class_count),
      small_live_(class_count, 0),
      main_live_(class_count, 0),
      hands_(class_count),
      ghost_(std::bit_ceil(std::max<uint64_t>(1024, geo.data_bytes / 256)), 0) {
}

void Evictor::OnPublish(uint64_t off, int cls, uint64_t hash,
                        uint64_t replaced) {
  const size_t g = Granule(off);
  bool main = false;
  uint8_t hint = 0;
  if (replaced != 0) {
    main = (meta_[Granule(replaced)] & 3) == kMain;
    hint = hints_[Granule(replaced)].load(std::memory_order_relaxed);
  } else {
    main = GhostTake(hash);
  }
  hints_[g].store(hint, std::memory_order_relaxed);
  const uint8_t gen = static_cast<uint8_t>(((meta_[g] >> 2) + 1) & 63);
  if (main) {
    meta_[g] = static_cast<uint8_t>(kMain | gen << 2);
    ++main_live_[cls];
  } else {
    meta_[g] = static_cast<uint8_t>(kSmall | gen << 2);
    ++small_live_[cls];
    auto& fifo = small_[cls];
    fifo.push_back((off - data_offset_) >> 3 | uint64_t{gen} << 56);
    // Overwrites leave stale entries behind; drop them once they outnumber
    // the live ones, so the FIFO stays within twice the small queue.
    if (fifo.size() > 2 * small_live_[cls] + 64) CompactSmall(cls);
  }
}

void Evictor::OnUnlink(uint64_t off, int cls) {
  uint8_t& m = meta_[Granule(off)];
  if ((m & 3) == kSmall) --small_live_[cls];
  if ((m & 3) == kMain) --main_live_[cls];
  m = static_cast<uint8_t>((m & ~3) | kRetired);
}

Evictor::Victim Evictor::Next(int cls) {
  auto& fifo = small_[cls];
  while (small_live_[cls] + main_live_[cls] > 0) {
    const uint64_t total = small_live_[cls] + main_live_[cls];
    const bool from_small =
        small_live_[cls] > 0 &&
        (main_live_[cls] == 0 || small_live_[cls] * 10 >= total);
    if (!from_small) return Victim{NextMain(cls), false};
    bool promoted = false;
    while (!fifo.empty() && !promoted) {
      const uint64_t e = fifo.front();
      fifo.pop_front();
      const uint64_t off =
          data_offset_ + ((e & ((uint64_t{1} << 56) - 1)) << 3);
      const size_t g = Granule(off);
      const uint8_t m = meta_[g];
      if ((m & 3) != kSmall || (m >> 2) != (e >> 56)) continue;  // stale
      if (hints_[g].load(std::memory_order_relaxed) != 0) {
        // Read while in the small FIFO: promote to main. The hint stays
        // set, so main's hand passes it once before it can be evicted.
        meta_[g] = static_cast<uint8_t>((m & ~3) | kMain);
        --small_live_[cls];
        ++main_live_[cls];
        promoted = true;  // re-check the split: main may now have to shrink
        continue;
      }
      return Victim{off, true};
    }
    if (!promoted) {
      // Every FIFO entry was stale; the counters say otherwise only after a
      // bug. Fall back to main rather than spin.
      return Victim{main_live_[cls] > 0 ? NextMain(cls) : 0, false};
    }
  }
  return Victim{};
}

uint64_t Evictor::NextMain(int cls) {
  const auto& pages = slabs_->PagesOf(cls);
  Hand& hand = hands_[cls];
  const uint32_t per_page = slabs_->ChunksPerPage(cls);
  const uint32_t chunk_bytes = slabs_->ChunkBytes(cls);
  if (pages.empty()) return 0;
  // Two full sweeps: the first clears hints, the second must find a victim.
  const uint64_t limit = 2 * uint64_t{per_page} * pages.size() + 2;
  for (uint64_t step = 0; step < limit; ++step) {
    if (hand.page_index >= pages.size()) hand.page_index = 0;
    if (hand.chunk >= per_page) {
      hand.chunk = 0;
      hand.page_index = (hand.page_index + 1) % pages.size();
    }
    const uint64_t off = slabs_->PageOffset(pages[hand.page_index]) +
                         uint64_t{hand.chunk} * chunk_bytes;
    ++hand.chunk;
    const size_t g = Granule(off);
    if ((meta_[g] & 3) != kMain) continue;
    if (hints_[g].load(std::memory_order_relaxed) != 0) {
      ClearHint(off);
      continue;
    }
    return off;
  }
  return 0;
}

void Evictor::CompactSmall(int cls) {
  std::erase_if(small_[cls], [this](uint64_t e) {
    const uint64_t off = data_offset_ + ((e & ((uint64_t{1} << 56) - 1)) << 3);
    const uint8_t m = meta_[Granule(off)];
    return (m & 3) != kSmall || (m >> 2) != (e >> 56);
  });
  small_[cls].shrink_to_fit();
}

uint64_t Evictor::PrivateBytes() const {
  uint64_t bytes = meta_.capacity() + ghost_.capacity() * sizeof(uint32_t) +
                   (small_live_.capacity() + main_live_.capacity()) * 8 +
                   hands_.capacity() * sizeof(Hand);
  for (const auto& q : small_) bytes += q.size() * sizeof(uint64_t);
  return bytes;
}

void Evictor::RememberEvicted(uint64_t hash) {
  ghost_[hash & (ghost_.size() - 1)] = static_cast<uint32_t>(hash >> 32) | 1;
}

bool Evictor::GhostTake(uint64_t hash) {
  uint32_t& slot = ghost_[hash & (ghost_.size() - 1)];
  if (slot != (static_cast<uint32_t>(hash >> 32) | 1)) return false;
  slot = 0;
  return true;
}

}  // namespace ember::shm
