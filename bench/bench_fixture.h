// bench/bench_fixture.h: what every workload of bench/arena_bench.cc shares:
// the keys and values, the Ember arena, LMDB and std::unordered_map loaded
// with them, the timing helpers and the machine context.
// Thread safety: the Get*() fixtures are built once, on first use, as
// function-local statics; after that they are only read, except each
// benchmark thread's own reader (ReaderFor) and the writer (BM_EmberPut).
#pragma once

#include <benchmark/benchmark.h>
#include <lmdb.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "shm/arena_reader.h"
#include "shm/arena_writer.h"

namespace ember::bench {

inline constexpr size_t kKeyBytes = 16;
inline constexpr size_t kValueBytes = 32;
inline constexpr size_t kItemBytes =
    sizeof(shm::ItemHeader) + kKeyBytes + kValueBytes;
// Pre-generated lookups, so no RNG runs in a timed loop.
inline constexpr size_t kSeqLen = size_t{1} << 20;
inline constexpr uint64_t kHotKeys = 10000;
// Benchmark threads with a reader of their own; raise to run more.
inline constexpr int kMaxThreads = 2;
inline constexpr uint32_t kPageBytes = 1u << 20;
inline constexpr uint32_t kBytesPerIndexSlot = 64;

// N: EMBER_BENCH_KEYS if it is at least 2, else 1,000,000.
uint64_t KeyCount();

// Writes "key:%012u" of `i` to `out` (16 bytes), cheaply enough for a timed
// loop: the chains derive each key from the previous value.
inline void MakeKey(uint64_t i, char* out) {
  std::memcpy(out, "key:", 4);
  for (int j = 15; j >= 4; --j, i /= 10) out[j] = char('0' + i % 10);
}

// Calls fn(i, key) for every key index i in [0, n), in key order. `key`
// lives until fn returns.
template <typename Fn>
void ForEachKey(uint64_t n, Fn&& fn) {
  char key[kKeyBytes];
  for (uint64_t i = 0; i < n; ++i) {
    MakeKey(i, key);
    fn(i, std::string_view(key, kKeyBytes));
  }
}

// Values, random index sequences and their keys, shared by every workload.
// Bytes 0-7 of value i name the next key of one N-long cycle (the chains).
struct Data {
  uint64_t n = KeyCount();
  std::vector<char> values = std::vector<char>(n * kValueBytes);
  std::vector<uint32_t> seq = std::vector<uint32_t>(kSeqLen);  // in [0, n)
  std::vector<char> seq_keys = std::vector<char>(kSeqLen * kKeyBytes);
  std::vector<char> hot_keys = std::vector<char>(kSeqLen * kKeyBytes);

  // Fills everything from a fixed seed, so every run sees the same keys.
  Data();
  std::string_view Value(uint64_t i) const {
    return {&values[i * kValueBytes], kValueBytes};
  }
};

// The process's Data, built on first call; lives until exit.
const Data& GetData();

// Key number `pos` (modulo kSeqLen) of `keys`; points into `keys`.
inline std::string_view KeyAt(const std::vector<char>& keys, size_t pos) {
  return {&keys[(pos % kSeqLen) * kKeyBytes], kKeyBytes};
}

// Data pages that hold `n` items with no chunk to spare.
uint64_t PagesFor(uint64_t n);

// Creates arena "bench_<tag>_<pid>" of `pages` data pages and puts every
// key. Returns "" or why the arena does not hold every key; `*w` is set
// whenever Create succeeded, even if the arena is short.
std::string Load(const Data& d, const std::string& tag, uint64_t pages,
                 std::unique_ptr<shm::ArenaWriter>* w);

// The shared N-key arena and one reader per benchmark thread.
struct Ember {
  std::string error;  // "" once every key is in the arena
  std::unique_ptr<shm::ArenaWriter> writer;
  std::unique_ptr<shm::ArenaReader> readers[kMaxThreads];  // closed first

