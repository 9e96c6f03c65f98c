// server/applier.h: the applier thread (DESIGN.md "Durability"). It takes
// the dirty table's writes in batches (a key written many times is applied
// once), writes each batch to RocksDB with the WAL off and the batch's last
// LSN as applied_lsn, and drops it from the table. Each pass (with a batch,
// or every kPassEvery without) also deletes the keys that have expired
// (ColdStore::ReclaimExpired: Redis's active expiry). Once the redo log has a
// finished segment, it flushes RocksDB (atomic across column families) and
// deletes the segments whose LSNs are now on disk.
//
// A batch RocksDB refuses stays in the dirty table, readable; the applier
// stops, and commits go on until the table is full, then get an error (see
// DirtyTable::MarkFailed). Nothing acknowledged is dropped: the log holds
// it, and a restart replays it.
// Thread safety: Start/Stop from one thread; the counters from any.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>

#include "server/cold_store.h"
#include "server/dirty_table.h"
#include "server/redo_log.h"

namespace ember::server {

class Applier {
 public:
  // `delay`: how long a write may wait in the dirty table for more writes
  // to coalesce with before the applier takes it. All pointers outlive the
  // Applier.
  Applier(DirtyTable* dirty, ColdStore* cold, RedoLog* log,
          std::chrono::milliseconds delay)
      : dirty_(dirty), cold_(cold), log_(log), delay_(delay) {}
  ~Applier() { Stop(); }
  void Start();
  // Applies everything left, flushes RocksDB, deletes the log segments it
  // covers, joins the thread. REQUIRES: no commit after the call.
  void Stop();

  uint64_t flushes() const { return flushes_.load(std::memory_order_relaxed); }

  // How often a pass runs when no write is due, so expired keys leave
  // RocksDB within about this long (Redis: 10 times a second, hz 10).
  static constexpr std::chrono::milliseconds kPassEvery{100};

 private:
  void Run();
  // Flushes RocksDB and deletes the log segments up to `applied_lsn`.
  void FlushAndRelease(uint64_t applied_lsn);

  DirtyTable* dirty_;
  ColdStore* cold_;
  RedoLog* log_;
  const std::chrono::milliseconds delay_;
  std::atomic<uint64_t> flushes_{0};
  std::thread thread_;
  bool stopped_ = false;
};

}  // namespace ember::server
