// bench/client_bench.cc: a GET through each way into Ember, side by side in
// one run, on the same N keys (EMBER_BENCH_KEYS, default 1,000,000; 16-byte
// keys, 32-byte values):
//   LocalGet         LocalClient::Get, an arena hit (zero-copy), random keys
//   LocalGetHotSet   the same over 10,000 hot keys (cache-resident)
//   RemoteGetUnix    RemoteClient GET over ember-server's Unix socket
//   RemoteGetTcp     RemoteClient GET over TCP to ember-server
//   RedisGetTcp      RemoteClient GET over TCP to redis-server (same keys)
// One connection, no pipelining: a socket GET is one round trip. The
// process starts its own ember-server (EMBER_SERVER, else the build's) and
// redis-server (if installed; skipped otherwise) on 127.0.0.1 with temporary
// directories, loads both, and stops them at exit.
//   ./build/bench/client_bench --benchmark_min_time=0.5
#include <arpa/inet.h>
#include <benchmark/benchmark.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <regex>
#include <string>

#include "bench/bench_fixture.h"
#include "bench/machine.h"
#include "client/local_client.h"
#include "client/remote_client.h"

namespace ember::bench {
namespace {

// A server process of this benchmark run; killed and cleaned up at exit.
struct Server {
  pid_t pid = -1;
  uint16_t port = 0;
  std::string dir, name, socket, error;

