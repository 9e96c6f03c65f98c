// bench/arena_bench.cc: Ember's shared-memory arena against LMDB and
// std::unordered_map on the same keys, plus the writer's Put and memory use.
// N keys (1,000,000, or EMBER_BENCH_KEYS; the CTest smoke test
// arena_bench_smoke uses 20,000) of 16 bytes ("key:%012u"), 32-byte values,
// loaded once. Lookups hit uniformly random keys, pre-generated (2^20 of
// them) so no RNG runs in a timed loop.
//   BM_EmberGet          ReadGuard + Get + Release per key; one ArenaReader
//                        per thread; 1 and 2 threads
//   BM_LmdbGet           mdb_get in one read txn per key (renew/reset),
//                        MDB_NOSYNC|MDB_WRITEMAP; 1 and 2 threads
//   BM_UnorderedMapFind  std::unordered_map::find by string_view; 1 and 2
//   BM_EmberChain        dependent chain: bytes 0-7 of each value index the
//                        next key (one N-long cycle); loads cannot overlap
//   BM_UnorderedMapChain the same chain through std::unordered_map
//   BM_LmdbChain         the same chain through LMDB
//   BM_EmberMultiGet16   MultiGet of 16 random keys per guard (per key:
//                        items/s, ns_per_key)
//   BM_EmberHotGet       as BM_EmberGet over a hot set of 10,000 keys
//   BM_LocalGet, BM_LocalChain, BM_LocalHotGet, BM_LocalMultiGet16
//                        the same through client::LocalClient (what an
//                        application calls: thread state, heartbeat check,
//                        guard reuse, Value), on the same arena; its slot is
//                        claimed over the attach socket like any client's
//   BM_EmberPut          writer Put overwriting random keys in the warm arena
//   BM_MemoryOverhead    one shot, N items in an arena of just enough pages:
//                        bytes_per_item_overhead (index, hints, chunk bytes
//                        beyond key+value, writer heap), reserved_bytes_per_
//                        item (segments + writer heap - 48), dropped (keys
//                        that found no index slot)
// Every row prints items/s; p50_ns/p99_ns time 20,000 operations one at a
// time after the timed loop, less the clock's cost (isolated, so they may
// exceed the mean). The context names the CPU, key count and sizes.
// The two vCPUs are unequal; compare runs made with
//   --benchmark_repetitions=5 --benchmark_enable_random_interleaving=true
// Shared setup (keys, fixtures, timing, context) is in bench/bench_fixture.h.
#include <benchmark/benchmark.h>
#include <lmdb.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "bench/bench_fixture.h"
#include "client/local_client.h"
#include "shm/arena_reader.h"
#include "shm/arena_writer.h"

