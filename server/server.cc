// server/server.cc: start-up, listeners, accept loop, graceful stop.
#include "server/server.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <random>

#include "protocol/resp_writer.h"
#include "server/connection.h"
#include "server/open_files.h"
#include "shm/reclaimer.h"
#include "shm/run_dir.h"

namespace ember::server {

Server::Server(Config config) : config_(std::move(config)) {
  const uint32_t n = NetworkThreads(config_.threads);
  for (uint32_t i = 0; i < n; ++i) {
    io_.push_back(std::make_unique<asio::io_context>(1));
    net_stats_.push_back(std::make_unique<NetStats>());
  }
  signals_ = std::make_unique<asio::signal_set>(*io_[0], SIGINT, SIGTERM);
  sampler_ = std::make_unique<asio::steady_timer>(*io_[0]);
  limits_.max_bulk_bytes = static_cast<int64_t>(config_.proto_max_bulk_len);
  start_unix_ms_ = shm::NowUnixMs();
  std::random_device rd;
  std::mt19937_64 rng((uint64_t{rd()} << 32) ^ rd() ^ start_unix_ms_);
  static constexpr char kHex[] = "0123456789abcdef";
  for (int i = 0; i < 40; ++i) run_id_ += kHex[rng() % 16];
}

Server::~Server() {
  if (writer_) writer_->Stop();
  if (applier_) applier_->Stop();
}

shm::Status Server::FitOpenFiles() {
  // Beside the clients: RocksDB's files, an attach connection per reader
  // slot, an epoll, eventfd and timerfd per event loop, Redis's 32.
  open_files_reserved_ =
      kMinReservedFds + shm::ArenaOptions().max_readers + 3 * io_.size();
  if (config_.cold_tier == ColdTier::kRocksDb)
    open_files_reserved_ += ColdStore::kMaxOpenFiles + ColdStore::kOtherFiles;
  const uint64_t want = config_.max_clients + open_files_reserved_;
  int error = 0;
  open_files_limit_ = RaiseOpenFilesLimit(want, &error);
  if (open_files_limit_ >= want) {
    spdlog::info("open files limit {} (max_clients {} + {} for the server)",
                 open_files_limit_, config_.max_clients.get(),
                 open_files_reserved_);
    return shm::Status::Ok();
  }
  if (open_files_limit_ <= open_files_reserved_) {
    return shm::Status::InvalidArgument(
        "the open files limit ('ulimit -n') of " +
        std::to_string(open_files_limit_) +
        " is not enough for the server to start: raise it to at least " +
        std::to_string(open_files_reserved_ + 1));
  }
  // Redis's three lines (server.c, adjustOpenFilesLimit).
  spdlog::warn(
      "You requested max_clients of {} requiring at least {} max file "
      "descriptors.",
      config_.max_clients.get(), want);
  spdlog::warn(
      "Server can't set maximum open files to {} because of OS error: {}.",
      want, std::strerror(error));
  config_.max_clients = static_cast<uint32_t>(std::min<uint64_t>(
      open_files_limit_ - open_files_reserved_, config_.max_clients));
  spdlog::warn(
      "Current maximum open files is {}. max_clients has been reduced to {} "
      "to compensate for low ulimit. If you need higher max_clients increase "
      "'ulimit -n'.",
      open_files_limit_, config_.max_clients.get());
  return shm::Status::Ok();
}

shm::Status Server::Start() {
  if (config_.threads == 0) {
    spdlog::info("network threads: {} (threads = auto, {} usable cores)",
                 io_.size(), UsableCores());
  }
  EMBER_RETURN_IF_ERROR(FitOpenFiles());
  WriteBack wb;
  uint64_t store_id = 0;
  if (config_.cold_tier == ColdTier::kRocksDb) {
    EMBER_RETURN_IF_ERROR(ColdStore::Open(config_.data_dir, &cold_));
    EMBER_RETURN_IF_ERROR(RedoLog::Open(
        {LogDirOf(config_), config_.fsync, config_.log_segment_bytes}, &log_));
    store_id = cold_->store_id();
  }
  // Before the log is replayed: a warm arena gets the records it lacks.
  EMBER_RETURN_IF_ERROR(OpenArena(store_id, config_.warm_restart));
  if (config_.cold_tier == ColdTier::kRocksDb) {
    // Records after the warm arena's published LSN (those of the commit
    // the crash interrupted: a few at most). A cold arena needs none.
    const uint64_t published =
        arena_start_.warm ? arena_start_.published_lsn : UINT64_MAX;
    std::vector<LogRecordCopy> tail;
    uint64_t tail_bytes = 0;
    bool tail_overflow = false;
    EMBER_RETURN_IF_ERROR(RecoverColdStore(
        log_->dir(), cold_.get(), &recovery_, published,
        [&](const LogRecord& r) {
          tail_bytes += r.key.size() + r.value.size();
          tail_overflow = tail_overflow || tail_bytes > kMaxTailBytes;
          if (tail_overflow) return;
          tail.push_back({r.lsn, r.kind, r.expiry_ms, std::string(r.key),
                          std::string(r.value)});
        },
        [&](const RecoveryReport& r) {
          return ReconcileArena(r, tail, tail_overflow, store_id);
        }));
    if (!recovery_.log.dropped.empty())
      spdlog::warn("recovery dropped the log's torn tail: {}",
                   recovery_.log.dropped);
    spdlog::info(
        "recovery: {} log records replayed into RocksDB ({} bytes, {} "
        "segments) from LSN {} in {} ms; the log goes on at LSN {}",
        recovery_.log.records, recovery_.log.bytes, recovery_.log.segments,
        recovery_.applied_lsn_before + 1, recovery_.ms, recovery_.next_lsn);
    // The database map (SWAPDB) is RocksDB's after the replay (read before
    // the applier runs); without a cold tier a warm arena keeps its own (a
    // fresh one's is the identity).
    arena_->SetDbMap(cold_->db_map().data());
    EMBER_RETURN_IF_ERROR(log_->Start(recovery_.next_lsn));
    dirty_ = std::make_unique<DirtyTable>(
        DirtyTable::Limits{config_.dirty_max_bytes, config_.applier_max_lag_ms},
        cold_->applied_lsn());
    applier_ = std::make_unique<Applier>(
        dirty_.get(), cold_.get(), log_.get(),
        std::chrono::milliseconds(config_.applier_delay_ms));
    applier_->Start();
    wb = WriteBack{log_.get(), dirty_.get(), recovery_.next_lsn};
    spdlog::info("cold tier: RocksDB in {}, redo log in {} (fsync {})",
                 config_.data_dir, log_->dir(), FsyncName(config_.fsync));
  }
  if (config_.cold_tier == ColdTier::kNone && arena_->holding()) {
    // Without a cold tier a write the arena refuses is refused: wait out
    // the hold on memory readers of the previous server may still read.
    std::this_thread::sleep_for(
        std::chrono::milliseconds(arena_->hold_left_ms()));
    arena_->Tick();
  }
  arena_->Activate();
  spdlog::info(
      "arena: /dev/shm/ember.{}.data, {} bytes, {} pages, {} bytes on huge "
      "pages, generation {}",
      config_.name, arena_->header().segment_bytes,
      arena_->header().geo.page_count, arena_->header().stats.huge_bytes.load(),
      arena_->header().generation.load());
  readers_.resize(io_.size());
  for (auto& r : readers_) {
    shm::Status rs = shm::ArenaReader::Attach(*arena_, &r);
    if (!rs.ok())
      spdlog::warn("a network thread reads without the arena: {}",
                   rs.ToString());
  }
  writer_ = std::make_unique<Writer>(config_, cold_.get(), arena_.get(), this,
                                     &stats_, wb);
  writer_->Start();
  return Listen();
}

shm::Status Server::Listen() {
  std::error_code ec;
  asio::ip::tcp::endpoint tcp_ep(asio::ip::make_address(config_.bind, ec),
                                 config_.port);
  if (ec)
    return shm::Status::InvalidArgument("bad bind address '" + config_.bind +
                                        "'");
  auto tcp = std::make_unique<Acceptor>(*io_[0]);
  asio::generic::stream_protocol::endpoint ep(tcp_ep);
  tcp->open(ep.protocol(), ec);
  if (!ec) tcp->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) tcp->bind(ep, ec);
  if (!ec) tcp->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return shm::Status::IOError("cannot listen on " + config_.bind + ":" +
                                std::to_string(config_.port) + ": " +
                                ec.message());
  }
  const auto local = tcp->local_endpoint();
  tcp_port_ =
      ntohs(reinterpret_cast<const sockaddr_in*>(local.data())->sin_port);
  spdlog::info("listening on tcp {}:{}", config_.bind, tcp_port_);
  // CONFIG GET port answers the port in use (port 0 asked for any), as
  // Redis does; no other thread reads config_ yet.
  config_.port = tcp_port_;
  acceptors_.push_back(std::move(tcp));
  if (!config_.unix_socket.empty()) {
    // The socket's directory gets the run directory's checks (ours, closed
    // to others; usually it is run_dir), and the socket is bound, unlinked
    // and chmod'ed through the directory's descriptor, never by a path
    // someone else could redirect.
    const std::filesystem::path path(config_.unix_socket);
    shm::RunDir dir;
    EMBER_RETURN_IF_ERROR(
        shm::RunDir::OpenForServer(path.parent_path().string(), &dir));
    const std::string name = path.filename().string();
    const std::string via =
        "/proc/self/fd/" + std::to_string(dir.fd()) + "/" + name;
    dir.Unlink(name);  // a stale socket of a dead server
    auto unix_acc = std::make_unique<Acceptor>(*io_[0]);
    const asio::generic::stream_protocol::endpoint uep{
        asio::local::stream_protocol::endpoint(via)};
    unix_acc->open(uep.protocol(), ec);
    if (!ec) unix_acc->bind(uep, ec);
    if (!ec) unix_acc->listen(asio::socket_base::max_listen_connections, ec);
    if (ec || !dir.Chmod(name, config_.unix_socket_mode)) {
      return shm::Status::IOError(
          "cannot listen on unix socket " + config_.unix_socket + ": " +
          (ec ? ec.message() : std::string(strerror(errno))));
    }
    spdlog::info("listening on unix {}", config_.unix_socket);
    acceptors_.push_back(std::move(unix_acc));
  }
  for (size_t i = 0; i < acceptors_.size(); ++i)
    DoAccept(acceptors_[i].get(), i == 0);
  return shm::Status::Ok();
}

