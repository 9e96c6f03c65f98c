// bench/options.h: ember-bench's settings, one struct for every workload
// (a workload ignores what it does not use), and the flag parser.
// Thread safety: a plain value, read-only once parsed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ember::bench {

struct Options {
  std::string workload;  // the first argument: a name in the workload table

  // Where the server listens (remote, memcache). port 0: the workload's
  // default (7379 for remote, 11211 for memcache).
  std::string host = "127.0.0.1";
  int port = 0;
  // Local workloads (local, tiered): the server instance's arena `name`,
  // its `run_dir`, and its Unix socket ("": <run_dir>/ember.sock). Reader
  // threads are `threads` per process in `processes` processes.
  std::string name = "default";
  std::string run_dir = "/tmp/ember";
  std::string socket;
  int processes = 1;

  // Open connections in all, spread over `threads` event-loop threads.
  int connections = 16;
  int threads = 1;
  // Requests each connection keeps in flight.
  int pipeline = 1;
  // memcache: GET as "mg" (meta get, memcached 1.6+: pipelined replies
  // share writes) or "get" (classic: memcached writes each reply alone).
  std::string memcache_get = "mg";
  // GET:SET weights, e.g. 1:0 (all GET), 0:1, 9:1.
  int get_weight = 1;
  int set_weight = 0;

  // Keys "key:%012u" of 16 bytes, numbers [0, keys).
  uint64_t keys = 100000;
  // "uniform", or "zipf" with exponent `skew` (0.99 is YCSB's).
  std::string dist = "uniform";
  double skew = 0.99;
  // Bytes of each SET value.
  size_t value_size = 32;

  // The measured phase stops after `requests` replies if non-zero, else
  // after `duration_s` seconds. `warmup_s` seconds run first, unmeasured.
  double duration_s = 10;
  uint64_t requests = 0;
  double warmup_s = 0;
  // SET every key once (pipelined, in key order) before measuring. With
  // requests 0 and duration 0 only the load runs (memory per key).
  bool load = false;

  // Server process for RSS and CPU figures; 0: not reported.
  int server_pid = 0;
  // Non-empty: write the latency CDF there (see Histogram::WriteCdf).
  std::string cdf_path;
  // A free-form label copied into the RESULT line (the compare script's
  // server name, say).
  std::string label;
  // Print the machine-readable result as JSON instead of a RESULT line.
  bool json = false;
  // -1: the progress line shows when stderr is a terminal; 0 never; 1 always.
  int progress = -1;
  uint64_t seed = 42;
};

// Parses argv (argv[1] is the workload; flags are "--name value" or
// "--name=value"). false with *error naming the flag on bad input.
bool ParseOptions(int argc, char** argv, Options* o, std::string* error);

// The flag list, for --help and errors.
std::string OptionsHelp();

}  // namespace ember::bench
