// shm/size_classes.h: the slab size classes for a page size. Deterministic,
// so the writer recomputes them and readers print them from the header.
// Thread safety: immutable after construction.
#pragma once

#include <cstdint>
#include <vector>

namespace ember::shm {

class SizeClasses {
 public:
  // Classes step by 8 bytes from kMinChunkBytes to 256, then grow by about
  // 1/8 (rounded up to 8) up to `page_bytes`, the last class. REQUIRES:
  // page_bytes is a multiple of 8 and at least 4096.
  explicit SizeClasses(uint32_t page_bytes);

  // Smallest class whose chunk holds `item_bytes`, or -1 when the item is
  // larger than a page (it then belongs to the cold tier only).
  int ClassFor(uint64_t item_bytes) const;
  uint32_t chunk_bytes(int cls) const { return sizes_[cls]; }
  int count() const { return static_cast<int>(sizes_.size()); }
  uint32_t largest() const { return sizes_.back(); }

 private:
  std::vector<uint32_t> sizes_;
  std::vector<uint8_t> small_lookup_;  // (item_bytes + 7) / 8 -> class, <= 256
};

}  // namespace ember::shm
