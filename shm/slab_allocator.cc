// shm/slab_allocator.cc: page ownership and per-class free lists.
#include "shm/slab_allocator.h"

#include <algorithm>
#include <cassert>

namespace ember::shm {

SlabAllocator::SlabAllocator(ArenaHeader* header, const SizeClasses* classes)
    : header_(header),
      classes_(classes),
      data_offset_(header->geo.data_offset),
      page_bytes_(header->geo.page_bytes),
      pages_(header->geo.page_count),
      class_pages_(classes->count()),
      free_(classes->count()) {
  free_pages_.reserve(pages_.size());
  for (uint32_t p = static_cast<uint32_t>(pages_.size()); p-- > 0;) {
    free_pages_.push_back(p);  // pop_back hands out page 0 first
  }
  header_->stats.free_pages.store(free_pages_.size(),
                                  std::memory_order_relaxed);
}

void SlabAllocator::AssignPage(uint32_t page, int cls) {
  pages_[page] = Page{static_cast<int16_t>(cls), false, 0};
  class_pages_[cls].push_back(page);
  const uint32_t chunk = classes_->chunk_bytes(cls);
  const uint32_t n = page_bytes_ / chunk;
  const uint64_t base = PageOffset(page);
  for (uint32_t i = n; i-- > 0;)
    free_[cls].push_back(base + uint64_t{i} * chunk);
  header_->classes[cls].pages.fetch_add(1, std::memory_order_relaxed);
  header_->stats.free_pages.store(free_pages_.size(),
                                  std::memory_order_relaxed);
}

uint64_t SlabAllocator::Allocate(int cls) {
  auto& list = free_[cls];
  while (!list.empty()) {
    uint64_t off = list.back();
    list.pop_back();
    Page& page = pages_[PageOf(off)];
    if (page.draining) continue;  // dropped: the page is leaving this class
    ++page.used;
    return off;
  }
  if (free_pages_.empty()) return 0;
  uint32_t page = free_pages_.back();
  free_pages_.pop_back();
  AssignPage(page, cls);
  return Allocate(cls);
}

void SlabAllocator::Free(uint64_t off) {
  const uint32_t p = PageOf(off);
  Page& page = pages_[p];
  assert(page.cls >= 0 && page.used > 0);
  --page.used;
  if (!page.draining) {
    free_[page.cls].push_back(off);
    return;
  }
  if (page.used > 0) return;
  // The last chunk of a draining page: the page is free again. Purge its
  // chunks from the class free list so a later reassignment cannot hand
  // any of them out twice.
  const int cls = page.cls;
  const uint64_t lo = PageOffset(p), hi = lo + page_bytes_;
  std::erase_if(free_[cls], [&](uint64_t o) { return o >= lo && o < hi; });
  std::erase(class_pages_[cls], p);
  header_->classes[cls].pages.fetch_sub(1, std::memory_order_relaxed);
  page = Page{};
  free_pages_.push_back(p);
  header_->stats.free_pages.store(free_pages_.size(),
                                  std::memory_order_relaxed);
  header_->stats.page_moves.fetch_add(1, std::memory_order_relaxed);
}

void SlabAllocator::StartDrain(uint32_t p) {
  Page& page = pages_[p];
  assert(page.cls >= 0 && !page.draining);
  page.draining = true;
  if (page.used == 0) {
    ++page.used;  // Free() below does the bookkeeping of an empty page
    Free(PageOffset(p));
  }
}

bool SlabAllocator::Adopt(uint64_t off, int cls) {
  const uint32_t p = PageOf(off);
  Page& page = pages_[p];
  if (page.cls >= 0 && page.cls != cls) return false;
  if (page.cls < 0) {
    page.cls = static_cast<int16_t>(cls);
    class_pages_[cls].push_back(p);
    header_->classes[cls].pages.fetch_add(1, std::memory_order_relaxed);
  }
  ++page.used;
  return true;
}

void SlabAllocator::FinishAdopt(
    const std::function<bool(uint64_t)>& live,
    const std::function<bool(uint64_t, uint64_t)>& held) {
  free_pages_.clear();
  held_free_.assign(free_.size(), {});
  for (uint32_t p = static_cast<uint32_t>(pages_.size()); p-- > 0;) {
    const uint64_t base = PageOffset(p);
    const int cls = pages_[p].cls;
    if (cls < 0) {
      (held(base, page_bytes_) ? held_pages_ : free_pages_).push_back(p);
      continue;
    }
    const uint32_t chunk = classes_->chunk_bytes(cls);
    for (uint32_t i = page_bytes_ / chunk; i-- > 0;) {
      const uint64_t off = base + uint64_t{i} * chunk;
      if (live(off)) continue;
      (held(off, chunk) ? held_free_[cls] : free_[cls]).push_back(off);
    }
  }
  // Filled from the highest page down: pop_back hands out the lowest first,
  // as after Create.
  holding_ = true;
  header_->stats.free_pages.store(free_pages_.size(),
                                  std::memory_order_relaxed);
}

void SlabAllocator::ReleaseHeld() {
  if (!holding_) return;
  holding_ = false;
  // Behind the free ones, still lowest first.
  free_pages_.insert(free_pages_.begin(), held_pages_.begin(),
                     held_pages_.end());
  held_pages_ = {};
  for (size_t c = 0; c < held_free_.size(); ++c) {
    free_[c].insert(free_[c].begin(), held_free_[c].begin(),
                    held_free_[c].end());
  }
  held_free_ = {};
  header_->stats.free_pages.store(free_pages_.size(),
                                  std::memory_order_relaxed);
}

uint64_t SlabAllocator::PrivateBytes() const {
  uint64_t bytes =
      pages_.capacity() * sizeof(Page) + free_pages_.capacity() * 4;
  for (const auto& v : class_pages_) bytes += v.capacity() * 4;
  for (const auto& v : free_) bytes += v.capacity() * 8;
  for (const auto& v : held_free_) bytes += v.capacity() * 8;
  return bytes + held_pages_.capacity() * 4;
}

int SlabAllocator::RichestClass(int except) const {
  int best = -1;
  size_t best_pages = 1;
  for (int c = 0; c < static_cast<int>(class_pages_.size()); ++c) {
    if (c == except) continue;
    size_t n = 0;
    for (uint32_t p : class_pages_[c]) n += pages_[p].draining ? 0 : 1;
    if (n > best_pages) {
      best = c;
      best_pages = n;
    }
  }
  return best;
}

}  // namespace ember::shm