  // Loads `d` with room to spare, retrying larger up to three times; on
  // failure `error` says why. Prints the page count and index fill.
  explicit Ember(const Data& d);
};

// The process's Ember, loaded on first call; lives until exit.
Ember& GetEmber();

// This thread's reader, opened and warmed (every key read once, faulting in
// its own mapping) on first use; nullptr after SkipWithError if not.
shm::ArenaReader* ReaderFor(benchmark::State& state);

// An MDB_val over `s`'s bytes; valid while `s` is.
inline MDB_val Val(std::string_view s) {
  return MDB_val{s.size(), const_cast<char*>(s.data())};
}

// The same keys in LMDB in a temporary directory, read once to fault in.
struct Lmdb {
  std::string error, dir;  // error is "" once every key is loaded
  MDB_env* env = nullptr;
  MDB_dbi dbi = 0;

  // Opens with MDB_NOSYNC | MDB_WRITEMAP and appends every key of `d`.
  explicit Lmdb(const Data& d);
  Lmdb(const Lmdb&) = delete;
  Lmdb& operator=(const Lmdb&) = delete;
  // Closes the environment and removes `dir`.
  ~Lmdb();
};

// The process's Lmdb, loaded on first call; lives until exit.
Lmdb& GetLmdb();

// Lets Map::find take a string_view without building a std::string.
struct TransparentHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const noexcept {
    return std::hash<std::string_view>{}(s);
  }
};
using Map = std::unordered_map<std::string, std::string, TransparentHash,
                               std::equal_to<>>;

// The same keys in a Map, built on first call; lives until exit.
const Map& GetMap();

// Misses (or failed Puts) and a sink for bytes read, per thread.
struct Tally {
  uint64_t misses = 0;
  uint64_t sink = 0;
  const char* misses_name = "misses";
};

// Runs the timed loop of `op`, then times 20,000 single calls and sets
// p50_ns / p99_ns (averaged over threads) less the clock's median cost,
// items/s (`per_op` items per call) and misses if any. Returns the
// seconds the timed loop took.
template <typename Op>
double Run(benchmark::State& state, const Tally& t, Op&& op, int per_op = 1) {
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  for (auto _ : state) op();
  const std::chrono::duration<double> loop = Clock::now() - start;
  constexpr size_t kSamples = 20000;
  std::vector<int64_t> clock(kSamples), ns(kSamples);
  for (auto& c : clock) {
    const auto t0 = Clock::now();
    c = (Clock::now() - t0).count();
  }
  for (auto& x : ns) {
    const auto t0 = Clock::now();
    op();
    x = (Clock::now() - t0).count();
  }
  auto at = [](std::vector<int64_t>& v, double q) {
    auto it = v.begin() + static_cast<ptrdiff_t>(q * double(v.size() - 1));
    std::nth_element(v.begin(), it, v.end());
    return static_cast<double>(*it);
  };
  const double base = at(clock, 0.5);
  const auto avg = benchmark::Counter::kAvgThreads;
  state.counters["p50_ns"] = {std::max(0.0, at(ns, 0.50) - base), avg};
  state.counters["p99_ns"] = {std::max(0.0, at(ns, 0.99) - base), avg};
  benchmark::DoNotOptimize(t.sink);
  state.SetItemsProcessed(state.iterations() * per_op);
  if (t.misses != 0) state.counters[t.misses_name] = double(t.misses);
  return loop.count();
}

// Where thread t starts in the index sequence (threads read apart).
inline size_t StartPos(const benchmark::State& state) {
  return size_t(state.thread_index()) * (kSeqLen / kMaxThreads);
}

// Looks keys up with `get(key, &word)`: true on a hit, with bytes 0-7 of the
// value in `word`. kChain: each key is the one `word` names (one lookup at a
// time); otherwise the next key of `keys`, from this thread's start.
template <bool kChain, typename Get>
void Lookups(benchmark::State& state, const std::vector<char>& keys, Get get) {
  const uint64_t n = GetData().n;
  size_t pos = StartPos(state);
  uint64_t word = GetData().seq[0];
  char key[kKeyBytes];
  Tally t;
  auto op = [&] {
    std::string_view k(key, kKeyBytes);
    if constexpr (kChain) {
      MakeKey(word, key);
    } else {
      k = KeyAt(keys, pos++);
    }
    if (get(k, &word)) {
      t.sink += word;
    } else {
      ++t.misses;
      word = (word + 1) % n;
    }
  };
  Run(state, t, op);
}

// Adds the CPU model, key count and key, value and item sizes to the
// context printed with every result. Call after benchmark::Initialize.
void AddMachineContext();

}  // namespace ember::bench
