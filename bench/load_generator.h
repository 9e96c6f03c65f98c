// bench/load_generator.h: the closed-loop network load generator behind the
// remote and memcache workloads. Each event-loop thread owns its share of
// the connections (non-blocking sockets, one epoll set) and keeps
// `pipeline` requests in flight on each: a reply frees a slot, and after
// each read the connection is topped up again with one write. Latency is
// from the write that carried a request to the read that returned its
// reply, recorded per request in a Histogram.
// Thread safety: RunLoad is a blocking call; it starts and joins its own
// threads and shares nothing else.
#pragma once

#include <cstdint>
#include <string>

#include "bench/codec.h"
#include "bench/histogram.h"
#include "bench/keys.h"

namespace ember::bench {

struct LoadPlan {
  std::string host = "127.0.0.1";  // a numeric IPv4 or IPv6 address
  int port = 0;
  int connections = 1;
  int threads = 1;
  int pipeline = 1;
  CodecFactory codec;  // one codec per connection

  // kMix: GET and SET by weight over `sequence`; kLoad: SET each key of
  // [0, load_keys) exactly once, in key order, then stop.
  enum class Mode { kMix, kLoad } mode = Mode::kMix;
  const KeySequence* sequence = nullptr;  // kMix; outlives RunLoad
  int get_weight = 1;
  int set_weight = 0;
  uint64_t load_keys = 0;
  std::string value;  // every SET's value

  // kMix stops issuing after `requests` requests sent once warm-up is over,
  // or if that is 0 after `duration_s` seconds of measurement.
  uint64_t requests = 0;
  double duration_s = 10;
  double warmup_s = 0;

  int server_pid = 0;         // > 0: its CPU seconds are measured too
  bool progress = false;      // a \r-updated line on stderr, once a second
  std::string progress_name;  // its prefix
};

struct LoadStats {
  Histogram latency;  // nanoseconds per request, measured phase only
  uint64_t ops = 0;   // replies in the measured phase
  uint64_t hits = 0, misses = 0, stored = 0, errors = 0;
  double seconds = 0;              // wall time of the measured phase
  double cpu_seconds = 0;          // this process, measured phase
  double server_cpu_seconds = -1;  // the server's, if server_pid; else -1
};

// Runs `plan` to the end. false with *error (and partial *stats) when a
// connection fails, the stream breaks, or replies stop coming (30 s).
bool RunLoad(const LoadPlan& plan, LoadStats* stats, std::string* error);

}  // namespace ember::bench
