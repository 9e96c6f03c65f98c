// server/writer.cc: the queue and who drains it: Submit, the inline Flush on
// a network thread, the writer thread's loop, replies to their event loops.
// The commit itself is in writer_commit.cc.
#include "server/writer.h"

#include <pthread.h>

#include <algorithm>

namespace ember::server {
namespace {
constexpr size_t kMaxBatch = 1024;  // jobs per group commit
// Inline mode: a round with at least this many queued jobs is committed by
// the writer thread instead (see Flush).
constexpr size_t kInlineMaxJobs = 64;
}  // namespace

Writer::Writer(const Config& config, ColdStore* cold, shm::ArenaWriter* arena,
               ServerInfo* info, Stats* stats, WriteBack wb)
    : config_(config),
      cold_(cold),
      log_(cold != nullptr ? wb.log : nullptr),
      dirty_(cold != nullptr ? wb.dirty : nullptr),
      arena_(arena),
      info_(info),
      stats_(stats),
      inline_commit_(config.fsync != FsyncMode::kAlways),
      limits_{arena->header().geo.max_key_bytes, arena->header().geo.page_bytes,
              config.max_value_bytes_hot},
      started_(kStartedSlots, 0),
      next_lsn_(wb.next_lsn) {}

Writer::~Writer() { Stop(); }

void Writer::Start() {
  {
    // The committer reads through its own slot, sharing the writer's
    // mapping; whichever thread holds commit_mu_ uses it.
    MutexLock lock(&commit_mu_);
    shm::ArenaReader::Attach(*arena_, &reader_);
  }
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "ember-writer");
    Run();
  });
}

void Writer::Stop() {
  {
    MutexLock lock(&mu_);
    stop_ = true;
  }
  cv_.Signal();
  if (thread_.joinable()) thread_.join();
  MutexLock lock(&commit_mu_);
  reader_.reset();
}

void Writer::Submit(std::vector<WriteJob>* jobs) {
  if (jobs->empty()) return;
  asio::io_context* io = jobs->front().io;
  bool wake = false;
  bool post = false;
  {
    MutexLock lock(&mu_);
    for (WriteJob& j : *jobs) queue_.push_back(std::move(j));
    if (inline_commit_) {
      // A deep queue (pipelines) goes to the writer thread at once, so its
      // commit overlaps this thread's parsing of the rest of the round; and
      // while that thread is busy, everything else joins it.
      if (queue_.size() >= kInlineMaxJobs || taken_over_) {
        handoff_ = true;
        wake = waiting_;
      }
      bool& posted = FlushPosted(io);
      post = !posted;
      posted = true;
    } else {
      wake = waiting_;  // a busy writer finds them without a futex call
    }
  }
  jobs->clear();
  // Posted, not run here: handlers already ready in this round (other
  // connections' reads) run first and join the same group commit.
  if (post) asio::post(*io, [this, io] { Flush(io); });
  if (wake) cv_.Signal();
}

bool& Writer::FlushPosted(asio::io_context* io) {
  for (auto& [loop, posted] : flush_posted_) {
    if (loop == io) return posted;
  }
  return flush_posted_.emplace_back(io, false).second;
}

void Writer::SubmitFill(std::string key, std::string value, uint64_t expiry_ms,
                        uint64_t token, bool from_dirty) {
  MutexLock lock(&mu_);
  if (fills_.size() < 4096) {  // promotion is best effort under load
    fills_.push_back(
        {std::move(key), std::move(value), expiry_ms, token, from_dirty});
  }
}

size_t Writer::StartedIndex(std::string_view key) const {
  return arena_->HashOf(key) & (kStartedSlots - 1);
}

void Writer::Flush(asio::io_context* io) {
  {
    // Cleared before draining: jobs queued from now on post a new Flush.
    MutexLock lock(&mu_);
    FlushPosted(io) = false;
    // Handed off: the writer thread commits all that is queued, and will
    // see the jobs of this round (handoff_ was set after its last clear).
    if (handoff_) return;
  }
  Deliveries out;
  {
    MutexLock lock(&commit_mu_);
    Drain(io, &out);
  }
  Deliver(&out, io);
}

void Writer::Run() {
  while (true) {
    bool stopping = false;
    {
      MutexLock lock(&mu_);
      // Inline commits: network threads commit; this thread drains what
      // is left and ticks, so it sleeps its millisecond even with jobs
      // queued.
      if (!stop_ && !handoff_ && (inline_commit_ || queue_.empty())) {
        waiting_ = true;
        const auto deadline =
            std::chrono::steady_clock::now() + std::chrono::milliseconds(1);
        while (!stop_ && !handoff_ && (inline_commit_ || queue_.empty()) &&
               cv_.WaitUntil(&mu_, deadline)) {
        }
        waiting_ = false;
      }
      taken_over_ = handoff_;
      handoff_ = false;
      stopping = stop_;
    }
    Deliveries out;
    {
      MutexLock lock(&commit_mu_);
      Drain(nullptr, &out);
    }
    Deliver(&out, nullptr);
    if (stopping) {
      MutexLock lock(&mu_);
      if (queue_.empty()) return;  // else a late Submit: one more round
    }
  }
}

void Writer::Drain(asio::io_context* here, Deliveries* out) {
  std::vector<WriteJob> jobs;
  std::deque<Fill> fills;
  while (true) {
    {
      MutexLock lock(&mu_);
      while (!queue_.empty() && jobs.size() < kMaxBatch) {
        jobs.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      if (jobs.empty()) {
        fills.swap(fills_);
        // The queue ran dry: commits go back to the network threads (until
        // the next deep queue), whoever drained it.
        taken_over_ = false;
      }
    }
    if (jobs.empty()) break;
    Commit(&jobs, out);
    if (here != nullptr)
      stats_->inline_commits.fetch_add(1, std::memory_order_relaxed);
    jobs.clear();
    // Other loops' replies leave now, not after the whole drain: their
    // clients wait for them to send more.
    Deliveries others;
    for (auto& e : *out) {
      if (e.first != here) others.push_back(std::move(e));
    }
    std::erase_if(*out, [here](const auto& e) { return e.first != here; });
    Deliver(&others, here);
  }
  for (const Fill& f : fills) ApplyFill(f);
  // Whoever holds commit_mu_ ticks (epoch, reclamation, expiry sweep) when
  // it is due: under write load network threads hold it most of the time,
  // and the writer thread alone could fall behind (a mutex is not fair).
  // The heartbeat is not here: the arena's broker thread beats it.
  const auto now = std::chrono::steady_clock::now();
  if (now - last_tick_ >= std::chrono::milliseconds(1)) {
    arena_->Tick();
    last_tick_ = now;
  }
}

void Writer::Deliver(Deliveries* out, asio::io_context* here) {
  for (auto& [io, delivery] : *out) {
    if (io == here) {
      for (auto& [done, reply] : delivery) done(std::move(reply));
    } else {
      asio::post(*io, [d = std::move(delivery)]() mutable {
        for (auto& [done, reply] : d) done(std::move(reply));
      });
    }
  }
  out->clear();
}

}  // namespace ember::server
