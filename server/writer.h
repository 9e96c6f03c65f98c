// server/writer.h: the single writer. Network threads queue commands that
// change data (and, on a connection with writes in flight, reads too, so
// replies keep request order); a group commit runs a batch of them against
// an overlay, appends one redo record per changed key to the log with one
// write (synced as `fsync` says), moves the changes into the dirty table,
// publishes them to the arena, and only then replies; the applier brings
// RocksDB up to date behind (DESIGN.md "Durability"). It also installs cold
// hits in the arena (promotion) unless a write to the same key started
// after the reader took its fill token, or the key is dirty.
//
// With no cold tier (cold_tier = none) the arena is the only copy, and no
// write it cannot take is acknowledged. Each job is published before the
// next runs (there is no WriteBatch to share), so a refused job is answered
// alone: over a limit (Keyspace::CheckStore, before anything changes) with
// ERR, arena full (Put's kBusy) with Redis's OOM error, and its changes are
// undone. The undo is best effort: Put's kBusy has already dropped the old
// value from the arena, and putting it back can fail the same way; then the
// key is gone, as if evicted (INFO oom_keys_dropped counts those).
//
// Who runs a group commit. With fsync=always, the writer thread: a commit
// waits for the disk, and network threads keep serving reads meanwhile.
// Otherwise the network thread that queued the jobs, at the end of its
// event-loop round (a posted Flush), under commit_mu_: no thread hand-off
// and no wake-up on the write path, and a round's writes from every
// connection of the thread share one WriteBatch. Once 64 jobs or more are
// queued (deep pipelines), the writer thread takes over until the queue is
// empty: its commits then overlap the network thread's parsing. Whoever holds
// commit_mu_ commits everything queued, other threads' jobs too, and posts
// their replies to their event loops, and ticks the arena (epochs,
// reclamation, expiry sweep) once a millisecond has passed; the writer thread
// wakes every millisecond to drain leftovers and tick an idle arena.
// Thread safety: Submit/SubmitFill/completed_seq from any thread.
#pragma once

#include <asio.hpp>
#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "server/cold_store.h"
#include "server/command_table.h"
#include "server/dirty_table.h"
#include "server/keyspaces.h"
#include "server/stats.h"
#include "server/thread_annotations.h"
#include "shm/arena_reader.h"
#include "shm/arena_writer.h"

namespace ember::server {

struct WriteJob {
  const CommandSpec* spec;
  Args args;
  // The connection's event loop, and what to run there with the reply.
  // After each group commit the writer posts one closure per event loop
  // carrying all of its replies, in order: one wake-up, not one per reply.
  asio::io_context* io;
  std::function<void(std::string)> done;
  uint8_t db = 0;  // the connection's SELECTed database when queued
};

class RedoLog;

// The durable path of a server with a cold tier: the log commits append
// to, the dirty table they publish to, and the LSN the next record gets.
struct WriteBack {
  RedoLog* log = nullptr;
  DirtyTable* dirty = nullptr;
  uint64_t next_lsn = 1;
};

class Writer {
 public:
  // `cold` may be null (cold_tier = none); then `wb` is unused. Otherwise
  // wb.log and wb.dirty are set. All pointers outlive the Writer.
  Writer(const Config& config, ColdStore* cold, shm::ArenaWriter* arena,
         ServerInfo* info, Stats* stats, WriteBack wb = {});
  ~Writer();  // Stop()
  void Start() EXCLUDES(commit_mu_);
  // Finishes every queued job, then joins the thread.
  void Stop() EXCLUDES(commit_mu_, mu_);

  // Queues jobs, in order; one lock and at most one wake-up or post per
  // call. REQUIRES: all jobs share one event loop, and a network thread
  // submits only jobs of its own event loop.
  void Submit(std::vector<WriteJob>* jobs) EXCLUDES(mu_);
  // Offers a cold hit for promotion. `token` is completed_seq() read before
  // the cold read began.
  // `from_dirty`: the value came from the dirty table (the newest state
  // when read), not from RocksDB (older than any dirty state of the key).
  void SubmitFill(std::string key, std::string value, uint64_t expiry_ms,
                  uint64_t token, bool from_dirty = false) EXCLUDES(mu_);
  uint64_t completed_seq() const {
    return completed_.load(std::memory_order_acquire);
  }
  // Null without a cold tier.
  DirtyTable* dirty() const { return dirty_; }
  // The published database map (the arena header's, which LocalClient
  // reads too): database `db` as clients number it is the stored keys
  // whose first byte is this. Any thread.
  uint8_t PhysicalDb(uint8_t db) const { return arena_->db_map(db); }
  // Changes with every SWAPDB's publication: a read that mapped databases
  // before and finds another value after ran across a swap (Connection
  // runs it again). Any thread.
  uint64_t db_map_seq() const { return arena_->db_map_seq(); }
  // The published map at one moment between swaps. Any thread.
  DbMap PublishedDbMap() const;

