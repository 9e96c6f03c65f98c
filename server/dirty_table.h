// server/dirty_table.h: the committed writes RocksDB does not hold yet
// (DESIGN.md "Durability": the write-back buffer). A group commit, once its
// records are in the redo log, moves its changes here before the arena
// shows them; the applier takes them in batches and writes them to
// RocksDB. Reads that miss the arena look here before RocksDB, so a dirty
// value stays readable wherever the arena put it (or did not: too large,
// evicted, arena full) until RocksDB has it.
//
// Two generations: `active` takes new commits; `applying` is the batch the
// applier is writing, immutable until FinishBatch drops it. A key's newest
// state is in active, else in applying. A key written a thousand times
// before the applier takes it is applied once (coalescing). A FLUSHALL
// empties active and leaves a clear mark: keys missing from the marked
// generation (and those older) read as absent, and the applier removes
// every key from RocksDB before that generation's writes.
//
// Back-pressure: WaitForRoom blocks a commit while the dirty bytes or the
// age of the oldest unapplied write are over their caps, until the applier
// catches up; it never drops a write. Ages (the applier's delay, the lag
// cap, lag_ms) are shm::NowMonotonicMs(): a test's ManualClock moves them.
// Thread safety: every method from any thread; TakeBatch/FinishBatch/
// MarkFailed from the applier only. Publish from one committer at a time.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "server/db_keyspace.h"
#include "server/key_prior.h"
#include "server/thread_annotations.h"
#include "shm/status.h"

namespace ember::server {

struct DirtyEntry {
  std::string value;       // empty for a delete
  uint64_t expiry_ms = 0;  // Unix ms; 0 = never
  bool deleted = false;
  // RocksDB's state of the key before the batch that applies this entry
  // (set by Publish; a kAskArena is for the publish callback to resolve
  // from the arena item it replaces).
  KeyPrior prior;
};

class DirtyTable {
 public:
  struct Limits {
    uint64_t max_bytes = 128 << 20;  // dirty bytes before commits wait
    uint64_t max_lag_ms = 10000;     // oldest unapplied write, ms
  };
  // What a read finds here.
  enum class Hit { kMiss, kValue, kAbsent };
  // A generation handed to the applier: every key's final state, and
  // whether RocksDB must be cleared before them. `entries` point into the
  // table and stay valid until FinishBatch.
  // (Mutable for Publish's callback only, under the table's lock.)
  using EntryRefs = std::vector<std::pair<std::string_view, DirtyEntry*>>;
  // A pass that took nothing (a pass runs on time or for SyncPass, with or
  // without writes due) has an empty batch.
  struct Batch {
    bool clear_first = false;
    uint64_t last_lsn = 0;
    EntryRefs entries;
    std::optional<DbMap> db_map;  // the newest SWAPDB's map, if any
    bool empty() const { return entries.empty() && !clear_first && !db_map; }
  };

  // `applied_lsn`: RocksDB's at start (everything up to it is there).
  DirtyTable(Limits limits, uint64_t applied_lsn);

  // Commit side. Waits until the table has room for `incoming` more bytes
  // (see the top; an empty table always has room, so a commit larger than
  // the cap goes alone); kIOError when the applier has failed and there is
  // none, which would never come.
  shm::Status WaitForRoom(uint64_t incoming) EXCLUDES(mu_);
  // A commit's changes (one per key), moved in, with the LSN of its last
  // record; `clear_first`: the commit began with a FLUSHALL. `publish` runs
  // under the table's lock once the changes are in (the committer
  // publishes to the arena there, so no reader can miss both the arena and
  // the table in between, and the applier cannot drop them meanwhile); it
  // reads the changes through `refs`, valid only during the call, and may
  // resolve an entry's prior that is kAskArena (to kPresent from the item
  // its arena write replaced, else kUnknown). Publish sets each entry's
  // prior: a key already in active keeps its first one; else the applying
  // batch's state of it (or kAbsent under a clear mark), else kAskArena:
  // the key is in no dirty generation, so the arena, when it holds the
  // key, holds RocksDB's state of it.
  // `db_map` (null: unchanged): the commit's SWAPDB left this map, which
  // the applier records in RocksDB with the batch.
  using Changes = std::vector<std::pair<std::string, DirtyEntry>>;
  void Publish(Changes* changes, bool clear_first, const DbMap* db_map,
               uint64_t last_lsn,
               const std::function<void(const EntryRefs& refs)>& publish)
      EXCLUDES(mu_);
  void Publish(Changes* changes, bool clear_first, uint64_t last_lsn,
               const std::function<void(const EntryRefs& refs)>& publish)
      EXCLUDES(mu_) {
    Publish(changes, clear_first, nullptr, last_lsn, publish);
  }

