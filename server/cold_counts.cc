// server/cold_counts.cc: the cold tier's key counts and expiry index
// (ColdStore, cold_store.h). Apply stages their changes in its own batch,
// so the counts, the index and the keys are always of one applied_lsn on
// disk (atomic_flush); ReclaimExpired deletes expired keys by the index.
//
// Invariants, for every batch written: counts_.keys[d] is the number of
// keys in the default column family whose first byte is d (an empty key:
// d = 0) and whose value decodes, counts_.expires[d] how many of them
// carry an expiry, and the index holds exactly one entry ExpiryIndexKey(e,
// k) for each key k whose value carries the expiry e != 0, and no other.
// Only the applier's thread (or recovery's, before it starts) writes:
// counts_ is copied, changed and stored back without holding its lock
// across the write.
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <unordered_map>

#include "server/cold_internal.h"
#include "server/cold_store.h"
#include "shm/clock.h"

namespace ember::server {
namespace {

// ember_meta's record of the counts: 8 bytes of the applied_lsn they are
// exact for, then for each database that holds keys, in order, 17 bytes:
// its number, its keys, its keys with an expiry (u64s little-endian).
// Written with every batch (25 bytes for one database: the meta column
// family's memtable fills slowly, so it forces few flushes of the others).
// A store without it is counted at Open; one that does not decode (or of
// another applied_lsn) is damage, counted again with a warning.
constexpr char kKeyCountsKey[] = "key_counts";
constexpr size_t kKeyCountsEntry = 17;
// Index entries ReclaimExpired handles per batch, and batches per call.
constexpr size_t kReclaimChunk = 4096;
constexpr int kReclaimChunksPerCall = 16;

uint8_t DbOf(std::string_view key) {
  return key.empty() ? 0 : static_cast<uint8_t>(key[0]);
}

// Whether a stored value decodes, and *expiry its expiry (0: none). One
// too short for its header (damage: Apply never writes one) is no key:
// reads, SCAN and RANDOMKEY hide it, so the counts leave it out too.
bool ExpiryOf(std::string_view stored, uint64_t* expiry) {
  std::string_view v;
  *expiry = 0;
  return DecodeColdValue(stored, &v, expiry);
}

// The invariants make a count at least the keys it loses; a store damaged
// underneath shows 0, not 2^64 - 1.
void Decrement(uint64_t* count) {
  if (*count > 0) --*count;
}

// The expiry of an index entry (its first 8 bytes, big-endian).
uint64_t IndexExpiry(std::string_view entry) {
  uint64_t e = 0;
  for (size_t i = 0; i < 8 && i < entry.size(); ++i)
    e = e << 8 | static_cast<uint8_t>(entry[i]);
  return e;
}

}  // namespace

std::string ExpiryIndexKey(uint64_t expiry_ms, std::string_view key) {
  std::string out(8 + key.size(), '\0');
  for (int i = 0; i < 8; ++i)
    out[i] = static_cast<char>(expiry_ms >> (8 * (7 - i)));
  key.copy(out.data() + 8, key.size());
  return out;
}

uint64_t ColdStore::CountKeys(uint64_t* expires) const {
  MutexLock lock(&count_mu_);
  uint64_t keys = 0, e = 0;
  for (int db = 0; db < 256; ++db) {
    keys += counts_.keys[db];
    e += counts_.expires[db];
  }
  if (expires != nullptr) *expires = e;
  return keys;
}

uint64_t ColdStore::CountKeysDb(uint8_t db, uint64_t* expires) const {
  MutexLock lock(&count_mu_);
  if (expires != nullptr) *expires = counts_.expires[db];
  return counts_.keys[db];
}

void ColdStore::PutKeyCounts(const KeyCounts& counts, uint64_t lsn,
                             rocksdb::WriteBatch* batch) {
  std::string v = EncodeU64(lsn);
  for (int db = 0; db < 256; ++db) {
    if (counts.keys[db] == 0 && counts.expires[db] == 0) continue;
    v.push_back(static_cast<char>(db));
    v += EncodeU64(counts.keys[db]);
    v += EncodeU64(counts.expires[db]);
  }
  batch->Put(handles_[1], kKeyCountsKey, v);
}

shm::Status ColdStore::StageClear(rocksdb::ColumnFamilyHandle* handle,
                                  rocksdb::WriteBatch* batch) {
  // Every key is in [first, last]: one range tombstone for [first, last)
  // and a point delete for last.
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(rocksdb::ReadOptions(), handle));
  it->SeekToFirst();
  if (it->Valid()) {
    const std::string first = it->key().ToString();
    it->SeekToLast();
    const std::string last = it->key().ToString();
    if (first != last) batch->DeleteRange(handle, first, last);
    batch->Delete(handle, last);
  }
  return FromRocks(it->status(), "RocksDB flushall");
}

