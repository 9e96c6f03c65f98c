// client/local_client.h: LocalClient reads a same-host ember-server's keys
// straight from its shared-memory arena (no system call, no socket, no
// copy) and sends everything else to the server over its Unix socket.
//
//   auto opts = ember::client::LocalOptions{};   // name "default"
//   std::unique_ptr<ember::client::LocalClient> c;
//   if (!ember::client::LocalClient::Open(opts, &c).ok()) ...
//   c->Set("greeting", "hello");                 // over the socket
//   ember::client::Value v;
//   if (c->Get("greeting", &v).ok()) use(v.view());  // from the arena
//
// Where a Get is answered. A hit in the arena: zero-copy. Everything else
// goes to the server, transparently: a miss (the key may be cold, in
// RocksDB), an expired item, and an arena that is absent, not ACTIVE
// (RECOVERING, CLEAN, RETIRED), of another layout or build, or whose
// writer heartbeat is older than `stale_heartbeat_ms`. A closed or
// recreated arena is reopened, at most once per `reopen_interval_ms`.
//
// Read-your-writes: the server publishes a write to the arena before it
// replies, so once Set() returns, a Get() from any thread of any process on
// the host sees the new value (or a newer one).
//
// Thread safety: every method may be called from any thread. Each thread
// gets its own reader slot and its own server connection on first use;
// both are released when the thread exits or the client is destroyed.
// After fork() the child's first call claims fresh ones (the parent's slot
// and socket stay the parent's). The LocalClient must outlive its Values.
#pragma once

#include <pthread.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "client/remote_client.h"
#include "shm/arena_reader.h"
#include "shm/status.h"

namespace ember::client {

struct LocalOptions {
  std::string name = "default";        // the server's `name` (arena instance)
  std::string run_dir = "/tmp/ember";  // the server's `run_dir`
  // The uid the server runs as, when known: a run_dir of another owner is
  // then refused (someone else made it first). -1: trust run_dir's owner.
  int64_t server_uid = -1;
  // The database read and written (SELECT; 0 to the server's `databases`
  // - 1). Arena reads look up its keys in place, zero-copy in any database;
  // the socket selects it on every connect (remote.db is set from this).
  int db = 0;
  // The server's socket; `remote.unix_socket` empty means
  // <run_dir>/ember.sock, the server's default. TCP fields are unused.
  RemoteOptions remote;
  // A writer heartbeat older than this (ms) means no live server is
  // publishing: reads go to the socket.
  uint64_t stale_heartbeat_ms = 2000;
  // How often (ms) a thread retries mapping an absent or closed arena.
  uint64_t reopen_interval_ms = 100;
};

class LocalClient;
struct ThreadState;
struct Registry;

// A value read by LocalClient::Get. From the arena (zero_copy()): view()
// points into the read-only shared mapping and the thread's read guard is
// held, so the bytes stay unchanged until Release() or destruction. Hold it
// briefly (well under the server's reader_lease_ms): a guard held past the
// lease while memory is short is revoked, and Release() reports kRevoked.
// From the server: the Value owns a copy. Use a Value on the thread that
// filled it; neither copyable nor movable (it may hold the guard).
class Value {
 public:
  Value() = default;
  ~Value() { Release(); }
  Value(const Value&) = delete;
  Value& operator=(const Value&) = delete;

  std::string_view view() const { return view_; }
  bool zero_copy() const { return state_ != nullptr; }
  // Ends a zero-copy read. kRevoked: the bytes may have changed while held
  // (read again). kOk otherwise, and for owned values.
  shm::Status Release() {
    if (state_ != nullptr) return ReleaseGuard();
    view_ = {};
    owned_.clear();
    return shm::Status::Ok();
  }

 private:
  friend class LocalClient;
  shm::Status ReleaseGuard();     // the zero-copy case of Release()
  ThreadState* state_ = nullptr;  // set while this Value holds the guard
  std::string owned_;
  std::string_view view_;
};

// How many Gets were answered where (this client, all threads).
struct LocalStats {
  uint64_t arena_hits = 0;
  uint64_t server_reads = 0;
};

class LocalClient {
 public:
  // Prepares a client; no mapping or connection is made until a thread's
  // first call, so Open succeeds with no server running (reads and writes
  // then fail with kUnavailable until one starts). kInvalidArgument: a bad
  // name.
  static shm::Status Open(const LocalOptions& options,
                          std::unique_ptr<LocalClient>* out);
  ~LocalClient();
  LocalClient(const LocalClient&) = delete;
  LocalClient& operator=(const LocalClient&) = delete;

  // kOk with `*value` set (zero-copy on an arena hit); kNotFound when the
  // key does not exist (a normal answer); kUnavailable when neither the
  // arena nor the server could answer. REQUIRES: `*value` not in use.
  shm::Status Get(std::string_view key, Value* value);
  // Looks up all `keys` under one guard: values[i] / found[i] per key, with
  // arena misses fetched from the server in one MGET. The views stay valid
  // until the next call on this thread that returns values, or until
  // ReleaseMulti(); call ReleaseMulti() when done with them. Not atomic as
  // Redis's MGET is: a write (or a SWAPDB) between the arena lookups and
  // the MGET may show in the keys the server answered only.
  shm::Status MultiGet(const std::vector<std::string_view>& keys,
                       std::vector<std::string_view>* values,
                       std::vector<bool>* found);
  // The same into arrays the caller owns (keys.size() entries each): no
  // allocation when every key is an arena hit. Same lifetime of the views.
  shm::Status MultiGet(std::span<const std::string_view> keys,
                       std::string_view* values, bool* found);
  shm::Status ReleaseMulti();

  // Writes go to the server; they return after the write is in RocksDB and
  // published to the arena. ttl_ms > 0 sets an expiry.
  shm::Status Set(std::string_view key, std::string_view value,
                  int64_t ttl_ms = 0);
  // `*deleted` (may be null): 1 when the key existed.
  shm::Status Del(std::string_view key, int64_t* deleted = nullptr);
  shm::Status Incr(std::string_view key, int64_t* value = nullptr);
  shm::Status Expire(std::string_view key, int64_t ttl_ms,
                     bool* applied = nullptr);
  // Any command, over this thread's connection (see RemoteClient::Command).
  shm::Status Command(const std::vector<std::string>& args,
                      protocol::Reply* reply);

  // True when this thread's last attempt mapped an ACTIVE arena with a
  // fresh heartbeat (the zero-copy path is open).
  bool arena_ready();
  LocalStats stats() const;
  const LocalOptions& options() const { return options_; }

 private:
  explicit LocalClient(const LocalOptions& options);
  // This thread's state, created (or recreated after fork) on first use.
  ThreadState* State();
  // The thread's arena reader if the zero-copy path is usable now, else
  // null (reopening it when due). Inline: the common case (mapped, ACTIVE,
  // heartbeat checked within kClockEvery calls) is a few loads.
  shm::ArenaReader* Reader(ThreadState* t);
  shm::ArenaReader* SlowReader(ThreadState* t);  // the rest of Reader()
  static void DestroyState(void* state);         // pthread key destructor

  LocalOptions options_;
  const uint64_t id_;  // unique per client in this process, never reused
  pthread_key_t key_;  // value: the thread's Handle (local_client.cc)
  bool key_created_ = false;
  // The threads' states and the exited threads' counts, shared with each
  // thread's Handle (so a thread exiting during ~LocalClient is safe).
  std::shared_ptr<Registry> registry_;
};

}  // namespace ember::client
