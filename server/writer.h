// server/writer.h: the one writer thread. Network threads queue commands
// that change data (and, on a connection with writes in flight, reads too,
// so replies keep request order); the writer runs a batch of them against
// an overlay, writes one RocksDB WriteBatch (group commit, synced as
// `fsync` says), publishes the result to the arena, and only then replies.
// It also installs cold hits in the arena (promotion) unless a write to the
// same key started after the reader took its fill token.
// Thread safety: Submit/SubmitFill/completed_seq from any thread.
#pragma once

#include <asio.hpp>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "server/cold_store.h"
#include "server/command_table.h"
#include "server/stats.h"
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
};

class Writer {
 public:
  // `cold` may be null (cold_tier = none). All pointers outlive the Writer.
  Writer(const Config& config, ColdStore* cold, shm::ArenaWriter* arena,
         ServerInfo* info, Stats* stats);
  ~Writer();  // Stop()
  void Start();
  // Finishes every queued job, then joins the thread.
  void Stop();

  // Queues jobs, in order; one lock and at most one wake-up per call.
  void Submit(std::vector<WriteJob>* jobs);
  // Offers a cold hit for promotion. `token` is completed_seq() read before
  // the cold read began.
  void SubmitFill(std::string key, std::string value, uint64_t expiry_ms,
                  uint64_t token);
  uint64_t completed_seq() const {
    return completed_.load(std::memory_order_acquire);
  }

 private:
  struct Fill {
    std::string key, value;
    uint64_t expiry_ms;
    uint64_t token;
  };
  void Run();
  void Commit(std::vector<WriteJob>* jobs);
  void ApplyFill(const Fill& f);
  size_t StartedIndex(std::string_view key) const;

  const Config& config_;
  ColdStore* cold_;
  shm::ArenaWriter* arena_;
  ServerInfo* info_;
  Stats* stats_;
  std::unique_ptr<shm::ArenaReader> reader_;  // the writer thread's own

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<WriteJob> queue_;  // GUARDED_BY(mu_)
  std::deque<Fill> fills_;      // GUARDED_BY(mu_)
  bool stop_ = false;           // GUARDED_BY(mu_)
  bool waiting_ = false;        // GUARDED_BY(mu_): the writer sleeps on cv_
  std::thread thread_;

  // Fill tokens: per key-hash bucket, the batch that last started writing
  // a key there; completed_ is the last batch fully published.
  std::vector<uint64_t> started_;
  uint64_t next_seq_ = 0;
  uint64_t cleared_seq_ = 0;  // the last batch that ran FLUSHALL
  std::atomic<uint64_t> completed_{0};
};

}  // namespace ember::server
