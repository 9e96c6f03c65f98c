// shm/size_classes.cc: computes the slab class table.
#include "shm/size_classes.h"

#include <algorithm>
#include <cassert>

#include "shm/arena_format.h"

namespace ember::shm {

SizeClasses::SizeClasses(uint32_t page_bytes) {
  assert(page_bytes % 8 == 0 && page_bytes >= 4096);
  uint32_t size = kMinChunkBytes;
  while (size <= 256) {
    sizes_.push_back(size);
    size += 8;
  }
  size = 256;
  while (true) {
    uint32_t next = (size + size / 8 + 7) & ~7u;
    if (next >= page_bytes) break;
    sizes_.push_back(next);
    size = next;
  }
  sizes_.push_back(page_bytes);
  assert(sizes_.size() <= kMaxClasses);
  small_lookup_.resize(256 / 8 + 1);
  for (uint32_t i = 0; i <= 256 / 8; ++i) {
    uint32_t bytes = std::max<uint32_t>(i * 8, kMinChunkBytes);
    small_lookup_[i] = static_cast<uint8_t>((bytes - kMinChunkBytes) / 8);
  }
}

int SizeClasses::ClassFor(uint64_t item_bytes) const {
  if (item_bytes <= 256) {
    return small_lookup_[(item_bytes + 7) / 8];
  }
  if (item_bytes > sizes_.back()) return -1;
  auto it = std::lower_bound(sizes_.begin(), sizes_.end(),
                             static_cast<uint32_t>(item_bytes));
  return static_cast<int>(it - sizes_.begin());
}

}  // namespace ember::shm