namespace ember::bench {
namespace {

using benchmark::State;

template <bool kChain>
void EmberLookups(State& state, const std::vector<char>& keys) {
  shm::ArenaReader* r = ReaderFor(state);
  if (r == nullptr) return;
  Lookups<kChain>(state, keys, [r](std::string_view key, uint64_t* word) {
    shm::ReadGuard g(r);  // one guard per lookup
    std::string_view v;
    const bool hit = g.Get(key, &v).ok();
    if (hit) std::memcpy(word, v.data(), 8);
    g.Release();
    return hit;
  });
}

void BM_EmberGet(State& s) { EmberLookups<false>(s, GetData().seq_keys); }
void BM_EmberHotGet(State& s) { EmberLookups<false>(s, GetData().hot_keys); }
void BM_EmberChain(State& s) { EmberLookups<true>(s, GetData().seq_keys); }

template <bool kChain>
void MapLookups(State& state) {
  const Map& m = GetMap();
  Lookups<kChain>(state, GetData().seq_keys,
                  [&m](std::string_view key, uint64_t* word) {
                    auto it = m.find(key);
                    if (it == m.end()) return false;
                    std::memcpy(word, it->second.data(), 8);
                    return true;
                  });
}

void BM_UnorderedMapFind(State& state) { MapLookups<false>(state); }
void BM_UnorderedMapChain(State& state) { MapLookups<true>(state); }

template <bool kChain>
void LmdbLookups(State& state) {
  Lmdb& l = GetLmdb();
  MDB_txn* txn = nullptr;  // this thread's, reset between lookups
  if (!l.error.empty()) return state.SkipWithError(l.error.c_str());
  if (int rc = mdb_txn_begin(l.env, nullptr, MDB_RDONLY, &txn); rc != 0) {
    return state.SkipWithError(mdb_strerror(rc));
  }
  mdb_txn_reset(txn);
  Lookups<kChain>(state, GetData().seq_keys,
                  [&](std::string_view key, uint64_t* word) {
                    mdb_txn_renew(txn);
                    MDB_val k = Val(key), v;
                    const bool hit = mdb_get(txn, l.dbi, &k, &v) == 0;
                    if (hit) std::memcpy(word, v.mv_data, 8);
                    mdb_txn_reset(txn);
                    return hit;
                  });
  mdb_txn_abort(txn);
}

void BM_LmdbGet(State& state) { LmdbLookups<false>(state); }
void BM_LmdbChain(State& state) { LmdbLookups<true>(state); }

void BM_EmberMultiGet16(State& state) {
  constexpr int kBatch = 16;
  const Data& d = GetData();
  shm::ArenaReader* r = ReaderFor(state);
  if (r == nullptr) return;
  size_t pos = StartPos(state);
  Tally t;
  std::string_view keys[kBatch], values[kBatch];
  bool found[kBatch];
  auto op = [&] {
    for (auto& k : keys) k = KeyAt(d.seq_keys, pos++);
    shm::ReadGuard g(r);
    t.misses += kBatch - g.MultiGet(keys, values, found);
    for (int j = 0; j < kBatch; ++j) {
      if (found[j]) t.sink += uint8_t(values[j][8]);
    }
    g.Release();
  };
  const double seconds = Run(state, t, op, kBatch);
  state.counters["ns_per_key"] =
      seconds * 1e9 / double(state.iterations() * kBatch);
}

// The process's LocalClient on the benchmark arena; null after
// SkipWithError if the arena did not load. Each thread's first Get maps it.
client::LocalClient* LocalFor(State& state) {
  if (ReaderFor(state) == nullptr) return nullptr;  // loads and warms
  static std::unique_ptr<client::LocalClient> c = [] {
    client::LocalOptions o;
    o.name = GetEmber().writer->options().name;
    o.run_dir = GetEmber().writer->options().run_dir;
    std::unique_ptr<client::LocalClient> out;
    return client::LocalClient::Open(o, &out).ok() ? std::move(out) : nullptr;
  }();
  if (c == nullptr || !c->arena_ready()) {
    state.SkipWithError("LocalClient could not map the arena");
    return nullptr;
  }
  return c.get();
}

template <bool kChain>
void LocalLookups(State& state, const std::vector<char>& keys) {
  client::LocalClient* c = LocalFor(state);
  if (c == nullptr) return;
  client::Value v;  // reused: Get releases the previous read first
  Lookups<kChain>(state, keys, [c, &v](std::string_view key, uint64_t* word) {
    if (!c->Get(key, &v).ok() || !v.zero_copy()) return false;
    std::memcpy(word, v.view().data(), 8);
    return true;
  });
}

void BM_LocalGet(State& s) { LocalLookups<false>(s, GetData().seq_keys); }
void BM_LocalHotGet(State& s) { LocalLookups<false>(s, GetData().hot_keys); }
void BM_LocalChain(State& s) { LocalLookups<true>(s, GetData().seq_keys); }

void BM_LocalMultiGet16(State& state) {
  constexpr int kBatch = 16;
  const Data& d = GetData();
  client::LocalClient* c = LocalFor(state);
  if (c == nullptr) return;
  size_t pos = StartPos(state);
  Tally t;
  std::string_view keys[kBatch], values[kBatch];
  bool found[kBatch];
  auto op = [&] {
    for (auto& k : keys) k = KeyAt(d.seq_keys, pos++);
    if (!c->MultiGet(keys, values, found).ok()) ++t.misses;
    for (int j = 0; j < kBatch; ++j) {
      if (found[j]) t.sink += uint8_t(values[j][8]);
    }
    c->ReleaseMulti();
  };
  const double seconds = Run(state, t, op, kBatch);
  state.counters["ns_per_key"] =
      seconds * 1e9 / double(state.iterations() * kBatch);
}

void BM_EmberPut(State& state) {
  const Data& d = GetData();
  Ember& e = GetEmber();
  if (!e.error.empty()) return state.SkipWithError(e.error.c_str());
  shm::ArenaWriter* w = e.writer.get();
  const shm::ArenaStats& st = w->header().stats;
  const uint64_t dropped = st.evictions.load() + st.index_evictions.load();
  size_t pos = StartPos(state);
  Tally t;
  t.misses_name = "failed_puts";
  auto op = [&] {
    const size_t p = pos++ % kSeqLen;
    t.misses += !w->Put(KeyAt(d.seq_keys, p), d.Value(d.seq[p])).ok();
  };
  Run(state, t, op);
  const uint64_t now = st.evictions.load() + st.index_evictions.load();
  if (now != dropped) state.counters["evicted"] = double(now - dropped);
}

void BM_MemoryOverhead(State& state) {
  const Data& d = GetData();
  std::unique_ptr<shm::ArenaWriter> w;
  std::string err;
  for (auto _ : state) {
    w.reset();
    err = Load(d, "tight", PagesFor(d.n), &w);
  }
  // This full, index evictions are expected; anything else fails the run.
  const shm::ArenaHeader* h = w ? &w->header() : nullptr;
  if (h == nullptr || h->stats.evictions.load() != 0 ||
      h->stats.items.load() + h->stats.index_evictions.load() != d.n) {
    return state.SkipWithError(err.c_str());
  }
  const double items = double(h->stats.items.load());
  const double index = double(h->geo.bucket_count * sizeof(shm::Bucket));
  const double hints = double(h->geo.data_bytes >> shm::kGranuleShift);
  const double slack =
      double(h->stats.chunk_bytes.load() - h->stats.kv_bytes.load());
  const double heap = double(w->PrivateBytes());
  state.SetItemsProcessed(int64_t(d.n));
  state.counters["items"] = items;
  state.counters["dropped"] = double(d.n) - items;
  state.counters["bytes_per_item_overhead"] =
      (index + hints + slack + heap) / items;
  state.counters["reserved_bytes_per_item"] =
      (double(h->segment_bytes + w->hints_bytes()) + heap) / items -
      double(kKeyBytes + kValueBytes);
}

BENCHMARK(BM_EmberGet)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(BM_LmdbGet)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(BM_UnorderedMapFind)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(BM_EmberChain)->UseRealTime();
BENCHMARK(BM_UnorderedMapChain)->UseRealTime();
BENCHMARK(BM_LmdbChain)->UseRealTime();
BENCHMARK(BM_EmberMultiGet16)->UseRealTime();
BENCHMARK(BM_EmberHotGet)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(BM_LocalGet)->UseRealTime();
BENCHMARK(BM_LocalChain)->UseRealTime();
BENCHMARK(BM_LocalHotGet)->UseRealTime();
BENCHMARK(BM_LocalMultiGet16)->UseRealTime();
BENCHMARK(BM_EmberPut)->UseRealTime();
// Deterministic up to the hash seed: one repetition is enough.
BENCHMARK(BM_MemoryOverhead)
    ->Iterations(1)
    ->Repetitions(1)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
}  // namespace ember::bench

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  ember::bench::AddMachineContext();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
