// server/server.h: ember-server's top: owns the io_contexts and their network
// threads, the TCP and Unix acceptors, signal handling, the cold store, the
// arena and the writer thread; answers INFO (info.cc), applies CONFIG SET,
// REWRITE and RESETSTAT, keeps SCAN cursors and lists and kills clients
// (server_admin.cc).
// Thread safety: Start/Run on the main thread; the accessors from any thread.
#pragma once

#include <asio.hpp>
#include <atomic>
#include <deque>
#include <memory>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "protocol/resp_parser.h"
#include "server/applier.h"
#include "server/cold_store.h"
#include "server/config.h"
#include "server/dirty_table.h"
#include "server/log_recovery.h"
#include "server/redo_log.h"
#include "server/server_info.h"
#include "server/stats.h"
#include "server/telemetry.h"
#include "server/thread_annotations.h"
#include "server/writer.h"
#include "shm/arena_writer.h"

namespace ember::server {

class Connection;

class Server : public ServerInfo {
 public:
  explicit Server(Config config);
  ~Server() override;

  // Opens RocksDB and the redo log, replays the log into RocksDB (DESIGN.md
  // "Recovery"), creates the arena, starts the applier, the writer and the
  // listeners.
  // A Status naming the problem (data_dir unwritable, /dev/shm full, port
  // in use...) when any of them fails.
  shm::Status Start();
  // Serves until SIGINT or SIGTERM (or Shutdown()), then stops gracefully:
  // connections closed, writer drained, applier drained and RocksDB
  // flushed, arena marked CLEAN, RocksDB closed.
  void Run();
  void Shutdown();

  const Config& config() const override { return config_; }
  std::string InfoText(std::string_view sections) override;
  // Cursors belong to the connection CursorOwner names on this thread (no
  // owner: a shared pool); each connection keeps its newest 64, so no
  // client's SCANs can push out another's. Any connection may use any
  // cursor. A closed connection's cursors join the shared pool (the newest
  // 4096 of them kept).
  uint64_t RememberCursor(const std::string& next_key) override
      EXCLUDES(cursor_mu_);
  bool RecallCursor(uint64_t cursor, std::string* next_key) override
      EXCLUDES(cursor_mu_);
  void ForgetCursors(uint64_t owner) EXCLUDES(cursor_mu_);
  Telemetry* telemetry() override { return &telemetry_; }
  std::string ApplyConfig(
      const Config& next,
      const std::vector<std::pair<std::string, const Setting*>>& changed)
      override EXCLUDES(config_mu_);
  std::string RewriteConfig() override EXCLUDES(config_mu_);
  void ResetStats() override;
  std::vector<std::shared_ptr<const ClientState>> Clients() override
      EXCLUDES(mu_);
  bool KillClient(uint64_t id) override EXCLUDES(mu_);
  uint64_t ArenaChunkBytes(uint64_t item_bytes) override;

  Stats& stats() { return stats_; }
  // Event loop `io`'s own Stats: the reads run there (NetKeyspace) count
  // hot_hits, cold_hits and misses into it, a cache line no other thread
  // writes, instead of one line both network threads bounce. INFO and
  // RESETSTAT add these to stats().
  Stats* NetStatsFor(const asio::io_context* io);
  Writer& writer() { return *writer_; }
  ColdStore* cold() { return cold_.get(); }
  // Request limits; `unauthenticated` adds Redis's pre-AUTH ones.
  protocol::ParserLimits parser_limits(bool unauthenticated) const {
    protocol::ParserLimits l = limits_;
    l.unauthenticated = unauthenticated;
    return l;
  }
  // The arena reader of event loop `io` (each loop's thread reads through
  // its own reader slot); null when none could be claimed.
  shm::ArenaReader* ReaderFor(const asio::io_context* io);
  uint16_t tcp_port() const { return tcp_port_; }

 private:
  using Acceptor = asio::basic_socket_acceptor<asio::generic::stream_protocol>;
  // Raises the open-files limit to fit max_clients beside what the server
  // itself opens, or lowers max_clients (logged), as Redis does.
  shm::Status FitOpenFiles();
  shm::Status Listen();
  // The arena (server/arena_start.cc): taken over from the server that ran
  // before when it validates (warm), else fresh, with `cold_reason` saying
  // why when `warm` is false. Logs what it did; fills arena_start_.
  shm::Status OpenArena(uint64_t store_id, bool warm,
                        const std::string& cold_reason = "");
  // Recovery's before_trim: a warm arena gets the log's records after its
  // published LSN (`tail`, in LSN order), or is replaced by a fresh one
  // when it does not fit the log or the tail was over kMaxTailBytes
  // (`tail_overflow`: not all kept); then every LSN the log held is
  // published.
  static constexpr uint64_t kMaxTailBytes = uint64_t{256} << 20;
  shm::Status ReconcileArena(const RecoveryReport& r,
                             const std::vector<LogRecordCopy>& tail,
                             bool tail_overflow, uint64_t store_id);
  void DoAccept(Acceptor* acceptor, bool tcp);
  // Every 100 ms on io_[0]: the instantaneous rates' sample.
  void DoSample();
  // Heap in use plus the arena's item bytes (INFO used_memory).
  uint64_t UsedMemory();

