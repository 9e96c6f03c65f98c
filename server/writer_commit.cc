// server/writer_commit.cc: one group commit, in steps: run the jobs on an
// overlay, publish (intents, RocksDB, the arena, intents ended), reply; and
// promotion of cold hits.
#include <algorithm>

#include "protocol/resp_writer.h"
#include "server/commands.h"
#include "server/keyspaces.h"
#include "server/writer.h"

namespace ember::server {

void Writer::Commit(std::vector<WriteJob>* jobs, Deliveries* out) {
  std::vector<std::string> replies(jobs->size());
  RunBatch(*jobs, &replies);
  // Grouped per event loop (usually a handful), in job order within each:
  // one wake-up per loop and batch, not one per reply.
  for (size_t i = 0; i < jobs->size(); ++i) {
    WriteJob& job = (*jobs)[i];
    auto it = std::find_if(out->begin(), out->end(),
                           [&](const auto& e) { return e.first == job.io; });
    if (it == out->end()) it = out->insert(out->end(), {job.io, Delivery()});
    it->second.emplace_back(std::move(job.done), std::move(replies[i]));
  }
}

void Writer::RunBatch(const std::vector<WriteJob>& jobs,
                      std::vector<std::string>* replies) {
  BatchKeyspace ks(reader_.get(), cold_);
  Session session;  // auth was checked when the job was queued
  session.authenticated = true;
  for (size_t i = 0; i < jobs.size(); ++i) {
    CommandContext ctx{&ks, &session, info_};
    Execute(*jobs[i].spec, jobs[i].args, ctx, &(*replies)[i]);
  }
  if (ks.changes().empty() && !ks.clear_all()) return;
  bool cleared = false;
  const shm::Status s = Publish(ks, &cleared);
  if (s.ok()) return;
  // Nothing of the changes was published: the arena still matches RocksDB.
  // Every reply of the batch was computed on the overlay, reads too, so all
  // fail, except a FLUSHALL whose clear did happen.
  stats_->cold_write_errors.fetch_add(1, std::memory_order_relaxed);
  for (size_t i = 0; i < jobs.size(); ++i) {
    if (cleared && jobs[i].spec->handler == CmdFlushAll) continue;
    (*replies)[i].clear();
    protocol::AppendError(&(*replies)[i], "ERR write failed: " + s.ToString());
  }
}

shm::Status Writer::Publish(const BatchKeyspace& ks, bool* cleared) {
  const uint64_t seq = ++next_seq_;
  std::vector<ColdOp> ops;
  std::vector<int64_t> tickets;
  ops.reserve(ks.changes().size());
  for (const auto& [key, c] : ks.changes()) {
    const uint64_t hash = arena_->HashOf(key);
    started_[hash & (kStartedSlots - 1)] = seq;
    ops.push_back(ColdOp{key, c.value, c.expiry_ms, c.deleted});
    // Intent first (invariant 5); with the ring full, drop the key from
    // the arena instead, which needs no record to stay safe.
    const int64_t t = arena_->intents().Begin(hash, seq);
    if (t >= 0) {
      tickets.push_back(t);
    } else {
      arena_->Delete(key);
    }
  }
  shm::Status s;
  uint64_t cold_seq = 0;
  *cleared = false;
  if (ks.clear_all()) {
    if (cold_ != nullptr) s = cold_->Clear();
    if (s.ok()) {
      arena_->Clear();
      *cleared = true;
      cleared_seq_ = seq;  // fills read before this batch are stale
    }
  }
  if (s.ok() && cold_ != nullptr && !ops.empty())
    s = cold_->Write(ops, &cold_seq);
  if (s.ok()) {
    for (const ColdOp& op : ops) {
      if (op.is_delete || op.value.size() > config_.max_value_bytes_hot) {
        arena_->Delete(op.key);
      } else {
        arena_->Put(op.key, op.value, op.expiry_ms);  // kBusy: left cold
      }
    }
    stats_->writes_committed.fetch_add(ops.size(), std::memory_order_relaxed);
  }
  for (int64_t t : tickets) arena_->intents().End(t);
  completed_.store(seq, std::memory_order_release);
  stats_->group_commits.fetch_add(1, std::memory_order_relaxed);
  return s;
}

void Writer::ApplyFill(const Fill& f) {
  if (started_[StartedIndex(f.key)] > f.token || cleared_seq_ > f.token) {
    stats_->fills_dropped.fetch_add(1, std::memory_order_relaxed);
    return;  // a write to this key (or a neighbour) began after the read
  }
  if (reader_ != nullptr) {
    shm::ReadGuard guard(reader_.get());
    std::string_view v;
    if (guard.Get(f.key, &v).ok()) return;  // already hot
  }
  if (arena_->Put(f.key, f.value, f.expiry_ms).ok()) {
    stats_->promotions.fetch_add(1, std::memory_order_relaxed);
  }
}

}  // namespace ember::server