shm::Status ColdStore::StageCounts(const std::vector<ColdOp>& ops,
                                   const std::vector<KeyPrior>* priors,
                                   bool clear_first, rocksdb::WriteBatch* batch,
                                   KeyCounts* next, uint64_t* expired) {
  *expired = 0;
  if (clear_first) {
    EMBER_RETURN_IF_ERROR(StageClear(handles_[2], batch));
    *next = KeyCounts();
  } else {
    MutexLock lock(&count_mu_);
    *next = counts_;
  }
  // Only a key's state before the batch and its last op matter. The
  // applier's ops are sorted and distinct; recovery's may repeat a key.
  std::vector<size_t> last;
  last.reserve(ops.size());
  bool distinct = true;
  for (size_t i = 1; i < ops.size() && distinct; ++i)
    distinct = ops[i - 1].key < ops[i].key;
  if (distinct) {
    for (size_t i = 0; i < ops.size(); ++i) last.push_back(i);
  } else {
    std::unordered_map<std::string_view, size_t> at;
    at.reserve(ops.size());
    for (size_t i = 0; i < ops.size(); ++i) at[ops[i].key] = i;
    for (const auto& [key, i] : at) last.push_back(i);
  }
  // The keys whose state before the batch the caller did not give (a
  // repeated key's first state is never given: its last op's prior is not
  // it), read in one MultiGet.
  // A known prior with an expiry is read all the same: ReclaimExpired
  // may have deleted that value since the caller looked (it deletes no
  // other kind).
  // With verify_priors_ (tests) every key is read and a trusted prior
  // that differs is an error.
  auto trusted = [&](size_t i) {
    if (!distinct || priors == nullptr) return false;
    const KeyPrior& p = (*priors)[i];
    return p.state == KeyPrior::kAbsent ||
           (p.state == KeyPrior::kPresent && p.expiry_ms == 0);
  };
  std::vector<size_t> read;  // indexes into `last`
  std::vector<rocksdb::Slice> keys;
  if (!clear_first) {
    for (size_t j = 0; j < last.size(); ++j) {
      if (trusted(last[j]) && !verify_priors_) continue;
      read.push_back(j);
      keys.emplace_back(ops[last[j]].key.data(), ops[last[j]].key.size());
    }
  }
  std::vector<rocksdb::PinnableSlice> before(keys.size());
  std::vector<rocksdb::Status> found(keys.size());
  if (!keys.empty()) {
    db_->MultiGet(rocksdb::ReadOptions(), handles_[0], keys.size(), keys.data(),
                  before.data(), found.data(), distinct);
  }
  uint64_t earliest = earliest_expiry_ms();
  const uint64_t now_ms = shm::NowUnixMs();
  size_t r = 0;  // the next of `read`
  for (size_t j = 0; j < last.size(); ++j) {
    const ColdOp& op = ops[last[j]];
    const uint8_t db = DbOf(op.key);
    // Whether the key was there (and with which expiry) before the batch.
    bool was = false;
    uint64_t old_expiry = 0;
    if (clear_first) {
      // Cleared first: nothing was.
    } else if (r < read.size() && read[r] == j) {
      if (found[r].ok()) {
        was = ExpiryOf(std::string_view(before[r].data(), before[r].size()),
                       &old_expiry);
      } else if (!found[r].IsNotFound()) {
        return FromRocks(found[r], "RocksDB read before write");
      }
      ++r;
      // A trusted prior is absent, or present without an expiry.
      if (trusted(last[j]) &&
          (was != ((*priors)[last[j]].state == KeyPrior::kPresent) ||
           old_expiry != 0)) {
        // A bug, and the tests run with the check: stop where it shows.
        spdlog::critical(
            "key counts: the dirty table said a key was {} before its "
            "batch; RocksDB says otherwise (EMBER_VERIFY_PRIORS)",
            (*priors)[last[j]].state == KeyPrior::kPresent
                ? "present without an expiry"
                : "absent");
        std::abort();
      }
    } else {
      const KeyPrior& p = (*priors)[last[j]];
      was = p.state == KeyPrior::kPresent;
      old_expiry = was ? p.expiry_ms : 0;
    }
    if (was) {
      Decrement(&next->keys[db]);
      if (old_expiry != 0) Decrement(&next->expires[db]);
      if (old_expiry != 0 && old_expiry <= now_ms) ++*expired;
    }
    const uint64_t new_expiry = op.is_delete ? 0 : op.expiry_ms;
    if (!op.is_delete) {
      ++next->keys[db];
      if (new_expiry != 0) ++next->expires[db];
    }
    if (old_expiry == new_expiry) continue;  // the index entry stays
    if (old_expiry != 0)
      batch->Delete(handles_[2], ExpiryIndexKey(old_expiry, op.key));
    if (new_expiry != 0) {
      batch->Put(handles_[2], ExpiryIndexKey(new_expiry, op.key), "");
      earliest = std::min(earliest, new_expiry);
    }
  }
  // Lowered before the write: a lower bound may be too low, never too high.
  earliest_expiry_ms_.store(earliest, std::memory_order_release);
  return shm::Status::Ok();
}

