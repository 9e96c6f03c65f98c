// client/local_client.cc: per-thread arena readers with a socket fallback.
#include "client/local_client.h"

#include <atomic>
#include <cstring>

#include "shm/clock.h"
#include "shm/segment.h"

namespace ember::client {

using shm::Status;

namespace {

// Bumped in every child after fork(): a thread state made under another
// value belongs to the parent.
std::atomic<uint64_t> g_fork_generation{0};
std::once_flag g_atfork_once;

// Every live client's registry, so fork() can hold their locks: a child
// must not inherit a registry mutex locked by a thread it does not have.
// Lock order: g_clients_mu, then each Registry::mu.
std::mutex g_clients_mu;
std::vector<Registry*> g_clients;  // GUARDED_BY(g_clients_mu)

void BeforeFork();
void AfterForkParent();
void AfterForkChild();

// Wall-clock milliseconds, as the writer's heartbeat: the coarse clock (a
// vDSO call, no system call) through the seam tests replace.
uint64_t NowMs() { return shm::NowUnixMsCoarse(); }

// Client ids: never reused, so a thread's cached state (t_last) of a
// destroyed client can never be taken for a live one's.
std::atomic<uint64_t> g_next_client_id{1};

}  // namespace

// The thread's last State() answer, to skip pthread_getspecific.
struct LastState {
  uint64_t client_id = 0;
  uint64_t fork_generation = 0;
  ThreadState* state = nullptr;
};
thread_local LastState t_last;

namespace {

// Adds to a counter that only this thread writes: a plain load and store,
// no locked instruction on the read path.
void Bump(std::atomic<uint64_t>* counter, uint64_t n) {
  counter->store(counter->load(std::memory_order_relaxed) + n,
                 std::memory_order_relaxed);
}

// The clock is read once per this many Gets of a thread with a usable
// arena (the heartbeat check): a stale writer is noticed within
// stale_heartbeat_ms plus this many reads.
constexpr uint32_t kClockEvery = 64;

}  // namespace

// One thread's reader slot, guard and connection. Listed in the client's
// Registry, which frees it; the thread finds it through its Handle, the
// client's pthread key value.
struct ThreadState {
  uint64_t fork_generation = 0;
  std::unique_ptr<shm::ArenaReader> reader;  // null: arena not mapped
  // The thread's one guard object over `reader` (renewed per read, not
  // rebuilt); held while guard_users > 0. Reset before `reader`.
  std::unique_ptr<shm::ReadGuard> guard;
  uint32_t guard_users = 0;              // Values holding the guard
  bool multi_holds_guard = false;        // MultiGet's views hold it
  std::vector<std::string> multi_owned;  // MultiGet's server answers
  // Stored keys (the database byte, then the key) of the last Get and
  // MultiGet: buffers reused from call to call.
  std::string key_buf;
  std::vector<std::string> multi_keys;
  std::vector<std::string_view> multi_views;
  uint64_t next_open_ms = 0;             // no reopen attempt before (wall ms)
  std::unique_ptr<RemoteClient> remote;  // connected lazily
  // Written by this thread only (Bump), read by stats() from any thread.
  std::atomic<uint64_t> arena_hits{0};
  std::atomic<uint64_t> server_reads{0};
  uint32_t calls_since_clock = 0;  // Gets since the heartbeat was checked

