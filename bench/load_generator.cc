// bench/load_generator.cc: the epoll event loops of the load generator, one
// per thread, and the main thread's clock keeping (warm-up, progress line,
// CPU samples) while they run.
#include "bench/load_generator.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

#include "bench/machine.h"

namespace ember::bench {
namespace {

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// What every loop thread shares: the clock marks, the budgets and flags.
struct Shared {
  int64_t measure_from_ns = 0;     // end of warm-up
  int64_t stop_at_ns = 0;          // kMix without `requests`: stop issuing
  std::atomic<int64_t> budget{0};  // kMix with `requests`: sends left
  std::atomic<bool> abort{false};  // some thread failed
};

// A blocking connect (loopback: immediate), then non-blocking, no Nagle.
int Dial(const std::string& host, int port, std::string* error) {
  sockaddr_storage addr{};
  socklen_t len = 0;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&addr);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&addr);
  if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(uint16_t(port));
    len = sizeof(*v4);
  } else if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(uint16_t(port));
    len = sizeof(*v6);
  } else {
    *error = "--host must be a numeric address: " + host;
    return -1;
  }
  const int fd = socket(addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || connect(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0) {
    *error = "connect " + host + ":" + std::to_string(port) + ": " +
             std::strerror(errno);
    if (fd >= 0) close(fd);
    return -1;
  }
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  const int flags = fcntl(fd, F_GETFL);
  fcntl(fd, F_SETFL, flags | O_NONBLOCK);
  return fd;
}

struct Conn {
  int fd = -1;
  std::unique_ptr<Codec> codec;
  std::string out;  // encoded requests not yet written, from out_pos
  size_t out_pos = 0;
  // in[0, in_len): bytes read and not yet consumed; in.size() is capacity
  // (resized only to grow, so reads do not zero-fill it each time).
  std::string in;
  size_t in_len = 0;
  std::vector<int64_t> sent_ns;  // ring: send time of each request in flight
  size_t head = 0, inflight = 0;
  size_t pos = 0;         // kMix: next position in the key sequence
  uint64_t rng = 0;       // kMix: GET or SET
  bool want_out = false;  // EPOLLOUT armed
  ~Conn() {
    if (fd >= 0) close(fd);
  }
};

class Loop {
 public:
  Loop(const LoadPlan& plan, Shared* shared, int first_conn, int conns,
       uint64_t load_from, uint64_t load_to)
      : plan_(plan),
        shared_(shared),
        first_conn_(first_conn),
        conns_(conns),
        next_load_(load_from),
        load_to_(load_to) {}

  // Runs until every request is answered; false with error() on failure.
  bool Run();
  const std::string& error() const { return error_; }
  LoadStats& stats() { return stats_; }
  std::atomic<uint64_t> replies{0};  // for the progress line

 private:
  bool Setup();
  bool Fail(std::string why) {
    error_ = std::move(why);
    shared_->abort.store(true);
    return false;
  }
  // May another request be sent? Takes it from the shared budget.
  bool MayIssue(int64_t now);
  // Tops `c` up to `pipeline` requests in flight, then writes.
  bool Fill(Conn& c, int64_t now);
  bool Flush(Conn& c);
  bool OnReadable(Conn& c);

  const LoadPlan& plan_;
  Shared* shared_;
  const int first_conn_, conns_;
  uint64_t next_load_, load_to_;
  int epoll_ = -1;
  std::vector<std::unique_ptr<Conn>> conn_;  // stable addresses for epoll
  bool stopping_ = false;                    // no more requests will be sent
  bool measuring_ = false;
  LoadStats stats_;
  std::string error_;
};

bool Loop::MayIssue(int64_t now) {
  if (stopping_) return false;
  if (plan_.mode == LoadPlan::Mode::kLoad) {
    stopping_ = next_load_ >= load_to_;
  } else if (plan_.requests != 0) {
    stopping_ = now >= shared_->measure_from_ns &&
                shared_->budget.fetch_sub(1, std::memory_order_relaxed) <= 0;
  } else {
    stopping_ = now >= shared_->stop_at_ns;
  }
  return !stopping_;
}

bool Loop::Fill(Conn& c, int64_t now) {
  const size_t depth = c.sent_ns.size();
  char key[kKeyBytes];
  const std::string_view k(key, kKeyBytes);
  while (c.inflight < depth && MayIssue(now)) {
    if (plan_.mode == LoadPlan::Mode::kLoad) {
      MakeKey(next_load_++, key);
      c.codec->AppendSet(k, plan_.value, &c.out);
    } else {
      MakeKey(plan_.sequence->at(c.pos++), key);
      c.rng = c.rng * 6364136223846793005ull + 1442695040888963407ull;
      const uint64_t pick =
          (c.rng >> 33) % uint64_t(plan_.get_weight + plan_.set_weight);
      if (pick < uint64_t(plan_.set_weight)) {
        c.codec->AppendSet(k, plan_.value, &c.out);
      } else {
        c.codec->AppendGet(k, &c.out);
      }
    }
    c.sent_ns[(c.head + c.inflight++) % depth] = now;
  }
  return Flush(c);
}