shm::Status ColdStore::ReclaimExpired(uint64_t now_ms, uint64_t* reclaimed) {
  if (reclaimed != nullptr) *reclaimed = 0;
  if (earliest_expiry_ms() > now_ms) return shm::Status::Ok();
  const std::string upper = ExpiryIndexKey(now_ms + 1, {});
  // From the bound on (everything before it is gone); each chunk after
  // the last entry the one before deleted, so no chunk steps over the
  // tombstones of another.
  std::string from = ExpiryIndexKey(earliest_expiry_ms(), {});
  for (int chunk = 0; chunk < kReclaimChunksPerCall; ++chunk) {
    std::vector<std::string> entries;
    std::string after;  // the first entry past now_ms, if any
    {
      std::unique_ptr<rocksdb::Iterator> it(
          db_->NewIterator(rocksdb::ReadOptions(), handles_[2]));
      for (it->Seek(from); it->Valid() && entries.size() < kReclaimChunk;
           it->Next()) {
        if (it->key().compare(upper) >= 0) {
          after = it->key().ToString();
          break;
        }
        entries.push_back(it->key().ToString());
      }
      EMBER_RETURN_IF_ERROR(FromRocks(it->status(), "RocksDB expiry index"));
    }
    if (entries.empty()) {
      // Nothing left at or before now_ms: the next expiry bounds the rest.
      // (Apply, on this thread, cannot have lowered the bound meanwhile.)
      earliest_expiry_ms_.store(after.empty() ? UINT64_MAX : IndexExpiry(after),
                                std::memory_order_release);
      return shm::Status::Ok();
    }
    // The index names each key with an expiry once, under the expiry its
    // value carries (the invariants at the top): its entry is enough, the
    // value (up to proto_max_bulk_len) is not read.
    KeyCounts next;
    {
      MutexLock lock(&count_mu_);
      next = counts_;
    }
    rocksdb::WriteBatch batch;
    for (const std::string& e : entries) {
      const std::string_view key = std::string_view(e).substr(8);
      batch.Delete(handles_[2], e);
      batch.Delete(handles_[0], rocksdb::Slice(key.data(), key.size()));
      Decrement(&next.keys[DbOf(key)]);
      Decrement(&next.expires[DbOf(key)]);
    }
    PutKeyCounts(next, applied_lsn(), &batch);
    EMBER_RETURN_IF_ERROR(WriteBatch(&batch, "RocksDB expiry"));
    {
      MutexLock lock(&count_mu_);
      counts_ = next;
    }
    // Still a lower bound: entries with the last one's expiry may be left.
    earliest_expiry_ms_.store(IndexExpiry(entries.back()),
                              std::memory_order_release);
    expired_keys_.fetch_add(entries.size(), std::memory_order_relaxed);
    if (reclaimed != nullptr) *reclaimed += entries.size();
    from = entries.back();
    from.push_back('\0');
  }
  return shm::Status::Ok();  // more next call: a pass has bounded work
}

