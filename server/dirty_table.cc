// server/dirty_table.cc: the write-back buffer's two generations, the
// waits of commits, Syncs and the applier.
#include "server/dirty_table.h"

#include <algorithm>

#include "shm/clock.h"

namespace ember::server {

DirtyTable::DirtyTable(Limits limits, uint64_t applied_lsn) : limits_(limits) {
  MutexLock lock(&mu_);
  committed_lsn_ = applied_lsn_ = applied_lsn;
  last_pass_ms_ = shm::NowMonotonicMs();
}

bool DirtyTable::Full(uint64_t now_ms, uint64_t incoming) const {
  const uint64_t bytes = active_.bytes + applying_.bytes;
  if (bytes > 0 && bytes + incoming > limits_.max_bytes) return true;
  // A failed applier never catches up: then only the bytes count, so
  // commits go on until the table is full.
  if (!failure_.empty()) return false;
  const Generation& oldest = Oldest();
  return !oldest.empty() && now_ms - oldest.since_ms >= limits_.max_lag_ms;
}

shm::Status DirtyTable::WaitForRoom(uint64_t incoming) {
  MutexLock lock(&mu_);
  if (!Full(shm::NowMonotonicMs(), incoming)) return shm::Status::Ok();
  ++waits_;
  ++waiting_;
  work_cv_.Signal();  // the applier goes now, whatever its delay
  while (Full(shm::NowMonotonicMs(), incoming) && failure_.empty() && !stop_) {
    // Timed: the lag cap is a condition on time as well.
    room_cv_.WaitForMs(&mu_, shm::RealWaitMs(100));
  }
  --waiting_;
  if (Full(shm::NowMonotonicMs(), incoming) && !failure_.empty()) {
    return shm::Status::IOError(
        "the dirty table is full and RocksDB stopped taking writes after " +
        failure_ + "; fix the disk and restart ember-server (reads work)");
  }
  return shm::Status::Ok();
}

void DirtyTable::Publish(Changes* changes, bool clear_first,
                         const DbMap* db_map, uint64_t last_lsn,
                         const std::function<void(const EntryRefs&)>& publish) {
  EntryRefs refs;
  refs.reserve(changes->size());
  MutexLock lock(&mu_);
  if (active_.empty()) active_.since_ms = shm::NowMonotonicMs();
  if (clear_first) {
    // A FLUSHALL drops the keys before it, not an earlier SWAPDB's map.
    std::optional<DbMap> kept = std::move(active_.db_map);
    active_.Reset();
    active_.clear_first = true;
    active_.db_map = std::move(kept);
  }
  if (db_map != nullptr) active_.db_map = *db_map;
  uint64_t now_ms = 0;  // Unix ms, read when needed
  for (auto& [key, entry] : *changes) {
    auto it = active_.map.find(key);
    if (it == active_.map.end()) {
      entry.prior = PriorOf(key);
      it = active_.map.emplace(std::move(key), std::move(entry)).first;
    } else {
      active_.bytes -= EntryBytes(it->first, it->second);
      // An expired value written over here never reaches RocksDB, whose
      // expired_keys would count it: counted here instead.
      const DirtyEntry& old = it->second;
      if (!old.deleted && old.expiry_ms != 0) {
        if (now_ms == 0) now_ms = shm::NowUnixMs();
        if (old.expiry_ms <= now_ms) ++expired_overwritten_;
      }
      KeyPrior prior = old.prior;  // RocksDB's, still: the first one
      if (prior.state == KeyPrior::kAskArena) prior.state = KeyPrior::kUnknown;
      it->second = std::move(entry);
      it->second.prior = prior;
    }
    active_.bytes += EntryBytes(it->first, it->second);
    refs.emplace_back(it->first, &it->second);
  }
  if (last_lsn > committed_lsn_) committed_lsn_ = last_lsn;
  active_.last_lsn = committed_lsn_;
  publish(refs);
  if (active_.bytes >= limits_.max_bytes / 4) work_cv_.Signal();
}

DirtyTable::Hit DirtyTable::Find(const Generation& g, std::string_view key,
                                 uint64_t now_ms, std::string* value,
                                 uint64_t* expiry_ms, bool* stop) const {
  auto it = g.map.find(key);
  if (it == g.map.end()) {
    *stop = g.clear_first;  // cleared under this generation's writes
    return *stop ? Hit::kAbsent : Hit::kMiss;
  }
  *stop = true;
  const DirtyEntry& e = it->second;
  if (e.deleted || (e.expiry_ms != 0 && e.expiry_ms <= now_ms))
    return Hit::kAbsent;
  if (value != nullptr) value->assign(e.value);
  if (expiry_ms != nullptr) *expiry_ms = e.expiry_ms;
  return Hit::kValue;
}

DirtyTable::Hit DirtyTable::Lookup(std::string_view key, uint64_t now_ms,
                                   std::string* value,
                                   uint64_t* expiry_ms) const {
  MutexLock lock(&mu_);
  bool stop = false;
  Hit h = Find(active_, key, now_ms, value, expiry_ms, &stop);
  if (stop || !taken_) return h;
  return Find(applying_, key, now_ms, value, expiry_ms, &stop);
}

bool DirtyTable::Contains(std::string_view key) const {
  MutexLock lock(&mu_);
  if (active_.clear_first || active_.map.contains(key)) return true;
  return taken_ && (applying_.clear_first || applying_.map.contains(key));
}

void DirtyTable::KeysFrom(std::string_view from, uint64_t now_ms,
                          std::vector<std::pair<std::string, bool>>* keys,
                          bool* cleared) const {
  keys->clear();
  {
    MutexLock lock(&mu_);
    *cleared = active_.clear_first || (taken_ && applying_.clear_first);
    auto live = [now_ms](const DirtyEntry& e) {
      return !e.deleted && (e.expiry_ms == 0 || e.expiry_ms > now_ms);
    };
    for (const auto& [k, e] : active_.map) {
      if (k >= from) keys->emplace_back(k, live(e));
    }
    // The older generation counts only where active has no say.
    if (taken_ && !active_.clear_first) {
      for (const auto& [k, e] : applying_.map) {
        if (k >= from && !active_.map.contains(k))
          keys->emplace_back(k, live(e));
      }
    }
  }
  std::sort(keys->begin(), keys->end());
}

KeyPrior DirtyTable::PriorOf(std::string_view key) const {
  KeyPrior p;
  p.state = KeyPrior::kAbsent;
  if (active_.clear_first) return p;  // the batch clears RocksDB first
  if (taken_) {
    if (auto it = applying_.map.find(key); it != applying_.map.end()) {
      if (!it->second.deleted) {
        p.state = KeyPrior::kPresent;
        p.expiry_ms = it->second.expiry_ms;
      }
      return p;
    }
    if (applying_.clear_first) return p;
  }
  p.state = KeyPrior::kAskArena;
  return p;
}

bool DirtyTable::WritesDue(uint64_t now_ms) const {
  if (active_.empty()) return false;
  return stop_ || waiting_ > 0 || sync_lsn_ > applied_lsn_ ||
         pass_wanted_ > passes_begun_ ||
         active_.bytes >= limits_.max_bytes / 4 ||
         now_ms >= active_.since_ms + delay_ms_;
}

bool DirtyTable::WaitForWork(std::chrono::milliseconds delay,
                             std::chrono::milliseconds pass_every) {
  const uint64_t every_ms = static_cast<uint64_t>(pass_every.count());
  MutexLock lock(&mu_);
  delay_ms_ = static_cast<uint64_t>(delay.count());
  while (true) {
    if (!failure_.empty()) return false;
    if (stop_) return !active_.empty();
    const uint64_t now_ms = shm::NowMonotonicMs();
    // A clock set back (a test's ManualClock) starts the period again.
    if (now_ms < last_pass_ms_) last_pass_ms_ = now_ms;
    if (WritesDue(now_ms) || pass_wanted_ > passes_begun_ ||
        (every_ms > 0 && now_ms - last_pass_ms_ >= every_ms)) {
      return true;
    }
    uint64_t wait_ms = every_ms > 0 ? last_pass_ms_ + every_ms - now_ms : 100;
    if (!active_.empty())
      wait_ms = std::min(wait_ms, active_.since_ms + delay_ms_ - now_ms);
    work_cv_.WaitForMs(&mu_, shm::RealWaitMs(wait_ms));
  }
}

void DirtyTable::TakeBatch(Batch* out) {
  MutexLock lock(&mu_);
  ++passes_begun_;
  last_pass_ms_ = shm::NowMonotonicMs();
  *out = Batch();
  taken_ = true;
  if (!WritesDue(last_pass_ms_)) return;  // a pass on time: no writes
  applying_ = std::move(active_);
  active_.Reset();
  // The next generation is likely as large: no rehashing as it fills.
  active_.map.reserve(applying_.map.size());
  out->clear_first = applying_.clear_first;
  out->last_lsn = applying_.last_lsn;
  out->db_map = applying_.db_map;
  out->entries.reserve(applying_.map.size());
  for (auto& [k, e] : applying_.map) out->entries.emplace_back(k, &e);
}

void DirtyTable::FinishBatch() {
  Map gone;  // freed outside the lock: readers need not wait for it
  {
    MutexLock lock(&mu_);
    applied_lsn_ = std::max(applied_lsn_, applying_.last_lsn);
    passes_done_ = passes_begun_;
    if (!applying_.empty()) ++batches_;
    applied_keys_ += applying_.map.size();
    gone.swap(applying_.map);
    applying_.Reset();
    taken_ = false;
  }
  room_cv_.SignalAll();
}

void DirtyTable::MarkFailed(const std::string& why) {
  {
    MutexLock lock(&mu_);
    if (failure_.empty()) failure_ = why;
  }
  room_cv_.SignalAll();
  work_cv_.SignalAll();
}

void DirtyTable::Stop() {
  {
    MutexLock lock(&mu_);
    stop_ = true;
  }
  work_cv_.SignalAll();
  room_cv_.SignalAll();
}

void DirtyTable::Sync() {
  MutexLock lock(&mu_);
  const uint64_t target = committed_lsn_;
  if (applied_lsn_ >= target) return;
  // Due until a batch reaching it is taken (not while this thread sleeps
  // after it was applied: the applier's delay holds for later writes).
  sync_lsn_ = std::max(sync_lsn_, target);
  work_cv_.Signal();
  while (applied_lsn_ < target && failure_.empty() && !stop_) {
    room_cv_.WaitForMs(&mu_, shm::RealWaitMs(100));
  }
}

bool DirtyTable::SyncPass() {
  MutexLock lock(&mu_);
  // The next pass to begin: it takes every write published before now.
  const uint64_t target = passes_begun_ + 1;
  pass_wanted_ = std::max(pass_wanted_, target);
  work_cv_.Signal();
  while (passes_done_ < target && failure_.empty() && !stop_) {
    room_cv_.WaitForMs(&mu_, shm::RealWaitMs(100));
  }
  return passes_done_ >= target;
}

DirtyTable::Counters DirtyTable::counters() const {
  MutexLock lock(&mu_);
  Counters c;
  c.keys = active_.map.size() + applying_.map.size();
  c.bytes = active_.bytes + applying_.bytes;
  const Generation& oldest = Oldest();
  if (!oldest.empty()) {
    c.lag_ms = shm::NowMonotonicMs() - oldest.since_ms;
  }
  c.committed_lsn = committed_lsn_;
  c.applied_lsn = applied_lsn_;
  c.waits = waits_;
  c.batches = batches_;
  c.passes = passes_done_;
  c.expired_overwritten = expired_overwritten_;
  c.applied_keys = applied_keys_;
  c.failed = !failure_.empty();
  return c;
}

}  // namespace ember::server
