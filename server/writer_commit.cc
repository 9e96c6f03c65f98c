// server/writer_commit.cc: one group commit, in steps: run the jobs on an
// overlay, publish (room, intents, the redo log, the dirty table and the
// arena, intents ended), undo a job the arena refused when it is the only
// tier; and promotion of cold hits.
#include <algorithm>

#include "protocol/resp_writer.h"
#include "server/commands.h"
#include "server/db_keyspace.h"
#include "server/keyspaces.h"
#include "server/log_record.h"
#include "server/redo_log.h"
#include "server/writer.h"

namespace ember::server {
namespace {

// The error reply for a job the arena refused (no cold tier).
std::string RefusalError(const shm::Status& s) {
  // kBusy: no chunk could be freed; memory is the cause, as for Redis's
  // maxmemory, and so are Redis's words.
  if (s.code() == shm::Code::kBusy)
    return "OOM command not allowed when used memory > 'maxmemory'.";
  // A limit CheckStore should have caught (the arena's own message).
  return s.message().starts_with("ERR ") ? s.message() : "ERR " + s.message();
}

// What the arena holds for a key.
struct Before {
  bool present = false;
  std::string value;
  uint64_t expiry_ms = 0;
};

// For each of `ks`'s changes, in key order, what the arena holds now.
std::vector<Before> ReadBefore(shm::ArenaReader* reader,
                               const BatchKeyspace& ks) {
  std::vector<Before> before(ks.changes().size());
  size_t i = 0;
  for (const auto& [key, c] : ks.changes()) {
    Before& b = before[i++];
    Tier tier = Tier::kArena;
    b.present =
        LoadTiered(reader, nullptr, nullptr, key, &b.value, &b.expiry_ms, &tier)
            .ok();
  }
  return before;
}

// No cold tier: puts `ks`'s changes in the arena. When the arena refuses
// one (kBusy when full), the keys changed so far and the refused one get
// back what `before` (ReadBefore) says, and the refusal is returned.
shm::Status PublishHotOnly(shm::ArenaWriter* arena, const BatchKeyspace& ks,
                           const std::vector<Before>& before,
                           uint64_t max_value_bytes_hot, Stats* stats) {
  shm::Status refused;
  size_t touched = 0;  // changes, in key order, that reached the arena
  for (const auto& [key, c] : ks.changes()) {
    if (!c.deleted && c.value.size() > max_value_bytes_hot) {
      // CheckStore refuses these first; not tried, so nothing to undo here.
      refused = shm::Status::InvalidArgument(kValueTooBig);
      break;
    }
    ++touched;  // a refused Put drops the old value too: undone as well
    if (c.deleted) {
      arena->Delete(key);
      continue;
    }
    refused = arena->Put(key, c.value, c.expiry_ms);
    if (!refused.ok()) break;
  }
  if (refused.ok()) return refused;
  // Every touched key gets back what the arena held before the job.
  auto it = ks.changes().begin();
  for (size_t i = 0; i < touched; ++i, ++it) {
    const Before& b = before[i];
    if (!b.present) {
      arena->Delete(it->first);
    } else if (!arena->Put(it->first, b.value, b.expiry_ms).ok()) {
      stats->oom_keys_dropped.fetch_add(1, std::memory_order_relaxed);
    }
  }
  return refused;
}

}  // namespace

void Writer::Commit(std::vector<WriteJob>* jobs, Deliveries* out) {
  std::vector<std::string> replies(jobs->size());
  if (cold_ != nullptr) {
    RunBatch(*jobs, &replies);
  } else {
    RunEach(*jobs, &replies);
  }
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
  BatchKeyspace ks(reader_.get(), cold_, nullptr, dirty_);
  ks.SetDbMap(PublishedDbMap());
  Session session;  // auth was checked when the job was queued
  session.authenticated = true;
  for (size_t i = 0; i < jobs.size(); ++i) {
    session.db = jobs[i].db;
    DbKeyspace db(&ks, jobs[i].db);
    CommandContext ctx{&db, &session, info_, &ks};
    Execute(*jobs[i].spec, jobs[i].args, ctx, &(*replies)[i]);
  }
  if (!ks.HasWork()) return;
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

void Writer::RunEach(const std::vector<WriteJob>& jobs,
                     std::vector<std::string>* replies) {
  BatchKeyspace ks(reader_.get(), nullptr, &limits_);
  ks.SetDbMap(PublishedDbMap());
  Session session;  // auth was checked when the job was queued
  session.authenticated = true;
  for (size_t i = 0; i < jobs.size(); ++i) {
    session.db = jobs[i].db;
    DbKeyspace db(&ks, jobs[i].db);
    CommandContext ctx{&db, &session, info_, &ks};
    Execute(*jobs[i].spec, jobs[i].args, ctx, &(*replies)[i]);
    if (!ks.HasWork()) continue;
    bool cleared = false;
    const shm::Status s = Publish(ks, &cleared);
    ks.Reset();  // the next job reads the arena as it now is
    if (s.ok()) continue;
    ks.SetDbMap(PublishedDbMap());
    (*replies)[i].clear();
    protocol::AppendError(&(*replies)[i], RefusalError(s));
  }
}

void Writer::BeginWrite(std::string_view key, uint64_t seq,
                        std::vector<int64_t>* tickets) {
  const uint64_t hash = arena_->HashOf(key);
  started_[hash & (kStartedSlots - 1)] = seq;
  // Intent first (DESIGN.md invariant 10); with the ring full, drop the key
  // from the arena instead, which needs no record to stay safe.
  const int64_t t = arena_->intents().Begin(hash, seq);
  if (t >= 0) {
    tickets->push_back(t);
  } else {
    arena_->Delete(key);
  }
}

shm::Status Writer::Publish(BatchKeyspace& ks, bool* cleared) {
  *cleared = false;
  if (cold_ != nullptr) return PublishLogged(ks, cleared);
  // No cold tier: what the arena held, for an undo; read first, before a
  // full intent ring drops keys from the arena.
  const std::vector<Before> before = ReadBefore(reader_.get(), ks);
  const uint64_t seq = ++next_seq_;
  std::vector<int64_t> tickets;
  for (const auto& [key, c] : ks.changes()) {
    BeginWrite(key, seq, &tickets);
  }
  if (ks.clear_all()) {
    arena_->Clear();
    *cleared = true;
    cleared_seq_ = seq;  // fills read before this batch are stale
  }
  const shm::Status s =
      PublishHotOnly(arena_, ks, before, config_.max_value_bytes_hot, stats_);
  if (s.ok()) {
    if (ks.db_map_changed()) arena_->SetDbMap(ks.db_map().data());
    stats_->writes_committed.fetch_add(ks.changes().size(),
                                       std::memory_order_relaxed);
  }
  for (int64_t t : tickets) arena_->intents().End(t);
  completed_.store(seq, std::memory_order_release);
  stats_->group_commits.fetch_add(1, std::memory_order_relaxed);
  return s;
}

shm::Status Writer::PublishLogged(BatchKeyspace& ks, bool* cleared) {
  // Back-pressure: the applier is behind its caps; wait, never drop.
  uint64_t incoming = 0;
  for (const auto& [key, c] : ks.changes())
    incoming += DirtyTable::EntryBytes(key, c);
  EMBER_RETURN_IF_ERROR(dirty_->WaitForRoom(incoming));
  const uint64_t seq = ++next_seq_;
  // One record per changed key (a FLUSHALL, then a SWAPDB's map first),
  // LSNs in key order.
  log_buf_.clear();
  uint64_t lsn = next_lsn_ - 1;
  const uint64_t synced = log_->synced_lsn();
  const size_t n = ks.changes().size();
  const bool new_map = ks.db_map_changed();
  if (ks.clear_all()) {
    AppendLogRecord(&log_buf_, ++lsn, synced, LogKind::kClear, 0, "", "",
                    /*commit_end=*/n == 0 && !new_map);
  }
  if (new_map) {
    AppendLogRecord(&log_buf_, ++lsn, synced, LogKind::kDbMap, 0, "",
                    DbMapBytes(ks.db_map()), /*commit_end=*/n == 0);
  }
  std::vector<int64_t> tickets;
  tickets.reserve(n);
  size_t i = 0;
  for (const auto& [key, c] : ks.changes()) {
    AppendLogRecord(&log_buf_, ++lsn, synced,
                    c.deleted ? LogKind::kDelete : LogKind::kPut, c.expiry_ms,
                    key, c.value, /*commit_end=*/++i == n);
    BeginWrite(key, seq, &tickets);
  }
  const shm::Status s = log_->Append(log_buf_, lsn);
  if (s.ok()) {
    next_lsn_ = lsn + 1;
    // Durable: into the dirty table, then the arena, under the table's
    // lock (a reader that misses the arena finds the table up to date).
    const bool clear = ks.clear_all();
    DirtyTable::Changes changes = ks.TakeChanges();
    // Fills read before this batch are stale. Set before the publication
    // (fills are applied under commit_mu_, which this commit holds), where
    // the analysis sees the lock: it cannot see into the lambda.
    if (clear) cleared_seq_ = seq;
    dirty_->Publish(
        &changes, clear, new_map ? &ks.db_map() : nullptr, lsn,
        [&](const DirtyTable::EntryRefs& refs) {
          if (clear) {
            arena_->Clear();
            *cleared = true;
          }
          // Network threads and LocalClient map databases through it.
          if (new_map) arena_->SetDbMap(ks.db_map().data());
          shm::ArenaWriter::OldItem old;
          for (const auto& [key, e] : refs) {
            if (e->deleted || e->value.size() > config_.max_value_bytes_hot) {
              arena_->Delete(key, &old);
            } else {
              // kBusy: the value stays dirty, then cold.
              arena_->Put(key, e->value, e->expiry_ms, &old);
            }
            // The arena item this replaced is RocksDB's state of a key in
            // no dirty generation: the applier need not read it.
            if (e->prior.state == KeyPrior::kAskArena) {
              e->prior.state =
                  old.found ? KeyPrior::kPresent : KeyPrior::kUnknown;
              e->prior.expiry_ms = old.expiry_unix_ms;
            }
          }
          // Before the applier can see these (it takes the table's lock):
          // RocksDB is never ahead of what the arena says it published.
          arena_->SetPublishedLsn(lsn);
        });
    stats_->writes_committed.fetch_add(n, std::memory_order_relaxed);
  }
  for (int64_t t : tickets) arena_->intents().End(t);
  completed_.store(seq, std::memory_order_release);
  stats_->group_commits.fetch_add(1, std::memory_order_relaxed);
  return s;
}

DbMap Writer::PublishedDbMap() const {
  DbMap m;
  arena_->ReadDbMap(m.data());
  return m;
}

void Writer::ApplyFill(const Fill& f) {
  // A write to this key (or a neighbour) began after the read, or RocksDB's
  // copy is older than the key's dirty state.
  if (started_[StartedIndex(f.key)] > f.token || cleared_seq_ > f.token ||
      (!f.from_dirty && dirty_ != nullptr && dirty_->Contains(f.key))) {
    stats_->fills_dropped.fetch_add(1, std::memory_order_relaxed);
    return;
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