  // Takes one use of the thread's guard, announcing on the first.
  bool AcquireGuard() {
    if (guard_users == 0 && !guard->Renew()) return false;
    ++guard_users;
    return true;
  }
  Status ReleaseGuard() {
    if (guard_users == 0) return Status::Ok();
    if (fork_generation != g_fork_generation.load(std::memory_order_relaxed)) {
      // A Value from before fork(): the slot is the parent's, which may have
      // ended that guard long ago, so nothing protected the child's view.
      --guard_users;
      return Status::Revoked("read before fork(): the guard is the parent's");
    }
    if (--guard_users > 0) {
      // Shared with other Values: each one still learns of a revocation.
      return guard->revoked() ? Status::Revoked("guard held past the lease")
                              : Status::Ok();
    }
    return guard->Release();
  }
  // Maps nothing any more: the guard goes first (it points at the reader).
  void DropReader() {
    guard.reset();
    reader.reset();
  }
  // In a child after fork(): lets go of the parent's slot, guard and socket
  // without touching them. The mapping stays while a Value may point into
  // it; the socket (the parent's stream) is leaked, not closed.
  void Abandon() {
    if (guard) guard->Abandon();
    if (reader) reader->Abandon();
    if (guard_users == 0 && !multi_holds_guard) DropReader();
    (void)remote.release();
  }
};

// What a client shares with its threads. Each thread's Handle keeps it
// alive, so a thread exiting while the client is destroyed touches no
// freed memory.
struct Registry {
  std::mutex mu;
  std::vector<ThreadState*> states;  // GUARDED_BY(mu): this generation's
  LocalStats exited;                 // GUARDED_BY(mu): exited threads'
  bool closed = false;  // GUARDED_BY(mu): the client freed `states`
};

// The pthread key's value: owned by its thread alone.
struct Handle {
  std::shared_ptr<Registry> registry;
  ThreadState* state;
};

namespace {

void BeforeFork() {
  g_clients_mu.lock();
  for (Registry* r : g_clients) r->mu.lock();
}
void AfterForkParent() {
  for (Registry* r : g_clients) r->mu.unlock();
  g_clients_mu.unlock();
}
void AfterForkChild() {
  g_fork_generation.fetch_add(1, std::memory_order_relaxed);
  AfterForkParent();
}

}  // namespace

Status Value::ReleaseGuard() {
  Status s = state_->ReleaseGuard();
  state_ = nullptr;
  view_ = {};
  return s;  // owned_ is empty: a zero-copy Value owns nothing
}

Status LocalClient::Open(const LocalOptions& options,
                         std::unique_ptr<LocalClient>* out) {
  EMBER_RETURN_IF_ERROR(shm::ValidateName(options.name));
  if (options.db < 0 || options.db > 255)
    return Status::InvalidArgument("LocalClient: db out of range");
  std::call_once(g_atfork_once, [] {
    pthread_atfork(BeforeFork, AfterForkParent, AfterForkChild);
  });
  std::unique_ptr<LocalClient> c(new LocalClient(options));
  if (const int err = pthread_key_create(&c->key_, &LocalClient::DestroyState);
      err != 0) {
    return Status::IOError("LocalClient: pthread_key_create: " +
                           std::string(std::strerror(err)));
  }
  c->key_created_ = true;
  *out = std::move(c);
  return Status::Ok();
}

LocalClient::LocalClient(const LocalOptions& options)
    : options_(options),
      id_(g_next_client_id.fetch_add(1, std::memory_order_relaxed)),
      registry_(std::make_shared<Registry>()) {
  options_.remote.db = options_.db;
  if (options_.remote.unix_socket.empty())
    options_.remote.unix_socket = options_.run_dir + "/ember.sock";
  std::lock_guard<std::mutex> lock(g_clients_mu);
  g_clients.push_back(registry_.get());
}

LocalClient::~LocalClient() {
  {
    std::lock_guard<std::mutex> lock(g_clients_mu);
    std::erase(g_clients, registry_.get());
  }
  // No key destructor starts after this; one already running finds the
  // registry closed and frees nothing. Live threads' Handles leak.
  if (key_created_) pthread_key_delete(key_);
  std::lock_guard<std::mutex> lock(registry_->mu);
  registry_->closed = true;
  const uint64_t gen = g_fork_generation.load(std::memory_order_relaxed);
  for (ThreadState* t : registry_->states) {
    if (t->fork_generation != gen) t->Abandon();  // the parent's, in a child
    delete t;
  }
  registry_->states.clear();
}

void LocalClient::DestroyState(void* handle) {
  std::unique_ptr<Handle> h(static_cast<Handle*>(handle));
  ThreadState* t = h->state;
  if (t_last.state == t) t_last = {};
  std::lock_guard<std::mutex> lock(h->registry->mu);
  if (h->registry->closed) return;  // the client already freed `t`
  if (t->fork_generation != g_fork_generation.load(std::memory_order_relaxed))
    return;  // the parent's, still listed in this child: left to the client
  h->registry->exited.arena_hits +=
      t->arena_hits.load(std::memory_order_relaxed);
  h->registry->exited.server_reads +=
      t->server_reads.load(std::memory_order_relaxed);
  std::erase(h->registry->states, t);
  delete t;
}

ThreadState* LocalClient::State() {
  const uint64_t gen = g_fork_generation.load(std::memory_order_relaxed);
  // The common case: this thread's last client was this one.
  if (t_last.client_id == id_ && t_last.fork_generation == gen)
    return t_last.state;
  auto* h = static_cast<Handle*>(pthread_getspecific(key_));
  if (h != nullptr && h->state->fork_generation == gen) {
    t_last = {id_, gen, h->state};
    return h->state;
  }
  std::lock_guard<std::mutex> lock(registry_->mu);
  if (h != nullptr) {
    // A child after fork(): the state is the parent's. Let go of its slot
    // and socket without touching them, and leak the small struct (Values
    // made before the fork may still point at it).
    h->state->Abandon();
    std::erase(registry_->states, h->state);
  }
  // Other threads' states from before the fork: those threads do not exist
  // in this process, so nothing can use them; let go and free them.
  std::erase_if(registry_->states, [gen](ThreadState* s) {
    if (s->fork_generation == gen) return false;
    s->Abandon();
    delete s;
    return true;
  });
  auto* t = new ThreadState();
  t->fork_generation = gen;
  registry_->states.push_back(t);
  if (h == nullptr) {
    h = new Handle{registry_, t};
    pthread_setspecific(key_, h);
  } else {
    h->state = t;
  }
  t_last = {id_, gen, t};
  return t;
}

inline shm::ArenaReader* LocalClient::Reader(ThreadState* t) {
  if (t->reader != nullptr && t->reader->active() &&
      ++t->calls_since_clock < kClockEvery) {
    return t->reader.get();  // the common case: no clock read
  }
  return SlowReader(t);
}

shm::ArenaReader* LocalClient::SlowReader(ThreadState* t) {
  // Fresh: a writer beat within stale_heartbeat_ms.
  const auto fresh = [this](const shm::ArenaReader& r) {
    const uint64_t beat =
        r.header().heartbeat_unix_ms.load(std::memory_order_relaxed);
    return NowMs() <= beat + options_.stale_heartbeat_ms;
  };
  // Due for the heartbeat check. The count is reset only by a fresh check,
  // so once stale every call checks until the writer beats again.
  t->calls_since_clock = kClockEvery;
  if (t->reader != nullptr && t->reader->active() && fresh(*t->reader)) {
    t->calls_since_clock = 0;
    return t->reader.get();
  }
  // Absent, closed, retired, or a writer that stopped beating (killed: a
  // new server maps a new segment). Remap when due, unless Values still
  // point into the current mapping.
  if (t->guard_users > 0 || t->multi_holds_guard) return nullptr;
  const uint64_t now = NowMs();
  if (now < t->next_open_ms) return nullptr;
  t->next_open_ms = now + options_.reopen_interval_ms;
  t->DropReader();
  Status s = shm::ArenaReader::Open(options_.name, options_.run_dir, &t->reader,
                                    options_.server_uid);
  if (!s.ok()) {
    t->DropReader();  // absent, not ACTIVE, another layout, no slot
    return nullptr;
  }
  t->guard = std::make_unique<shm::ReadGuard>(t->reader.get(),
                                              shm::ReadGuard::Deferred{});
  if (!fresh(*t->reader)) return nullptr;
  t->calls_since_clock = 0;
  return t->reader.get();
}

bool LocalClient::arena_ready() { return Reader(State()) != nullptr; }

Status LocalClient::Get(std::string_view key, Value* value) {
  value->Release();
  ThreadState* t = State();
  if (Reader(t) != nullptr && t->AcquireGuard()) {
    // Straight into the Value: a copy through a local string_view cost a
    // failed store-to-load forward (two 8-byte stores, one 16-byte load).
    // The arena holds stored keys: the database's byte (its physical
    // number, after any SWAPDB), then the key. A hit counts only if no
    // SWAPDB was published during the lookup (else the server answers).
    uint64_t seq = 0;
    t->key_buf.assign(1, static_cast<char>(t->reader->PhysicalDb(
                             static_cast<uint8_t>(options_.db), &seq)));
    t->key_buf.append(key);
    if (t->guard->Get(t->key_buf, &value->view_).ok() &&
        t->reader->DbMapSeq() == seq) {
      value->state_ = t;
      Bump(&t->arena_hits, 1);
      return Status::Ok();
    }
    value->view_ = {};
    t->ReleaseGuard();  // a miss in the arena is never the answer
  }
  if (!t->remote) t->remote = std::make_unique<RemoteClient>(options_.remote);
  Bump(&t->server_reads, 1);
  bool found = false;
  EMBER_RETURN_IF_ERROR(t->remote->Get(key, &value->owned_, &found));
  if (!found) return Status::NotFound();
  value->view_ = value->owned_;
  return Status::Ok();
}

Status LocalClient::MultiGet(const std::vector<std::string_view>& keys,
                             std::vector<std::string_view>* values,
                             std::vector<bool>* found) {
  values->assign(keys.size(), std::string_view());
  std::unique_ptr<bool[]> hit(new bool[keys.size()]());
  Status s = MultiGet(std::span<const std::string_view>(keys), values->data(),
                      hit.get());
  found->assign(hit.get(), hit.get() + keys.size());
  return s;
}

Status LocalClient::MultiGet(std::span<const std::string_view> keys,
                             std::string_view* values, bool* found) {
  ReleaseMulti();
  ThreadState* t = State();
  size_t hits = 0;
  if (Reader(t) != nullptr && t->AcquireGuard()) {
    t->multi_holds_guard = true;
    t->multi_keys.resize(std::max(t->multi_keys.size(), keys.size()));
    t->multi_views.resize(keys.size());
    uint64_t seq = 0;
    const auto db = static_cast<char>(
        t->reader->PhysicalDb(static_cast<uint8_t>(options_.db), &seq));
    for (size_t i = 0; i < keys.size(); ++i) {
      t->multi_keys[i].assign(1, db);
      t->multi_keys[i].append(keys[i]);
      t->multi_views[i] = t->multi_keys[i];
    }
    hits = t->guard->MultiGet(t->multi_views, values, found);
    if (t->reader->DbMapSeq() != seq) {
      // A SWAPDB came during the lookups: every key goes to the server.
      hits = 0;
      std::fill(found, found + keys.size(), false);
      std::fill(values, values + keys.size(), std::string_view());
    }
    Bump(&t->arena_hits, hits);
  } else {
    std::fill(found, found + keys.size(), false);
    std::fill(values, values + keys.size(), std::string_view());
  }
  if (hits == keys.size()) return Status::Ok();  // no allocation
  std::vector<std::string> mget = {"MGET"};
  std::vector<size_t> where;
  for (size_t i = 0; i < keys.size(); ++i) {
    if (!found[i]) {
      mget.emplace_back(keys[i]);
      where.push_back(i);
    }
  }
  if (!t->remote) t->remote = std::make_unique<RemoteClient>(options_.remote);
  Bump(&t->server_reads, where.size());
  protocol::Reply reply;
  EMBER_RETURN_IF_ERROR(t->remote->Command(mget, &reply));
  if (reply.kind != protocol::Reply::Kind::kArray ||
      reply.elements.size() != where.size()) {
    return Status::Corruption("MGET: unexpected reply " +
                              protocol::ToDebugString(reply));
  }
  t->multi_owned.reserve(where.size());  // views below must not move
  for (size_t j = 0; j < where.size(); ++j) {
    protocol::Reply& e = reply.elements[j];
    if (e.kind != protocol::Reply::Kind::kBulk) continue;
    t->multi_owned.push_back(std::move(e.str));
    values[where[j]] = t->multi_owned.back();
    found[where[j]] = true;
  }
  return Status::Ok();
}

Status LocalClient::ReleaseMulti() {
  ThreadState* t = State();
  t->multi_owned.clear();
  if (!t->multi_holds_guard) return Status::Ok();
  t->multi_holds_guard = false;
  return t->ReleaseGuard();
}

namespace {
RemoteClient* Remote(ThreadState* t, const RemoteOptions& o) {
  if (!t->remote) t->remote = std::make_unique<RemoteClient>(o);
  return t->remote.get();
}
}  // namespace

Status LocalClient::Set(std::string_view key, std::string_view value,
                        int64_t ttl_ms) {
  return Remote(State(), options_.remote)->Set(key, value, ttl_ms);
}

Status LocalClient::Del(std::string_view key, int64_t* deleted) {
  return Remote(State(), options_.remote)->Del(key, deleted);
}

Status LocalClient::Incr(std::string_view key, int64_t* value) {
  return Remote(State(), options_.remote)->Incr(key, value);
}

Status LocalClient::Expire(std::string_view key, int64_t ttl_ms,
                           bool* applied) {
  return Remote(State(), options_.remote)->Expire(key, ttl_ms, applied);
}

Status LocalClient::Command(const std::vector<std::string>& args,
                            protocol::Reply* reply) {
  return Remote(State(), options_.remote)->Command(args, reply);
}

LocalStats LocalClient::stats() const {
  std::lock_guard<std::mutex> lock(registry_->mu);
  LocalStats s = registry_->exited;
  for (const ThreadState* t : registry_->states) {
    s.arena_hits += t->arena_hits.load(std::memory_order_relaxed);
    s.server_reads += t->server_reads.load(std::memory_order_relaxed);
  }
  return s;
}

}  // namespace ember::client
