// server/cold_store.cc: RocksDB with bloom filters, the WAL off and
// applied_lsn beside the keys.
#include "server/cold_store.h"

#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/table.h>
#include <rocksdb/utilities/table_properties_collectors.h>
#include <rocksdb/write_batch.h>
#define XXH_INLINE_ALL
#include <xxhash.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "server/cold_internal.h"
#include "shm/reclaimer.h"

namespace ember::server {

void EncodeColdHeader(uint64_t expiry_ms, char* out) {
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>(expiry_ms >> (8 * i));
}

std::string EncodeColdValue(std::string_view value, uint64_t expiry_ms) {
  std::string out(8 + value.size(), '\0');
  EncodeColdHeader(expiry_ms, out.data());
  std::memcpy(out.data() + 8, value.data(), value.size());
  return out;
}

bool DecodeColdValue(std::string_view stored, std::string_view* value,
                     uint64_t* expiry_ms) {
  if (stored.size() < 8) return false;
  *expiry_ms = DecodeU64(stored.data());
  *value = stored.substr(8);
  return true;
}

namespace {
constexpr char kMetaFamily[] = "ember_meta";
constexpr char kExpiryFamily[] = "ember_expiry";
constexpr char kAppliedLsnKey[] = "applied_lsn";
// Present once the keys carry their database's byte (server/db_keyspace.h).
constexpr char kKeyFormatKey[] = "key_format";
constexpr char kKeyFormatDatabases[] = "databases";
// The same once a SWAPDB was recorded: an Ember that knows no database map
// refuses the store by its key_format instead of reading swapped databases
// as unswapped.
constexpr char kKeyFormatDbMap[] = "databases+db_map";
constexpr char kDbMapKey[] = "db_map";
// The seed of store_id: a new one since keys carry a database byte, so an
// arena filled from bare keys never passes for this store's (it starts
// cold).
constexpr uint64_t kStoreIdSeed = 13;
}  // namespace

std::string EncodeU64(uint64_t v) {
  std::string out(8, '\0');
  EncodeColdHeader(v, out.data());  // the same little-endian u64
  return out;
}

bool IsLiveColdValue(std::string_view stored, uint64_t now_ms,
                     uint64_t* expiry_ms) {
  std::string_view v;
  uint64_t e = 0;
  if (!DecodeColdValue(stored, &v, &e)) return false;
  if (expiry_ms != nullptr) *expiry_ms = e;
  return e == 0 || e > now_ms;
}

shm::Status ColdStore::Open(const std::string& dir,
                            std::unique_ptr<ColdStore>* out,
                            rocksdb::Env* env) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec)
    return shm::Status::IOError("cannot create data_dir " + dir + ": " +
                                ec.message());
  rocksdb::Options options;
  options.create_if_missing = true;
  options.create_missing_column_families = true;
  // The WAL is off (the redo log is Ember's own), so the keys and the
  // applied_lsn beside them must reach the disk in one flush.
  options.atomic_flush = true;
  if (env != nullptr) options.env = env;
  options.IncreaseParallelism(2);
  options.max_open_files = kMaxOpenFiles;  // RocksDB's default: unbounded
  // One writer thread (the applier). No in-place memtable updates: the
  // applier coalesces a hot key's writes already, and in-place updates
  // would break backward iteration (FLUSHALL finds the last key) and make
  // iterators (SCAN, DBSIZE) inconsistent.
  options.allow_concurrent_memtable_write = false;
  // The arena holds the hot set; memtables only buffer the applier's
  // batches on their way to SST files. 16 MiB ones (RocksDB's default is 64
  // MiB) keep the server's heap small. Three, so that a batch finds room
  // while two flush.
  options.write_buffer_size = 16 << 20;
  options.max_write_buffer_number = 3;
  // A bloom filter over the memtables' whole keys (like the SST files'):
  // a GET of an absent key, which the arena always passes on to RocksDB,
  // then skips the skiplist search. 1.6 MiB per 16 MiB memtable.
  options.memtable_whole_key_filtering = true;
  options.memtable_prefix_bloom_size_ratio = 0.1;
  rocksdb::BlockBasedTableOptions table;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  rocksdb::ColumnFamilyOptions meta_options;
  meta_options.write_buffer_size = 1 << 20;
  // The expiry index is a queue: ReclaimExpired deletes from its front.
  // Table files that gather many deletions are compacted early, so that
  // walking to the front does not step over old tombstones.
  rocksdb::ColumnFamilyOptions expiry_options;
  expiry_options.write_buffer_size = 4 << 20;
  expiry_options.table_properties_collector_factories.emplace_back(
      rocksdb::NewCompactOnDeletionCollectorFactory(16384, 4096));
  const std::vector<rocksdb::ColumnFamilyDescriptor> families = {
      {rocksdb::kDefaultColumnFamilyName, options},
      {kMetaFamily, meta_options},
      {kExpiryFamily, expiry_options}};
  std::unique_ptr<ColdStore> c(new ColdStore());
  rocksdb::DB* db = nullptr;
  rocksdb::Status s =
      rocksdb::DB::Open(options, dir, families, &c->handles_, &db);
  if (!s.ok()) return FromRocks(s, "cannot open RocksDB in data_dir " + dir);
  c->dir_ = dir;
  c->db_.reset(db);
  c->verify_priors_ = getenv("EMBER_VERIFY_PRIORS") != nullptr;
  std::string lsn;
  s = db->Get(rocksdb::ReadOptions(), c->handles_[1], kAppliedLsnKey, &lsn);
  if (s.ok() && lsn.size() == 8) {
    c->applied_lsn_.store(DecodeU64(lsn.data()));
  } else if (!s.ok() && !s.IsNotFound()) {
    return FromRocks(s, "reading applied_lsn in data_dir " + dir);
  } else if (s.ok()) {
    return shm::Status::Corruption("data_dir " + dir +
                                   ": applied_lsn is not 8 bytes");
  }
  EMBER_RETURN_IF_ERROR(c->ConvertToDatabases());
  EMBER_RETURN_IF_ERROR(c->LoadKeyCounts());
  // RocksDB's identity (a UUID made with the database): which store an
  // arena's contents came from (a warm restart keeps only its own).
  std::string identity;
  s = db->GetDbIdentity(identity);
  if (!s.ok()) return FromRocks(s, "reading the identity of data_dir " + dir);
  c->store_id_ =
      XXH3_64bits_withSeed(identity.data(), identity.size(), kStoreIdSeed) | 1;
  *out = std::move(c);
  return shm::Status::Ok();
}

