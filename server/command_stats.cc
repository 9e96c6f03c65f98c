// server/command_stats.cc: per-thread shards of command counters, summed
// into INFO's commandstats, errorstats and latencystats lines.
#include "server/command_stats.h"

#include <cinttypes>
#include <cstdio>
#include <map>
#include <thread>

#include "server/command_util.h"
#include "server/latency_histogram.h"

namespace ember::server {
namespace {

// Redis's container commands: their calls count per subcommand.
constexpr std::string_view kContainers[] = {
    "acl",    "client",   "cluster", "command", "config",
    "debug",  "function", "latency", "memory",  "module",
    "object", "pubsub",   "script",  "slowlog", "xinfo"};
// Bounds on what one client's inventions can add to a shard.
constexpr size_t kMaxSubcommands = 512;
constexpr size_t kMaxErrorCodes = 128;  // Redis's ERRORSTATS_LIMIT

std::atomic<uint64_t> next_instance{1};

// The calling thread's shard of the CommandStats it last used.
thread_local struct {
  uint64_t instance = 0;
  void* shard = nullptr;
} tls_shard;

void Bump(std::atomic<uint64_t>& a, uint64_t n) {  // owner thread only
  a.store(a.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}
uint64_t Load(const std::atomic<uint64_t>& a) {
  return a.load(std::memory_order_relaxed);
}

bool PlausibleName(std::string_view s) {
  if (s.empty() || s.size() > 32) return false;
  for (char c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_')
      return false;
  }
  return true;
}

}  // namespace

struct CommandStats::Counters {
  std::atomic<uint64_t> calls{0}, ns{0}, rejected{0}, failed{0};
  std::atomic<LatencyHistogram*> histogram{nullptr};  // on the first call
  ~Counters() { delete histogram.load(); }

  void Count(uint64_t elapsed, Outcome outcome) {  // owner thread only
    if (outcome == Outcome::kRejected) return Bump(rejected, 1);
    Bump(calls, 1);
    Bump(ns, elapsed);
    if (outcome == Outcome::kFailed) Bump(failed, 1);
    LatencyHistogram* h = histogram.load(std::memory_order_relaxed);
    if (h == nullptr) {
      h = new LatencyHistogram();
      histogram.store(h, std::memory_order_release);
    }
    h->Record(elapsed);
  }
  void Zero() {
    for (auto* a : {&calls, &ns, &rejected, &failed})
      a->store(0, std::memory_order_relaxed);
    if (LatencyHistogram* h = histogram.load()) h->Clear();
  }
};

struct CommandStats::Shard {
  explicit Shard(size_t commands) : by_index(commands) {}
  const std::thread::id thread = std::this_thread::get_id();
  std::atomic<uint64_t> generation{0};  // of CommandStats::generation_
  std::vector<Counters> by_index;       // AllCommands() order
  Mutex mu;  // the maps; taken by the owner and by INFO
  std::map<std::string, Counters, std::less<>> subcommands GUARDED_BY(mu);
  std::map<std::string, uint64_t, std::less<>> errors GUARDED_BY(mu);
  std::atomic<uint64_t> error_replies{0}, net_in{0}, net_out{0}, reads{0},
      writes{0};
};

struct CommandStats::Summed {
  uint64_t calls = 0, ns = 0, rejected = 0, failed = 0;
  std::unique_ptr<LatencyHistogram::Counts> counts;