shm::Status ColdStore::LoadKeyCounts() {
  std::string v;
  rocksdb::Status s =
      db_->Get(rocksdb::ReadOptions(), handles_[1], kKeyCountsKey, &v);
  if (!s.ok() && !s.IsNotFound())
    return FromRocks(s, "reading key_counts in " + dir_);
  if (s.IsNotFound()) return RebuildKeyCounts();
  KeyCounts c;
  bool ok = v.size() >= 8 && (v.size() - 8) % kKeyCountsEntry == 0 &&
            DecodeU64(v.data()) == applied_lsn();
  for (size_t at = 8; ok && at < v.size(); at += kKeyCountsEntry) {
    const auto db = static_cast<uint8_t>(v[at]);
    ok = at == 8 || db > static_cast<uint8_t>(v[at - kKeyCountsEntry]);
    c.keys[db] = DecodeU64(v.data() + at + 1);
    c.expires[db] = DecodeU64(v.data() + at + 9);
  }
  if (ok) {
    {
      MutexLock lock(&count_mu_);
      counts_ = c;
    }
    // Where the index starts is found by the first ReclaimExpired.
    earliest_expiry_ms_.store(0, std::memory_order_release);
    return shm::Status::Ok();
  }
  spdlog::warn(
      "data_dir {}: key_counts in ember_meta is damaged ({} bytes, or not of "
      "applied_lsn {}); counting the keys again",
      dir_, v.size(), applied_lsn());
  return RebuildKeyCounts();
}

shm::Status ColdStore::RebuildKeyCounts() {
  const auto start = std::chrono::steady_clock::now();
  rocksdb::WriteBatch batch;
  EMBER_RETURN_IF_ERROR(StageClear(handles_[2], &batch));
  KeyCounts c;
  uint64_t total = 0;
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(rocksdb::ReadOptions(), handles_[0]));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    const std::string_view key(it->key().data(), it->key().size());
    uint64_t e = 0;
    if (!ExpiryOf(std::string_view(it->value().data(), it->value().size()),
                  &e)) {
      continue;
    }
    ++c.keys[DbOf(key)];
    ++total;
    if (e != 0) {
      ++c.expires[DbOf(key)];
      batch.Put(handles_[2], ExpiryIndexKey(e, key), "");
    }
    if (batch.GetDataSize() >= (8 << 20)) {
      EMBER_RETURN_IF_ERROR(WriteBatch(&batch, "building the expiry index"));
      batch.Clear();
    }
  }
  EMBER_RETURN_IF_ERROR(FromRocks(it->status(), "counting keys"));
  PutKeyCounts(c, applied_lsn(), &batch);
  EMBER_RETURN_IF_ERROR(WriteBatch(&batch, "recording key_counts"));
  {
    MutexLock lock(&count_mu_);
    counts_ = c;
  }
  earliest_expiry_ms_.store(0, std::memory_order_release);
  EMBER_RETURN_IF_ERROR(Flush());
  if (total == 0) return shm::Status::Ok();  // a new store: nothing to say
  spdlog::info(
      "data_dir {}: counted {} keys and indexed their expiries in {} ms "
      "(once: the store kept no counts)",
      dir_, total,
      std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::steady_clock::now() - start)
          .count());
  return shm::Status::Ok();
}

}  // namespace ember::server
