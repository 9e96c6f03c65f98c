// client/remote_client.cc: RESP2 over a non-blocking Asio socket, with
// poll() on its handle for every wait, so each call has one deadline. Foreign
// errors (std::error_code, errno) stop here and become shm::Status.
#include "client/remote_client.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <asio.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <utility>

#include "protocol/resp_writer.h"

namespace ember::client {
namespace {

using Clock = std::chrono::steady_clock;
using protocol::Reply;
using shm::Status;

// A point in time after which a call gives up, or none (wait forever).
class Deadline {
 public:
  // `ms` <= 0 means no deadline.
  explicit Deadline(int ms) : ms_(ms) {
    if (ms > 0) at_ = Clock::now() + std::chrono::milliseconds(ms);
  }
  // For poll(): -1 forever, else the milliseconds left (0 when past).
  int PollTimeout() const {
    if (ms_ <= 0) return -1;
    auto left =
        std::chrono::ceil<std::chrono::milliseconds>(at_ - Clock::now());
    return left.count() > 0 ? static_cast<int>(left.count()) : 0;
  }
  Status Expired(std::string_view what) const {
    return Status::Unavailable("timed out after " + std::to_string(ms_) +
                               " ms " + std::string(what));
  }

 private:
  int ms_;
  Clock::time_point at_;
};

// Waits until `fd` has one of `events` (or an error). False on timeout.
bool WaitFor(int fd, short events, const Deadline& deadline) {
  for (;;) {
    pollfd p{fd, events, 0};
    int n = ::poll(&p, 1, deadline.PollTimeout());
    if (n > 0) return true;
    if (n == 0) return false;
    if (errno != EINTR) return true;  // let the next socket call report it
  }
}

}  // namespace

// One connected socket, its unparsed input and its reply parser. Closed on
// destruction.
class RemoteClient::Connection {
 public:
  explicit Connection(const protocol::ReplyLimits& limits)
      : socket_(io_), parser_(limits) {}

  // Connects to one of `endpoints` (the first that answers).
  Status Open(const std::vector<asio::generic::stream_protocol::endpoint>& eps,
              const std::string& name, const Deadline& deadline) {
    std::string last_error = "no address";
    for (const auto& ep : eps) {
      Status s = OpenOne(ep, deadline, &last_error);
      if (s.ok()) return s;
      if (deadline.PollTimeout() == 0) break;
    }
    return Status::Unavailable("cannot connect to " + name + ": " + last_error);
  }

  // Sends `request`, then reads `count` replies into `*replies`. Reads
  // while it writes, so a large pipeline cannot deadlock with a server that
  // stops reading until its replies are taken.
  Status Exchange(std::string_view request, size_t count,
                  std::vector<Reply>* replies, const Deadline& deadline) {
    const int fd = socket_.native_handle();
    size_t sent = 0;
    for (;;) {
      Status s = ParseBuffered(count, replies);
      if (!s.ok()) return s;
      if (sent == request.size() && replies->size() == count) return s;
      bool progress = false;
      std::error_code ec;
      if (sent < request.size()) {
        size_t n = socket_.write_some(asio::buffer(request.substr(sent)), ec);
        if (ec && ec != asio::error::would_block) return Lost(ec);
        sent += n;
        progress = n > 0;
      }
      char chunk[64 * 1024];
      size_t n = socket_.read_some(asio::buffer(chunk), ec);
      if (ec == asio::error::eof) {
        return Status::Unavailable("connection closed by the server");
      }
      if (ec && ec != asio::error::would_block) return Lost(ec);
      in_.append(chunk, n);
      if (n > 0 || progress) continue;
      short events = POLLIN;
      if (sent < request.size()) events |= POLLOUT;
      if (!WaitFor(fd, events, deadline)) {
        return deadline.Expired("waiting for the server");
      }
    }
  }

  // False when the server has closed the connection (or sent bytes nobody
  // asked for, so the stream is out of step) since the last exchange.
  bool Alive() {
    pollfd p{socket_.native_handle(), POLLIN, 0};
    if (::poll(&p, 1, 0) == 0) return true;
    if (p.revents & (POLLERR | POLLHUP | POLLNVAL)) return false;
    char byte;
    ssize_t n = ::recv(p.fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
  }

 private:
  Status OpenOne(const asio::generic::stream_protocol::endpoint& ep,
                 const Deadline& deadline, std::string* error) {
    std::error_code ec;
    socket_.close(ec);
    socket_.open(ep.protocol(), ec);
    if (!ec) socket_.non_blocking(true, ec);
    if (ec) {
      *error = ec.message();
      return Status::Unavailable(*error);
    }
    // Asio's blocking connect waits without a limit; connect by hand.
    const int fd = socket_.native_handle();
    if (::connect(fd, static_cast<const sockaddr*>(ep.data()),
                  static_cast<socklen_t>(ep.size())) != 0) {
      if (errno != EINPROGRESS && errno != EAGAIN) {
        *error = std::strerror(errno);
        return Status::Unavailable(*error);
      }
      if (!WaitFor(fd, POLLOUT, deadline)) {
        *error = deadline.Expired("connecting").message();
        return Status::Unavailable(*error);
      }
      int so_error = 0;
      socklen_t len = sizeof(so_error);
      ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &len);
      if (so_error != 0) {
        *error = std::strerror(so_error);
        return Status::Unavailable(*error);
      }
    }
    if (ep.protocol().family() != AF_UNIX) {
      // Small requests go out at once, not after Nagle's delay.
      socket_.set_option(asio::ip::tcp::no_delay(true), ec);
    }
    return Status::Ok();
  }

