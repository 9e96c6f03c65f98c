// server/cold_store.h: the cold tier, RocksDB behind a small interface: the
// checkpoint of the redo log (DESIGN.md "Durability"). The applier writes
// it with RocksDB's WAL off; each batch records the LSN it brings the store
// up to (applied_lsn, in the column family "ember_meta"), and atomic_flush
// puts the data and that LSN on disk together, so after a crash the store
// is exactly its state at some applied_lsn and the log replays the rest.
// Each value carries its expiry. The store keeps, in the same batches as
// the keys, how many keys each database holds and an index of the keys by
// expiry (the column family "ember_expiry"), by which ReclaimExpired
// deletes expired keys (cold_counts.cc). rocksdb::Status stops in
// cold_store.cc and cold_counts.cc and becomes shm::Status.
// Thread safety: Get/Count/Scan from any thread; Apply, ReclaimExpired and
// Flush from one thread at a time.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "server/config.h"
#include "server/db_keyspace.h"
#include "server/key_prior.h"
#include "server/thread_annotations.h"
#include "shm/status.h"

namespace rocksdb {
class ColumnFamilyHandle;
class DB;
class Env;
class WriteBatch;
}  // namespace rocksdb

namespace ember::server {

// One mutation of a group commit. The bytes are the caller's (the writer's
// batch overlay): views that must stay valid for the Write call.
struct ColdOp {
  std::string_view key;
  std::string_view value;  // unused for deletes
  uint64_t expiry_ms = 0;  // Unix ms; 0 = never
  bool is_delete = false;
};

class ColdStore {
 public:
  // Opens (creating if missing) the database in `dir`. kIOError names the
  // directory and RocksDB's reason (unwritable, locked by another server).
  // `env`: the file system RocksDB uses (null: the real one); tests pass
  // one that injects faults. REQUIRES: `env` outlives the store.
  static shm::Status Open(const std::string& dir,
                          std::unique_ptr<ColdStore>* out,
                          rocksdb::Env* env = nullptr);
  ~ColdStore();  // flushes (unless a write failed) and closes

  // Table files RocksDB keeps open at most (its max_open_files), and the
  // other descriptors it may hold (WALs, MANIFEST, LOG, LOCK, files being
  // flushed or compacted): the open-files budget reserves both, so idle
  // client sockets can never make a RocksDB open fail.
  static constexpr int kMaxOpenFiles = 1000;
  static constexpr int kOtherFiles = 24;

  // The live value of `key` and its expiry. kNotFound when absent or
  // expired (an expired key is invisible even before compaction drops it).
  shm::Status Get(std::string_view key, std::string* value,
                  uint64_t* expiry_ms) const;
  // Applies `ops` atomically as one WriteBatch with the WAL off, after
  // removing every key first when `clear_first` (FLUSHALL: one range
  // tombstone, not a delete per key), and records `applied_lsn` in the same
  // batch. Visible to readers at once; on disk after Flush(). After a
  // failed write or flush (a full or failing disk: RocksDB stops writes
  // after a failed background flush) the store refuses every later write
  // with a kIOError that names the first failure; reads go on. Nothing is
  // lost by that: the redo log still holds every record after the durable
  // applied_lsn, and a restart replays them. `db_map` (null: unchanged): a
  // SWAPDB's database map, recorded in ember_meta in the same batch.
  // `priors` (null: none known): per op, the key's state in the store
  // before the batch when the caller knows it (kAbsent, kPresent), which
  // spares the read; used only when `ops` are sorted and distinct, and not
  // for a present value with an expiry (ReclaimExpired may have taken it).
  // REQUIRES: a known prior is the store's state (the counts and the index
  // trust it).
  shm::Status Apply(const std::vector<ColdOp>& ops, bool clear_first,
                    uint64_t applied_lsn, const DbMap* db_map = nullptr,
                    const std::vector<KeyPrior>* priors = nullptr);
  // The database map as of applied_lsn (the identity until a SWAPDB).
  // Read it where Apply is called, or before the applier starts.
  const DbMap& db_map() const { return db_map_; }
  // Writes the memtables to table files (every column family at once) and
  // waits: everything applied before the call is on disk after a kOk.
  shm::Status Flush();
  // The applied_lsn of the last Apply (at Open: the one on disk; 0 for a
  // new store).
  uint64_t applied_lsn() const {
    return applied_lsn_.load(std::memory_order_acquire);
  }
  // How many keys the store holds, kept with every batch (not a scan):
  // expired keys count until ReclaimExpired deletes them. With `expires`,
  // also how many of them have an expiry. Exact for the batches applied
  // before the call.
  uint64_t CountKeys(uint64_t* expires = nullptr) const EXCLUDES(count_mu_);
  // The same for the keys whose first byte is `db` (one database's,
  // server/db_keyspace.h; an empty key counts in database 0).
  uint64_t CountKeysDb(uint8_t db, uint64_t* expires = nullptr) const
      EXCLUDES(count_mu_);
  // Deletes keys whose expiry is at or before `now_ms` (Unix ms) with
  // their index entries, in batches of 4096 (the counts drop with them),
  // at most 16 batches a call: when more are left, earliest_expiry_ms()
  // stays at or before `now_ms` and the next call goes on. *reclaimed (if
  // given) gets how many. Redis's active expiry: the applier calls it on
  // every pass. Nothing is logged: an expired key is invisible already,
  // and one a crash brings back is reclaimed again. An error is a read of
  // the index (nothing changed) or the write's (see Apply).
  shm::Status ReclaimExpired(uint64_t now_ms, uint64_t* reclaimed = nullptr);
  // No key expires before this (Unix ms; UINT64_MAX when none has an
  // expiry): when it is in the future, nothing is left to reclaim and
  // CountKeys counts live keys only. A lower bound, raised by
  // ReclaimExpired, lowered by Apply. Any thread.
  uint64_t earliest_expiry_ms() const {
    return earliest_expiry_ms_.load(std::memory_order_acquire);
  }
  // Keys that left for their expiry since Open (Redis's expired_keys):
  // deleted by ReclaimExpired, or found expired by an Apply that wrote over
  // or deleted them. A key whose expired value never reached RocksDB (a
  // write over it while it was dirty) is not counted.
  uint64_t expired_keys() const {
    return expired_keys_.load(std::memory_order_relaxed);
  }
  // Up to `count` live keys after cursor position `cursor` (SCAN): returns
  // the next cursor key ("" when done).
  std::string ScanFrom(const std::string& cursor, size_t count,
                       std::vector<std::string>* keys) const;
  // A live key picked at random (RANDOMKEY): false when there is none.
  // A random walk down the keys' byte trie (cold_random_key.cc): uniform
  // over keys that differ in the same byte positions (user:0 .. user:9),
  // skewed elsewhere; a key after a gap in a byte's range comes up more.
  // With `prefix`, only keys that start with it are picked (one database).
  bool RandomKey(std::string* key, std::string_view prefix = {}) const;
  // True once a write failed (see Apply): writes are refused from then on.
  bool write_failed() const { return failed_.load(std::memory_order_acquire); }
  uint64_t LatestSequence() const;
  uint64_t ApproximateBytes() const;
  const std::string& dir() const { return dir_; }
  // Names this database (a hash of RocksDB's identity; never 0): an arena
  // records the store it was filled from.
  uint64_t store_id() const { return store_id_; }