namespace {

// "1.2.3.4:5678" / "[::1]:5678" for a TCP peer.
std::string PeerName(const asio::generic::stream_protocol::endpoint& ep) {
  char buf[INET6_ADDRSTRLEN] = {0};
  if (ep.protocol().family() == AF_INET6) {
    auto* sin6 = reinterpret_cast<const sockaddr_in6*>(ep.data());
    inet_ntop(AF_INET6, &sin6->sin6_addr, buf, sizeof(buf));
    // Appended, not "[" + std::string(buf): GCC 12 at -O3 reports a bogus
    // -Wrestrict for "literal" + std::string&& (GCC bugs 105329, 105651).
    std::string name = "[";
    name += buf;
    name += "]:";
    name += std::to_string(ntohs(sin6->sin6_port));
    return name;
  }
  auto* sin = reinterpret_cast<const sockaddr_in*>(ep.data());
  inet_ntop(AF_INET, &sin->sin_addr, buf, sizeof(buf));
  return std::string(buf) + ":" + std::to_string(ntohs(sin->sin_port));
}

}  // namespace

// Runs on io_[0]'s thread, as does Shutdown's closure, so stopping_ needs no
// lock: once it is set no accept is re-armed and late sockets are closed.
void Server::DoAccept(Acceptor* acceptor, bool tcp) {
  if (stopping_) return;
  asio::io_context* io = io_[next_io_++ % io_.size()].get();  // round robin
  acceptor->async_accept(io->get_executor(), [this, acceptor, tcp, io](
                                                 std::error_code ec,
                                                 auto socket) {
    if (stopping_ || ec == asio::error::operation_aborted) return;
    if (ec) {
      // EMFILE and the like: retry after a pause instead of spinning.
      spdlog::warn("accept: {}; retrying in 100 ms", ec.message());
      auto timer = std::make_shared<asio::steady_timer>(
          *io_[0], std::chrono::milliseconds(100));
      timer->async_wait([this, acceptor, tcp, timer](std::error_code) {
        DoAccept(acceptor, tcp);
      });
      return;
    }
    stats_.connections_received.fetch_add(1, std::memory_order_relaxed);
    if (stats_.connected_clients.load() >= config_.max_clients) {
      stats_.rejected_connections.fetch_add(1, std::memory_order_relaxed);
      std::string reply;
      protocol::AppendError(&reply, "ERR max number of clients reached");
      std::error_code ignored;
      asio::write(socket, asio::buffer(reply), ignored);
      socket.close(ignored);
    } else {
      std::string peer = "unix", laddr;
      if (tcp) {
        auto ep = socket.remote_endpoint(ec);
        if (!ec) peer = PeerName(ep);
        auto local = socket.local_endpoint(ec);
        if (!ec) laddr = PeerName(local);
      }
      auto conn = std::make_shared<Connection>(
          Connection::Socket(std::move(socket)), io, this, peer,
          next_client_id_.fetch_add(1), std::move(laddr));
      {
        MutexLock lock(&mu_);
        std::erase_if(connections_, [](const auto& w) { return w.expired(); });
        connections_.push_back(conn);
      }
      // A connection is touched only by its own event loop's thread.
      asio::post(*io, [conn] { conn->Start(); });
    }
    DoAccept(acceptor, tcp);
  });
}