bool Loop::Flush(Conn& c) {
  while (c.out_pos < c.out.size()) {
    const ssize_t n =
        write(c.fd, c.out.data() + c.out_pos, c.out.size() - c.out_pos);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EAGAIN) {
      return Fail(std::string("write: ") + std::strerror(errno));
    }
    if (n < 0) break;
    c.out_pos += size_t(n);
  }
  if (c.out_pos == c.out.size()) c.out.clear(), c.out_pos = 0;
  const bool want = !c.out.empty();
  if (want != c.want_out) {
    epoll_event ev{};
    ev.events = EPOLLIN | (want ? EPOLLOUT : 0u);
    ev.data.ptr = &c;
    epoll_ctl(epoll_, EPOLL_CTL_MOD, c.fd, &ev);
    c.want_out = want;
  }
  return true;
}

bool Loop::OnReadable(Conn& c) {
  constexpr size_t kChunk = 64 * 1024;
  if (c.in.size() - c.in_len < kChunk) c.in.resize(c.in_len + kChunk);
  ssize_t n;
  do {
    n = read(c.fd, c.in.data() + c.in_len, c.in.size() - c.in_len);
  } while (n < 0 && errno == EINTR);
  if (n < 0 && errno == EAGAIN) return true;
  if (n <= 0) {
    return Fail(n == 0 ? "the server closed a connection"
                       : std::string("read: ") + std::strerror(errno));
  }
  c.in_len += size_t(n);
  const int64_t now = NowNs();
  if (!measuring_ && now >= shared_->measure_from_ns) {
    stats_ = LoadStats{};  // warm-up over: forget it
    measuring_ = true;
  }
  size_t used = 0;
  for (;;) {
    size_t consumed = 0;
    ReplyKind kind = ReplyKind::kError;
    std::string why;
    const std::string_view rest(c.in.data() + used, c.in_len - used);
    const ParseStatus s = c.codec->Parse(rest, &consumed, &kind, &why);
    used += consumed;
    if (s == ParseStatus::kNeedMore) break;
    if (s == ParseStatus::kBroken) return Fail("bad reply stream: " + why);
    if (c.inflight == 0) return Fail("a reply that no request asked for");
    const int64_t sent = c.sent_ns[c.head];
    c.head = (c.head + 1) % c.sent_ns.size();
    --c.inflight;
    if (!measuring_) continue;
    stats_.latency.Record(now - sent);
    ++stats_.ops;
    switch (kind) {
      case ReplyKind::kHit:
        ++stats_.hits;
        break;
      case ReplyKind::kMiss:
        ++stats_.misses;
        break;
      case ReplyKind::kStored:
        ++stats_.stored;
        break;
      case ReplyKind::kError:
        ++stats_.errors;
        break;
    }
  }
  // Keep the unconsumed tail (less than one reply) at the front.
  c.in_len -= used;
  if (used != 0 && c.in_len != 0) {
    std::memmove(c.in.data(), c.in.data() + used, c.in_len);
  }
  return Fill(c, now);
}

bool Loop::Setup() {
  epoll_ = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_ < 0) return Fail(std::string("epoll: ") + std::strerror(errno));
  for (int i = 0; i < conns_; ++i) {
    Conn& c = *conn_.emplace_back(std::make_unique<Conn>());
    std::string why;
    c.fd = Dial(plan_.host, plan_.port, &why);
    if (c.fd < 0) return Fail(why);
    c.codec = plan_.codec();
    c.sent_ns.assign(size_t(plan_.pipeline), 0);
    c.pos = KeySequence::Start(first_conn_ + i, plan_.connections);
    c.rng = uint64_t(first_conn_ + i) * 0x9e3779b97f4a7c15ull + 1;
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = &c;
    if (epoll_ctl(epoll_, EPOLL_CTL_ADD, c.fd, &ev) != 0) {
      return Fail(std::string("epoll_ctl: ") + std::strerror(errno));
    }
  }
  return true;
}

