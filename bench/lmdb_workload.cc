// bench/lmdb_workload.cc: the local read reference: mdb_get on an LMDB
// environment holding the same keys and values as the remote runs, one
// thread, one read transaction renewed and reset around each get (as a
// reader of Ember's arena takes a guard per get), every key read once
// before the measured loop.
#include <lmdb.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "bench/histogram.h"
#include "bench/keys.h"
#include "bench/machine.h"
#include "bench/report.h"
#include "bench/workloads.h"

namespace ember::bench {
namespace {

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

MDB_val Val(std::string_view s) {
  return MDB_val{s.size(), const_cast<char*>(s.data())};
}

// An LMDB environment in a fresh temporary directory, removed on
// destruction. Every call returns an LMDB code (0 is success).
class Env {
 public:
  ~Env() {
    if (txn_ != nullptr) mdb_txn_abort(txn_);
    if (env_ != nullptr) mdb_env_close(env_);
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
  }
  // Creates the directory and environment, and appends keys [0, n) with
  // `value` in one write transaction (keys ascend, so MDB_APPEND).
  int Fill(uint64_t n, const std::string& value) {
    char tmpl[] = "/tmp/ember_bench_lmdb.XXXXXX";
    if (mkdtemp(tmpl) == nullptr) return errno;
    dir_ = tmpl;
    const size_t map = size_t(n) * (value.size() + kKeyBytes + 64) * 2;
    int rc = mdb_env_create(&env_);
    if (rc == 0) rc = mdb_env_set_mapsize(env_, map + (size_t{64} << 20));
    if (rc == 0) rc = mdb_env_open(env_, tmpl, MDB_NOSYNC | MDB_WRITEMAP, 0600);
    MDB_txn* txn = nullptr;
    if (rc == 0) rc = mdb_txn_begin(env_, nullptr, 0, &txn);
    if (rc == 0) rc = mdb_dbi_open(txn, nullptr, 0, &dbi_);
    char key[kKeyBytes];
    for (uint64_t i = 0; rc == 0 && i < n; ++i) {
      MakeKey(i, key);
      MDB_val k = Val({key, kKeyBytes}), v = Val(value);
      rc = mdb_put(txn, dbi_, &k, &v, MDB_APPEND);
    }
    if (rc == 0) return mdb_txn_commit(txn);
    if (txn != nullptr) mdb_txn_abort(txn);
    return rc;
  }
  // One get in its own renewed read transaction; *first is the value's
  // first byte, so the read cannot be optimised away. MDB_NOTFOUND on a
  // miss.
  int Get(std::string_view key, char* first) {
    int rc = txn_ == nullptr ? mdb_txn_begin(env_, nullptr, MDB_RDONLY, &txn_)
                             : mdb_txn_renew(txn_);
    MDB_val k = Val(key), v{};
    if (rc == 0) rc = mdb_get(txn_, dbi_, &k, &v);
    if (rc == 0 && v.mv_size > 0) *first = *static_cast<char*>(v.mv_data);
    if (txn_ != nullptr) mdb_txn_reset(txn_);
    return rc;
  }

 private:
  std::string dir_;
  MDB_env* env_ = nullptr;
  MDB_dbi dbi_ = 0;
  MDB_txn* txn_ = nullptr;  // the reader's transaction, reset between gets
};

}  // namespace

bool RunLmdb(const Options& o, std::string* error) {
  Env env;
  int rc = env.Fill(o.keys, MakeValue(o.value_size));
  char key[kKeyBytes], sink = 0;
  const std::string_view k(key, kKeyBytes);
  for (uint64_t i = 0; rc == 0 && i < o.keys; ++i) {  // fault every page in
    MakeKey(i, key);
    rc = env.Get(k, &sink);
  }
  if (rc != 0) {
    *error = std::string("lmdb: ") + mdb_strerror(rc);
    return false;
  }
  const KeySequence seq(o.keys, o.dist == "zipf" ? o.skew : 0.0, o.seed);
  Histogram latency;
  uint64_t ops = 0, misses = 0;
  const double cpu0 = SelfCpuSeconds();
  const int64_t t0 = NowNs();
  const int64_t stop = t0 + int64_t(o.duration_s * 1e9);
  int64_t next_progress = t0 + int64_t(1e9), prev = t0;
  for (size_t pos = 0;; ++pos) {
    if (o.requests != 0 ? ops >= o.requests
                        : (ops & 1023) == 0 && prev >= stop) {
      break;
    }
    MakeKey(seq.at(pos), key);
    if (env.Get(k, &sink) != 0) ++misses;
    const int64_t now = NowNs();  // one clock read per get: it ends this
    latency.Record(now - prev);   // sample and starts the next
    prev = now;
    ++ops;
    if (o.progress == 1 && (ops & 1023) == 0 && now >= next_progress) {
      std::fprintf(stderr, "\rlmdb: %.0f s, %llu gets   ",
                   double(now - t0) / 1e9,
                   static_cast<unsigned long long>(ops));
      next_progress += int64_t(1e9);
    }
  }
  const double seconds = double(prev - t0) / 1e9;
  if (o.progress == 1) std::fprintf(stderr, "\r%60s\r", "");

  Report r("lmdb", "run", o.label);
  r.Setting("threads", "1");
  r.Setting("txn", "renew+get+reset_per_get");
  r.Setting("flags", "MDB_NOSYNC|MDB_WRITEMAP");
  r.Setting("keys", std::to_string(o.keys));
  r.Setting("dist", o.dist);
  if (o.dist == "zipf") r.Setting("skew", Fixed(o.skew, 2));
  r.Setting("key_bytes", std::to_string(kKeyBytes));
  r.Setting("value_bytes", std::to_string(o.value_size));
  r.Setting("latency", "one_clock_read_per_get,_included");
  r.AddThroughput(ops, seconds, latency);
  r.Figure("misses", std::to_string(misses));
  r.Figure("cpu_s", Fixed(SelfCpuSeconds() - cpu0, 2));
  r.Figure("rss_mib", MiB(ProcessRssBytes(getpid())));
  r.Print(o.json);
  if (sink == 1) std::fputc(' ', stderr);  // keeps `sink` alive
  if (!o.cdf_path.empty() &&
      !latency.WriteCdf(o.cdf_path, "lmdb " + o.label, error)) {
    return false;
  }
  return true;
}

}  // namespace ember::bench
