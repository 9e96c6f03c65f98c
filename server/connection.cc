// server/connection.cc: the read -> parse -> dispatch -> reply loop, and
// the limits on what one client may make the server hold.
#include "server/connection.h"

#include <spdlog/spdlog.h>

#include "protocol/resp_writer.h"
#include "server/command_meta.h"
#include "server/command_table.h"
#include "server/commands.h"
#include "server/db_keyspace.h"
#include "server/keyspaces.h"
#include "server/server.h"
#include "shm/reclaimer.h"

namespace ember::server {
namespace {
// Replies a connection may have outstanding before it stops reading.
constexpr size_t kMaxSlots = 4096;
// A buffer that grew past this for one big reply is freed, not kept for
// the connection's life.
constexpr size_t kKeptBufferBytes = 64 * 1024;
}  // namespace

Connection::Connection(Socket socket, asio::io_context* io, Server* server,
                       std::string peer, uint64_t id, std::string laddr)
    : socket_(std::move(socket)),
      io_(io),
      server_(server),
      parser_(
          server->parser_limits(!server->config().requirepass.get().empty())),
      keys_(server->ReaderFor(io), server->cold(), &server->writer(),
            server->config().max_value_bytes_hot, server->NetStatsFor(io)) {
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
  // ReadAvailable's read_some must return EAGAIN, not block the loop.
  std::error_code ec;
  socket_.non_blocking(true, ec);
  if (ec) {
    spdlog::warn(
        "client id={} addr={}: cannot make the socket non-blocking: "
        "{}",
        session_.id, session_.peer, ec.message());
    return Close();
  }
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
  if (reading_ || closed_ || close_after_flush_) return;
  if (deferred_ || slots_.size() >= kMaxSlots) {
    // Paused with no wait pending: a readiness edge may pass unseen.
    drained_ = false;
    return;
  }
  reading_ = true;
  if (!drained_) {
    // Bytes may already wait in the socket. Posted rather than read here,
    // so other connections of this loop get their turn first.
    asio::post(socket_.get_executor(), [self = shared_from_this()] {
      self->reading_ = false;
      self->ReadAvailable();
    });
    return;
  }
  socket_.async_wait(Socket::wait_read,
                     [self = shared_from_this()](std::error_code ec) {
                       self->reading_ = false;
                       // operation_aborted: we closed it.
                       if (ec) return self->Close();
                       self->ReadAvailable();
                     });
}

void Connection::ReadAvailable() {
  if (closed_) return;
  std::error_code ec;
  const size_t n = socket_.read_some(asio::buffer(buf_), ec);
  if (ec == asio::error::would_block || ec == asio::error::try_again) {
    drained_ = true;  // a spurious wake-up, or a probe that found nothing
    return DoRead();
  }
  if (ec) {
    // EOF or reset: the client left. Replies still owed by the writer are
    // dropped when they arrive.
    return Close();
  }
  // Short: the socket had no more. Full: more may wait, read again first.
  drained_ = n < buf_.size();
  server_->telemetry()->commands.RecordRead(n);
  state_->Touch(shm::NowUnixMs());
  HandleInput(std::string_view(buf_.data(), n));
  // Redis's client-query-buffer-limit: what is buffered short of a whole
  // command (a huge bulk, arguments without end).
  const uint64_t held = in_.size() + parser_held_;
  const uint64_t max = server_->config().client_query_buffer_limit;
  if (held > max) {
    return CloseForLimit("client_query_buffer_limit", held, max,
                         &server_->stats().query_buffer_disconnections);
  }
  DoRead();
}

void Connection::HandleInput(std::string_view fresh) {
  if (closed_) return;
  // Usually every earlier byte was parsed: parse `fresh` where it lies.
  // Otherwise the remainder comes first, so `fresh` joins it.
  std::string_view input = fresh;
  if (!in_.empty()) {
    in_.append(fresh);
    input = in_;
  }
  // Replies made while parsing one read go out in one write, not the first
  // alone (which, with Nagle off or on, costs a packet per reply).
  handling_input_ = true;
  const int64_t bulk_max =
      static_cast<int64_t>(server_->config().proto_max_bulk_len.get());
  if (parser_.max_bulk_bytes() != bulk_max) parser_.SetMaxBulkBytes(bulk_max);
  size_t pos = 0;  // bytes of `input` parsed
  while (pos < input.size() && !closed_ && !close_after_flush_ && !deferred_ &&
         slots_.size() < kMaxSlots) {
    size_t consumed = 0;
    const protocol::ParseResult r =
        parser_.Parse(input.substr(pos), &consumed, &args_);
    pos += consumed;
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
      Answer(reply);
      close_after_flush_ = true;
      pos = input.size();  // nothing after it is read
      break;
    }
    if (!args_.empty()) Dispatch(std::move(args_));
  }
  // Compacted once per read: what is left moves to the front of in_.
  if (input.data() == in_.data()) {
    in_.erase(0, pos);
  } else {
    in_.assign(input.substr(pos));
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
  const CommandSpec* spec = FindCommand(args[0]);
  // CLIENT REPLY: SKIP drops this reply; OFF every reply from here on (a
  // command run here is judged after it ran: CLIENT REPLY ON and RESET
  // answer, OFF does not). Such a reply, and that of a command that may
  // change the mode (CLIENT, RESET), takes a slot, which can be silenced;
  // others may go straight out.
  const bool silent =
      std::exchange(session_.reply_skip, false) || session_.reply_off;
  const bool slotted =
      silent || (spec != nullptr &&
                 (spec->handler == CmdClient || spec->handler == CmdReset));
  const uint64_t slot = slotted ? NewSlot() : 0;
  if (silent) Silence(slot);
  auto answer = [&](std::string reply) {
    if (slotted) return Complete(slot, std::move(reply));
    Answer(reply);
  };
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
    answer(std::move(reply));
  };
  if (spec == nullptr) {
    std::string reply = UnknownCommandError(args);
    stats.RecordError(reply);
    return answer(std::move(reply));
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
    deferred_ = Deferred{spec, std::move(args), slotted ? slot : NewSlot()};
    return;
  }
  // Writes go to the writer; so do reads behind a write of this connection,
  // which keeps read-your-writes inside a pipeline.
  if ((spec->flags & kWrite) || ((spec->flags & kRead) && in_writer_ > 0)) {
    ++in_writer_;
    pending_jobs_.push_back(
        WriteJob{spec, std::move(args), io_,
                 [self = shared_from_this(),
                  slot = slotted ? slot : NewSlot()](std::string reply) {
                   --self->in_writer_;
                   self->Complete(slot, std::move(reply));
                   self->RunDeferred();
                 },
                 session_.db});
    return;
  }
  if (slotted) {
    std::string reply;
    const bool was_off = session_.reply_off;
    RunHere(*spec, args, &reply);
    if (session_.reply_off) {
      Silence(slot);
    } else if (was_off) {
      slots_[slot - first_slot_].silent = false;  // CLIENT REPLY ON, RESET
    }
    return Complete(slot, std::move(reply));
  }
  if (!slots_.empty()) {
    // Behind a reply still owed: this one waits in its slot.
    const uint64_t own = NewSlot();
    std::string reply;
    RunHere(*spec, args, &reply);
    return Complete(own, std::move(reply));
  }
  // Nothing owed before it (the usual read): the reply goes straight out.
  RunHere(*spec, args, &out_);
  Replied(false);
}

