// server/telemetry.cc: the per-command record (counters, SLOWLOG, LATENCY)
// and the instantaneous rates.
#include "server/telemetry.h"

#include "server/server_info.h"
#include "shm/clock.h"

namespace ember::server {

void RecordCommand(CommandContext& ctx, const CommandSpec& spec,
                   const Args& args, uint64_t ns, CommandStats::Outcome outcome,
                   std::string_view reply) {
  Telemetry* t = ctx.info->telemetry();
  if (t == nullptr) return;
  t->commands.Record(spec, args, ns, outcome, reply);
  if (outcome == CommandStats::Outcome::kRejected) return;
  const Config& c = ctx.info->config();
  const uint64_t usec = ns / 1000;
  const int64_t slower_than = c.slowlog_log_slower_than;
  if (slower_than >= 0 && usec >= static_cast<uint64_t>(slower_than)) {
    t->slowlog.Add(args, usec, ctx.session->peer, ctx.session->name,
                   c.slowlog_max_len);
  }
  const uint64_t threshold = c.latency_monitor_threshold;
  if (threshold > 0 && usec / 1000 >= threshold) {
    t->latency.Add("command", usec / 1000,
                   static_cast<int64_t>(shm::NowUnixMs() / 1000));
  }
}

void RecordErrorReply(CommandContext& ctx, std::string_view reply) {
  if (Telemetry* t = ctx.info->telemetry()) t->commands.RecordError(reply);
}

void InstantaneousRates::Sample(uint64_t now_ms,
                                const CommandStats::Totals& t) {
  MutexLock lock(&mu_);
  const uint64_t elapsed = now_ms - last_ms_;
  // Copies: clang's analysis does not see mu_ held inside the lambda.
  const bool first = last_ms_ == 0;
  const size_t slot = next_;
  auto sample = [&](Metric* m, uint64_t value, double scale) {
    // A reset counter (CONFIG RESETSTAT) restarts from its new value.
    const uint64_t delta = value >= m->last_value ? value - m->last_value : 0;
    if (!first && elapsed > 0)
      m->per_sec[slot] = delta * 1000.0 / elapsed / scale;
    m->last_value = value;
  };
  sample(&ops_, t.commands, 1);
  sample(&in_, t.net_input_bytes, 1024);
  sample(&out_, t.net_output_bytes, 1024);
  if (last_ms_ != 0) next_ = (next_ + 1) % kSamples;
  last_ms_ = now_ms;
}

InstantaneousRates::Rates InstantaneousRates::Get() const {
  MutexLock lock(&mu_);
  auto mean = [](const Metric& m) {
    double sum = 0;
    for (double v : m.per_sec) sum += v;
    return sum / kSamples;
  };
  return {static_cast<uint64_t>(mean(ops_) + 0.5), mean(in_), mean(out_)};
}

}  // namespace ember::server
