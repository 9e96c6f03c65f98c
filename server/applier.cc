// server/applier.cc: the applier's loop.
#include "server/applier.h"

#include <pthread.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <vector>

#include "shm/clock.h"

namespace ember::server {

void Applier::Start() {
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "ember-applier");
    Run();
  });
}

void Applier::Stop() {
  if (stopped_) return;
  stopped_ = true;
  dirty_->Stop();
  if (thread_.joinable()) thread_.join();
}

void Applier::Run() {
  std::vector<ColdOp> ops;
  std::vector<KeyPrior> priors;  // ops[i]'s, from the dirty table
  uint64_t applied = 0;
  bool reclaim_failing = false;
  while (dirty_->WaitForWork(delay_, kPassEvery)) {
    DirtyTable::Batch batch;
    dirty_->TakeBatch(&batch);
    // Read after the pass began: a SyncPass before it sees every key that
    // had expired by its call reclaimed.
    const uint64_t now_ms = shm::NowUnixMs();
    if (!batch.empty()) {
      // In key order: the memtable's skiplist then inserts each key next
      // to the one before (its splice hint), instead of searching from the
      // top: the search was most of the applier's time.
      std::sort(batch.entries.begin(), batch.entries.end(),
                [](const auto& a, const auto& b) { return a.first < b.first; });
      ops.clear();
      priors.clear();
      ops.reserve(batch.entries.size());
      priors.reserve(batch.entries.size());
      for (const auto& [key, e] : batch.entries) {
        ops.push_back(ColdOp{key, e->value, e->expiry_ms, e->deleted});
        priors.push_back(e->prior);
      }
      const shm::Status s =
          cold_->Apply(ops, batch.clear_first, batch.last_lsn,
                       batch.db_map ? &*batch.db_map : nullptr, &priors);
      if (!s.ok()) {
        spdlog::error(
            "applier: RocksDB refused a batch of {} keys ({}); they stay in "
            "the dirty table and the redo log, and commits wait for room",
            ops.size(), s.ToString());
        dirty_->MarkFailed(s.ToString());
        return;
      }
    }
    const shm::Status s = cold_->ReclaimExpired(now_ms);
    if (!s.ok() && cold_->write_failed()) {
      spdlog::error("applier: RocksDB refused to delete expired keys ({})",
                    s.ToString());
      dirty_->MarkFailed(s.ToString());
      return;
    }
    if (!s.ok() && !reclaim_failing) {
      // A read of the expiry index failed: the keys wait for a later
      // pass; writes go on (one line until it works again).
      spdlog::warn(
          "applier: cannot read the expiry index ({}); expired "
          "keys stay until a pass can",
          s.ToString());
    }
    reclaim_failing = !s.ok();
    dirty_->FinishBatch();
    if (batch.empty()) continue;
    applied = batch.last_lsn;
    // A finished segment waits for RocksDB to hold its LSNs on disk: flush
    // once the oldest is wholly applied (not after every batch before).
    if (applied >= log_->oldest_finished_lsn()) FlushAndRelease(applied);
  }
  // Stopping (or failed): what was applied goes to disk, and the log keeps
  // only what may still be needed.
  if (applied != 0 && !cold_->write_failed()) FlushAndRelease(applied);
}

void Applier::FlushAndRelease(uint64_t applied_lsn) {
  const shm::Status s = cold_->Flush();
  if (!s.ok()) {
    spdlog::error(
        "applier: RocksDB flush failed ({}); the redo log keeps "
        "its segments",
        s.ToString());
    dirty_->MarkFailed(s.ToString());
    return;
  }
  flushes_.fetch_add(1, std::memory_order_relaxed);
  log_->Release(applied_lsn);
}

}  // namespace ember::server
