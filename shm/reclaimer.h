// shm/reclaimer.h: epoch-based reclamation of chunks. A chunk unlinked from
// the index is retired with the current global epoch; it is freed once every
// live reader slot is idle or announces a later epoch. Dead readers (their
// OFD lock gone) are ignored; a live reader that holds one guard longer than
// the lease while memory is short is revoked (told so when it releases) and
// then ignored until it announces again.
// Thread safety: writer thread only.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <vector>

#include "shm/arena_format.h"
#include "shm/segment.h"

namespace ember::shm {

class Reclaimer {
 public:
  Reclaimer(ArenaHeader* header, ReaderSlot* slots, ReaderLocks* locks,
            uint32_t lease_ms);

  // Retires `off`. REQUIRES: its slot was already cleared or replaced.
  void Retire(uint64_t off);
  // Advances the global epoch and passes every chunk that no reader can
  // see any more to `free_chunk`. With `memory_short`, revokes guards held
  // past the lease. Returns the number of chunks freed.
  size_t Reclaim(bool memory_short,
                 const std::function<void(uint64_t)>& free_chunk);
  size_t pending() const { return retired_.size(); }
  uint64_t PrivateBytes() const {
    return retired_.size() * sizeof(Retired) +
           trackers_.capacity() * sizeof(Tracker);
  }
  // Refreshes live_readers / readers_seen in the header (one lock probe
  // per slot, so call it about once a second).
  void CountReaders();

 private:
  struct Retired {
    uint64_t off;
    uint64_t epoch;
  };
  struct Tracker {
    uint64_t seen = 0;      // announce value last seen blocking
    uint64_t since_ms = 0;  // when `seen` was first seen
    uint64_t ignored = 0;   // announce value of a dead or revoked holder
    uint32_t pid = 0;       // for readers_seen
  };
  ArenaHeader* header_;
  ReaderSlot* slots_;
  ReaderLocks* locks_;
  uint32_t lease_ms_;
  std::deque<Retired> retired_;
  std::vector<Tracker> trackers_;
};

// Wall-clock milliseconds since the Unix epoch (the unit of expiry times).
uint64_t NowUnixMs();

}  // namespace ember::shm
