// server/connection.h: one client socket (TCP or Unix). Reads, parses RESP2
// (pipelined), runs reads here and queues writes to the writer, and sends
// replies strictly in request order. Every handler runs on the one thread
// of the connection's io_context.
// Limits that keep one client from hurting the others: at most 4096
// replies outstanding (reading pauses); request bytes buffered short of a
// command at most client_query_buffer_limit, replies unread at most
// client_output_buffer_limit (past either the connection is closed, logged
// and counted in INFO stats). A SCAN behind this connection's writes waits
// for them here rather than run in the commit, so its cursor is this
// connection's (Server::RememberCursor).
// Reading: wait for readiness (async_wait), then one non-blocking read_some;
// a short read drained the socket, so the next wait needs no probe (Asio's
// async_read_some would try a recv at once and get EAGAIN after every
// batch). Input is parsed in place: only an unparsed remainder is copied,
// and it is compacted once per read, not per command.
// Thread safety: owned by that thread; the writer posts replies onto it.
#pragma once

#include <array>
#include <asio.hpp>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "protocol/resp_parser.h"
#include "server/keyspaces.h"
#include "server/session.h"
#include "server/writer.h"

namespace ember::server {

class Server;

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  using Socket = asio::generic::stream_protocol::socket;
  // `io` is the event loop `socket` belongs to (its thread owns this).
  // `peer` is "ip:port" or "unix"; `laddr` the local address ("ip:port"),
  // unused for a Unix socket.
  Connection(Socket socket, asio::io_context* io, Server* server,
             std::string peer, uint64_t id, std::string laddr);
  ~Connection();
  void Start();
  // Closes the socket (server shutdown, CLIENT KILL); safe from any thread.
  void Stop();
  // What CLIENT LIST shows of this connection; safe from any thread.
  std::shared_ptr<const ClientState> state() const { return state_; }

 private:
  // Waits for the socket to be readable (or reads at once when bytes may
  // wait there with no readiness to come), unless reading is paused.
  void DoRead();
  // One non-blocking read_some, then its bytes are parsed and run.
  void ReadAvailable();
  // Parses and dispatches what `in_` holds followed by `fresh` (bytes just
  // read; they need not outlive the call), until input runs out or a limit
  // pauses it; the unparsed rest stays in `in_`.
  void HandleInput(std::string_view fresh = {});
  void Dispatch(protocol::Command&& args);
  // Runs `spec` on this thread, appending its reply to `*reply`.
  void RunHere(const CommandSpec& spec, const protocol::Command& args,
               std::string* reply);
  // A reply made now, in request order: appended to out_ when no earlier
  // reply is owed, else to a new slot.
  void Answer(std::string_view reply);
  // Runs the SCAN that waited for this connection's writes, once they are
  // answered, and resumes reading.
  void RunDeferred();
  // Closes the connection for `limit`: logged and counted.
  void CloseForLimit(const char* limit, uint64_t bytes, uint64_t max,
                     std::atomic<uint64_t>* counter);
  // Whether enable_debug_command admits this connection's peer.
  bool DebugAllowed() const;
  uint64_t NewSlot();
  void Complete(uint64_t slot, std::string reply);
  // After out_ grew: the output limit, the write, and reading resumed when
  // `was_full` slots have room again.
  void Replied(bool was_full);
  void DoWrite();
  void Close();
  // CLIENT REPLY OFF or SKIP: the reply of `slot` is not sent.
  void Silence(uint64_t slot) { slots_[slot - first_slot_].silent = true; }
  // Publishes the buffer sizes CLIENT LIST shows.
  void PublishBuffers();

  Socket socket_;
  asio::io_context* io_;
  Server* server_;
  Session session_;
  std::shared_ptr<ClientState> state_;
  protocol::RespParser parser_;
  // The command being dispatched. A member, not a local: the parser swaps
  // its vector with this one, so a command run here (not moved to the
  // writer) leaves its capacity for the next parse instead of a free and
  // an allocation per command.
  protocol::Command args_;
  NetKeyspace keys_;  // reads on this connection's event loop thread
  std::array<char, 16 * 1024> buf_;  // one read_some, parsed in place
  std::string in_;  // received, not yet parsed (a remainder of buf_'s)
  // Replies in request order; `first_slot_` is the id of the front. A slot
  // is filled at once (reads) or when the writer answers (writes); a silent
  // one (CLIENT REPLY) is dropped instead of sent.
  struct Slot {
    bool done = false;
    bool silent = false;
    std::string reply;
  };
  std::deque<Slot> slots_;
  uint64_t first_slot_ = 0;
  std::string out_;           // replies in order, not yet handed to the socket
  size_t writing_bytes_ = 0;  // of the write in flight (CLIENT LIST)
  std::string sending_;       // the write in flight; empty when none. Swapped
                              // with out_ so both keep their capacity.
  uint64_t parser_held_ = 0;  // bytes of an unfinished command in parser_
  size_t in_writer_ = 0;      // jobs queued to the writer, not yet answered
  struct Deferred {
    const CommandSpec* spec;
    protocol::Command args;
    uint64_t slot;
  };
  std::optional<Deferred> deferred_;    // waits for in_writer_ == 0
  std::vector<WriteJob> pending_jobs_;  // parsed this read, not yet queued
  bool reading_ = false;                // a wait or read is pending
  // The last read_some came back short or EAGAIN and reading has not paused
  // since, so any byte still to come raises a new readiness edge; when
  // false a read is tried before waiting (a paused connection's readiness
  // may have come and gone unseen: Asio's epoll is edge-triggered).
  bool drained_ = false;
  bool writing_ = false;
  bool close_after_flush_ = false;
  bool handling_input_ = false;  // replies wait for the end of the batch
  bool closed_ = false;
};

}  // namespace ember::server
