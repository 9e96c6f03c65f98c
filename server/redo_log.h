// server/redo_log.h: the redo log's writer (DESIGN.md "The redo log"; the
// bytes are in log_record.h). A group commit hands it whole records and
// gets them back durable as `fsync` says: always, fdatasync before Append
// returns; everysec, a thread calls fdatasync once a second; no, never (the
// OS writes back). Segments are files `log-<first LSN, 20 digits>.ember`
// in the log directory, preallocated to segment_bytes and written in
// place; a commit that does not fit starts the next segment. Release()
// deletes the segments RocksDB no longer needs.
//
// Failure: a write, sync or segment creation that fails refuses that
// Append (the commit is answered with an error, nothing of it published).
// A failed fdatasync (the kernel may have dropped the dirty pages) and a
// short write stop the log for good: every later Append is refused with a
// message naming the first failure until a restart, whose recovery reads
// what did reach the disk. A segment that cannot be created (a full disk)
// is retried by the next Append.
// A failed write may have left part of its bytes: they are overwritten
// with zeros (and synced) before the error returns, so no part of a
// refused commit can be replayed; if that fails too, the log stops.
// Thread safety: Append from one thread at a time (the committer); Release
// from another (the applier) concurrently: the segment list is under mu_,
// and Release never touches the current segment. The accessors from any
// thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include "server/config.h"
#include "server/thread_annotations.h"
#include "shm/run_dir.h"
#include "shm/status.h"

namespace ember::server {

class RedoLog {
 public:
  struct Options {
    std::string dir;  // created 0750 when missing (shm::RunDir's checks)
    FsyncMode fsync = FsyncMode::kEverySec;
    uint64_t segment_bytes = 64 << 20;
  };
  // Opens the log directory and locks it (flock on LOCK: one server per
  // log). Recovery reads the segments there; then Start. kIOError naming
  // the directory on failure.
  static shm::Status Open(const Options& options,
                          std::unique_ptr<RedoLog>* out);
  // Starts a new segment whose first record will be `next_lsn` (and the
  // sync thread). REQUIRES: called once, before Append.
  shm::Status Start(uint64_t next_lsn);
  ~RedoLog();  // syncs (unless failed), closes

  // Appends `records` (whole records whose LSNs run up to `last_lsn`) with
  // one write, then syncs when fsync=always. kOk: durable as fsync says.
  shm::Status Append(std::string_view records, uint64_t last_lsn) EXCLUDES(mu_);
  // Deletes every finished segment whose records all have LSN <=
  // `durable_lsn` (RocksDB holds them on disk).
  void Release(uint64_t durable_lsn) EXCLUDES(mu_);

  // Every record up to this LSN is on disk (0: none yet). Commits write it
  // into their records (log_record.h).
  uint64_t synced_lsn() const {
    return synced_lsn_.load(std::memory_order_acquire);
  }
  bool failed() const { return failed_.load(std::memory_order_acquire); }
  uint64_t bytes() const { return bytes_.load(std::memory_order_relaxed); }
  uint64_t segments() const {
    return segments_.load(std::memory_order_relaxed);
  }
  // The last LSN of the oldest finished segment (UINT64_MAX: none): the
  // applier flushes RocksDB once it has applied that far.
  uint64_t oldest_finished_lsn() const EXCLUDES(mu_);
  uint64_t syncs() const { return syncs_.load(std::memory_order_relaxed); }
  const std::string& dir() const { return dir_.path(); }

  // The file name of the segment that starts at `first_lsn`.
  static std::string SegmentName(uint64_t first_lsn);
  // Parses a SegmentName; false for any other name.
  static bool ParseSegmentName(std::string_view name, uint64_t* first_lsn);

 private:
  struct Segment {
    std::string name;
    uint64_t first_lsn = 0, last_lsn = 0;  // last_lsn 0: no record yet
    uint64_t bytes = 0;                    // written, header included
  };
  RedoLog() = default;
  // Creates and preallocates the segment starting at `first_lsn`, syncs
  // it and the directory (so it exists after a crash), makes it current.
  shm::Status StartSegment(uint64_t first_lsn) EXCLUDES(mu_);
  // Stops the log for good (see the top of this file).
  void Fail(const std::string& why) EXCLUDES(mu_);
  void SyncLoop() EXCLUDES(mu_);
  // The current segment's descriptor, duplicated (-1: none): a sync runs
  // on its own descriptor, outside mu_, while Append goes on.
  int DupCurrent() EXCLUDES(mu_);

  Options options_;
  shm::RunDir dir_;
  int lock_fd_ = -1;
  // Only the appending thread touches fd_ and offset_ outside mu_; mu_
  // guards the segment list and fd_'s replacement.
  int fd_ = -1;
  uint64_t offset_ = 0;  // where the next record goes in the current segment
  uint64_t next_lsn_ = 0;
  mutable Mutex mu_;
  CondVar cv_;  // waits on mu_ (the sync thread's second)
  std::deque<Segment> segments_list_ GUARDED_BY(mu_);  // oldest first
  bool stop_ GUARDED_BY(mu_) = false;
  std::string failure_ GUARDED_BY(mu_);
  std::atomic<bool> failed_{false};
  std::atomic<uint64_t> bytes_{0}, segments_{0}, syncs_{0};
  std::atomic<uint64_t> written_lsn_{0};  // the last record written
  std::atomic<uint64_t> synced_lsn_{0};   // see synced_lsn()
  std::thread syncer_;
};

}  // namespace ember::server
