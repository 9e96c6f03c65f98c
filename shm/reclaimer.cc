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

Reclaimer::Reclaimer(ArenaHeader* header, ReaderSlot* slots, ReaderLocks* locks,
                     uint32_t lease_ms)
    : header_(header),
      slots_(slots),
      locks_(locks),
      lease_ms_(lease_ms),
      trackers_(header->geo.max_readers) {}

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
  for (uint32_t i = 0; i < trackers_.size(); ++i) {
    const uint64_t a = slots_[i].announce.load(std::memory_order_seq_cst);
    if ((a & 1) == 0) continue;
    const uint64_t e = a >> 1;
    if (e > oldest) {
      min_epoch = std::min(min_epoch, e);
      continue;
    }
    Tracker& t = trackers_[i];
    if (t.ignored == a) continue;
    if (!locks_->IsHeldElsewhere(i)) {  // its reader died mid-guard
      t.ignored = a;
      continue;
    }
    if (now == 0) now = NowMonotonicMs();
    if (t.seen != a) {
      t.seen = a;
      t.since_ms = now;
    } else if (memory_short && now - t.since_ms >= lease_ms_) {
      slots_[i].revocations.fetch_add(1, std::memory_order_release);
      header_->stats.revocations.fetch_add(1, std::memory_order_relaxed);
      t.ignored = a;
      continue;
    }
    min_epoch = std::min(min_epoch, e);
  }
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

void Reclaimer::CountReaders() {
  uint64_t live = 0;
  for (uint32_t i = 0; i < trackers_.size(); ++i) {
    if (!locks_->IsHeldElsewhere(i)) continue;
    ++live;
    const uint32_t pid = slots_[i].pid.load(std::memory_order_relaxed);
    if (pid != trackers_[i].pid) {
      trackers_[i].pid = pid;
      header_->stats.readers_seen.fetch_add(1, std::memory_order_relaxed);
    }
  }
  header_->stats.live_readers.store(live, std::memory_order_relaxed);
}

}  // namespace ember::shm