  // Moves complete replies from `in_` to `*replies`, up to `count` in all.
  Status ParseBuffered(size_t count, std::vector<Reply>* replies) {
    while (replies->size() < count) {
      size_t consumed = 0;
      Reply reply;
      protocol::ReplyResult r = parser_.Parse(
          std::string_view(in_).substr(in_pos_), &consumed, &reply);
      in_pos_ += consumed;
      if (r == protocol::ReplyResult::kNeedMore) break;
      if (r == protocol::ReplyResult::kError) {
        return Status::Corruption(parser_.error());
      }
      replies->push_back(std::move(reply));
    }
    // Drop consumed bytes once they are half the buffer: amortized O(1).
    if (in_pos_ * 2 >= in_.size()) {
      in_.erase(0, in_pos_);
      in_pos_ = 0;
    }
    return Status::Ok();
  }

  static Status Lost(const std::error_code& ec) {
    return Status::Unavailable("connection lost: " + ec.message());
  }

  asio::io_context io_;  // never run: the socket needs an executor
  asio::generic::stream_protocol::socket socket_;
  protocol::ReplyParser parser_;
  std::string in_;  // bytes received; those before in_pos_ are parsed
  size_t in_pos_ = 0;
};

RemoteClient::RemoteClient(RemoteOptions options)
    : options_(std::move(options)) {}

RemoteClient::~RemoteClient() = default;

bool RemoteClient::connected() const { return conn_ != nullptr; }

void RemoteClient::Close() { conn_.reset(); }

std::string RemoteClient::Endpoint() const {
  if (!options_.unix_socket.empty()) return options_.unix_socket;
  return options_.host + ":" + std::to_string(options_.port);
}

Status RemoteClient::Connect() {
  conn_.reset();
  const Deadline deadline(options_.connect_timeout_ms);
  std::vector<asio::generic::stream_protocol::endpoint> eps;
  if (!options_.unix_socket.empty()) {
    if (options_.unix_socket.size() >= sizeof(sockaddr_un::sun_path)) {
      return Status::InvalidArgument("unix socket path too long: " +
                                     options_.unix_socket);
    }
    eps.emplace_back(
        asio::local::stream_protocol::endpoint(options_.unix_socket));
  } else {
    asio::io_context io;
    asio::ip::tcp::resolver resolver(io);
    std::error_code ec;
    auto results =
        resolver.resolve(options_.host, std::to_string(options_.port),
                         asio::ip::tcp::resolver::numeric_service, ec);
    if (ec) {
      return Status::InvalidArgument("cannot resolve " + options_.host + ": " +
                                     ec.message());
    }
    for (const auto& entry : results) eps.emplace_back(entry.endpoint());
  }
  auto conn = std::make_unique<Connection>(options_.limits);
  EMBER_RETURN_IF_ERROR(conn->Open(eps, Endpoint(), deadline));
  if (!options_.password.empty()) {
    std::string request;
    protocol::AppendBulkArray(&request, {"AUTH", options_.password});
    std::vector<Reply> replies;
    EMBER_RETURN_IF_ERROR(conn->Exchange(request, 1, &replies, deadline));
    if (replies[0].is_error()) {
      return Status::InvalidArgument("AUTH failed: " + replies[0].str);
    }
  }
  if (options_.db != 0) {
    std::string request;
    protocol::AppendBulkArray(&request,
                              {"SELECT", std::to_string(options_.db)});
    std::vector<Reply> replies;
    EMBER_RETURN_IF_ERROR(conn->Exchange(request, 1, &replies, deadline));
    if (replies[0].is_error()) {
      return Status::InvalidArgument("SELECT failed: " + replies[0].str);
    }
  }
  conn_ = std::move(conn);
  return Status::Ok();
}

Status RemoteClient::EnsureConnected() {
  if (conn_ && conn_->Alive()) return Status::Ok();
  const bool was_connected = conn_ != nullptr;
  conn_.reset();
  if (options_.reconnect) return Connect();
  return Status::Unavailable(was_connected ? "connection closed by the server"
                                           : "not connected to " + Endpoint());
}

Status RemoteClient::RoundTrip(const std::string& request, size_t count,
                               std::vector<Reply>* replies) {
  replies->clear();
  if (count == 0) return Status::Ok();
  EMBER_RETURN_IF_ERROR(EnsureConnected());
  replies->reserve(count);
  Status s = conn_->Exchange(request, count, replies,
                             Deadline(options_.io_timeout_ms));
  // Out of step with the server (timeout, garbage) or gone: start afresh.
  if (!s.ok()) conn_.reset();
  return s;
}

Status RemoteClient::SendOne(const std::string& request, Reply* reply) {
  std::vector<Reply> replies;
  EMBER_RETURN_IF_ERROR(RoundTrip(request, 1, &replies));
  *reply = std::move(replies[0]);
  return Status::Ok();
}

Status RemoteClient::Command(std::initializer_list<std::string_view> args,
                             Reply* reply) {
  *reply = Reply::Null();
  if (args.size() == 0) return Status::InvalidArgument("empty command");
  std::string request;
  protocol::AppendBulkArray(&request, args);
  return SendOne(request, reply);
}

Status RemoteClient::Command(const std::vector<std::string>& args,
                             Reply* reply) {
  *reply = Reply::Null();
  if (args.empty()) return Status::InvalidArgument("empty command");
  std::string request;
  protocol::AppendBulkArray(&request, args);
  return SendOne(request, reply);
}

Status RemoteClient::Pipeline(
    const std::vector<std::vector<std::string>>& commands,
    std::vector<Reply>* replies) {
  std::string request;
  for (const auto& args : commands) {
    if (args.empty()) {
      replies->clear();
      return Status::InvalidArgument("empty command in pipeline");
    }
    protocol::AppendBulkArray(&request, args);
  }
  return RoundTrip(request, commands.size(), replies);
}

Status RemoteClient::Call(std::initializer_list<std::string_view> args,
                          Reply* reply) {
  EMBER_RETURN_IF_ERROR(Command(args, reply));
  if (reply->is_error()) return Status::InvalidArgument(reply->str);
  return Status::Ok();
}

namespace {
Status Unexpected(std::string_view command, const Reply& reply) {
  return Status::InvalidArgument("unexpected reply to " + std::string(command) +
                                 ": " + protocol::ToDebugString(reply));
}
}  // namespace

Status RemoteClient::Get(std::string_view key, std::string* value,
                         bool* found) {
  Reply reply;
  EMBER_RETURN_IF_ERROR(Call({"GET", key}, &reply));
  *found = reply.kind == Reply::Kind::kBulk;
  if (*found) {
    *value = std::move(reply.str);
  } else if (!reply.is_null()) {
    return Unexpected("GET", reply);
  }
  return Status::Ok();
}

Status RemoteClient::Set(std::string_view key, std::string_view value,
                         int64_t ttl_ms) {
  Reply reply;
  if (ttl_ms > 0) {
    const std::string ttl = std::to_string(ttl_ms);
    EMBER_RETURN_IF_ERROR(Call({"SET", key, value, "PX", ttl}, &reply));
  } else {
    EMBER_RETURN_IF_ERROR(Call({"SET", key, value}, &reply));
  }
  return reply.IsStatus("OK") ? Status::Ok() : Unexpected("SET", reply);
}

Status RemoteClient::Del(std::string_view key, int64_t* deleted) {
  Reply reply;
  EMBER_RETURN_IF_ERROR(Call({"DEL", key}, &reply));
  if (reply.kind != Reply::Kind::kInteger) return Unexpected("DEL", reply);
  if (deleted != nullptr) *deleted = reply.integer;
  return Status::Ok();
}

Status RemoteClient::Incr(std::string_view key, int64_t* value) {
  Reply reply;
  EMBER_RETURN_IF_ERROR(Call({"INCR", key}, &reply));
  if (reply.kind != Reply::Kind::kInteger) return Unexpected("INCR", reply);
  if (value != nullptr) *value = reply.integer;
  return Status::Ok();
}

Status RemoteClient::Expire(std::string_view key, int64_t ttl_ms,
                            bool* applied) {
  Reply reply;
  const std::string ttl = std::to_string(ttl_ms);
  EMBER_RETURN_IF_ERROR(Call({"PEXPIRE", key, ttl}, &reply));
  if (reply.kind != Reply::Kind::kInteger) return Unexpected("PEXPIRE", reply);
  if (applied != nullptr) *applied = reply.integer == 1;
  return Status::Ok();
}

}  // namespace ember::client
