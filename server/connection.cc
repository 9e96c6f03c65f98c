// server/connection.cc: the read -> parse -> dispatch -> reply loop, and
// the limits on what one client may make the server hold.
#include "server/connection.h"

#include <spdlog/spdlog.h>

#include "protocol/resp_writer.h"
#include "server/command_meta.h"
#include "server/command_table.h"
#include "server/commands.h"
#include "server/keyspaces.h"
#include "server/server.h"
#include "shm/reclaimer.h"

namespace ember::server {
namespace {
// Replies a connection may have outstanding before it stops reading.
constexpr size_t kMaxSlots = 4096;
}  // namespace

Connection::Connection(Socket socket, asio::io_context* io, Server* server,
                       std::string peer, uint64_t id, std::string laddr)
    : socket_(std::move(socket)),
      io_(io),
      server_(server),
      parser_(
          server->parser_limits(!server->config().requirepass.get().empty())),
      keys_(server->ReaderFor(io), server->cold(), &server->writer(),
            server->config().max_value_bytes_hot, &server->stats()) {
  session_.id = id;
  // Redis shows a Unix socket client as "<socket path>:0", both ways.
  const bool unix_socket = peer == "unix";
  std::string addr = peer;
  if (unix_socket) {
    addr = server->config().unix_socket;
    addr += ":0";
    laddr = addr;
  }
  state_ = std::make_shared<ClientState>(id, std::move(addr), std::move(laddr),
                                         socket_.native_handle(), unix_socket,
                                         shm::NowUnixMs());
  session_.client = state_.get();
  session_.peer = std::move(peer);
  session_.authenticated = server->config().requirepass.get().empty();
  server_->stats().connected_clients.fetch_add(1, std::memory_order_relaxed);
}

Connection::~Connection() {
  server_->ForgetCursors(session_.id);
  server_->stats().connected_clients.fetch_sub(1, std::memory_order_relaxed);
}

void Connection::Start() {
  std::error_code ignored;  // not TCP (a Unix socket): nothing to set
  socket_.set_option(asio::ip::tcp::no_delay(true), ignored);
  spdlog::debug("client id={} addr={} connected", session_.id, session_.peer);
  DoRead();
}

void Connection::Stop() {
  asio::post(socket_.get_executor(),
             [self = shared_from_this()] { self->Close(); });
}

void Connection::Close() {
  if (closed_) return;
  closed_ = true;
  spdlog::debug("client id={} addr={} closed", session_.id, session_.peer);
  std::error_code ignored;
  socket_.shutdown(asio::socket_base::shutdown_both, ignored);
  socket_.close(ignored);
}

void Connection::CloseForLimit(const char* limit, uint64_t bytes, uint64_t max,
                               std::atomic<uint64_t>* counter) {
  if (closed_) return;
  spdlog::warn(
      "Closing client id={} addr={} name={} that reached {}: {} bytes, limit "
      "{}",
      session_.id, session_.peer, session_.name, limit, bytes, max);
  counter->fetch_add(1, std::memory_order_relaxed);
  Close();
}

void Connection::DoRead() {
  if (reading_ || closed_ || close_after_flush_ || deferred_ ||
      slots_.size() >= kMaxSlots)
    return;
  reading_ = true;
  socket_.async_read_some(
      asio::buffer(buf_),
      [self = shared_from_this()](std::error_code ec, size_t n) {
        self->reading_ = false;
        if (ec) {
          // EOF or reset: the client left. operation_aborted: we closed it.
          // Replies still owed by the writer are dropped when they arrive.
          self->Close();
          return;
        }
        self->server_->telemetry()->commands.RecordRead(n);
        self->state_->Touch(shm::NowUnixMs());
        self->in_.append(self->buf_.data(), n);
        self->HandleInput();
        // Redis's client-query-buffer-limit: what is buffered short of a
        // whole command (a huge bulk, arguments without end).
        const uint64_t held = self->in_.size() + self->parser_held_;
        const uint64_t max = self->server_->config().client_query_buffer_limit;
        if (held > max) {
          return self->CloseForLimit(
              "client_query_buffer_limit", held, max,
              &self->server_->stats().query_buffer_disconnections);
        }
        self->DoRead();
      });
}

void Connection::HandleInput() {
  if (closed_) return;
  // Replies made while parsing one read go out in one write, not the first
  // alone (which, with Nagle off or on, costs a packet per reply).
  handling_input_ = true;
  const int64_t bulk_max =
      static_cast<int64_t>(server_->config().proto_max_bulk_len.get());
  if (parser_.max_bulk_bytes() != bulk_max) parser_.SetMaxBulkBytes(bulk_max);
  while (!in_.empty() && !closed_ && !close_after_flush_ && !deferred_ &&
         slots_.size() < kMaxSlots) {
    size_t consumed = 0;
    protocol::Command args;
    const protocol::ParseResult r = parser_.Parse(in_, &consumed, &args);
    in_.erase(0, consumed);
    if (r == protocol::ParseResult::kNeedMore) {
      parser_held_ += consumed;  // copied into the parser, not yet a command
      break;
    }
    parser_held_ = 0;
    if (r == protocol::ParseResult::kError) {
      // The stream can no longer be framed: answer, then close (as Redis).
      server_->stats().protocol_errors.fetch_add(1, std::memory_order_relaxed);
      std::string reply;
      protocol::AppendError(&reply, "ERR " + parser_.error());
      server_->telemetry()->commands.RecordError(reply);
      Complete(NewSlot(), std::move(reply));
      close_after_flush_ = true;
      in_.clear();
      break;
    }
    if (!args.empty()) Dispatch(std::move(args));
  }
  handling_input_ = false;
  // Everything this read asked of the writer, in one hand-off.
  if (!pending_jobs_.empty()) server_->writer().Submit(&pending_jobs_);
  DoWrite();
  PublishBuffers();
}

void Connection::PublishBuffers() {
  state_->set_buffers(in_.size() + parser_held_, in_.capacity() - in_.size(),
                      out_.size() + writing_bytes_, slots_.size());
  if (close_after_flush_) state_->set_closing();
}

uint64_t Connection::NewSlot() {
  slots_.emplace_back();
  return first_slot_ + slots_.size() - 1;
}

bool Connection::DebugAllowed() const {
  switch (server_->config().enable_debug_command) {
    case DebugCommand::kYes:
      return true;
    case DebugCommand::kLocal:
      return session_.peer == "unix" || session_.peer.starts_with("127.") ||
             session_.peer.starts_with("[::1]") ||
             session_.peer.starts_with("::1");
    case DebugCommand::kNo:
      break;
  }
  return false;
}

void Connection::Dispatch(protocol::Command&& args) {
  const uint64_t slot = NewSlot();
  const CommandSpec* spec = FindCommand(args[0]);
  // CLIENT REPLY: SKIP drops this reply; OFF every reply from here on (a
  // command run here is judged after it ran: CLIENT REPLY ON and RESET
  // answer, OFF does not).
  if (std::exchange(session_.reply_skip, false) || session_.reply_off)
    Silence(slot);
  if (spec != nullptr) state_->set_command(FullName(spec->name, args));
  CommandStats& stats = server_->telemetry()->commands;
  auto refuse = [&](std::string_view error) {
    std::string reply;
    protocol::AppendError(&reply, error);
    if (spec != nullptr) {
      stats.Record(*spec, args, 0, CommandStats::Outcome::kRejected, reply);
    } else {
      stats.RecordError(reply);
    }
    Complete(slot, std::move(reply));
  };
  if (spec == nullptr) {
    std::string reply = UnknownCommandError(args);
    stats.RecordError(reply);
    return Complete(slot, std::move(reply));
  }
  if (!session_.authenticated && !(spec->flags & kNoAuth))
    return refuse("NOAUTH Authentication required.");
  if ((spec->flags & kDebug) && !DebugAllowed()) {
    return refuse(
        "ERR DEBUG command not allowed. If the enable-debug-command option is "
        "set to \"local\", you can run it from a local connection, otherwise "
        "you need to set this option in the configuration file, and then "
        "restart the server.");
  }
  // A SCAN behind writes of this connection waits for their replies (and
  // parsing stops meanwhile), then runs here: it sees them, and its cursor
  // is this connection's.
  if (spec->handler == CmdScan && in_writer_ > 0) {
    deferred_ = Deferred{spec, std::move(args), slot};
    return;
  }
  // Writes go to the writer; so do reads behind a write of this connection,
  // which keeps read-your-writes inside a pipeline.
  if ((spec->flags & kWrite) || ((spec->flags & kRead) && in_writer_ > 0)) {
    ++in_writer_;
    pending_jobs_.push_back(
        WriteJob{spec, std::move(args), io_,
                 [self = shared_from_this(), slot](std::string reply) {
                   --self->in_writer_;
                   self->Complete(slot, std::move(reply));
                   self->RunDeferred();
                 }});
    return;
  }
  RunHere(*spec, args, slot);
}

void Connection::RunHere(const CommandSpec& spec, const protocol::Command& args,
                         uint64_t slot) {
  std::string reply;
  CommandContext ctx{&keys_, &session_, server_};
  const bool was_off = session_.reply_off;
  {
    CursorOwner owner(session_.id);
    Execute(spec, args, ctx, &reply);
  }
  if (session_.reply_off) {
    Silence(slot);
  } else if (was_off) {
    slots_[slot - first_slot_].silent = false;  // CLIENT REPLY ON, RESET
  }
  if (session_.quit) close_after_flush_ = true;
  if (session_.authenticated) parser_.SetAuthenticated();
  Complete(slot, std::move(reply));
}

void Connection::RunDeferred() {
  if (!deferred_ || in_writer_ > 0 || closed_) return;
  Deferred d = std::move(*deferred_);
  deferred_.reset();
  RunHere(*d.spec, d.args, d.slot);
  if (!handling_input_) {
    HandleInput();  // what waited behind it
    DoRead();
  }
}

void Connection::Complete(uint64_t slot, std::string reply) {
  if (closed_) return;
  Slot& s = slots_[slot - first_slot_];
  s.done = true;
  s.reply = std::move(reply);
  const bool was_full = slots_.size() >= kMaxSlots;
  while (!slots_.empty() && slots_.front().done) {
    if (!slots_.front().silent) out_ += slots_.front().reply;
    slots_.pop_front();
    ++first_slot_;
  }
  // Replies the client does not read pile up here: bounded.
  const uint64_t unread = out_.size() + writing_bytes_;
  const uint64_t max = server_->config().client_output_buffer_limit;
  if (max > 0 && unread > max) {
    return CloseForLimit("client_output_buffer_limit", unread, max,
                         &server_->stats().output_buffer_disconnections);
  }
  DoWrite();
  if (!handling_input_) PublishBuffers();
  if (was_full && slots_.size() < kMaxSlots && !handling_input_) {
    HandleInput();  // resume what backpressure held back
    DoRead();
  }
}

void Connection::DoWrite() {
  if (writing_ || closed_ || handling_input_) return;
  if (out_.empty()) {
    if (close_after_flush_ && slots_.empty()) Close();
    return;
  }
  writing_ = true;
  auto data = std::make_shared<std::string>(std::move(out_));
  out_.clear();
  writing_bytes_ = data->size();
  asio::async_write(
      socket_, asio::buffer(*data),
      [self = shared_from_this(), data](std::error_code ec, size_t n) {
        self->writing_ = false;
        self->writing_bytes_ = 0;
        if (ec) return self->Close();
        self->server_->telemetry()->commands.RecordWrite(n);
        self->state_->Touch(shm::NowUnixMs());
        self->DoWrite();
      });
}

}  // namespace ember::server
