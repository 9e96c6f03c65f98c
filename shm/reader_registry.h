// shm/reader_registry.h: the writer's list of reader slots. A slot is either
// a sealed page handed to one local client (shm/slot_broker.h), or private
// memory of the server's own threads, which no client can write.
// Thread safety: every member may be called from any thread; ForEach holds
// the registry's mutex while it runs, so an entry (and the memory of its
// slot) stays valid for the callback.
#pragma once

#include <cstdint>
#include <mutex>
#include <vector>

#include "shm/arena_format.h"

namespace ember::shm {

struct ReaderEntry {
  ReaderSlot* slot = nullptr;  // not owned
  uint32_t pid = 0;            // the kernel's word (SO_PEERCRED), or ours
  uint32_t uid = 0;
  bool internal = false;  // a slot of the server's own process
  // The reclaimer's bookkeeping (shm/reclaimer.cc), under the mutex.
  uint64_t ignore_upto = 0;  // revoked: announces of this epoch or older
};

class ReaderRegistry {
 public:
  // `header` gets live_readers and readers_seen; it outlives the registry.
  ReaderRegistry(ArenaHeader* header, uint32_t max_readers);
  ReaderRegistry(const ReaderRegistry&) = delete;
  ReaderRegistry& operator=(const ReaderRegistry&) = delete;

  // Registers `slot` under a free index (returned in `*index`); false when
  // all max_readers indexes are taken. REQUIRES: `slot` stays valid until
  // Remove(*index) returns.
  bool Add(ReaderSlot* slot, uint32_t pid, uint32_t uid, bool internal,
           uint32_t* index);
  // After this returns the registry never touches the slot again.
  void Remove(uint32_t index);
  // Calls fn(index, entry) for each registered slot, under the mutex.
  template <typename Fn>
  void ForEach(Fn&& fn) {
    std::lock_guard<std::mutex> lock(mu_);
    for (uint32_t i = 0; i < entries_.size(); ++i) {
      if (entries_[i].slot != nullptr) fn(i, entries_[i]);
    }
  }
  uint32_t live() const;

 private:
  ArenaHeader* header_;
  mutable std::mutex mu_;
  std::vector<ReaderEntry> entries_;  // GUARDED_BY(mu_); slot null = free
  uint32_t live_ = 0;                 // GUARDED_BY(mu_)
};

}  // namespace ember::shm