shm::ArenaReader* Server::ReaderFor(const asio::io_context* io) {
  for (size_t i = 0; i < io_.size(); ++i) {
    if (io_[i].get() == io) return readers_[i].get();
  }
  return nullptr;
}

Stats* Server::NetStatsFor(const asio::io_context* io) {
  for (size_t i = 0; i < io_.size(); ++i) {
    if (io_[i].get() == io) return &net_stats_[i]->stats;
  }
  return &stats_;
}

uint64_t Server::SumNet(std::atomic<uint64_t> Stats::*counter) const {
  uint64_t n = (stats_.*counter).load(std::memory_order_relaxed);
  for (const auto& s : net_stats_)
    n += (s->stats.*counter).load(std::memory_order_relaxed);
  return n;
}

void Server::Run() {
  signals_->async_wait([this](std::error_code ec, int sig) {
    if (!ec) {
      spdlog::info("signal {}: shutting down", sig);
      Shutdown();
    }
  });
  // Threads other than the first idle until Shutdown() lets them finish.
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::vector<std::thread> threads;
  for (size_t i = 1; i < io_.size(); ++i) {
    work.push_back(asio::make_work_guard(*io_[i]));
    threads.emplace_back([this, i] {
      pthread_setname_np(pthread_self(),
                         ("ember-net-" + std::to_string(i)).c_str());
      io_[i]->run();
    });
  }
  DoSample();
  io_[0]->run();
  work.clear();
  for (auto& t : threads) t.join();
  writer_->Stop();  // drains queued writes into the log and the arena
  // Applies what is dirty, flushes RocksDB, deletes the log it covers.
  if (applier_) applier_->Stop();
  arena_->SetState(shm::ArenaState::kClean);
  applier_.reset();
  dirty_.reset();
  log_.reset();
  cold_.reset();
  spdlog::info("stopped: arena marked clean, RocksDB flushed and closed");
}

void Server::Shutdown() {
  asio::post(*io_[0], [this] {
    stopping_ = true;
    std::error_code ignored;
    for (auto& a : acceptors_) a->close(ignored);
    signals_->cancel();
    sampler_->cancel();
    std::vector<std::shared_ptr<Connection>> live;
    {
      MutexLock lock(&mu_);
      for (auto& w : connections_) {
        if (auto c = w.lock()) live.push_back(c);
      }
    }
    for (auto& c : live) c->Stop();
    if (!config_.unix_socket.empty()) ::unlink(config_.unix_socket.c_str());
  });
}

void Server::DoSample() {
  if (stopping_) return;
  telemetry_.rates.Sample(shm::NowUnixMs(), telemetry_.commands.Sum());
  if (samples_++ % 10 == 0) UsedMemory();  // keeps used_memory_peak
  sampler_->expires_after(std::chrono::milliseconds(100));
  sampler_->async_wait([this](std::error_code ec) {
    if (!ec) DoSample();
  });
}

}  // namespace ember::server
