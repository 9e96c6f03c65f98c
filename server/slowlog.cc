// server/slowlog.cc: SLOWLOG entries (trimmed and redacted as Redis's
// slowlogCreateEntry) and LATENCY's per-second samples.
#include "server/slowlog.h"

#include <algorithm>

#include "server/command_util.h"
#include "shm/clock.h"

namespace ember::server {
namespace {

constexpr size_t kMaxArgs = 32;       // SLOWLOG_ENTRY_MAX_ARGC
constexpr size_t kMaxArgBytes = 128;  // SLOWLOG_ENTRY_MAX_STRING
constexpr std::string_view kRedacted = "(redacted)";

// Which arguments hold a secret: AUTH's, HELLO's AUTH pair, and the value
// of CONFIG SET requirepass (Redis redacts the same ones).
std::vector<bool> Secrets(const Args& args) {
  std::vector<bool> secret(args.size(), false);
  const std::string cmd = Lower(args[0]);
  if (cmd == "auth") {
    std::fill(secret.begin() + 1, secret.end(), true);
  } else if (cmd == "hello") {
    for (size_t i = 1; i + 2 < args.size(); ++i) {
      if (Lower(args[i]) == "auth") secret[i + 1] = secret[i + 2] = true;
    }
  } else if (cmd == "config" && args.size() > 1 && Lower(args[1]) == "set") {
    for (size_t i = 2; i + 1 < args.size(); i += 2) {
      if (Lower(args[i]) == "requirepass") secret[i + 1] = true;
    }
  }
  return secret;
}

}  // namespace

void SlowLog::Add(const Args& args, uint64_t usec, std::string peer,
                  std::string client_name, uint64_t max_len) {
  Entry e{0, 0, usec, {}, std::move(peer), std::move(client_name)};
  e.unix_seconds = static_cast<int64_t>(shm::NowUnixMs() / 1000);
  const std::vector<bool> secret = Secrets(args);
  const size_t n = std::min(args.size(), kMaxArgs);
  for (size_t i = 0; i < n; ++i) {
    if (n != args.size() && i == n - 1) {
      e.args.push_back("... (" + std::to_string(args.size() - n + 1) +
                       " more arguments)");
    } else if (secret[i]) {
      e.args.emplace_back(kRedacted);
    } else if (args[i].size() > kMaxArgBytes) {
      e.args.push_back(args[i].substr(0, kMaxArgBytes) + "... (" +
                       std::to_string(args[i].size() - kMaxArgBytes) +
                       " more bytes)");
    } else {
      e.args.push_back(args[i]);
    }
  }
  MutexLock lock(&mu_);
  e.id = next_id_++;
  entries_.push_front(std::move(e));
  while (entries_.size() > max_len) entries_.pop_back();
}

std::vector<SlowLog::Entry> SlowLog::Newest(int64_t count) const {
  MutexLock lock(&mu_);
  const size_t n = count < 0
                       ? entries_.size()
                       : std::min(entries_.size(), static_cast<size_t>(count));
  return std::vector<Entry>(entries_.begin(), entries_.begin() + n);
}

size_t SlowLog::size() const {
  MutexLock lock(&mu_);
  return entries_.size();
}

void SlowLog::Reset() {
  MutexLock lock(&mu_);
  entries_.clear();
}

void LatencyMonitor::Add(std::string_view event, uint64_t ms,
                         int64_t unix_seconds) {
  MutexLock lock(&mu_);
  auto it = events_.find(event);
  if (it == events_.end()) it = events_.try_emplace(std::string(event)).first;
  Series& s = it->second;
  s.max_ms = std::max(s.max_ms, ms);
  if (!s.samples.empty() && s.samples.back().unix_seconds == unix_seconds) {
    s.samples.back().ms = std::max(s.samples.back().ms, ms);
    return;
  }
  s.samples.push_back({unix_seconds, ms});
  if (s.samples.size() > kSamples) s.samples.pop_front();
}

std::vector<LatencyMonitor::Event> LatencyMonitor::Latest() const {
  MutexLock lock(&mu_);
  std::vector<Event> out;
  for (const auto& [name, s] : events_) {
    if (!s.samples.empty()) out.push_back({name, s.samples.back(), s.max_ms});
  }
  return out;
}

std::vector<LatencyMonitor::Sample> LatencyMonitor::History(
    std::string_view event) const {
  MutexLock lock(&mu_);
  auto it = events_.find(event);
  if (it == events_.end()) return {};
  return {it->second.samples.begin(), it->second.samples.end()};
}

size_t LatencyMonitor::Reset(const std::vector<std::string>& events) {
  MutexLock lock(&mu_);
  if (events.empty()) {
    const size_t n = events_.size();
    events_.clear();
    return n;
  }
  size_t n = 0;
  // Names are lower case; RESET matches any case, HISTORY only exactly
  // (as Redis does).
  for (const std::string& e : events) n += events_.erase(Lower(e));
  return n;
}

}  // namespace ember::server