 private:
  struct Fill {
    std::string key, value;
    uint64_t expiry_ms;
    uint64_t token;
    bool from_dirty;
  };
  // Replies of one commit, grouped by the event loop that must send them.
  using Delivery =
      std::vector<std::pair<std::function<void(std::string)>, std::string>>;
  using Deliveries = std::vector<std::pair<asio::io_context*, Delivery>>;

  void Run() EXCLUDES(commit_mu_, mu_);
  // On a network thread, `io`'s: commits what is queued, then sends the
  // replies of `io`'s own connections directly.
  void Flush(asio::io_context* io) EXCLUDES(commit_mu_, mu_);
  // Commits every queued job, in batches of at most kMaxBatch, then applies
  // queued fills, and ticks the arena when a millisecond has passed since
  // the last tick. Replies for event loop `here` (null: none) go to `*out`;
  // the others are posted after each batch.
  void Drain(asio::io_context* here, Deliveries* out) REQUIRES(commit_mu_)
      EXCLUDES(mu_);
  // Runs `jobs`, publishes their changes, and queues the replies on `out`.
  void Commit(std::vector<WriteJob>* jobs, Deliveries* out)
      REQUIRES(commit_mu_);
  // The steps of Commit. With a cold tier: the batch on one overlay, one
  // WriteBatch. Without: job by job (see the top of this file).
  void RunBatch(const std::vector<WriteJob>& jobs,
                std::vector<std::string>* replies) REQUIRES(commit_mu_);
  void RunEach(const std::vector<WriteJob>& jobs,
               std::vector<std::string>* replies) REQUIRES(commit_mu_);
  // Publishes `ks`'s changes under one sequence number. With a cold tier:
  // room in the dirty table, intents, the log, the dirty table, the arena;
  // not kOk: nothing of the changes published (the log or the applier
  // failed). Without: intents, the arena; not kOk: the arena refused a
  // change and the job was undone. *cleared: a FLUSHALL's clear happened.
  shm::Status Publish(BatchKeyspace& ks, bool* cleared) REQUIRES(commit_mu_);
  shm::Status PublishLogged(BatchKeyspace& ks, bool* cleared)
      REQUIRES(commit_mu_);
  // A commit of batch `seq` is about to change `key`: its fill-token
  // bucket, and its intent (ticket appended to *tickets; with the ring full
  // the key leaves the arena instead).
  void BeginWrite(std::string_view key, uint64_t seq,
                  std::vector<int64_t>* tickets) REQUIRES(commit_mu_);
  void ApplyFill(const Fill& f) REQUIRES(commit_mu_);
  static constexpr size_t kStartedSlots = size_t{1} << 16;  // fill tokens
  size_t StartedIndex(std::string_view key) const;
  // Runs replies for `here` in place (REQUIRES: on its thread; commit_mu_
  // not held, a reply may lead to another Submit) and posts the others.
  static void Deliver(Deliveries* out, asio::io_context* here);
  // The flag "a Flush is posted to `io` and has not started".
  bool& FlushPosted(asio::io_context* io) REQUIRES(mu_);

  const Config& config_;
  ColdStore* cold_;
  RedoLog* log_;
  DirtyTable* dirty_;
  shm::ArenaWriter* arena_;
  ServerInfo* info_;
  Stats* stats_;
  const bool inline_commit_;  // network threads commit (fsync != always)
  const ArenaLimits limits_;  // checked when there is no cold tier

  // Lock order: commit_mu_, then mu_ (Drain takes the queue under it).
  // Held while committing, applying fills or ticking.
  Mutex commit_mu_ ACQUIRED_BEFORE(mu_);
  // The committer's own slot.
  std::unique_ptr<shm::ArenaReader> reader_ GUARDED_BY(commit_mu_);
  // Fill tokens: per key-hash bucket, the batch that last started writing a
  // key there; completed_ is the last batch fully published.
  std::vector<uint64_t> started_ GUARDED_BY(commit_mu_);
  uint64_t next_seq_ GUARDED_BY(commit_mu_) = 0;
  uint64_t next_lsn_ GUARDED_BY(commit_mu_);    // the next log record's
  std::string log_buf_ GUARDED_BY(commit_mu_);  // one commit's records
  // The last batch that ran FLUSHALL.
  uint64_t cleared_seq_ GUARDED_BY(commit_mu_) = 0;
  // When arena_->Tick() last ran.
  std::chrono::steady_clock::time_point last_tick_ GUARDED_BY(commit_mu_){};
  std::atomic<uint64_t> completed_{0};

  Mutex mu_;
  CondVar cv_;  // waits on mu_
  std::deque<WriteJob> queue_ GUARDED_BY(mu_);
  std::deque<Fill> fills_ GUARDED_BY(mu_);
  bool stop_ GUARDED_BY(mu_) = false;
  bool waiting_ GUARDED_BY(mu_) = false;     // the writer sleeps on cv_
  bool handoff_ GUARDED_BY(mu_) = false;     // a deep queue, the thread's
  bool taken_over_ GUARDED_BY(mu_) = false;  // the thread drains a handoff
  std::vector<std::pair<asio::io_context*, bool>> flush_posted_ GUARDED_BY(mu_);
  std::thread thread_;
};

}  // namespace ember::server
