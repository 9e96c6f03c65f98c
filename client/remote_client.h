// client/remote_client.h: RemoteClient talks RESP2 to ember-server (or any
// Redis server) over TCP or a Unix socket, blocking, with timeouts.
// Thread safety: one thread at a time per RemoteClient; give each thread its
// own (a connection carries one stream of requests and replies).
//
// Two kinds of failure, kept apart:
//  - the server answered with an error ("-ERR ..."): a protocol::Reply of
//    kind kError from Command(), a normal value, not a broken connection;
//  - the transport failed (no server, timeout, connection lost, garbage on
//    the wire): a shm::Status from shm/status.h, the codes every layer
//    shares (kUnavailable, kIOError, kCorruption, kInvalidArgument). The
//    connection is then closed; with `reconnect` the next call dials again.
// Nothing here throws for foreseeable failures.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/resp_reply.h"
#include "shm/status.h"

namespace ember::client {

struct RemoteOptions {
  // TCP address: a numeric IP or a host name (resolved at each connect,
  // without a timeout of its own; use numeric addresses where that matters).
  std::string host = "127.0.0.1";
  uint16_t port = 7379;
  // Non-empty: connect to this Unix socket instead of host:port.
  std::string unix_socket;
  // Non-empty: sent as AUTH after every connect.
  std::string password;
  // The database (SELECT) every connect selects after AUTH; 0 is the
  // server's default and sends nothing.
  int db = 0;
  // Milliseconds for the connect plus AUTH; 0 waits forever.
  int connect_timeout_ms = 2000;
  // Milliseconds one call (Command, Pipeline, ...) may take to send its
  // requests and read all its replies; 0 waits forever.
  int io_timeout_ms = 5000;
  // When the connection was lost (a transport failure, or the server closed
  // it while idle), dial once before sending the next request. A request
  // already sent is never sent again: it may have run.
  bool reconnect = true;
  // Bounds on what a server's reply may make this client allocate.
  protocol::ReplyLimits limits;
};

class RemoteClient {
 public:
  explicit RemoteClient(RemoteOptions options);
  ~RemoteClient();
  RemoteClient(const RemoteClient&) = delete;
  RemoteClient& operator=(const RemoteClient&) = delete;

  // Connects (closing any current connection) and sends AUTH when a
  // password is set. kUnavailable: nothing listens, refused, or timed out
  // (the message says which). kInvalidArgument: bad address, or AUTH
  // rejected (the message is the server's error text).
  shm::Status Connect();
  // Closes the connection; the next call connects again if `reconnect`.
  void Close();
  bool connected() const;
  // "127.0.0.1:7379" or the socket path, for prompts and messages.
  std::string Endpoint() const;
  const RemoteOptions& options() const { return options_; }

  // Sends one command (binary-safe arguments) and reads its reply into
  // `*reply`. kOk whenever a reply arrived, error replies included.
  // Otherwise: kUnavailable (not connected, connection lost or timed out),
  // kCorruption (the server broke the protocol); `*reply` is then null.
  shm::Status Command(std::initializer_list<std::string_view> args,
                      protocol::Reply* reply);
  shm::Status Command(const std::vector<std::string>& args,
                      protocol::Reply* reply);

  // Sends all `commands` without waiting for replies and reads one reply
  // per command, in order, into `*replies` (taking replies while it still
  // writes, so a long pipeline cannot fill both sockets and stall).
  // Statuses as for Command(); on a failure `*replies` holds the replies
  // read before it. No commands: kOk, no I/O.
  shm::Status Pipeline(const std::vector<std::vector<std::string>>& commands,
                       std::vector<protocol::Reply>* replies);

  // Convenience wrappers. A server error reply, or a reply of an unexpected
  // kind, becomes kInvalidArgument carrying the server's text.
  // GET: a missing key is kOk with `*found` false.
  shm::Status Get(std::string_view key, std::string* value, bool* found);
  // SET, with PX `ttl_ms` when ttl_ms > 0.
  shm::Status Set(std::string_view key, std::string_view value,
                  int64_t ttl_ms = 0);
  // DEL; `*deleted` (may be null) is 1 when the key existed, else 0.
  shm::Status Del(std::string_view key, int64_t* deleted = nullptr);
  // INCR; `*value` (may be null) is the new value.
  shm::Status Incr(std::string_view key, int64_t* value = nullptr);
  // PEXPIRE, in milliseconds; `*applied` (may be null) is false when the key
  // does not exist.
  shm::Status Expire(std::string_view key, int64_t ttl_ms,
                     bool* applied = nullptr);

 private:
  class Connection;  // the socket and its buffers; in remote_client.cc

  // Reconnects (with `reconnect`) if the connection is gone or dead.
  shm::Status EnsureConnected();
  // Sends the encoded `request` and reads `count` replies into `*replies`.
  shm::Status RoundTrip(const std::string& request, size_t count,
                        std::vector<protocol::Reply>* replies);
  // RoundTrip of one encoded command.
  shm::Status SendOne(const std::string& request, protocol::Reply* reply);
  // Command() for the convenience wrappers: error replies become statuses.
  shm::Status Call(std::initializer_list<std::string_view> args,
                   protocol::Reply* reply);

  RemoteOptions options_;
  std::unique_ptr<Connection> conn_;  // null when not connected
};

}  // namespace ember::client
