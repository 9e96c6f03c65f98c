// shm/reclaimer.cc: epochs, reader-slot scans, dead readers and leases.
#include "shm/reclaimer.h"

#include <time.h>

#include <algorithm>

#include "shm/barrier.h"

namespace ember::shm {

// Lease timing: immune to wall-clock steps.
static uint64_t NowMonotonicMs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

uint64_t NowUnixMs() {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

Reclaimer::Reclaimer(ArenaHeader* header, ReaderRegistry* registry,
                     uint32_t lease_ms)
    : header_(header), registry_(registry), lease_ms_(lease_ms) {}

void Reclaimer::Retire(uint64_t off) {
  // The slot store that unlinked `off` precedes this load; a reader that
  // announces this epoch or an older one may still see the item.
  retired_.push_back(
      {off, header_->global_epoch.load(std::memory_order_relaxed)});
  header_->stats.retired_pending.store(retired_.size(),
                                       std::memory_order_relaxed);
}

size_t Reclaimer::Reclaim(bool memory_short,
                          const std::function<void(uint64_t)>& free_chunk) {
  if (retired_.empty()) return 0;
  // Unlinks are seq_cst stores; announces are seq_cst exchanges, or plain
  // stores made ordered by the membarrier below. So for each reader either
  // the scan sees its announce, or its index loads see the unlink (Dekker).
  // A reader that reads the bumped epoch announces a value newer than every
  // retirement so far.
  header_->global_epoch.fetch_add(1, std::memory_order_seq_cst);
  // Readers that announce with a plain store rely on this barrier to order
  // their announce before their index loads. Without it, free nothing.
  if (header_->barrier_mode ==
          static_cast<uint32_t>(BarrierMode::kMembarrier) &&
      !GlobalBarrier()) {
    return 0;
  }
  const uint64_t oldest = retired_.front().epoch;
  uint64_t min_epoch = UINT64_MAX;
  uint64_t now = 0;
  // A slot blocks when it holds a guard of an epoch no newer than the
  // oldest retirement. An honest reader blocks for one guard's length; the
  // lease counts from the first scan that saw a slot blocking and restarts
  // only after a scan saw it not blocking, so no value a client writes into
  // its slot (older epochs, changing ones) keeps it from being revoked.
  registry_->ForEach([&](uint32_t, ReaderEntry& e) {
    const uint64_t a = e.slot->announce.load(std::memory_order_seq_cst);
    const uint64_t epoch = a >> 1;
    if ((a & 1) == 0 || epoch <= e.ignore_upto || epoch > oldest) {
      e.blocking_since_ms = 0;
      if ((a & 1) != 0 && epoch > e.ignore_upto) {
        min_epoch = std::min(min_epoch, epoch);
      }
      return;
    }
    if (now == 0) now = NowMonotonicMs();
    if (e.blocking_since_ms == 0) {
      e.blocking_since_ms = now;
    } else if (memory_short && now - e.blocking_since_ms >= lease_ms()) {
      e.slot->revocations.fetch_add(1, std::memory_order_release);
      header_->stats.revocations.fetch_add(1, std::memory_order_relaxed);
      // Every retirement so far is at or below the current epoch: the
      // revoked reader must announce a newer one to count again.
      e.ignore_upto = header_->global_epoch.load(std::memory_order_relaxed);
      e.blocking_since_ms = 0;
      return;
    }
    min_epoch = std::min(min_epoch, epoch);
  });
  size_t freed = 0;
  while (!retired_.empty() && retired_.front().epoch < min_epoch) {
    free_chunk(retired_.front().off);
    retired_.pop_front();
    ++freed;
  }
  header_->stats.retired_pending.store(retired_.size(),
                                       std::memory_order_relaxed);
  header_->stats.reclaimed.fetch_add(freed, std::memory_order_relaxed);
  return freed;
}

}  // namespace ember::shm