  void Add(const Counters& c, bool histograms) {
    calls += Load(c.calls);
    ns += Load(c.ns);
    rejected += Load(c.rejected);
    failed += Load(c.failed);
    const LatencyHistogram* h = c.histogram.load(std::memory_order_acquire);
    if (!histograms || h == nullptr) return;
    if (!counts) counts = std::make_unique<LatencyHistogram::Counts>();
    h->AddTo(counts.get());
  }
};

CommandStats::CommandStats() : id_(next_instance.fetch_add(1)) {
  for (const CommandSpec& c : AllCommands()) {
    bool container = false;
    for (std::string_view n : kContainers) container |= n == c.name;
    has_subcommands_.push_back(container);
  }
}

CommandStats::~CommandStats() = default;

CommandStats::Shard* CommandStats::Mine() {
  Shard* s = nullptr;
  if (tls_shard.instance == id_) {
    s = static_cast<Shard*>(tls_shard.shard);
  } else {
    MutexLock lock(&mu_);
    for (auto& shard : shards_) {
      if (shard->thread == std::this_thread::get_id()) s = shard.get();
    }
    if (s == nullptr) {
      shards_.push_back(std::make_unique<Shard>(has_subcommands_.size()));
      s = shards_.back().get();
    }
    tls_shard.instance = id_;
    tls_shard.shard = s;
  }
  const uint64_t gen = generation_.load(std::memory_order_acquire);
  if (s->generation.load(std::memory_order_relaxed) != gen) {
    for (Counters& c : s->by_index) c.Zero();
    {
      MutexLock lock(&s->mu);
      s->subcommands.clear();
      s->errors.clear();
    }
    for (auto* a :
         {&s->error_replies, &s->net_in, &s->net_out, &s->reads, &s->writes})
      a->store(0, std::memory_order_relaxed);
    s->generation.store(gen, std::memory_order_release);
  }
  return s;
}

void CommandStats::Record(const CommandSpec& spec, const Args& args,
                          uint64_t ns, Outcome outcome,
                          std::string_view reply) {
  const auto& all = AllCommands();
  if (&spec < all.data() || &spec >= all.data() + all.size()) return;
  const size_t index = static_cast<size_t>(&spec - all.data());
  if (!reply.empty() && reply[0] == '-') RecordError(reply);
  Shard* s = Mine();
  if (!has_subcommands_[index] || args.size() < 2 ||
      reply.starts_with("-ERR unknown subcommand") || !PlausibleName(args[1])) {
    // An unknown subcommand counts against its command, as in Redis.
    if (reply.starts_with("-ERR unknown subcommand"))
      outcome = Outcome::kRejected;
    return s->by_index[index].Count(ns, outcome);
  }
  // A subcommand's own arity check is a refusal before it ran.
  if (outcome == Outcome::kFailed &&
      reply.starts_with("-ERR wrong number of arguments"))
    outcome = Outcome::kRejected;
  std::string name = std::string(spec.name) + "|" + Lower(args[1]);
  MutexLock lock(&s->mu);
  auto it = s->subcommands.find(name);
  if (it == s->subcommands.end()) {
    if (s->subcommands.size() >= kMaxSubcommands)
      return s->by_index[index].Count(ns, outcome);
    it = s->subcommands.try_emplace(std::move(name)).first;
  }
  it->second.Count(ns, outcome);
}

void CommandStats::RecordError(std::string_view reply) {
  Shard* s = Mine();
  Bump(s->error_replies, 1);
  std::string_view code = reply.substr(reply.starts_with("-") ? 1 : 0);
  code = code.substr(0, std::min(code.find_first_of(" \r\n"), size_t{64}));
  MutexLock lock(&s->mu);
  auto it = s->errors.find(code);
  if (it == s->errors.end()) {
    if (s->errors.size() >= kMaxErrorCodes) return;
    it = s->errors.emplace(std::string(code), 0).first;
  }
  ++it->second;
}

void CommandStats::RecordRead(uint64_t bytes) {
  Shard* s = Mine();
  Bump(s->reads, 1);
  Bump(s->net_in, bytes);
}

void CommandStats::RecordWrite(uint64_t bytes) {
  Shard* s = Mine();
  Bump(s->writes, 1);
  Bump(s->net_out, bytes);
}

void CommandStats::Reset() { generation_.fetch_add(1); }

std::vector<std::pair<std::string, CommandStats::Summed>> CommandStats::Collect(
    bool histograms) const {
  const auto& all = AllCommands();
  std::vector<Summed> top(all.size());
  std::map<std::string, Summed> subs;
  const uint64_t gen = generation_.load(std::memory_order_acquire);
  for (const auto& s : shards_) {
    if (s->generation.load(std::memory_order_acquire) != gen) continue;
    for (size_t i = 0; i < all.size(); ++i)
      top[i].Add(s->by_index[i], histograms);
    MutexLock lock(&s->mu);
    for (const auto& [name, c] : s->subcommands) subs[name].Add(c, histograms);
  }
  std::vector<std::pair<std::string, Summed>> out;
  for (size_t i = 0; i < all.size(); ++i) {
    out.emplace_back(all[i].name, std::move(top[i]));
    const std::string prefix = std::string(all[i].name) + "|";
    for (auto it = subs.lower_bound(prefix);
         it != subs.end() && it->first.starts_with(prefix); ++it) {
      out.emplace_back(it->first, std::move(it->second));
    }
  }
  return out;
}

CommandStats::Totals CommandStats::Sum() const {
  MutexLock lock(&mu_);
  Totals t;
  const uint64_t gen = generation_.load(std::memory_order_acquire);
  for (const auto& s : shards_) {
    if (s->generation.load(std::memory_order_acquire) != gen) continue;
    for (const Counters& c : s->by_index) t.commands += Load(c.calls);
    {
      MutexLock shard_lock(&s->mu);
      for (const auto& [name, c] : s->subcommands) t.commands += Load(c.calls);
    }
    t.error_replies += Load(s->error_replies);
    t.net_input_bytes += Load(s->net_in);
    t.net_output_bytes += Load(s->net_out);
    t.reads += Load(s->reads);
    t.writes += Load(s->writes);
  }
  return t;
}

std::string CommandStats::CommandStatsText() const {
  MutexLock lock(&mu_);
  std::string out;
  char buf[256];
  for (const auto& [name, s] : Collect(false)) {
    if (s.calls == 0 && s.rejected == 0 && s.failed == 0) continue;
    const uint64_t usec = s.ns / 1000;
    std::snprintf(buf, sizeof(buf),
                  ":calls=%" PRIu64 ",usec=%" PRIu64
                  ",usec_per_call=%.2f,rejected_calls=%" PRIu64
                  ",failed_calls=%" PRIu64 "\r\n",
                  s.calls, usec,
                  s.calls ? static_cast<double>(usec) / s.calls : 0.0,
                  s.rejected, s.failed);
    out += "cmdstat_" + name + buf;
  }
  return out;
}

std::string CommandStats::LatencyStatsText() const {
  MutexLock lock(&mu_);
  std::string out;
  char buf[256];
  for (const auto& [name, s] : Collect(true)) {
    if (!s.counts) continue;
    // A reference, not the binding: clang 14 cannot capture bindings.
    const LatencyHistogram::Counts& counts = *s.counts;
    auto usec = [&](double p) {
      return LatencyHistogram::Percentile(counts, p) / 1000.0;
    };
    std::snprintf(buf, sizeof(buf), ":p50=%.3f,p99=%.3f,p99.9=%.3f\r\n",
                  usec(50), usec(99), usec(99.9));
    out += "latency_percentiles_usec_" + name + buf;
  }
  return out;
}

std::string CommandStats::ErrorStatsText() const {
  MutexLock lock(&mu_);
  std::map<std::string, uint64_t> sum;
  const uint64_t gen = generation_.load(std::memory_order_acquire);
  for (const auto& s : shards_) {
    if (s->generation.load(std::memory_order_acquire) != gen) continue;
    MutexLock shard_lock(&s->mu);
    for (const auto& [code, n] : s->errors) sum[code] += n;
  }
  std::string out;
  for (const auto& [code, n] : sum)
    out += "errorstat_" + code + ":count=" + std::to_string(n) + "\r\n";
  return out;
}

}  // namespace ember::server