  Server() = default;
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;
  ~Server() {
    if (pid > 0) {
      kill(pid, SIGTERM);
      waitpid(pid, nullptr, 0);
    }
    if (!name.empty()) {
      for (const char* s : {"data"})
        unlink(("/dev/shm/ember." + name + "." + s).c_str());
    }
    if (!dir.empty()) std::filesystem::remove_all(dir);
  }
};

// Runs argv with stdout on a pipe (the child dies with us); returns the
// read end, or -1.
int Spawn(const std::vector<std::string>& argv, pid_t* pid) {
  int fds[2];
  if (pipe(fds) != 0) return -1;
  *pid = fork();
  if (*pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    dup2(fds[1], 1);
    dup2(fds[1], 2);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    _exit(127);
  }
  close(fds[1]);
  return fds[0];
}

// Reads `fd` until a line matches `re` (whose group 1 is a port number).
uint16_t WaitForPort(int fd, const std::regex& re) {
  std::string text;
  char buf[512];
  ssize_t n;
  std::smatch m;
  while ((n = read(fd, buf, sizeof buf)) > 0) {
    text.append(buf, size_t(n));
    if (std::regex_search(text, m, re)) return uint16_t(std::stoi(m[1]));
  }
  return 0;
}

// A loopback port free right now (for redis-server, which has no port 0).
uint16_t FreePort() {
  const int s = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
  getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  close(s);
  return ntohs(a.sin_port);
}

// SETs every key of `d` through `c`, 1,000 per pipeline.
std::string LoadKeys(const Data& d, client::RemoteClient* c) {
  std::vector<std::vector<std::string>> batch;
  std::vector<protocol::Reply> replies;
  std::string error;
  auto flush = [&] {
    shm::Status s = c->Pipeline(batch, &replies);
    if (!s.ok()) error = s.ToString();
    batch.clear();
  };
  ForEachKey(d.n, [&](uint64_t i, std::string_view key) {
    batch.push_back({"SET", std::string(key), std::string(d.Value(i))});
    if (batch.size() == 1000 && error.empty()) flush();
  });
  if (!batch.empty() && error.empty()) flush();
  return error;
}

// An arena sized for the keys (about 160 bytes per key, at least 64 MiB),
// as a deployment would size it: an index spread over far more memory than
// the data costs TLB misses on 4 KiB pages.
std::string ArenaBytes() {
  return std::to_string(std::max<uint64_t>(64 << 20, GetData().n * 160));
}

// Waits (up to 60 s) until `pid` uses under 5% of a core: after a load,
// RocksDB flushes and compacts for a while, and a run measured meanwhile
// shares the two cores with it.
void WaitUntilIdle(pid_t pid) {
  for (int i = 0; i < 240; ++i) {
    const double before = ProcessCpuSeconds(pid);
    usleep(250000);
    const double used = ProcessCpuSeconds(pid) - before;
    if (before < 0 || used < 0.0125) return;
  }
}

// Starts ember-server and loads the keys; failures land in s->error.
void StartEmber(Server& s) {
  char tmpl[] = "/tmp/ember-cbench-XXXXXX";
  s.dir = mkdtemp(tmpl);
  s.name = "cbench" + std::to_string(getpid());
  s.socket = s.dir + "/ember.sock";
  const char* env = std::getenv("EMBER_SERVER");
  const std::string bin = env != nullptr && *env ? env : EMBER_SERVER_PATH;
  const int fd = Spawn(
      {bin, "--port", "0", "--name", s.name, "--data_dir", s.dir + "/data",
       "--run_dir", s.dir, "--unix_socket", s.socket, "--threads", "1",
       "--arena_bytes", ArenaBytes(), "--fsync", "everysec"},
      &s.pid);
  s.port =
      WaitForPort(fd, std::regex("listening on tcp 127\\.0\\.0\\.1:(\\d+)"));
  if (s.port == 0) {
    s.error = "ember-server did not start";
    return;
  }
  client::RemoteOptions o;
  o.port = s.port;
  client::RemoteClient c(o);
  s.error = LoadKeys(GetData(), &c);
  WaitUntilIdle(s.pid);
}

Server& GetEmberServer() {
  static Server s;
  static bool started = (StartEmber(s), true);
  (void)started;
  return s;
}

// Starts redis-server (AOF everysec) and loads the keys.
void StartRedis(Server& s) {
  char tmpl[] = "/tmp/ember-cbench-redis-XXXXXX";
  s.dir = mkdtemp(tmpl);
  s.port = FreePort();
  const int fd =
      Spawn({"redis-server", "--port", std::to_string(s.port), "--bind",
             "127.0.0.1", "--dir", s.dir, "--save", "", "--appendonly", "yes",
             "--appendfsync", "everysec", "--logfile", s.dir + "/redis.log"},
            &s.pid);
  close(fd);  // it logs to its file
  client::RemoteOptions o;
  o.port = s.port;
  client::RemoteClient c(o);
  for (int i = 0; i < 100 && !c.Connect().ok(); ++i) usleep(50000);
  if (!c.connected()) {
    s.error = "redis-server did not start (is it installed?)";
    return;
  }
  s.error = LoadKeys(GetData(), &c);
  WaitUntilIdle(s.pid);
}

Server& GetRedisServer() {
  static Server s;
  static bool started = (StartRedis(s), true);
  (void)started;
  return s;
}

void LocalGet(benchmark::State& state, const std::vector<char>& keys) {
  Server& srv = GetEmberServer();
  if (!srv.error.empty()) return state.SkipWithError(srv.error.c_str());
  static std::unique_ptr<client::LocalClient> c = [&] {
    client::LocalOptions o;
    o.name = srv.name;
    o.run_dir = srv.dir;
    o.remote.unix_socket = srv.socket;
    std::unique_ptr<client::LocalClient> c;
    client::LocalClient::Open(o, &c);
    return c;
  }();
  // Warm this thread's slot and mapping: every key once.
  client::Value v;
  uint64_t served_remotely = c->stats().server_reads;
  ForEachKey(GetData().n, [&](uint64_t, std::string_view k) { c->Get(k, &v); });
  v.Release();
  if (c->stats().server_reads != served_remotely)
    return state.SkipWithError("some keys were not in the arena");
  Tally t;
  size_t pos = StartPos(state);
  Run(state, t, [&] {
    if (!c->Get(KeyAt(keys, pos++), &v).ok() || !v.zero_copy()) ++t.misses;
    t.sink += v.view().size();
    v.Release();
  });
}

void BM_LocalGet(benchmark::State& state) {
  LocalGet(state, GetData().seq_keys);
}
void BM_LocalGetHotSet(benchmark::State& state) {
  LocalGet(state, GetData().hot_keys);
}

// The same hot set through a bare shm::ArenaReader on the server's arena:
// LocalClient's own cost is the difference to BM_LocalGetHotSet.
void BM_ArenaReaderHotSet(benchmark::State& state) {
  Server& srv = GetEmberServer();
  if (!srv.error.empty()) return state.SkipWithError(srv.error.c_str());
  std::unique_ptr<shm::ArenaReader> r;
  if (!shm::ArenaReader::Open(srv.name, srv.dir, &r).ok())
    return state.SkipWithError("cannot open the arena");
  const std::vector<char>& keys = GetData().hot_keys;
  std::string_view v;
  for (size_t i = 0; i < 20000; ++i) {  // warm this mapping
    shm::ReadGuard g(r.get());
    g.Get(KeyAt(keys, i), &v);
  }
  Tally t;
  size_t pos = StartPos(state);
  Run(state, t, [&] {
    shm::ReadGuard g(r.get());
    if (!g.Get(KeyAt(keys, pos++), &v).ok()) ++t.misses;
    t.sink += v.size();
  });
}

void RemoteGet(benchmark::State& state, Server& srv, bool unix_socket) {
  if (!srv.error.empty()) return state.SkipWithError(srv.error.c_str());
  client::RemoteOptions o;
  o.port = srv.port;
  if (unix_socket) o.unix_socket = srv.socket;
  client::RemoteClient c(o);
  if (!c.Connect().ok()) return state.SkipWithError("cannot connect");
  Tally t;
  size_t pos = StartPos(state);
  std::string value;
  bool found = false;
  Run(state, t, [&] {
    if (!c.Get(KeyAt(GetData().seq_keys, pos++), &value, &found).ok() || !found)
      ++t.misses;
    t.sink += value.size();
  });
}

void BM_RemoteGetUnix(benchmark::State& s) {
  RemoteGet(s, GetEmberServer(), true);
}
void BM_RemoteGetTcp(benchmark::State& s) {
  RemoteGet(s, GetEmberServer(), false);
}
void BM_RedisGetTcp(benchmark::State& s) {
  RemoteGet(s, GetRedisServer(), false);
}

BENCHMARK(BM_LocalGet)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(BM_LocalGetHotSet)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(BM_ArenaReaderHotSet)->UseRealTime();
BENCHMARK(BM_RemoteGetUnix)->UseRealTime();
BENCHMARK(BM_RemoteGetTcp)->UseRealTime();
BENCHMARK(BM_RedisGetTcp)->UseRealTime();

}  // namespace
}  // namespace ember::bench

int main(int argc, char** argv) {
  ember::bench::AddMachineContext();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