 private:
  ColdStore() = default;
  // At Open: a store whose keys lack the database byte (no key_format in
  // ember_meta) gets it, every key into database 0, in one batch.
  shm::Status ConvertToDatabases();
  // Writes `batch` (WAL off), unless an earlier write failed; `what`
  // prefixes the error message.
  shm::Status WriteBatch(rocksdb::WriteBatch* batch, const char* what);

  std::string dir_;
  std::unique_ptr<rocksdb::DB> db_;
  // Column family handles: [0] default (the keys), [1] ember_meta,
  // [2] ember_expiry (ExpiryIndexKey -> "").
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  std::atomic<uint64_t> applied_lsn_{0};
  uint64_t store_id_ = 0;
  DbMap db_map_ = IdentityDbMap();  // written by Open and Apply
  // Keys and keys with an expiry, per first byte of the key (a database).
  struct KeyCounts {
    std::array<uint64_t, 256> keys{}, expires{};
  };
  // At Open: the counts recorded in ember_meta, or (a store written before
  // Ember kept them) counted with the expiry index built, once.
  shm::Status LoadKeyCounts() EXCLUDES(count_mu_);
  shm::Status RebuildKeyCounts() EXCLUDES(count_mu_);
  // Stages in `batch` what `ops` (after a clear when `clear_first`) do to
  // the expiry index and the counts; *next: the counts after the batch,
  // *expired: how many keys it writes over had expired.
  shm::Status StageCounts(const std::vector<ColdOp>& ops,
                          const std::vector<KeyPrior>* priors, bool clear_first,
                          rocksdb::WriteBatch* batch, KeyCounts* next,
                          uint64_t* expired) EXCLUDES(count_mu_);
  // Stages `counts` (as of `lsn`) into ember_meta.
  void PutKeyCounts(const KeyCounts& counts, uint64_t lsn,
                    rocksdb::WriteBatch* batch);
  // Stages a removal of every key of column family `handle` (one range
  // tombstone and one point delete).
  shm::Status StageClear(rocksdb::ColumnFamilyHandle* handle,
                         rocksdb::WriteBatch* batch);
  mutable Mutex count_mu_;
  KeyCounts counts_ GUARDED_BY(count_mu_);
  // EMBER_VERIFY_PRIORS set in the environment (the tests that kill and
  // restart servers): Apply reads the keys whose prior it would trust, and
  // aborts the server, logging why, when one differs.
  bool verify_priors_ = false;
  std::atomic<uint64_t> earliest_expiry_ms_{0};
  std::atomic<uint64_t> expired_keys_{0};
  // Records the first failure (a write or a flush) and stops writes.
  void MarkFailed(const std::string& why) EXCLUDES(failure_mu_);
  // Set once by MarkFailed; read by WriteBatch.
  std::atomic<bool> failed_{false};
  Mutex failure_mu_;  // serializes MarkFailed
  // The first failure: written (under failure_mu_) before failed_ is set,
  // read without the lock once failed_ reads true.
  std::string failure_;
};

// Value encoding in RocksDB: 8-byte little-endian expiry, then the bytes.
// Its first 8 bytes alone, into out[0..8).
void EncodeColdHeader(uint64_t expiry_ms, char* out);
std::string EncodeColdValue(std::string_view value, uint64_t expiry_ms);
bool DecodeColdValue(std::string_view stored, std::string_view* value,
                     uint64_t* expiry_ms);
// True when `stored` decodes and has not expired at `now_ms` (Unix ms);
// *expiry_ms (if given) is its expiry. Expired keys wait for
// ReclaimExpired, so every walk over RocksDB's keys asks this.
bool IsLiveColdValue(std::string_view stored, uint64_t now_ms,
                     uint64_t* expiry_ms = nullptr);
// A key of the expiry index: the expiry (Unix ms) big-endian, so the index
// is in expiry order, then the stored key.
std::string ExpiryIndexKey(uint64_t expiry_ms, std::string_view key);

}  // namespace ember::server