  Config config_;
  Mutex config_mu_;  // one CONFIG SET or REWRITE at a time
  protocol::ParserLimits limits_;
  Stats stats_;
  // One per event loop, by io_ index; aligned so no two share a line.
  struct alignas(64) NetStats {
    Stats stats;
  };
  std::vector<std::unique_ptr<NetStats>> net_stats_;
  // stats_.*counter plus every event loop's.
  uint64_t SumNet(std::atomic<uint64_t> Stats::*counter) const;
  Telemetry telemetry_;
  uint64_t open_files_limit_ = 0, open_files_reserved_ = 0;
  std::string run_id_;  // 40 hex digits, new at every start (INFO)
  std::atomic<uint64_t> used_memory_peak_{0};
  std::atomic<uint64_t> evicted_keys_base_{0};  // CONFIG RESETSTAT
  std::atomic<uint64_t> expired_keys_base_{0};  // CONFIG RESETSTAT
  // INFO expired_keys before CONFIG RESETSTAT's base: with a cold tier
  // RocksDB's count plus the expired values written over before they
  // reached it (each expired key counts once), else the arena's (the keys
  // that expired while hot).
  uint64_t ExpiredKeys() const {
    if (!cold_) return arena_->expired_items();
    return cold_->expired_keys() +
           (dirty_ ? dirty_->counters().expired_overwritten : 0);
  }
  // SCAN cursors. Declared before io_: a connection destroyed with its
  // io_context forgets its cursors here.
  struct Cursor {
    uint64_t owner;
    std::string next_key;
  };
  Mutex cursor_mu_;
  std::unordered_map<uint64_t, Cursor> cursors_ GUARDED_BY(cursor_mu_);
  // Each owner's cursors, oldest first; owner 0 is the shared pool.
  std::unordered_map<uint64_t, std::deque<uint64_t>> owned_cursors_
      GUARDED_BY(cursor_mu_);
  uint64_t next_cursor_ GUARDED_BY(cursor_mu_) = 1;
  std::unique_ptr<ColdStore> cold_;
  // With a cold tier; destroyed in reverse: the applier first.
  std::unique_ptr<RedoLog> log_;
  std::unique_ptr<DirtyTable> dirty_;
  std::unique_ptr<Applier> applier_;
  RecoveryReport recovery_;
  std::unique_ptr<shm::ArenaWriter> arena_;
  shm::ArenaWriter::StartReport arena_start_;  // INFO arena_start_*
  // One per io_[i], same index; destroyed before the arena (declared after).
  std::vector<std::unique_ptr<shm::ArenaReader>> readers_;
  std::unique_ptr<Writer> writer_;
  // One io_context per network thread: a connection lives on one of them,
  // so its handlers never run concurrently and need no strand. io_[0] also
  // runs the acceptors and signals.
  std::vector<std::unique_ptr<asio::io_context>> io_;
  size_t next_io_ = 0;
  bool stopping_ = false;  // io_[0]'s thread only: Shutdown() has begun
  std::unique_ptr<asio::signal_set> signals_;
  std::unique_ptr<asio::steady_timer> sampler_;
  unsigned samples_ = 0;
  std::vector<std::unique_ptr<Acceptor>> acceptors_;
  uint16_t tcp_port_ = 0;
  std::atomic<uint64_t> next_client_id_{1};
  uint64_t start_unix_ms_ = 0;

  Mutex mu_;
  // In order of id (accepted on io_[0]'s thread, ids taken in turn).
  std::vector<std::weak_ptr<Connection>> connections_ GUARDED_BY(mu_);
};

// While one lives, SCAN cursors made on this thread belong to connection
// `id` (Connection wraps each command it runs in one).
class CursorOwner {
 public:
  explicit CursorOwner(uint64_t id);
  ~CursorOwner();
  CursorOwner(const CursorOwner&) = delete;
  CursorOwner& operator=(const CursorOwner&) = delete;
  static uint64_t Current();  // 0 when none

 private:
  uint64_t saved_;
};

// Sets spdlog's level (at start and on CONFIG SET log_level).
void ApplyLogLevel(LogLevel level);

}  // namespace ember::server