  // Read side: kValue with *value and *expiry_ms set, kAbsent (deleted,
  // expired, or cleared by a FLUSHALL RocksDB has not seen), or kMiss (look
  // in RocksDB). `now_ms`: Unix ms, for expiry.
  Hit Lookup(std::string_view key, uint64_t now_ms, std::string* value,
             uint64_t* expiry_ms) const EXCLUDES(mu_);
  // True when `key` has any unapplied state (promotion from RocksDB skips
  // such keys: RocksDB's copy is older).
  bool Contains(std::string_view key) const EXCLUDES(mu_);
  // For SCAN: every dirty key >= `from` with whether it is live, sorted,
  // and in *cleared whether RocksDB's keys are all gone under them (a
  // FLUSHALL pending). A snapshot: taken before RocksDB is read, a key the
  // applier moves meanwhile is in one of the two.
  void KeysFrom(std::string_view from, uint64_t now_ms,
                std::vector<std::pair<std::string, bool>>* keys,
                bool* cleared) const EXCLUDES(mu_);

  // Applier side: a loop of passes (WaitForWork, TakeBatch, FinishBatch).
  // Waits until a pass is due: writes are (active is non-empty and its
  // oldest write is `delay` old, or it is large, or a commit waits for
  // room, or a Sync asks), or SyncPass asks, or `pass_every` (0: never)
  // went by since the last pass; false when stopping and nothing is left.
  bool WaitForWork(std::chrono::milliseconds delay,
                   std::chrono::milliseconds pass_every =
                       std::chrono::milliseconds(0)) EXCLUDES(mu_);
  // Begins a pass: moves active to applying when its writes are due (see
  // WaitForWork), else takes an empty batch. REQUIRES: no batch taken and
  // not finished.
  void TakeBatch(Batch* out) EXCLUDES(mu_);
  // The pass is done (its batch in RocksDB): drops the batch, wakes
  // waiting commits and Syncs.
  void FinishBatch() EXCLUDES(mu_);
  // RocksDB refused the batch: it stays (readable, never dropped); commits
  // that find no room get an error naming `why` from now on.
  void MarkFailed(const std::string& why) EXCLUDES(mu_);
  // Ends WaitForWork once nothing is left; fails waiting commits.
  void Stop() EXCLUDES(mu_);

  // Blocks until everything published before the call is in RocksDB
  // (RANDOMKEY), or the applier has failed (then returns at once).
  void Sync() EXCLUDES(mu_);
  // The same, and until a whole pass began and ended after the call: the
  // applier reclaims expired keys in every pass (ColdStore::ReclaimExpired),
  // so RocksDB's key counts are exact for the moment of the call (DBSIZE).
  // False when it returned without one (the applier failed or stops).
  bool SyncPass() EXCLUDES(mu_);

