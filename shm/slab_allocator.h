// shm/slab_allocator.h: hands out chunks of the data area. Pages (page_bytes
// each) belong to one size class at a time; a class carves its pages into
// chunks. Writer-private: all its bookkeeping lives in the writer's heap.
// Thread safety: writer thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "shm/arena_format.h"
#include "shm/size_classes.h"

namespace ember::shm {

class SlabAllocator {
 public:
  // `header` is the mapped data segment; class infos and stats are updated
  // there for INFO and `ember-cli arena`.
  SlabAllocator(ArenaHeader* header, const SizeClasses* classes);

  // A free chunk of class `cls` (offset from the segment base), taking a
  // free page when the class has none; 0 when neither exists.
  uint64_t Allocate(int cls);
  // Returns a chunk that no reader can see any more.
  void Free(uint64_t off);

  // Moves page `page` out of its class: no new chunk is handed out of it,
  // and once every chunk of it is freed it returns to the free page pool.
  void StartDrain(uint32_t page);
  // The class that owns the most pages (ties: lowest), other than `except`;
  // -1 when no class owns more than one page.
  int RichestClass(int except) const;

  uint32_t PageOf(uint64_t off) const {
    return static_cast<uint32_t>((off - data_offset_) / page_bytes_);
  }
  int ClassOfPage(uint32_t page) const { return pages_[page].cls; }
  bool Draining(uint32_t page) const { return pages_[page].draining; }
  // Pages owned by `cls`, in the order the CLOCK hand visits them.
  const std::vector<uint32_t>& PagesOf(int cls) const {
    return class_pages_[cls];
  }
  uint64_t PageOffset(uint32_t page) const {
    return data_offset_ + uint64_t{page} * page_bytes_;
  }
  uint32_t ChunkBytes(int cls) const { return classes_->chunk_bytes(cls); }
  uint32_t ChunksPerPage(int cls) const {
    return page_bytes_ / classes_->chunk_bytes(cls);
  }
  size_t FreeChunks(int cls) const { return free_[cls].size(); }

  // Warm restart (shm/arena_warm.cc), before any Allocate. The item at
  // `off` of class `cls` survives: its page joins `cls` if it belongs to no
  // class yet. False (nothing changed) when the page is another class's.
  bool Adopt(uint64_t off, int cls);
  // After the last Adopt: every chunk not adopted (`live(off)` false) is
  // free; so is every page no item was adopted into. Those `held(off,
  // bytes)` says a reader of the previous writer may still be reading are
  // held back until ReleaseHeld(); the rest can be handed out at once.
  void FinishAdopt(const std::function<bool(uint64_t)>& live,
                   const std::function<bool(uint64_t, uint64_t)>& held);
  // Hands out the held chunks and pages too.
  void ReleaseHeld();
  bool holding() const { return holding_; }
  size_t free_pages() const { return free_pages_.size(); }
  // Heap bytes held by the page table and free lists (capacities).
  uint64_t PrivateBytes() const;

 private:
  struct Page {
    int16_t cls = -1;
    bool draining = false;
    uint32_t used = 0;  // chunks handed out and not yet freed
  };
  void AssignPage(uint32_t page, int cls);

  ArenaHeader* header_;
  const SizeClasses* classes_;
  uint64_t data_offset_;
  uint32_t page_bytes_;
  std::vector<Page> pages_;
  std::vector<uint32_t> free_pages_;
  std::vector<std::vector<uint32_t>> class_pages_;
  std::vector<std::vector<uint64_t>> free_;  // per class, a stack
  // Warm restart: free, but maybe still read by the previous writer's
  // readers (FinishAdopt); handed out after ReleaseHeld.
  bool holding_ = false;
  std::vector<uint32_t> held_pages_;
  std::vector<std::vector<uint64_t>> held_free_;
};

}  // namespace ember::shm
