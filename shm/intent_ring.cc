// shm/intent_ring.cc: pending-write records in the data segment.
#include "shm/intent_ring.h"

namespace ember::shm {

int64_t IntentRing::Begin(uint64_t key_hash, uint64_t seq) {
  for (uint32_t n = 0; n < count_; ++n) {
    uint32_t i = next_;
    next_ = (next_ + 1 == count_) ? 0 : next_ + 1;
    if (slots_[i].seq_state.load(std::memory_order_relaxed) != 0) continue;
    slots_[i].key_hash.store(key_hash, std::memory_order_relaxed);
    // Release: a reader of the ring that sees the state sees the hash.
    slots_[i].seq_state.store(seq << 1 | 1, std::memory_order_release);
    return i;
  }
  return -1;
}

void IntentRing::End(int64_t ticket) {
  slots_[ticket].seq_state.store(0, std::memory_order_release);
}

std::vector<IntentRing::Pending> IntentRing::List(const IntentSlot* slots,
                                                  uint32_t count) {
  std::vector<Pending> out;
  for (uint32_t i = 0; i < count; ++i) {
    uint64_t s = slots[i].seq_state.load(std::memory_order_acquire);
    if (s & 1) {
      out.push_back(
          {slots[i].key_hash.load(std::memory_order_relaxed), s >> 1});
    }
  }
  return out;
}

}  // namespace ember::shm