shm::Status ColdStore::ConvertToDatabases() {
  std::string format;
  rocksdb::Status s =
      db_->Get(rocksdb::ReadOptions(), handles_[1], kKeyFormatKey, &format);
  if (s.ok()) {
    if (format == kKeyFormatDatabases) return shm::Status::Ok();
    if (format != kKeyFormatDbMap) {
      return shm::Status::Corruption("data_dir " + dir_ +
                                     ": unknown key_format " + format);
    }
    std::string map;
    s = db_->Get(rocksdb::ReadOptions(), handles_[1], kDbMapKey, &map);
    if (!s.ok()) return FromRocks(s, "reading db_map in " + dir_);
    if (!ParseDbMap(map, &db_map_)) {
      return shm::Status::Corruption(
          "data_dir " + dir_ +
          ": db_map in ember_meta is not a map of 256 databases");
    }
    return shm::Status::Ok();
  }
  if (!s.IsNotFound()) return FromRocks(s, "reading key_format in " + dir_);
  // A store of an Ember before databases: its keys are database 0's. One
  // batch (atomic; WAL off, so on disk only with the marker at the Flush).
  rocksdb::WriteBatch batch;
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(rocksdb::ReadOptions(), handles_[0]));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    std::string key(1, '\0');
    key.append(it->key().data(), it->key().size());
    batch.Put(handles_[0], key, it->value());
    batch.Delete(handles_[0], it->key());
  }
  if (!it->status().ok()) return FromRocks(it->status(), "converting keys");
  batch.Put(handles_[1], kKeyFormatKey, kKeyFormatDatabases);
  EMBER_RETURN_IF_ERROR(WriteBatch(&batch, "converting keys to databases"));
  return Flush();
}

ColdStore::~ColdStore() {
  if (!db_) return;
  // The WAL is off: what is only in memtables is flushed now, so a clean
  // stop leaves nothing for the next start to replay.
  if (!failed_.load()) Flush();
  for (rocksdb::ColumnFamilyHandle* h : handles_)
    db_->DestroyColumnFamilyHandle(h);
  db_->Close();
}

shm::Status ColdStore::Flush() {
  rocksdb::FlushOptions fo;
  fo.wait = true;
  rocksdb::Status s = db_->Flush(fo, handles_);
  if (!s.ok()) MarkFailed("a flush: " + s.ToString());
  return FromRocks(s, "RocksDB flush");
}

