// server/session.h: per-connection state commands may read or change.
// Thread safety: owned by its connection; touched by one thread at a time.
#pragma once

#include <cstdint>
#include <string>

#include "server/client_state.h"

namespace ember::server {

struct Session {
  uint64_t id = 0;             // CLIENT ID
  bool authenticated = false;  // true at once when no requirepass is set
  bool quit = false;           // QUIT, CLIENT KILL of itself: close after this
  uint8_t db = 0;              // SELECT; the writer's jobs carry it
  std::string name;            // CLIENT SETNAME
  std::string peer;            // "127.0.0.1:51234" or "unix"
  // CLIENT REPLY: OFF drops every reply until ON; SKIP drops the next
  // command's. The connection applies them (the command that set them
  // decides whether it answers).
  bool reply_off = false;
  bool reply_skip = false;
  // What other connections see of this one (CLIENT LIST); null outside a
  // connection (the writer's jobs, tests).
  ClientState* client = nullptr;

  void SetDb(uint8_t d) {
    if (client != nullptr) client->set_db(d);
    db = d;
  }
  void SetName(std::string n) {
    if (client != nullptr) client->set_name(n);
    name = std::move(n);
  }
};

}  // namespace ember::server
