// tests/shm/shm_worker.cc: a separate process for the shared-memory tests.
//   shm_worker writer NAME RUN_DIR SECONDS KEYS READY_FILE
//     creates the arena, loads KEYS keys, touches READY_FILE, then rewrites
//     random keys for SECONDS (every tenth key is deleted and re-added).
//   shm_worker reader NAME RUN_DIR SECONDS KEYS THREADS
//     checks every value it sees: it names its key and its checksum holds;
//     a key that is never deleted must always be found. Exit 0 when clean.
//   shm_worker holder NAME RUN_DIR KEY
//     takes a guard, reads KEY, prints "held" and waits to be killed.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "shm/arena_reader.h"
#include "shm/arena_writer.h"
#include "shm/key_hash.h"

using namespace ember::shm;
using Clock = std::chrono::steady_clock;

namespace {

std::string Key(uint64_t i) { return "key:" + std::to_string(i); }

// "<key>|<version>|<filler>|<16 hex digits of XXH3 of what precedes>".
std::string Value(const std::string& key, uint64_t version) {
  std::string v =
      key + "|" + std::to_string(version) + "|" +
      std::string((version * 7 + key.size()) % 200, 'a' + version % 26) + "|";
  char sum[17];
  std::snprintf(
      sum, sizeof(sum), "%016llx",
      static_cast<unsigned long long>(XXH3_64bits(v.data(), v.size())));
  return v + sum;
}

bool ValueIsSound(std::string_view key, std::string_view v) {
  if (v.size() < 17 || v.substr(0, key.size()) != key || v[key.size()] != '|')
    return false;
  std::string_view body = v.substr(0, v.size() - 16);
  char sum[17];
  std::snprintf(
      sum, sizeof(sum), "%016llx",
      static_cast<unsigned long long>(XXH3_64bits(body.data(), body.size())));
  return v.substr(v.size() - 16) == sum;
}

int RunWriter(char** argv) {
  ArenaOptions o;
  o.name = argv[2];
  o.run_dir = argv[3];
  const int seconds = std::atoi(argv[4]);
  const uint64_t keys = std::strtoull(argv[5], nullptr, 10);
  o.arena_bytes = 64 << 20;
  o.page_bytes = 64 << 10;
  o.remove_on_close = true;
  std::unique_ptr<ArenaWriter> w;
  Status s = ArenaWriter::Create(o, &w);
  if (!s.ok()) {
    std::fprintf(stderr, "writer: %s\n", s.ToString().c_str());
    return 2;
  }
  std::vector<uint64_t> version(keys, 0);
  for (uint64_t i = 0; i < keys; ++i) {
    if (!w->Put(Key(i), Value(Key(i), 0)).ok()) return 3;
  }
  std::ofstream(argv[6]) << "ready\n";
  std::mt19937_64 rng(getpid());
  const auto end = Clock::now() + std::chrono::seconds(seconds);
  uint64_t puts = 0, deletes = 0;
  auto last_tick = Clock::now();
  while (Clock::now() < end) {
    const uint64_t i = rng() % keys;
    const std::string k = Key(i);
    if (i % 10 == 0 && (version[i] & 1) == 0) {
      w->Delete(k);
      ++deletes;
    } else if (!(s = w->Put(k, Value(k, version[i] + 1))).ok()) {
      std::fprintf(stderr, "writer: put %s: %s\n", k.c_str(),
                   s.ToString().c_str());
      return 4;
    } else {
      ++puts;
    }
    ++version[i];
    if (Clock::now() - last_tick > std::chrono::milliseconds(1)) {
      w->Tick();
      last_tick = Clock::now();
    }
  }
  std::printf(
      "writer: %llu puts, %llu deletes, %llu reclaimed, %llu readers seen\n",
      static_cast<unsigned long long>(puts),
      static_cast<unsigned long long>(deletes),
      static_cast<unsigned long long>(w->header().stats.reclaimed.load()),
      static_cast<unsigned long long>(w->header().stats.readers_seen.load()));
  return 0;
}

int RunReader(char** argv) {
  const std::string name = argv[2], run_dir = argv[3];
  const int seconds = std::atoi(argv[4]);
  const uint64_t keys = std::strtoull(argv[5], nullptr, 10);
  const int threads = std::atoi(argv[6]);
  std::atomic<uint64_t> reads{0}, hits{0}, torn{0}, missing{0}, failures{0};
  auto body = [&](int t) {
    std::unique_ptr<ArenaReader> r;
    Status s = ArenaReader::Open(name, run_dir, &r);
    if (!s.ok()) {
      std::fprintf(stderr, "reader: %s\n", s.ToString().c_str());
      ++failures;
      return;
    }
    std::mt19937_64 rng(getpid() * 31 + t);
    const auto end = Clock::now() + std::chrono::seconds(seconds);
    std::vector<std::string> batch(16);
    std::vector<std::string_view> views(16), vals(16);
    bool found[16];
    uint64_t n = 0, h = 0, bad = 0, miss = 0;
    while (Clock::now() < end) {
      for (int k = 0; k < 16; ++k) {
        batch[k] = Key(rng() % keys);
        views[k] = batch[k];
      }
      ReadGuard g(r.get());
      if (!g.status().ok()) {
        ++failures;
        break;
      }
      if (t % 2 == 0) {
        g.MultiGet(views, vals.data(), found);
      } else {
        for (int k = 0; k < 16; ++k) found[k] = g.Get(views[k], &vals[k]).ok();
      }
      for (int k = 0; k < 16; ++k) {
        ++n;
        const uint64_t i = std::strtoull(batch[k].c_str() + 4, nullptr, 10);
        if (found[k]) {
          ++h;
          if (!ValueIsSound(views[k], vals[k])) ++bad;
        } else if (i % 10 != 0) {
          ++miss;
        }
      }
      if (!g.Release().ok()) ++failures;
    }
    reads += n;
    hits += h;
    torn += bad;
    missing += miss;
  };
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) pool.emplace_back(body, t);
  for (auto& th : pool) th.join();
  std::printf(
      "reader %d: %llu reads, %llu hits, %llu torn, %llu stable keys missing\n",
      getpid(), static_cast<unsigned long long>(reads.load()),
      static_cast<unsigned long long>(hits.load()),
      static_cast<unsigned long long>(torn.load()),
      static_cast<unsigned long long>(missing.load()));
  return (torn == 0 && missing == 0 && failures == 0 && reads > 0) ? 0 : 1;
}

int RunHolder(char** argv) {
  std::unique_ptr<ArenaReader> r;
  Status s = ArenaReader::Open(argv[2], argv[3], &r);
  if (!s.ok()) {
    std::fprintf(stderr, "holder: %s\n", s.ToString().c_str());
    return 2;
  }
  ReadGuard g(r.get());
  std::string_view v;
  if (!g.Get(argv[4], &v).ok()) return 3;
  std::printf("held\n");
  std::fflush(stdout);
  while (true) pause();
}

}  // namespace

int main(int argc, char** argv) {
  const std::string role = argc > 1 ? argv[1] : "";
  if (role == "writer" && argc == 7) return RunWriter(argv);
  if (role == "reader" && argc == 7) return RunReader(argv);
  if (role == "holder" && argc == 5) return RunHolder(argv);
  std::fprintf(stderr, "usage: see the top of tests/shm/shm_worker.cc\n");
  return 64;
}
