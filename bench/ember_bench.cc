// bench/ember_bench.cc: ember-bench, one binary with named workloads:
//   ember-bench <workload> [--flag value ...]      (--help lists the flags)
//   remote    RESP load generator over TCP: ember-server, redis-server, any
//             RESP server. Connections over epoll threads, pipeline depth,
//             GET:SET ratio, uniform or Zipfian keys, value size, duration
//             or request count; --load SETs every key first.
//   memcache  the same generator over memcached's text protocol (GET as mg,
//             or with --memcache-get get the classic get).
//   lmdb      mdb_get on an LMDB environment with the same keys: the local
//             read reference, one thread.
//   local     LocalClient::Get from a same-host ember-server's arena, in
//             --threads per process and --processes processes.
//   tiered    LocalClient reads over a key space several times the arena:
//             hot hit ratio, cold reads, promotions, and the latency of
//             arena hits and of server reads separately.
// Each run prints its settings, the machine (CPU model, cores), ops/s,
// mean/p50/p99/p99.9/max latency from a log-bucket histogram, the bench
// process's CPU seconds and, given --server-pid, the server's RSS and CPU
// seconds; then one "RESULT workload=... key=value ..." line (or JSON with
// --json) for bench/compare. --cdf FILE dumps the latency CDF.
#include <unistd.h>

#include <cstdio>
#include <string>
#include <string_view>

#include "bench/options.h"
#include "bench/workloads.h"

namespace ember::bench {
namespace {

struct Workload {
  const char* name;
  const char* summary;
  bool (*run)(const Options&, std::string* error);
};

// One row per workload.
constexpr Workload kWorkloads[] = {
    {"local", "LocalClient::Get, zero-copy from the arena: threads x processes",
     RunLocal},
    {"tiered", "LocalClient reads over a key space larger than the arena",
     RunTiered},
    {"remote", "RESP GET/SET load over TCP (ember-server, redis-server)",
     RunRemote},
    {"memcache", "the same load over memcached's text protocol", RunMemcache},
    {"lmdb", "mdb_get on LMDB with the same keys: local read reference",
     RunLmdb},
};

void Usage(FILE* out) {
  std::fprintf(out, "usage: ember-bench <workload> [flags]\nworkloads:\n");
  for (const Workload& w : kWorkloads) {
    std::fprintf(out, "  %-10s %s\n", w.name, w.summary);
  }
  std::fprintf(out, "%s", OptionsHelp().c_str());
}

int Main(int argc, char** argv) {
  if (argc >= 2 && (std::string_view(argv[1]) == "--help" ||
                    std::string_view(argv[1]) == "-h")) {
    Usage(stdout);
    return 0;
  }
  Options o;
  std::string error;
  if (!ParseOptions(argc, argv, &o, &error)) {
    std::fprintf(stderr, "ember-bench: %s\n\n", error.c_str());
    Usage(stderr);
    return 2;
  }
  if (o.progress < 0) o.progress = isatty(STDERR_FILENO) ? 1 : 0;
  for (const Workload& w : kWorkloads) {
    if (o.workload != w.name) continue;
    if (w.run(o, &error)) return 0;
    std::fprintf(stderr, "ember-bench %s: %s\n", w.name, error.c_str());
    return 1;
  }
  std::fprintf(stderr, "ember-bench: no workload '%s'\n\n", o.workload.c_str());
  Usage(stderr);
  return 2;
}

}  // namespace
}  // namespace ember::bench

int main(int argc, char** argv) { return ember::bench::Main(argc, argv); }
