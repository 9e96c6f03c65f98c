// server/client_state.h: what CLIENT LIST, CLIENT INFO and CLIENT KILL see
// of a connection from any thread. The connection's own thread writes it
// (relaxed atomics, the name under a small lock); others only read.
// Thread safety: every member may be read from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "server/thread_annotations.h"

namespace ember::server {

class ClientState {
 public:
  // `addr` and `laddr`: "ip:port" ("[v6]:port"), or "<socket path>:0" for
  // a Unix socket client (`unix` true), as Redis shows them.
  ClientState(uint64_t id, std::string addr, std::string laddr, int fd,
              bool unix_socket, uint64_t created_ms);

  uint64_t id() const { return id_; }
  const std::string& addr() const { return addr_; }
  const std::string& laddr() const { return laddr_; }
  std::string name() const EXCLUDES(mu_);
  void set_name(std::string name) EXCLUDES(mu_);

  // The connection's thread records, as it goes: a read or write happened
  // (idle=), the command it runs (cmd=, a static name such as
  // "client|list"), buffered request bytes (qbuf=), replies unread (omem=,
  // oll=), whether a read and a write are armed (events=).
  void Touch(uint64_t now_ms) {
    last_ms_.store(now_ms, std::memory_order_relaxed);
  }
  void set_command(const char* full_name) {
    command_.store(full_name, std::memory_order_relaxed);
  }
  void set_buffers(uint64_t qbuf, uint64_t qbuf_free, uint64_t omem,
                   uint64_t oll) {
    qbuf_.store(qbuf, std::memory_order_relaxed);
    qbuf_free_.store(qbuf_free, std::memory_order_relaxed);
    omem_.store(omem, std::memory_order_relaxed);
    oll_.store(oll, std::memory_order_relaxed);
  }
  void set_db(uint32_t db) { db_.store(db, std::memory_order_relaxed); }
  void set_no_evict(bool on) { no_evict_.store(on, std::memory_order_relaxed); }
  // Set when the connection will close after its pending replies.
  void set_closing() { closing_.store(true, std::memory_order_relaxed); }

  // One CLIENT LIST line, Redis 7.0's fields in Redis's order, ending in
  // "\n": id= addr= laddr= fd= name= age= idle= flags= db= ... cmd=
  // user= redir= resp=.
  std::string Line(uint64_t now_ms) const EXCLUDES(mu_);

 private:
  const uint64_t id_;
  const std::string addr_, laddr_;
  const int fd_;
  const bool unix_socket_;
  const uint64_t created_ms_;
  std::atomic<uint64_t> last_ms_;
  std::atomic<const char*> command_{"NULL"};
  std::atomic<uint64_t> qbuf_{0}, qbuf_free_{0}, omem_{0}, oll_{0};
  std::atomic<uint32_t> db_{0};  // db=: the SELECTed database
  std::atomic<bool> no_evict_{false}, closing_{false};
  mutable Mutex mu_;
  std::string name_ GUARDED_BY(mu_);
};

}  // namespace ember::server
