// bench/local_workload.cc: the local and tiered workloads: LocalClient::Get
// against a same-host ember-server, timed per get with one clock read (as
// the lmdb workload), in --threads threads of --processes processes.
//   local   every key in the arena: zero-copy hits; any server read is
//           counted (and should be 0 after --load).
//   tiered  a key space several times the arena (start the server with a
//           small arena_bytes): arena hits and server reads timed apart,
//           and the server's cold hits, promotions and evictions (INFO).
// --load SETs every key first, pipelined over the Unix socket.
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <thread>
#include <vector>

#include "bench/histogram.h"
#include "bench/keys.h"
#include "bench/machine.h"
#include "bench/report.h"
#include "bench/server_info.h"
#include "bench/workloads.h"
#include "client/local_client.h"

namespace ember::bench {
namespace {

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

client::LocalOptions LocalOptionsOf(const Options& o) {
  client::LocalOptions lo;
  lo.name = o.name;
  lo.run_dir = o.run_dir;
  lo.remote.unix_socket =
      o.socket.empty() ? o.run_dir + "/ember.sock" : o.socket;
  return lo;
}

// SETs keys [0, keys) over the socket, 1,000 per pipeline.
bool LoadKeys(const Options& o, std::string* error) {
  client::RemoteClient c(LocalOptionsOf(o).remote);
  const std::string value = MakeValue(o.value_size);
  std::vector<std::vector<std::string>> batch;
  std::vector<protocol::Reply> replies;
  char key[kKeyBytes];
  for (uint64_t i = 0; i < o.keys; ++i) {
    MakeKey(i, key);
    batch.push_back({"SET", std::string(key, kKeyBytes), value});
    if (batch.size() == 1000 || i + 1 == o.keys) {
      shm::Status s = c.Pipeline(batch, &replies);
      if (!s.ok()) return *error = "load: " + s.ToString(), false;
      batch.clear();
    }
  }
  return true;
}

// What the reader threads of one process measured.
struct Tally {
  Histogram hits;    // arena (zero-copy) gets
  Histogram server;  // gets answered by the server
  uint64_t misses = 0, errors = 0;
  double seconds = 0;
};

// Runs `threads` readers for the configured time; stream numbers start at
// `first_stream` of `streams` in all, so every reader walks its own part of
// the key sequence.
Tally RunReaders(const Options& o, const KeySequence& seq, int first_stream,
                 int streams) {
  std::unique_ptr<client::LocalClient> c;
  Tally total;
  if (!client::LocalClient::Open(LocalOptionsOf(o), &c).ok()) {
    total.errors = 1;
    return total;
  }
  std::vector<Tally> per(size_t(o.threads));
  std::vector<std::thread> threads;
  for (int t = 0; t < o.threads; ++t) {
    threads.emplace_back([&, t] {
      Tally& m = per[size_t(t)];
      client::Value v;
      char key[kKeyBytes];
      const std::string_view k(key, kKeyBytes);
      size_t pos = KeySequence::Start(first_stream + t, streams);
      // Unmeasured: map the arena, fault its pages in, warm up.
      const int64_t warm_end = NowNs() + int64_t(o.warmup_s * 1e9);
      do {
        MakeKey(seq.at(pos++), key);
        c->Get(k, &v);
        v.Release();
      } while (NowNs() < warm_end);
      const int64_t t0 = NowNs(), stop = t0 + int64_t(o.duration_s * 1e9);
      int64_t prev = t0;
      for (uint64_t n = 0;; ++n) {
        if (o.requests != 0 ? n >= o.requests : (n & 255) == 0 && prev >= stop)
          break;
        MakeKey(seq.at(pos++), key);
        shm::Status s = c->Get(k, &v);
        const bool zero_copy = s.ok() && v.zero_copy();
        v.Release();
        const int64_t now = NowNs();  // ends this sample, starts the next
        (zero_copy ? m.hits : m.server).Record(now - prev);
        if (s.code() == shm::Code::kNotFound) ++m.misses;
        if (!s.ok() && s.code() != shm::Code::kNotFound) ++m.errors;
        prev = now;
      }
      m.seconds = double(prev - t0) / 1e9;
    });
  }
  for (auto& th : threads) th.join();
  for (const Tally& m : per) {
    total.hits.Merge(m.hits);
    total.server.Merge(m.server);
    total.misses += m.misses;
    total.errors += m.errors;
    total.seconds = std::max(total.seconds, m.seconds);
  }
  return total;
}

// Runs the readers in `o.processes` processes (this one and forked
// children, each with its own LocalClient) and adds up their tallies.
bool RunAllProcesses(const Options& o, const KeySequence& seq, Tally* total,
                     std::string* error) {
  const int streams = o.threads * o.processes;
  struct Child {
    pid_t pid;
    int fd;
  };
  std::vector<Child> children;
  for (int p = 1; p < o.processes; ++p) {
    int fds[2];
    if (pipe(fds) != 0) return *error = "pipe failed", false;
    const pid_t pid = fork();
    if (pid == 0) {
      close(fds[0]);
      Tally t = RunReaders(o, seq, p * o.threads, streams);
      std::ostringstream out;
      out << t.misses << ' ' << t.errors << ' ' << t.seconds << '\n'
          << t.hits.Encode() << t.server.Encode();
      const std::string bytes = out.str();
      size_t done = 0;
      while (done < bytes.size()) {
        const ssize_t n =
            write(fds[1], bytes.data() + done, bytes.size() - done);
        if (n <= 0) _exit(1);
        done += size_t(n);
      }
      _exit(0);
    }
    close(fds[1]);
    children.push_back({pid, fds[0]});
  }
  *total = RunReaders(o, seq, 0, streams);
  for (const Child& ch : children) {
    std::string bytes;
    char buf[65536];
    ssize_t n;
    while ((n = read(ch.fd, buf, sizeof buf)) > 0) bytes.append(buf, size_t(n));
    close(ch.fd);
    int status = 0;
    waitpid(ch.pid, &status, 0);
    const size_t nl = bytes.find('\n');
    const size_t h = Histogram().Encode().size();
    Tally t;
    std::istringstream head(bytes.substr(0, nl == bytes.npos ? 0 : nl));
    if (nl == bytes.npos || bytes.size() != nl + 1 + 2 * h ||
        !(head >> t.misses >> t.errors >> t.seconds) ||
        !t.hits.Decode(bytes.substr(nl + 1, h)) ||
        !t.server.Decode(bytes.substr(nl + 1 + h, h))) {
      return *error = "a reader process failed", false;
    }
    total->hits.Merge(t.hits);
    total->server.Merge(t.server);
    total->misses += t.misses;
    total->errors += t.errors;
    total->seconds = std::max(total->seconds, t.seconds);
  }
  return true;
}

// The server's INFO fields `names`, as numbers (absent: -1).
std::vector<int64_t> ServerInfo(const Options& o,
                                const std::vector<std::string>& names) {
  std::vector<int64_t> out(names.size(), -1);
  client::RemoteClient c(LocalOptionsOf(o).remote);
  const auto info = InfoFields(&c, "");
  for (size_t i = 0; i < names.size(); ++i) {
    if (auto it = info.find(names[i]); it != info.end())
      out[i] = std::atoll(it->second.c_str());
  }
  return out;
}

void AddSettings(const Options& o, const KeySequence& seq, Report* r) {
  r->Setting("arena", o.name);
  r->Setting("run_dir", o.run_dir);
  r->Setting("processes", std::to_string(o.processes));
  r->Setting("threads_per_process", std::to_string(o.threads));
  r->Setting("keys", std::to_string(o.keys));
  r->Setting("dist", o.dist);
  if (o.dist == "zipf") {
    r->Setting("skew", Fixed(o.skew, 2));
    r->Setting("hot1pct_share", Fixed(seq.hot_share(), 3));
  }
  r->Setting("key_bytes", std::to_string(kKeyBytes));
  r->Setting("value_bytes", std::to_string(o.value_size));
  r->Setting("latency", "one_clock_read_per_get,_included");
}

bool Run(const Options& o, bool tiered, std::string* error) {
  if (o.load && !LoadKeys(o, error)) return false;
  const KeySequence seq(o.keys, o.dist == "zipf" ? o.skew : 0.0, o.seed);
  const std::vector<std::string> fields = {"cold_hits", "promotions",
                                           "evicted_keys", "arena_bytes"};
  const std::vector<int64_t> before = ServerInfo(o, fields);
  const double cpu0 = SelfCpuSeconds();
  Tally t;
  if (!RunAllProcesses(o, seq, &t, error)) return false;
  const std::vector<int64_t> after = ServerInfo(o, fields);
  if (t.errors != 0) {
    *error = std::to_string(t.errors) +
             " gets failed (is ember-server running with name " + o.name +
             " and run_dir " + o.run_dir + "?)";
    return false;
  }
  Report r(tiered ? "tiered" : "local", "run", o.label);
  AddSettings(o, seq, &r);
  if (after[3] > 0) r.Setting("arena_bytes", std::to_string(after[3]));
  Histogram all = t.hits;
  all.Merge(t.server);
  r.AddThroughput(all.count(), t.seconds, all);
  const int readers = o.threads * o.processes;
  r.Figure("ops_per_s_per_reader",
           Fixed(double(all.count()) / t.seconds / readers, 0));
  r.Figure("arena_hits", std::to_string(t.hits.count()));
  r.Figure("server_reads", std::to_string(t.server.count()));
  r.Figure("hot_hit_ratio",
           Fixed(all.count() ? double(t.hits.count()) / all.count() : 0, 4));
  r.Figure("misses", std::to_string(t.misses));
  if (tiered) {
    auto us = [](int64_t ns) { return Fixed(double(ns) / 1000.0, 2); };
    r.Figure("hit_p50_us", us(t.hits.Percentile(0.5)));
    r.Figure("hit_p99_us", us(t.hits.Percentile(0.99)));
    r.Figure("server_p50_us", us(t.server.Percentile(0.5)));
    r.Figure("server_p99_us", us(t.server.Percentile(0.99)));
    const char* names[] = {"cold_hits", "promotions", "evictions"};
    for (int i = 0; i < 3; ++i) {
      if (before[i] >= 0 && after[i] >= 0)
        r.Figure(names[i], std::to_string(after[i] - before[i]));
    }
  }
  r.Figure("cpu_s", Fixed(SelfCpuSeconds() - cpu0, 2));
  if (o.server_pid > 0)
    r.Figure("server_rss_mib", MiB(ProcessRssBytes(o.server_pid)));
  r.Print(o.json);
  if (!o.cdf_path.empty() &&
      !all.WriteCdf(o.cdf_path,
                    std::string(tiered ? "tiered " : "local ") + o.label,
                    error)) {
    return false;
  }
  return true;
}

}  // namespace

bool RunLocal(const Options& o, std::string* error) {
  return Run(o, /*tiered=*/false, error);
}

bool RunTiered(const Options& o, std::string* error) {
  return Run(o, /*tiered=*/true, error);
}

}  // namespace ember::bench