  struct Counters {
    uint64_t keys = 0, bytes = 0;  // dirty now (both generations)
    uint64_t lag_ms = 0;           // age of the oldest unapplied write
    uint64_t committed_lsn = 0, applied_lsn = 0;
    uint64_t waits = 0;    // commits that waited for room
    uint64_t batches = 0;  // batches applied (passes that took writes)
    uint64_t passes = 0;   // passes, with or without writes
    // Expired values a commit wrote over before the applier took them
    // (so RocksDB never saw them expire: INFO expired_keys adds these).
    uint64_t expired_overwritten = 0;
    uint64_t applied_keys = 0;
    bool failed = false;
  };
  Counters counters() const EXCLUDES(mu_);

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const {
      return std::hash<std::string_view>()(s);
    }
  };
  using Map =
      std::unordered_map<std::string, DirtyEntry, Hash, std::equal_to<>>;
  struct Generation {
    Map map;
    bool clear_first = false;  // a FLUSHALL came before these writes
    uint64_t bytes = 0;
    uint64_t last_lsn = 0;
    uint64_t since_ms = 0;        // its oldest write came (shm::NowMonotonicMs)
    std::optional<DbMap> db_map;  // set by a SWAPDB: RocksDB records it
    bool empty() const { return map.empty() && !clear_first && !db_map; }
    void Reset() {
      map.clear();
      clear_first = false;
      bytes = 0;
      last_lsn = 0;
      db_map.reset();
    }
  };

 public:
  // What an entry counts against max_bytes.
  static uint64_t EntryBytes(std::string_view key, const DirtyEntry& e) {
    return key.size() + e.value.size() + 64;  // 64: node and bookkeeping
  }

 private:
  // `now_ms`: shm::NowMonotonicMs().
  bool Full(uint64_t now_ms, uint64_t incoming) const REQUIRES(mu_);
  // Active's writes are due for the applier (see WaitForWork).
  bool WritesDue(uint64_t now_ms) const REQUIRES(mu_);
  // The prior of `key` entering active (see Publish).
  KeyPrior PriorOf(std::string_view key) const REQUIRES(mu_);
  // The generation holding the oldest unapplied write: the batch being
  // applied, unless the pass took none.
  const Generation& Oldest() const REQUIRES(mu_) {
    return taken_ && !applying_.empty() ? applying_ : active_;
  }
  Hit Find(const Generation& g, std::string_view key, uint64_t now_ms,
           std::string* value, uint64_t* expiry_ms, bool* stop) const;

  const Limits limits_;
  mutable Mutex mu_;
  CondVar work_cv_;  // the applier waits on mu_
  CondVar room_cv_;  // commits and Syncs wait on mu_
  Generation active_ GUARDED_BY(mu_);
  // Written by TakeBatch/FinishBatch under mu_; between them only read (the
  // applier reads it without mu_, see Batch).
  Generation applying_ GUARDED_BY(mu_);
  bool taken_ GUARDED_BY(mu_) = false;  // applying_ holds a batch
  uint64_t committed_lsn_ GUARDED_BY(mu_) = 0;
  uint64_t applied_lsn_ GUARDED_BY(mu_) = 0;
  uint64_t waiting_ GUARDED_BY(mu_) = 0;  // commits in WaitForRoom
  // The newest LSN a Sync waits for, and the newest pass a SyncPass waits
  // for: writes are due while either is not yet taken.
  uint64_t sync_lsn_ GUARDED_BY(mu_) = 0;
  uint64_t pass_wanted_ GUARDED_BY(mu_) = 0;
  uint64_t expired_overwritten_ GUARDED_BY(mu_) = 0;
  // Passes begun (TakeBatch) and finished; passes run one at a time.
  uint64_t passes_begun_ GUARDED_BY(mu_) = 0;
  uint64_t passes_done_ GUARDED_BY(mu_) = 0;
  uint64_t last_pass_ms_ GUARDED_BY(mu_);  // shm::NowMonotonicMs()
  uint64_t delay_ms_ GUARDED_BY(mu_) = 0;  // WaitForWork's `delay`
  uint64_t waits_ GUARDED_BY(mu_) = 0, batches_ GUARDED_BY(mu_) = 0,
                  applied_keys_ GUARDED_BY(mu_) = 0;
  bool stop_ GUARDED_BY(mu_) = false;
  std::string failure_ GUARDED_BY(mu_);  // non-empty: the applier failed
};

}  // namespace ember::server
