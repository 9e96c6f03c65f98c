// server/server_info.h: what server-level commands (INFO, CONFIG, AUTH,
// SLOWLOG, LATENCY, SCAN cursors) need from the running server. Tests may
// stand in for it with config() and the cursor calls alone: the rest has
// defaults that record nothing.
// Thread safety: every method may be called from any network thread or the
// writer.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "server/client_state.h"
#include "server/config.h"

namespace ember::server {

struct Setting;
struct Telemetry;

class ServerInfo {
 public:
  virtual ~ServerInfo() = default;
  // The settings in force; CONFIG SET changes only Tunable fields.
  virtual const Config& config() const = 0;
  // INFO text for `sections`: names separated by spaces, any case; "" or
  // "default" for the default ones, "all" or "everything" for all.
  virtual std::string InfoText(std::string_view sections) = 0;
  // SCAN cursors: Ember iterates keys in order, so a cursor names the next
  // key. Remember(key) returns the numeric cursor clients see; Recall
  // gives it back (false for an unknown cursor).
  virtual uint64_t RememberCursor(const std::string& next_key) = 0;
  virtual bool RecallCursor(uint64_t cursor, std::string* next_key) = 0;

  // Command counters, SLOWLOG and LATENCY; null when nothing is recorded.
  virtual Telemetry* telemetry() { return nullptr; }
  // CONFIG SET, once every pair parsed: `next` is config() with the new
  // values, `changed` each setting with its name as the client wrote it.
  // Applies all of them or none; "" or the whole error reply text.
  virtual std::string ApplyConfig(
      const Config& next,
      const std::vector<std::pair<std::string, const Setting*>>& changed) {
    (void)next;
    (void)changed;
    return "ERR CONFIG SET is not available here";
  }
  // CONFIG REWRITE: "" or the error reply text.
  virtual std::string RewriteConfig() {
    return "ERR The server is running without a config file";
  }
  // CONFIG RESETSTAT.
  virtual void ResetStats() {}

  // CLIENT LIST and KILL: every open connection's state, in order of id.
  virtual std::vector<std::shared_ptr<const ClientState>> Clients() {
    return {};
  }
  // Closes connection `id` (another than the caller's: a connection that
  // kills itself closes after its reply); replies it still owes are
  // dropped. False when no such connection is open.
  virtual bool KillClient(uint64_t id) {
    (void)id;
    return false;
  }
  // MEMORY USAGE: the arena chunk an item of `item_bytes` (header + key +
  // value) takes when hot; 0 when the arena cannot hold one that large.
  virtual uint64_t ArenaChunkBytes(uint64_t item_bytes) {
    (void)item_bytes;
    return 0;
  }
};

}  // namespace ember::server
