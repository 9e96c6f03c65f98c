// server/keyspaces.cc: tiered reads (arena, then RocksDB) and the writer's
// batch overlay.
#include "server/keyspaces.h"

#include <algorithm>
#include <cassert>
#include <random>

#include "server/writer.h"
#include "shm/arena_format.h"

namespace ember::server {

shm::Status LoadTiered(shm::ArenaReader* reader, const DirtyTable* dirty,
                       ColdStore* cold, std::string_view key,
                       std::string* value, uint64_t* expiry_ms, Tier* tier) {
  *tier = Tier::kArena;
  if (reader != nullptr) {
    shm::ReadGuard guard(reader);
    std::string_view v;
    if (guard.status().ok() && guard.Get(key, &v, expiry_ms).ok()) {
      value->assign(v.data(), v.size());
      // A revoked guard means the bytes may have changed while copied.
      if (guard.Release().ok()) return shm::Status::Ok();
    }
  }
  if (dirty != nullptr) {
    *tier = Tier::kDirty;
    switch (dirty->Lookup(key, shm::NowUnixMs(), value, expiry_ms)) {
      case DirtyTable::Hit::kValue:
        return shm::Status::Ok();
      case DirtyTable::Hit::kAbsent:
        return shm::Status::NotFound();
      case DirtyTable::Hit::kMiss:
        break;
    }
  }
  if (cold == nullptr) return shm::Status::NotFound();
  *tier = Tier::kCold;
  return cold->Get(key, value, expiry_ms);
}

std::string TieredScan(ColdStore* cold, const DirtyTable* dirty,
                       const std::string& cursor, size_t count,
                       std::vector<std::string>* keys) {
  std::vector<std::pair<std::string, bool>> dirty_keys;
  bool cleared = false;
  if (dirty != nullptr)
    dirty->KeysFrom(cursor, shm::NowUnixMs(), &dirty_keys, &cleared);
  std::vector<std::string> cold_keys;
  // Under a pending FLUSHALL RocksDB's keys are gone: the dirty ones are
  // all there is.
  const std::string cold_next =
      cleared ? "" : cold->ScanFrom(cursor, count, &cold_keys);
  // Dirty keys at or past cold_next belong to a later page.
  const auto d_end =
      cold_next.empty() ? dirty_keys.end()
                        : std::lower_bound(dirty_keys.begin(), dirty_keys.end(),
                                           std::make_pair(cold_next, false));
  auto d = dirty_keys.begin();
  size_t c = 0, added = 0;
  while (c < cold_keys.size() || d != d_end) {
    const bool take_cold =
        d == d_end || (c < cold_keys.size() && cold_keys[c] <= d->first);
    const std::string& k = take_cold ? cold_keys[c] : d->first;
    if (added == count) return k;  // the next page starts here
    if (take_cold) {
      const bool overridden = d != d_end && d->first == cold_keys[c];
      if (!overridden) {
        keys->push_back(std::move(cold_keys[c]));
        ++added;
      }
      ++c;
      continue;  // an overridden key is decided by its dirty state next
    }
    if (d->second) {
      keys->push_back(d->first);
      ++added;
    }
    ++d;
  }
  return cold_next;
}

NetKeyspace::NetKeyspace(shm::ArenaReader* reader, ColdStore* cold,
                         Writer* writer, uint64_t max_value_bytes_hot,
                         Stats* stats)
    : reader_(reader),
      cold_(cold),
      writer_(writer),
      dirty_(writer->dirty()),
      max_hot_(max_value_bytes_hot),
      stats_(stats) {}

shm::Status NetKeyspace::Load(std::string_view key, std::string* value,
                              uint64_t* expiry_ms) {
  // The token is read before the cold read: a write that completes later
  // makes the writer drop the fill.
  const uint64_t token = writer_->completed_seq();
  Tier tier = Tier::kArena;
  shm::Status s =
      LoadTiered(reader_, dirty_, cold_, key, value, expiry_ms, &tier);
  if (!s.ok()) {
    if (s.IsNotFound()) stats_->misses.fetch_add(1, std::memory_order_relaxed);
    return s;
  }
  if (tier == Tier::kArena) {
    stats_->hot_hits.fetch_add(1, std::memory_order_relaxed);
    return s;
  }
  if (tier == Tier::kDirty) {
    // Not in the arena (evicted, or refused when written): a fill puts it
    // back unless a write began since the token.
    stats_->dirty_hits.fetch_add(1, std::memory_order_relaxed);
    if (value->size() <= max_hot_) {
      writer_->SubmitFill(std::string(key), *value, *expiry_ms, token,
                          /*from_dirty=*/true);
    }
    return s;
  }
  stats_->cold_hits.fetch_add(1, std::memory_order_relaxed);
  if (value->size() <= max_hot_) {
    writer_->SubmitFill(std::string(key), *value, *expiry_ms, token);
  }
  return s;
}

void SyncCounts(DirtyTable* dirty, const ColdStore* cold) {
  if (dirty == nullptr || cold == nullptr) return;
  const uint64_t now_ms = shm::NowUnixMs();
  dirty->Sync();
  // Read after the Sync: its batches lowered the bound already. A pass
  // reclaims a bounded number of keys: as many passes as it takes, while
  // they make progress (a pass that cannot read the index makes none).
  uint64_t bound = cold->earliest_expiry_ms();
  uint64_t expired = cold->expired_keys();
  while (bound <= now_ms && dirty->SyncPass()) {
    const uint64_t b = cold->earliest_expiry_ms(), e = cold->expired_keys();
    if (b == bound && e == expired) break;
    bound = b;
    expired = e;
  }
}

uint64_t NetKeyspace::CountKeys() {
  SyncCounts(dirty_, cold_);
  if (cold_ != nullptr) return cold_->CountKeys();
  return reader_ != nullptr ? reader_->header().stats.items.load() : 0;
}

std::string NetKeyspace::Scan(const std::string& cursor, size_t count,
                              std::vector<std::string>* keys) {
  return cold_ != nullptr ? TieredScan(cold_, dirty_, cursor, count, keys) : "";
}

uint64_t NetKeyspace::CountDb(uint8_t db, uint64_t* expires) {
  SyncCounts(dirty_, cold_);
  if (cold_ != nullptr) return cold_->CountKeysDb(db, expires);
  if (expires != nullptr) *expires = 0;
  return reader_ != nullptr ? reader_->header().stats.items.load() : 0;
}

shm::Status NetKeyspace::RandomKeyIn(std::string_view prefix,
                                     std::string* key) {
  if (dirty_ != nullptr) dirty_->Sync();
  return cold_ != nullptr && cold_->RandomKey(key, prefix)
             ? shm::Status::Ok()
             : shm::Status::NotFound();
}

shm::Status BatchKeyspace::Load(std::string_view key, std::string* value,
                                uint64_t* expiry_ms) {
  auto it = changes_.find(key);
  if (it != changes_.end()) {
    if (it->second.deleted) return shm::Status::NotFound();
    *value = it->second.value;
    *expiry_ms = it->second.expiry_ms;
    return shm::Status::Ok();
  }
  if (clear_all_) return shm::Status::NotFound();
  Tier tier = Tier::kArena;
  return LoadTiered(reader_, dirty_, cold_, key, value, expiry_ms, &tier);
}

shm::Status BatchKeyspace::CheckStore(std::string_view key,
                                      size_t value_bytes) const {
  if (limits_ == nullptr) return shm::Status::Ok();
  // Redis's words for too-long input ("ERR string exceeds maximum allowed
  // size (proto-max-bulk-len)"), naming Ember's limit. `key` is a stored
  // key: its first byte names the database, and the user sees the rest.
  if (key.size() <= 1) {
    return shm::Status::InvalidArgument(
        "ERR empty keys are not supported with cold_tier none");
  }
  if (key.size() > limits_->max_key_bytes) {
    return shm::Status::InvalidArgument(
        "ERR key exceeds maximum allowed size (" +
        std::to_string(limits_->max_key_bytes - 1) + " bytes)");
  }
  if (value_bytes > limits_->max_value_bytes) {
    return shm::Status::InvalidArgument(kValueTooBig);
  }
  if (sizeof(shm::ItemHeader) + key.size() + value_bytes >
      limits_->page_bytes) {
    return shm::Status::InvalidArgument(
        "ERR string exceeds maximum allowed size (page_bytes)");
  }
  return shm::Status::Ok();
}

void BatchKeyspace::Store(std::string_view key, std::string_view value,
                          uint64_t expiry_ms) {
  assert(CheckStore(key, value.size()).ok() && "Store before CheckStore");
  Change& c = changes_[std::string(key)];
  c.value.assign(value.data(), value.size());
  c.expiry_ms = expiry_ms;
  c.deleted = false;
}

void BatchKeyspace::Remove(std::string_view key) {
  Change& c = changes_[std::string(key)];
  c.value.clear();
  c.expiry_ms = 0;
  c.deleted = true;
}

void BatchKeyspace::RemoveAll() {
  changes_.clear();
  clear_all_ = true;
}

uint64_t BatchKeyspace::CountKeys() {
  // Counted before this batch's changes apply (they are not yet durable).
  if (clear_all_) return 0;
  SyncCounts(dirty_, cold_);
  if (cold_ != nullptr) return cold_->CountKeys();
  return reader_ != nullptr ? reader_->header().stats.items.load() : 0;
}

std::string BatchKeyspace::Scan(const std::string& cursor, size_t count,
                                std::vector<std::string>* keys) {
  if (cold_ == nullptr) return "";
  std::vector<std::string> cold_keys;
  const std::string next =
      clear_all_ ? "" : TieredScan(cold_, dirty_, cursor, count, &cold_keys);
  // The page covers [cursor, next); merge in this batch's changes there.
  auto it = changes_.lower_bound(cursor);
  const auto end = next.empty() ? changes_.end() : changes_.lower_bound(next);
  size_t c = 0;
  while (c < cold_keys.size() || it != end) {
    if (it == end || (c < cold_keys.size() && cold_keys[c] < it->first)) {
      keys->push_back(std::move(cold_keys[c++]));
      continue;
    }
    if (c < cold_keys.size() && cold_keys[c] == it->first) ++c;
    if (!it->second.deleted) keys->push_back(it->first);
    ++it;
  }
  return next;
}

void BatchKeyspace::SwapDb(uint8_t a, uint8_t b) {
  if (a == b) return;
  std::swap(map_[a], map_[b]);
  map_changed_ = true;
}

uint8_t NetKeyspace::PhysicalDb(uint8_t db) const {
  return writer_->PhysicalDb(db);
}

DirtyTable::Changes BatchKeyspace::TakeChanges() {
  DirtyTable::Changes out;
  out.reserve(changes_.size());
  while (!changes_.empty()) {
    auto node = changes_.extract(changes_.begin());
    out.emplace_back(std::move(node.key()), std::move(node.mapped()));
  }
  return out;
}

uint64_t BatchKeyspace::CountDb(uint8_t db, uint64_t* expires) {
  // Counted before this batch's changes apply, as CountKeys.
  if (expires != nullptr) *expires = 0;
  if (clear_all_) return 0;
  SyncCounts(dirty_, cold_);
  if (cold_ != nullptr) return cold_->CountKeysDb(db, expires);
  return reader_ != nullptr ? reader_->header().stats.items.load() : 0;
}

shm::Status BatchKeyspace::RandomKeyIn(std::string_view prefix,
                                       std::string* key) {
  if (cold_ == nullptr) return shm::Status::NotFound();
  if (dirty_ != nullptr) dirty_->Sync();
  for (int i = 0; i < 8 && !clear_all_ && cold_->RandomKey(key, prefix); ++i) {
    auto it = changes_.find(*key);
    if (it == changes_.end() || !it->second.deleted) return shm::Status::Ok();
  }
  std::vector<const std::string*> stored;
  for (auto it = changes_.lower_bound(prefix);
       it != changes_.end() && it->first.starts_with(prefix); ++it) {
    if (!it->second.deleted) stored.push_back(&it->first);
  }
  if (!stored.empty()) {
    thread_local std::minstd_rand rng(std::random_device{}());
    *key = *stored[rng() % stored.size()];
    return shm::Status::Ok();
  }
  // This batch deleted what RocksDB offered: the first key left, if any.
  std::string cursor(prefix);
  do {
    std::vector<std::string> page;
    cursor = Scan(cursor, 1024, &page);
    if (!page.empty()) {
      if (!page[0].starts_with(prefix)) break;
      *key = std::move(page[0]);
      return shm::Status::Ok();
    }
  } while (!cursor.empty() && cursor.starts_with(prefix));
  return shm::Status::NotFound();
}

}  // namespace ember::server
