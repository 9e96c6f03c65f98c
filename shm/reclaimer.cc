// shm/reclaimer.cc: epochs, reader-slot scans, dead readers and leases.
#include "shm/reclaimer.h"

#include <algorithm>

#include "shm/barrier.h"

namespace ember::shm {

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
  const uint64_t before =
      header_->global_epoch.fetch_add(1, std::memory_order_seq_cst);
  // Readers that announce with a plain store rely on this barrier to order
  // their announce before their index loads. Without it, free nothing.
  if (header_->barrier_mode ==
          static_cast<uint32_t>(BarrierMode::kMembarrier) &&
      !GlobalBarrier()) {
    return 0;
  }
  const uint64_t oldest = retired_.front().epoch;
  // The lease belongs to the oldest retirement, not to a slot: once it has
  // waited lease_ms_ (and memory is short), every guard still holding an
  // epoch no newer than it is revoked. Such a guard began about when that
  // chunk was retired (scans bump the epoch every millisecond while
  // anything is retired), so it has been held about a lease. No client can
  // reset this clock: not by changing its announce, nor by dropping its
  // slot and claiming a new one.
  const uint64_t now = NowMonotonicMs();
  if (oldest != front_epoch_) {
    front_epoch_ = oldest;
    front_since_ms_ = now;
  }
  const bool expired = memory_short && now - front_since_ms_ >= lease_ms();
  uint64_t min_epoch = UINT64_MAX;
  registry_->ForEach([&](uint32_t, ReaderEntry& e) {
    const uint64_t a = e.slot->announce.load(std::memory_order_seq_cst);
    const uint64_t epoch = a >> 1;
    // Idle, or revoked and not yet back with a newer guard: not blocking.
    if ((a & 1) == 0 || epoch <= e.ignore_upto) return;
    if (epoch <= oldest && expired) {
      e.slot->revocations.fetch_add(1, std::memory_order_release);
      header_->stats.revocations.fetch_add(1, std::memory_order_relaxed);
      // Ignore what was announced before this scan's bump: the revoked
      // guard's epoch is at most `oldest` <= `before`. A reader that sees
      // the new revocation count (acquire) then reads an epoch of at least
      // before + 1, so its next guard counts again.
      e.ignore_upto = before;
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
