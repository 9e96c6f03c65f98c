// server/server_admin.cc: what CONFIG SET, REWRITE and RESETSTAT change in
// the running server.
#include <spdlog/spdlog.h>

#include "server/server.h"
#include "server/settings.h"

namespace ember::server {

void ApplyLogLevel(LogLevel level) {
  const spdlog::level::level_enum levels[] = {
      spdlog::level::debug, spdlog::level::info, spdlog::level::warn,
      spdlog::level::err};
  spdlog::set_level(levels[static_cast<int>(level)]);
}

std::string Server::ApplyConfig(
    const Config& next,
    const std::vector<std::pair<std::string, const Setting*>>& changed) {
  MutexLock lock(&config_mu_);
  std::string names;
  for (const auto& [arg, s] : changed) {
    std::string why;
    // Already parsed once into `next`: this cannot fail.
    s->parse(s->format(next), &config_, &why);
    names += (names.empty() ? "" : " ") + std::string(s->name);
  }
  ApplyLogLevel(config_.log_level);
  arena_->SetReaderLeaseMs(config_.reader_lease_ms);
  spdlog::info("CONFIG SET {}", names);
  return "";
}

std::string Server::RewriteConfig() {
  MutexLock lock(&config_mu_);
  if (config_.config_file.empty())
    return "ERR The server is running without a config file";
  const std::string error = RewriteConfigFile(config_.config_file, config_);
  if (!error.empty()) {
    spdlog::warn("CONFIG REWRITE of {} failed: {}", config_.config_file, error);
    return "ERR Rewriting config file: " + error;
  }
  spdlog::info("CONFIG REWRITE executed with success: {}", config_.config_file);
  return "";
}

void Server::ResetStats() {
  telemetry_.commands.Reset();
  for (auto* a : {&stats_.connections_received, &stats_.rejected_connections,
                  &stats_.hot_hits, &stats_.cold_hits, &stats_.misses,
                  &stats_.promotions, &stats_.fills_dropped,
                  &stats_.oom_keys_dropped, &stats_.protocol_errors}) {
    a->store(0, std::memory_order_relaxed);
  }
  // The arena's own counters are shared with every reader: not ours to
  // zero, so INFO subtracts what they were now.
  const shm::ArenaStats& h = arena_->header().stats;
  evicted_keys_base_.store(h.evictions.load() + h.index_evictions.load());
  used_memory_peak_.store(0);
}

}  // namespace ember::server
