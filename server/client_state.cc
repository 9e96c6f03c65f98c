// server/client_state.cc: a connection's CLIENT LIST line.
#include "server/client_state.h"

namespace ember::server {

ClientState::ClientState(uint64_t id, std::string addr, std::string laddr,
                         int fd, bool unix_socket, uint64_t created_ms)
    : id_(id),
      addr_(std::move(addr)),
      laddr_(std::move(laddr)),
      fd_(fd),
      unix_socket_(unix_socket),
      created_ms_(created_ms),
      last_ms_(created_ms) {}

std::string ClientState::name() const {
  MutexLock lock(&mu_);
  return name_;
}

void ClientState::set_name(std::string name) {
  MutexLock lock(&mu_);
  name_ = std::move(name);
}

std::string ClientState::Line(uint64_t now_ms) const {
  auto seconds = [now_ms](uint64_t since) {
    return std::to_string(now_ms > since ? (now_ms - since) / 1000 : 0);
  };
  // Redis's flag letters that apply to Ember: c (close after reply), U
  // (Unix socket), e (no-evict); N when none.
  // (A char array: GCC 12 -O2 reports a bogus -Wrestrict for short
  // std::string appends here.)
  char flags[4] = {0};
  size_t nflags = 0;
  if (closing_.load(std::memory_order_relaxed)) flags[nflags++] = 'c';
  if (unix_socket_) flags[nflags++] = 'U';
  if (no_evict_.load(std::memory_order_relaxed)) flags[nflags++] = 'e';
  if (nflags == 0) flags[nflags++] = 'N';
  const uint64_t qbuf = qbuf_.load(std::memory_order_relaxed);
  const uint64_t omem = omem_.load(std::memory_order_relaxed);
  // The request buffer plus what waits to be written; the connection's own
  // fixed 16 KiB read buffer is rbs.
  constexpr uint64_t kReadBuffer = 16 * 1024;
  const uint64_t qbuf_free = qbuf_free_.load(std::memory_order_relaxed);
  std::string s = "id=";
  s += std::to_string(id_);
  s += " addr=";
  s += addr_;
  s += " laddr=";
  s += laddr_;
  s += " fd=";
  s += std::to_string(fd_);
  s += " name=";
  s += name();
  s += " age=";
  s += seconds(created_ms_);
  s += " idle=";
  s += seconds(last_ms_.load(std::memory_order_relaxed));
  s += " flags=";
  s.append(flags, nflags);
  s += " db=";
  s += std::to_string(db_.load(std::memory_order_relaxed));
  s += " sub=0 psub=0 ssub=0 multi=-1 qbuf=";
  s += std::to_string(qbuf);
  s += " qbuf-free=";
  s += std::to_string(qbuf_free);
  s += " argv-mem=0 multi-mem=0 rbs=";
  s += std::to_string(kReadBuffer);
  s += " rbp=";
  s += std::to_string(kReadBuffer);
  s += " obl=0 oll=";
  s += std::to_string(oll_.load(std::memory_order_relaxed));
  s += " omem=";
  s += std::to_string(omem);
  s += " tot-mem=";
  s += std::to_string(kReadBuffer + qbuf + qbuf_free + omem);
  s += " events=r cmd=";
  s += command_.load(std::memory_order_relaxed);
  s += " user=default redir=-1 resp=2\n";
  return s;
}

}  // namespace ember::server