bool Loop::Run() {
  const bool ok = [&] {
    if (!Setup()) return false;
    measuring_ = NowNs() >= shared_->measure_from_ns;
    for (auto& c : conn_) {
      if (!Fill(*c, NowNs())) return false;
    }
    std::vector<epoll_event> events(static_cast<size_t>(conns_));
    int64_t last_reply = NowNs();
    for (;;) {
      if (shared_->abort.load(std::memory_order_relaxed)) return false;
      const int n = epoll_wait(epoll_, events.data(), conns_, 20);
      if (n < 0 && errno != EINTR) return Fail("epoll_wait failed");
      for (int i = 0; i < n; ++i) {
        Conn& c = *static_cast<Conn*>(events[size_t(i)].data.ptr);
        if ((events[size_t(i)].events & EPOLLOUT) && !Flush(c)) return false;
        if ((events[size_t(i)].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) &&
            !OnReadable(c)) {
          return false;
        }
      }
      const int64_t now = NowNs();
      replies.store(stats_.ops, std::memory_order_relaxed);
      if (n > 0) last_reply = now;
      // A quiet connection still needs its requests once issuing may
      // resume, and stopping is noticed even with nothing in flight.
      size_t inflight = 0;
      for (auto& c : conn_) {
        if (c->inflight == 0 && !Fill(*c, now)) return false;
        inflight += c->inflight;
      }
      if (stopping_ && inflight == 0) break;
      if (now - last_reply > int64_t(30e9)) {
        return Fail("no reply for 30 s; " + std::to_string(inflight) +
                    " requests unanswered");
      }
    }
    if (!measuring_) stats_ = LoadStats{};  // ended within the warm-up
    return true;
  }();
  if (epoll_ >= 0) close(epoll_);
  conn_.clear();
  return ok;
}

}  // namespace

bool RunLoad(const LoadPlan& plan, LoadStats* stats, std::string* error) {
  const double warmup = plan.mode == LoadPlan::Mode::kLoad ? 0 : plan.warmup_s;
  Shared shared;
  const int64_t t0 = NowNs();
  shared.measure_from_ns = t0 + int64_t(warmup * 1e9);
  shared.stop_at_ns = shared.measure_from_ns + int64_t(plan.duration_s * 1e9);
  shared.budget.store(int64_t(plan.requests));

  std::vector<std::unique_ptr<Loop>> loops;
  for (int t = 0, first = 0; t < plan.threads; ++t) {
    const int conns = plan.connections / plan.threads +
                      (t < plan.connections % plan.threads ? 1 : 0);
    const uint64_t from = plan.load_keys * uint64_t(t) / uint64_t(plan.threads);
    const uint64_t to =
        plan.load_keys * uint64_t(t + 1) / uint64_t(plan.threads);
    loops.push_back(
        std::make_unique<Loop>(plan, &shared, first, conns, from, to));
    first += conns;
  }
  std::vector<std::thread> threads;
  std::atomic<int> running{plan.threads};
  std::vector<char> ok(size_t(plan.threads), 0);
  for (int t = 0; t < plan.threads; ++t) {
    threads.emplace_back([&, t] {
      ok[size_t(t)] = loops[size_t(t)]->Run();
      running.fetch_sub(1);
    });
  }

  // This thread keeps time: CPU samples at the start of measurement, and
  // the progress line, until every loop has finished.
  double cpu0 = SelfCpuSeconds(),
         server_cpu0 = ProcessCpuSeconds(plan.server_pid);
  bool sampled = warmup == 0;
  int64_t next_progress = t0 + int64_t(1e9);
  uint64_t last_replies = 0;
  bool printed = false;
  while (running.load() > 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    const int64_t now = NowNs();
    if (!sampled && now >= shared.measure_from_ns) {
      cpu0 = SelfCpuSeconds();
      server_cpu0 = ProcessCpuSeconds(plan.server_pid);
      sampled = true;
    }
    if (plan.progress && now >= next_progress) {
      uint64_t replies = 0;
      for (auto& l : loops) replies += l->replies.load();
      std::fprintf(stderr, "\r%s: %.0f s, %llu replies, %.0f/s   ",
                   plan.progress_name.c_str(), double(now - t0) / 1e9,
                   static_cast<unsigned long long>(replies),
                   double(replies - std::min(replies, last_replies)));
      last_replies = replies;
      next_progress += int64_t(1e9);
      printed = true;
    }
  }
  for (std::thread& t : threads) t.join();
  const int64_t end = NowNs();
  if (printed) std::fprintf(stderr, "\r%70s\r", "");

  *stats = LoadStats{};
  stats->seconds = double(end - std::max(t0, shared.measure_from_ns)) / 1e9;
  stats->cpu_seconds = SelfCpuSeconds() - cpu0;
  if (plan.server_pid > 0 && server_cpu0 >= 0) {
    stats->server_cpu_seconds =
        ProcessCpuSeconds(plan.server_pid) - server_cpu0;
  }
  bool all_ok = true;
  for (int t = 0; t < plan.threads; ++t) {
    LoadStats& s = loops[size_t(t)]->stats();
    stats->latency.Merge(s.latency);
    stats->ops += s.ops;
    stats->hits += s.hits;
    stats->misses += s.misses;
    stats->stored += s.stored;
    stats->errors += s.errors;
    if (!ok[size_t(t)] && all_ok) {
      *error = loops[size_t(t)]->error();
      all_ok = false;
    }
  }
  return all_ok;
}

}  // namespace ember::bench