void Connection::RunHere(const CommandSpec& spec, const protocol::Command& args,
                         std::string* reply) {
  const size_t start = reply->size();
  for (;;) {
    // The database is mapped (SWAPDB) when the keyspace is built: a read
    // that a swap overtook might answer from the database now under
    // another number. It runs again (reads change nothing).
    const uint64_t seq = server_->writer().db_map_seq();
    DbKeyspace db(&keys_, session_.db);
    CommandContext ctx{&db, &session_, server_, &keys_};
    {
      CursorOwner owner(session_.id);
      Execute(spec, args, ctx, reply);
    }
    if (!(spec.flags & kRead) || server_->writer().db_map_seq() == seq) break;
    reply->resize(start);
  }
  if (session_.quit) close_after_flush_ = true;
  if (session_.authenticated) parser_.SetAuthenticated();
}

void Connection::Answer(std::string_view reply) {
  if (!slots_.empty()) return Complete(NewSlot(), std::string(reply));
  out_.append(reply);
  Replied(false);
}

void Connection::RunDeferred() {
  if (!deferred_ || in_writer_ > 0 || closed_) return;
  Deferred d = std::move(*deferred_);
  deferred_.reset();
  std::string reply;
  RunHere(*d.spec, d.args, &reply);
  Complete(d.slot, std::move(reply));
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
  Replied(was_full);
}

void Connection::Replied(bool was_full) {
  if (closed_) return;
  // Replies the client does not read pile up here: bounded.
  const uint64_t unread = out_.size() + sending_.size();
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
  sending_.swap(out_);  // out_ takes sending_'s empty buffer
  writing_bytes_ = sending_.size();
  asio::async_write(socket_, asio::buffer(sending_),
                    [self = shared_from_this()](std::error_code ec, size_t n) {
                      self->writing_ = false;
                      self->writing_bytes_ = 0;
                      if (ec) return self->Close();
                      self->server_->telemetry()->commands.RecordWrite(n);
                      self->state_->Touch(shm::NowUnixMs());
                      // Kept for the next write unless a big reply made it big.
                      self->sending_.clear();
                      if (self->sending_.capacity() > kKeptBufferBytes)
                        std::string().swap(self->sending_);
                      self->DoWrite();
                    });
}

}  // namespace ember::server
