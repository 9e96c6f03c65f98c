// bench/bench_fixture.cc: builds the keys, values and lookup sequences, loads
// them into the Ember arena, LMDB and std::unordered_map once, and names the
// machine in the benchmark context.
#include "bench/bench_fixture.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <random>
#include <system_error>

namespace ember::bench {

uint64_t KeyCount() {
  const char* env = std::getenv("EMBER_BENCH_KEYS");
  const uint64_t n = env != nullptr ? std::strtoull(env, nullptr, 10) : 0;
  return n >= 2 ? n : 1000000;
}

Data::Data() {
  std::mt19937_64 rng(42);
  // Sattolo's shuffle: a single cycle, so a chain visits every key.
  std::vector<uint64_t> next(n);
  std::iota(next.begin(), next.end(), 0);
  for (uint64_t i = n - 1; i > 0; --i) std::swap(next[i], next[rng() % i]);
  for (uint64_t i = 0; i < n; ++i) {
    char* v = &values[i * kValueBytes];
    std::memcpy(v, &next[i], 8);
    for (size_t j = 8; j < kValueBytes; ++j) v[j] = char('a' + (i + j) % 26);
  }
  // The hot set: distinct keys, the first ones along the chain from 0.
  std::vector<uint64_t> hot(std::min(kHotKeys, n));
  for (size_t h = 0, i = 0; h < hot.size(); ++h, i = next[i]) hot[h] = i;
  std::uniform_int_distribution<uint64_t> any(0, n - 1);
  std::uniform_int_distribution<size_t> pick(0, hot.size() - 1);
  for (size_t p = 0; p < kSeqLen; ++p) {
    seq[p] = static_cast<uint32_t>(any(rng));
    MakeKey(seq[p], &seq_keys[p * kKeyBytes]);
    MakeKey(hot[pick(rng)], &hot_keys[p * kKeyBytes]);
  }
}

const Data& GetData() {
  static const Data data;
  return data;
}

uint64_t PagesFor(uint64_t n) {
  const uint64_t per_page = kPageBytes / kItemBytes;  // 72 is a class size
  return (n + per_page - 1) / per_page;
}

// A run directory of this process's own (mkdtemp: mode 0700), removed at
// exit.
const std::string& RunDir() {
  static const struct Dir {
    std::string path;
    Dir() {
      char tmpl[] = "/tmp/ember_bench.XXXXXX";
      path = mkdtemp(tmpl) != nullptr ? tmpl : "/tmp/ember_bench";
    }
    ~Dir() {
      std::error_code ec;
      std::filesystem::remove_all(path, ec);
    }
  } dir;
  return dir.path;
}

std::string Load(const Data& d, const std::string& tag, uint64_t pages,
                 std::unique_ptr<shm::ArenaWriter>* w) {
  shm::ArenaOptions o;
  o.name = "bench_" + tag + "_" + std::to_string(getpid());
  o.run_dir = RunDir();
  o.page_bytes = kPageBytes;
  o.bytes_per_index_slot = kBytesPerIndexSlot;
  o.remove_on_close = true;
  // The pages, an 8-byte index slot per 64 page bytes, and 1 MiB (less than
  // one page with its slots) for the header and the intent ring.
  o.arena_bytes = pages * kPageBytes * 9 / 8 + (1u << 20);
  shm::Status s = shm::ArenaWriter::Create(o, w);
  if (!s.ok()) return "ArenaWriter::Create: " + s.ToString();
  ForEachKey(d.n, [&](uint64_t i, std::string_view key) {
    if (s.ok()) s = (*w)->Put(key, d.Value(i));
  });
  if (!s.ok()) return "Put: " + s.ToString();
  const shm::ArenaStats& st = (*w)->header().stats;
  if (st.items.load() == d.n && st.evictions.load() == 0) return {};
  return "arena holds " + std::to_string(st.items.load()) + " of " +
         std::to_string(d.n) + " keys after " +
         std::to_string(st.evictions.load()) + " evictions and " +
         std::to_string(st.index_evictions.load()) + " index evictions";
}

// A quarter of the pages spare (the index, one slot per 64 page bytes,
// is then about 70% full), as a deployment sized for its data would be.
Ember::Ember(const Data& d) {
  uint64_t pages = PagesFor(d.n) * 5 / 4 + 2;
  for (int attempt = 0; attempt < 3; ++attempt, pages = pages * 5 / 4) {
    writer.reset();
    error = Load(d, "main", pages, &writer);
    if (error.empty()) break;
  }
  if (!error.empty()) return;
  const shm::Geometry& g = writer->header().geo;
  std::fprintf(stderr, "arena_bench: %u pages, index %.0f%% full\n",
               g.page_count, 100.0 * double(d.n) / double(g.bucket_count * 8));
}

Ember& GetEmber() {
  static Ember ember(GetData());
  return ember;
}

shm::ArenaReader* ReaderFor(benchmark::State& state) {
  Ember& e = GetEmber();
  const int t = state.thread_index();
  std::string err = t < kMaxThreads ? e.error : "raise kMaxThreads";
  if (err.empty() && e.readers[t] == nullptr) {
    std::unique_ptr<shm::ArenaReader>& r = e.readers[t];
    const shm::ArenaOptions& o = e.writer->options();
    shm::Status s = shm::ArenaReader::Open(o.name, o.run_dir, &r);
    std::string value;
    if (s.ok()) {
      ForEachKey(GetData().n,
                 [&](uint64_t, std::string_view key) { r->Get(key, &value); });
    } else {
      err = "ArenaReader::Open: " + s.ToString();
    }
  }
  if (err.empty()) return e.readers[t].get();
  state.SkipWithError(err.c_str());
  return nullptr;
}

Lmdb::Lmdb(const Data& d) {
  char tmpl[] = "/tmp/ember_bench_lmdb.XXXXXX";
  if (mkdtemp(tmpl) == nullptr) {
    error = std::string("mkdtemp: ") + std::strerror(errno);
    return;
  }
  dir = tmpl;
  int rc = mdb_env_create(&env);
  if (rc == 0) rc = mdb_env_set_mapsize(env, size_t{1} << 30);
  if (rc == 0) rc = mdb_env_open(env, tmpl, MDB_NOSYNC | MDB_WRITEMAP, 0600);
  for (unsigned flags : {0u, unsigned{MDB_RDONLY}}) {  // load, then read
    MDB_txn* txn = nullptr;
    if (rc == 0) rc = mdb_txn_begin(env, nullptr, flags, &txn);
    if (rc == 0 && flags == 0) rc = mdb_dbi_open(txn, nullptr, 0, &dbi);
    ForEachKey(d.n, [&](uint64_t i, std::string_view key) {
      MDB_val k = Val(key), v = Val(d.Value(i));  // ascending: MDB_APPEND
      if (rc == 0 && flags == 0) rc = mdb_put(txn, dbi, &k, &v, MDB_APPEND);
      if (rc == 0 && flags != 0) rc = mdb_get(txn, dbi, &k, &v);
    });
    if (rc == 0 && flags == 0) {
      rc = mdb_txn_commit(txn);
    } else if (txn != nullptr) {
      mdb_txn_abort(txn);
    }
  }
  if (rc != 0) error = std::string("lmdb: ") + mdb_strerror(rc);
}

Lmdb::~Lmdb() {
  if (env != nullptr) mdb_env_close(env);
  std::error_code ec;
  if (!dir.empty()) std::filesystem::remove_all(dir, ec);
}

Lmdb& GetLmdb() {
  static Lmdb lmdb(GetData());
  return lmdb;
}

const Map& GetMap() {
  static const Map map = [] {
    const Data& d = GetData();
    Map m;
    m.reserve(d.n);
    ForEachKey(d.n, [&](uint64_t i, std::string_view key) {
      m.emplace(std::string(key), std::string(d.Value(i)));
    });
    return m;
  }();
  return map;
}

namespace {

std::string CpuModel() {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);) {
    const size_t colon = line.find(':');
    if (line.rfind("model name", 0) == 0 && colon != line.npos) {
      return line.substr(colon + 2);
    }
  }
  return "unknown";
}

}  // namespace

void AddMachineContext() {
  benchmark::AddCustomContext("cpu_model", CpuModel());
  benchmark::AddCustomContext("keys", std::to_string(KeyCount()));
  benchmark::AddCustomContext("key_bytes", std::to_string(kKeyBytes));
  benchmark::AddCustomContext("value_bytes", std::to_string(kValueBytes));
  benchmark::AddCustomContext("item_bytes_with_header",
                              std::to_string(kItemBytes));
  benchmark::AddCustomContext("p50_ns/p99_ns",
                              "20000 ops timed one at a time after the loop");
}

}  // namespace ember::bench
