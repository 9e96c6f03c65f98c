// shm/intent_ring.h: the record of writes that are between "cold store
// written" and "arena published" (DESIGN.md invariant 10). A restarted writer
// drops every key it finds pending here, since the arena may be behind.
// Thread safety: Begin/End on the writer thread; Pending from anywhere.
#pragma once

#include <cstdint>
#include <vector>

#include "shm/arena_format.h"

namespace ember::shm {

class IntentRing {
 public:
  IntentRing(IntentSlot* slots, uint32_t count)
      : slots_(slots), count_(count) {}

  // Records a pending write of the key with hash `key_hash` under cold-store
  // sequence `seq`; returns its ticket, or -1 when every slot is pending
  // (publish some first).
  int64_t Begin(uint64_t key_hash, uint64_t seq);
  // Marks the write of `ticket` published.
  void End(int64_t ticket);

  struct Pending {
    uint64_t key_hash;
    uint64_t seq;
  };
  // The writes still pending (for recovery and tests).
  static std::vector<Pending> List(const IntentSlot* slots, uint32_t count);

 private:
  IntentSlot* slots_;
  uint32_t count_;
  uint32_t next_ = 0;
};

}  // namespace ember::shm
