// server/session.h: per-connection state commands may read or change.
// Thread safety: owned by its connection; touched by one thread at a time.
#pragma once

#include <cstdint>
#include <string>

namespace ember::server {

struct Session {
  uint64_t id = 0;             // CLIENT ID
  bool authenticated = false;  // true at once when no requirepass is set
  bool quit = false;           // QUIT: close after this reply
  std::string name;            // CLIENT SETNAME
  std::string peer;            // "127.0.0.1:51234" or "unix"
};

}  // namespace ember::server
