// shm/reclaimer.h: epoch-based reclamation of chunks. A chunk unlinked from
// the index is retired with the current global epoch; it is freed once every
// registered reader slot (shm/reader_registry.h) is idle or announces a
// later epoch. A dead reader's slot leaves the registry when its connection
// closes. Once the oldest retirement has waited the lease while memory is
// short, every slot still holding it back is revoked (its reader is told so
// when it releases) and ignored until it announces a newer epoch. Whatever
// clients write into their slots, or however they rotate them, reclamation
// waits at most one lease per retirement: see Reclaim.
// Thread safety: writer thread only, except set_lease_ms and lease_ms (any
// thread: the server's CONFIG SET).
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <vector>

#include "shm/arena_format.h"
#include "shm/clock.h"  // NowUnixMs: its users still include this header
#include "shm/reader_registry.h"

namespace ember::shm {

class Reclaimer {
 public:
  // `header` and `registry` outlive the reclaimer.
  Reclaimer(ArenaHeader* header, ReaderRegistry* registry, uint32_t lease_ms);

  // Retires `off`. REQUIRES: its slot was already cleared or replaced.
  void Retire(uint64_t off);
  // Advances the global epoch and passes every chunk that no reader can
  // see any more to `free_chunk`. With `memory_short`, revokes guards held
  // past the lease. Returns the number of chunks freed.
  size_t Reclaim(bool memory_short,
                 const std::function<void(uint64_t)>& free_chunk);
  size_t pending() const { return retired_.size(); }
  // The lease, changed at run time; the next Reclaim uses the new one.
  void set_lease_ms(uint32_t ms) {
    lease_ms_.store(ms, std::memory_order_relaxed);
  }
  uint32_t lease_ms() const {
    return lease_ms_.load(std::memory_order_relaxed);
  }
  uint64_t PrivateBytes() const { return retired_.size() * sizeof(Retired); }

 private:
  struct Retired {
    uint64_t off;
    uint64_t epoch;
  };
  ArenaHeader* header_;
  ReaderRegistry* registry_;
  std::atomic<uint32_t> lease_ms_;
  std::deque<Retired> retired_;
  uint64_t front_epoch_ = 0;     // retired_.front().epoch when last seen
  uint64_t front_since_ms_ = 0;  // since then (monotonic ms)
};

}  // namespace ember::shm