shm::Status ColdStore::Get(std::string_view key, std::string* value,
                           uint64_t* expiry_ms) const {
  std::string stored;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(),
                               rocksdb::Slice(key.data(), key.size()), &stored);
  if (!s.ok()) return FromRocks(s, "RocksDB get");
  std::string_view v;
  if (!DecodeColdValue(stored, &v, expiry_ms)) {
    return shm::Status::Corruption(
        "RocksDB value of a key is shorter than its header");
  }
  if (*expiry_ms != 0 && *expiry_ms <= shm::NowUnixMs())
    return shm::Status::NotFound();
  value->assign(v.data(), v.size());
  return shm::Status::Ok();
}

shm::Status ColdStore::Apply(const std::vector<ColdOp>& ops, bool clear_first,
                             uint64_t applied_lsn, const DbMap* db_map,
                             const std::vector<KeyPrior>* priors) {
  rocksdb::WriteBatch batch;
  if (clear_first) EMBER_RETURN_IF_ERROR(StageClear(handles_[0], &batch));
  KeyCounts counts;
  uint64_t expired = 0;
  EMBER_RETURN_IF_ERROR(
      StageCounts(ops, priors, clear_first, &batch, &counts, &expired));
  for (const ColdOp& op : ops) {
    const rocksdb::Slice key(op.key.data(), op.key.size());
    if (op.is_delete) {
      batch.Delete(key);
    } else {
      // The stored value is expiry header + bytes (EncodeColdValue), put
      // in two parts: no copy of the value before the batch's own.
      char header[8];
      EncodeColdHeader(op.expiry_ms, header);
      const rocksdb::Slice parts[2] = {
          rocksdb::Slice(header, 8),
          rocksdb::Slice(op.value.data(), op.value.size())};
      batch.Put(rocksdb::SliceParts(&key, 1), rocksdb::SliceParts(parts, 2));
    }
  }
  batch.Put(handles_[1], kAppliedLsnKey, EncodeU64(applied_lsn));
  PutKeyCounts(counts, applied_lsn, &batch);
  if (db_map != nullptr) {
    const std::string_view m = DbMapBytes(*db_map);
    batch.Put(handles_[1], kDbMapKey, rocksdb::Slice(m.data(), m.size()));
    batch.Put(handles_[1], kKeyFormatKey, kKeyFormatDbMap);
  }
  EMBER_RETURN_IF_ERROR(WriteBatch(&batch, "RocksDB write"));
  applied_lsn_.store(applied_lsn, std::memory_order_release);
  if (db_map != nullptr) db_map_ = *db_map;
  {
    MutexLock lock(&count_mu_);
    counts_ = counts;
  }
  expired_keys_.fetch_add(expired, std::memory_order_relaxed);
  return shm::Status::Ok();
}

shm::Status ColdStore::WriteBatch(rocksdb::WriteBatch* batch,
                                  const char* what) {
  if (failed_.load(std::memory_order_acquire)) {
    return shm::Status::IOError(
        std::string(what) + ": refused, the cold tier stopped writing after " +
        failure_ +
        "; fix the disk and restart ember-server (reads still work)");
  }
  rocksdb::WriteOptions wo;
  wo.disableWAL = true;
  rocksdb::Status s = db_->Write(wo, batch);
  if (!s.ok()) MarkFailed(s.ToString());
  return FromRocks(s, what);
}

void ColdStore::MarkFailed(const std::string& why) {
  MutexLock lock(&failure_mu_);
  if (failed_.load(std::memory_order_relaxed)) return;  // the first stays
  failure_ = why;
  failed_.store(true, std::memory_order_release);
}

std::string ColdStore::ScanFrom(const std::string& cursor, size_t count,
                                std::vector<std::string>* keys) const {
  const uint64_t now = shm::NowUnixMs();
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(rocksdb::ReadOptions()));
  if (cursor.empty())
    it->SeekToFirst();
  else
    it->Seek(cursor);
  for (; it->Valid(); it->Next()) {
    if (keys->size() == count) return it->key().ToString();
    if (IsLiveColdValue(
            std::string_view(it->value().data(), it->value().size()), now)) {
      keys->push_back(it->key().ToString());
    }
  }
  return "";
}

uint64_t ColdStore::LatestSequence() const {
  return db_->GetLatestSequenceNumber();
}

uint64_t ColdStore::ApproximateBytes() const {
  uint64_t bytes = 0;
  db_->GetIntProperty("rocksdb.total-sst-files-size", &bytes);
  uint64_t mem = 0;
  db_->GetIntProperty("rocksdb.cur-size-all-mem-tables", &mem);
  return bytes + mem;
}

}  // namespace ember::server
