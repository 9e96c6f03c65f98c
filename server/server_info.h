// server/server_info.h: what server-level commands (INFO, CONFIG GET, AUTH,
// SCAN cursors) need from the running server. Thread safety: every method
// may be called from any network thread or the writer.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "server/config.h"

namespace ember::server {

class ServerInfo {
 public:
  virtual ~ServerInfo() = default;
  virtual const Config& config() const = 0;
  // INFO text for `section`: "", "default" or "all" for every section.
  virtual std::string InfoText(std::string_view section) = 0;
  // SCAN cursors: Ember iterates keys in order, so a cursor names the next
  // key. Remember(key) returns the numeric cursor clients see; Recall
  // gives it back (false for an unknown cursor).
  virtual uint64_t RememberCursor(const std::string& next_key) = 0;
  virtual bool RecallCursor(uint64_t cursor, std::string* next_key) = 0;
};

}  // namespace ember::server
