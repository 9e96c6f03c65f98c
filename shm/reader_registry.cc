// shm/reader_registry.cc: claiming and releasing reader slot indexes.
#include "shm/reader_registry.h"

namespace ember::shm {

ReaderRegistry::ReaderRegistry(ArenaHeader* header, uint32_t max_readers)
    : header_(header), entries_(max_readers) {}

bool ReaderRegistry::Add(ReaderSlot* slot, uint32_t pid, uint32_t uid,
                         bool internal, uint32_t* index) {
  std::lock_guard<std::mutex> lock(mu_);
  for (uint32_t i = 0; i < entries_.size(); ++i) {
    if (entries_[i].slot != nullptr) continue;
    entries_[i] = ReaderEntry{};
    entries_[i].slot = slot;
    entries_[i].pid = pid;
    entries_[i].uid = uid;
    entries_[i].internal = internal;
    *index = i;
    ++live_;
    header_->stats.live_readers.store(live_, std::memory_order_relaxed);
    header_->stats.readers_seen.fetch_add(1, std::memory_order_relaxed);
    return true;
  }
  return false;
}

void ReaderRegistry::Remove(uint32_t index) {
  std::lock_guard<std::mutex> lock(mu_);
  if (index >= entries_.size() || entries_[index].slot == nullptr) return;
  entries_[index] = ReaderEntry{};
  --live_;
  header_->stats.live_readers.store(live_, std::memory_order_relaxed);
}

uint32_t ReaderRegistry::live() const {
  std::lock_guard<std::mutex> lock(mu_);
  return live_;
}

}  // namespace ember::shm
