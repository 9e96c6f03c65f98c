// server/slowlog.h: SLOWLOG's entries and LATENCY's events, kept as Redis
// keeps them (slowlog.c, latency.c). Both are written only when a command
// ran past a threshold, so one lock each is enough.
// Thread safety: every method from any thread.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "server/command_table.h"
#include "server/thread_annotations.h"

namespace ember::server {

class SlowLog {
 public:
  struct Entry {
    uint64_t id;
    int64_t unix_seconds;
    uint64_t usec;
    std::vector<std::string> args;  // trimmed and redacted as in Redis
    std::string peer;               // "ip:port", "unix", or "" (a commit)
    std::string client_name;
  };
  // Logs `args` (at most 32 of them, each cut at 128 bytes, with Redis's
  // "... (N more arguments)" and "... (N more bytes)"; passwords become
  // "(redacted)"), then drops the oldest entries beyond `max_len`.
  void Add(const Args& args, uint64_t usec, std::string peer,
           std::string client_name, uint64_t max_len) EXCLUDES(mu_);
  // The newest `count` entries, newest first; all when count < 0.
  std::vector<Entry> Newest(int64_t count) const EXCLUDES(mu_);
  size_t size() const EXCLUDES(mu_);
  void Reset() EXCLUDES(mu_);

 private:
  mutable Mutex mu_;
  std::deque<Entry> entries_ GUARDED_BY(mu_);  // newest first
  uint64_t next_id_ GUARDED_BY(mu_) = 0;
};

class LatencyMonitor {
 public:
  struct Sample {
    int64_t unix_seconds;
    uint64_t ms;
  };
  struct Event {
    std::string name;
    Sample latest;
    uint64_t max_ms;
  };
  // Redis's latencyAddSample: one sample per event and second (the
  // largest), the newest 160 kept, and the largest ever.
  void Add(std::string_view event, uint64_t ms, int64_t unix_seconds)
      EXCLUDES(mu_);
  // LATENCY LATEST: every event, by name.
  std::vector<Event> Latest() const EXCLUDES(mu_);
  // LATENCY HISTORY: `event`'s samples, oldest first (none if unknown).
  std::vector<Sample> History(std::string_view event) const EXCLUDES(mu_);
  // LATENCY RESET: forgets `events` (every one when empty); returns how
  // many there were.
  size_t Reset(const std::vector<std::string>& events) EXCLUDES(mu_);

  static constexpr size_t kSamples = 160;  // Redis's LATENCY_TS_LEN

 private:
  struct Series {
    std::deque<Sample> samples;
    uint64_t max_ms = 0;
  };
  mutable Mutex mu_;
  std::map<std::string, Series, std::less<>> events_ GUARDED_BY(mu_);
};

}  // namespace ember::server
