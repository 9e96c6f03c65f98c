// server/server_admin.cc: what CONFIG SET, REWRITE and RESETSTAT change in
// the running server, the SCAN cursors, kept per connection, and the clients
// CLIENT LIST and KILL see.
#include <spdlog/spdlog.h>

#include "server/connection.h"
#include "server/open_files.h"
#include "server/server.h"
#include "server/settings.h"
#include "shm/size_classes.h"

namespace ember::server {
namespace {

constexpr size_t kCursorsPerOwner = 64;
// Owner 0: cursors of closed connections and of commands run outside one.
constexpr size_t kSharedCursors = 4096;

thread_local uint64_t current_cursor_owner = 0;

}  // namespace

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
  for (const auto& [arg, s] : changed) {
    if (s->name != "max_clients" || next.max_clients <= config_.max_clients)
      continue;
    // More clients need more descriptors: refused, with Redis's words,
    // when the limit cannot be raised to fit them.
    const uint64_t want = next.max_clients + open_files_reserved_;
    int error = 0;
    const uint64_t got = RaiseOpenFilesLimit(want, &error);
    if (got < want) {
      return "ERR CONFIG SET failed (possibly related to argument '" + arg +
             "') - The operating system is not able to handle the specified "
             "number of clients, try with " +
             std::to_string(
                 got > open_files_reserved_ ? got - open_files_reserved_ : 0);
    }
    open_files_limit_ = got;
  }
  std::string names;
  for (const auto& [arg, s] : changed) {
    std::string why;
    // Already parsed once into `next`: this cannot fail.
    s->parse(s->format(next), &config_, &why);
    if (!names.empty())
      names += ' ';  // not "lit" + string&&: GCC 12 -Wrestrict
    names += s->name;
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
  for (auto* a :
       {&stats_.connections_received, &stats_.rejected_connections,
        &stats_.hot_hits, &stats_.dirty_hits, &stats_.cold_hits, &stats_.misses,
        &stats_.promotions, &stats_.fills_dropped, &stats_.oom_keys_dropped,
        &stats_.protocol_errors, &stats_.query_buffer_disconnections,
        &stats_.output_buffer_disconnections}) {
    a->store(0, std::memory_order_relaxed);
  }
  for (auto& n : net_stats_) {
    for (auto* a : {&n->stats.hot_hits, &n->stats.dirty_hits,
                    &n->stats.cold_hits, &n->stats.misses})
      a->store(0, std::memory_order_relaxed);
  }
  // The arena's own counters are shared with every reader: not ours to
  // zero, so INFO subtracts what they were now.
  const shm::ArenaStats& h = arena_->header().stats;
  evicted_keys_base_.store(h.evictions.load() + h.index_evictions.load());
  expired_keys_base_.store(ExpiredKeys());
  used_memory_peak_.store(0);
}

std::vector<std::shared_ptr<const ClientState>> Server::Clients() {
  std::vector<std::shared_ptr<const ClientState>> out;
  MutexLock lock(&mu_);
  for (const auto& w : connections_) {
    if (auto c = w.lock()) out.push_back(c->state());
  }
  return out;
}

bool Server::KillClient(uint64_t id) {
  std::shared_ptr<Connection> victim;
  {
    MutexLock lock(&mu_);
    for (const auto& w : connections_) {
      auto c = w.lock();
      if (c && c->state()->id() == id) victim = std::move(c);
    }
  }
  if (!victim) return false;
  spdlog::debug("CLIENT KILL id={}", id);
  victim->Stop();
  return true;
}

uint64_t Server::ArenaChunkBytes(uint64_t item_bytes) {
  const shm::SizeClasses classes(arena_->header().geo.page_bytes);
  const int cls = classes.ClassFor(item_bytes);
  return cls < 0 ? 0 : classes.chunk_bytes(cls);
}

CursorOwner::CursorOwner(uint64_t id) : saved_(current_cursor_owner) {
  current_cursor_owner = id;
}
CursorOwner::~CursorOwner() { current_cursor_owner = saved_; }
uint64_t CursorOwner::Current() { return current_cursor_owner; }

uint64_t Server::RememberCursor(const std::string& next_key) {
  const uint64_t owner = CursorOwner::Current();
  MutexLock lock(&cursor_mu_);
  const uint64_t id = next_cursor_++;
  cursors_[id] = Cursor{owner, next_key};
  std::deque<uint64_t>& mine = owned_cursors_[owner];
  mine.push_back(id);
  const size_t cap = owner == 0 ? kSharedCursors : kCursorsPerOwner;
  while (mine.size() > cap) {
    cursors_.erase(mine.front());
    mine.pop_front();
  }
  return id;
}

bool Server::RecallCursor(uint64_t cursor, std::string* next_key) {
  MutexLock lock(&cursor_mu_);
  auto it = cursors_.find(cursor);
  if (it == cursors_.end()) return false;
  *next_key = it->second.next_key;
  return true;
}

void Server::ForgetCursors(uint64_t owner) {
  if (owner == 0) return;
  MutexLock lock(&cursor_mu_);
  std::deque<uint64_t>& shared = owned_cursors_[0];  // before `it`: rehash
  auto it = owned_cursors_.find(owner);
  if (it == owned_cursors_.end()) return;
  for (uint64_t id : it->second) {
    cursors_[id].owner = 0;
    shared.push_back(id);
  }
  owned_cursors_.erase(owner);
  while (shared.size() > kSharedCursors) {
    cursors_.erase(shared.front());
    shared.pop_front();
  }
}

}  // namespace ember::server
