// server/cold_random_key.cc: ColdStore::RandomKey, a random walk down the
// byte trie of RocksDB's keys using forward seeks only (the memtables keep
// inplace_update_support, under which backward iteration does not work).
#include <rocksdb/db.h>

#include <random>

#include "server/cold_store.h"
#include "shm/reclaimer.h"

namespace ember::server {
namespace {

bool HasPrefix(const rocksdb::Iterator& it, const std::string& p) {
  return it.Valid() && it.key().starts_with(rocksdb::Slice(p));
}

// At `p` (a prefix of some key), the highest next byte of a key under p,
// given that `lo` is the lowest: a binary search of forward seeks.
int HighestNextByte(rocksdb::Iterator* it, const std::string& p, int lo) {
  int a = lo, b = 255;
  while (a < b) {
    const int mid = (a + b + 1) / 2;
    it->Seek(p + static_cast<char>(mid));
    if (HasPrefix(*it, p)) {
      a = mid;
    } else {
      b = mid - 1;
    }
  }
  return a;
}

// One walk: from `prefix` (every key under it is a candidate), pick uniformly
// among the next bytes in the range keys under the prefix use (or the prefix
// itself, if it is a key) and go down; a pick that lands in a gap takes the key
// after it. Leaves `it` on the key chosen. REQUIRES: the store has a key.
void Walk(rocksdb::Iterator* it, std::mt19937_64& rng,
          std::string_view prefix) {
  std::string p(prefix);
  for (int depth = 0; depth < 64; ++depth) {
    it->Seek(p);
    if (!HasPrefix(*it, p)) return;  // only if keys vanished meanwhile
    const bool p_is_key = it->key().size() == p.size();
    if (p_is_key) it->Next();
    if (!HasPrefix(*it, p)) {  // p is the only key under p
      it->Seek(p);
      return;
    }
    const int lo = static_cast<unsigned char>(it->key()[p.size()]);
    const int hi = HighestNextByte(it, p, lo);
    const uint64_t choices = static_cast<uint64_t>(hi - lo + 1 + p_is_key);
    const uint64_t pick = rng() % choices;
    if (p_is_key && pick == choices - 1) {
      it->Seek(p);
      return;
    }
    const char c = static_cast<char>(lo + static_cast<int>(pick));
    it->Seek(p + c);
    if (!HasPrefix(*it, p) || it->key()[p.size()] != c) return;  // a gap
    p += c;
  }
  it->Seek(p);
}

}  // namespace

bool ColdStore::RandomKey(std::string* key, std::string_view prefix) const {
  thread_local std::mt19937_64 rng(std::random_device{}());
  const uint64_t now = shm::NowUnixMs();
  const std::string p(prefix);
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(rocksdb::ReadOptions()));
  it->Seek(p);
  if (!HasPrefix(*it, p)) return false;
  for (int attempt = 0; attempt < 16; ++attempt) {
    Walk(it.get(), rng, p);
    // Expired keys wait for compaction: take the next live one.
    for (int step = 0; step < 64 && HasPrefix(*it, p); ++step, it->Next()) {
      if (IsLiveColdValue(
              std::string_view(it->value().data(), it->value().size()), now)) {
        *key = it->key().ToString();
        return true;
      }
    }
  }
  // Nearly everything has expired: the first live key, if any.
  std::string cursor = p;
  do {
    std::vector<std::string> keys;
    cursor = ScanFrom(cursor, 256, &keys);
    for (auto& k : keys) {
      if (!k.starts_with(p)) return false;
      *key = std::move(k);
      return true;
    }
  } while (!cursor.empty() && cursor.starts_with(p));
  return false;
}

}  // namespace ember::server
