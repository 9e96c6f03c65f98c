// shm/slot_broker.cc: the attach socket's poll loop: accept, claim or list,
// free a slot on hang-up, beat the heartbeat.
#include "shm/slot_broker.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>

#include "shm/attach.h"
#include "shm/clock.h"

namespace ember::shm {
namespace {

// Connections that have not sent their request yet: at most this many in
// all and per uid, for at most this long, so idle sockets cannot use up the
// server's descriptors or keep other users out.
constexpr size_t kMaxPending = 64;
constexpr size_t kMaxPendingPerUid = 8;
constexpr uint64_t kRequestTimeoutMs = 200;
// After accept fails for want of descriptors: stop accepting this long, so
// a full descriptor table does not spin the thread.
constexpr uint64_t kAcceptBackoffMs = 50;

AttachReply Reply(Code code, const std::string& message) {
  AttachReply r{};
  r.magic = kAttachMagic;
  r.version = kAttachVersion;
  r.code = static_cast<uint32_t>(code);
  std::snprintf(r.message, sizeof(r.message), "%s", message.c_str());
  return r;
}

bool SendAll(int fd, const void* p, size_t n) {
  return send(fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT) == static_cast<ssize_t>(n);
}

}  // namespace

Status SlotBroker::Start(const RunDir& dir, const std::string& name,
                         int data_ro_fd, int hints_fd, ArenaHeader* header,
                         ReaderRegistry* registry,
                         std::unique_ptr<SlotBroker>* out) {
  const std::string sock = AttachSocketName(name);
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return Status::IOError("socket: " + std::string(strerror(errno)));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  // Bound through the checked directory's descriptor, not its path.
  const std::string path =
      "/proc/self/fd/" + std::to_string(dir.fd()) + "/" + sock;
  if (path.size() >= sizeof(addr.sun_path)) {
    close(fd);
    return Status::InvalidArgument("attach socket path too long: " + path);
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  dir.Unlink(sock);  // a dead server's socket; the directory is ours
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      !dir.Chmod(sock, 0660) || listen(fd, 64) != 0) {
    const int e = errno;
    close(fd);
    return Status::IOError("cannot listen on " + dir.PathOf(sock) + ": " +
                           strerror(e));
  }
  const int wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake < 0) {
    close(fd);
    return Status::IOError("eventfd: " + std::string(strerror(errno)));
  }
  out->reset(new SlotBroker(dir, sock, fd, wake, data_ro_fd, hints_fd, header,
                            registry));
  (*out)->thread_ = std::thread([b = out->get()] { b->Run(); });
  return Status::Ok();
}

SlotBroker::SlotBroker(const RunDir& dir, std::string socket_name,
                       int listen_fd, int wake_fd, int data_ro_fd, int hints_fd,
                       ArenaHeader* header, ReaderRegistry* registry)
    : dir_(dir),
      socket_name_(std::move(socket_name)),
      listen_fd_(listen_fd),
      wake_fd_(wake_fd),
      data_ro_fd_(data_ro_fd),
      hints_fd_(hints_fd),
      header_(header),
      registry_(registry) {}

SlotBroker::~SlotBroker() {
  const uint64_t one = 1;
  if (write(wake_fd_, &one, sizeof(one)) < 0) {
    // eventfd writes fail only on overflow; the thread wakes anyway.
  }
  if (thread_.joinable()) thread_.join();
  for (auto& c : conns_) Close(c.get());
  dir_.Unlink(socket_name_);
  close(listen_fd_);
  close(wake_fd_);
}

void SlotBroker::Run() {
  std::vector<pollfd> fds;
  for (;;) {
    fds.clear();
    fds.push_back({wake_fd_, POLLIN, 0});
    const bool accepting = NowMonotonicMs() >= accept_after_ms_;
    fds.push_back({accepting ? listen_fd_ : -1, POLLIN, 0});
    for (auto& c : conns_) fds.push_back({c->fd, POLLIN | POLLRDHUP, 0});
    const int n = poll(fds.data(), fds.size(), accepting ? kBeatMs : 10);
    header_->heartbeat_unix_ms.store(NowUnixMs(), std::memory_order_relaxed);
    const uint64_t now = NowMonotonicMs();
    if (n < 0) {
      if (errno != EINTR)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      continue;
    }
    if (fds[0].revents != 0) return;
    // conns_ is in the order of fds[2..]; Accept only appends.
    for (size_t i = 0; i < conns_.size(); ++i) {
      Conn* c = conns_[i].get();
      const short ev = fds[i + 2].revents;
      bool keep = true;
      if (c->holds_slot) {
        // Any event on a held slot's connection is its end: the reader
        // closed it or died (or sent bytes it must not send).
        keep = ev == 0;
      } else if (ev != 0) {
        keep = Serve(c);
      } else if (now - c->accepted_ms > kRequestTimeoutMs) {
        keep = false;
      }
      if (!keep) Close(c);
    }
    conns_.erase(std::remove_if(conns_.begin(), conns_.end(),
                                [](const auto& c) { return c->fd < 0; }),
                 conns_.end());
    if (fds[1].revents != 0) Accept();
  }
}

void SlotBroker::Accept() {
  for (;;) {
    const int fd =
        accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) {
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
          errno == ENOMEM) {
        accept_after_ms_ = NowMonotonicMs() + kAcceptBackoffMs;
      }
      return;
    }
    struct ucred cred {};
    socklen_t len = sizeof(cred);
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
      close(fd);
      continue;
    }
    size_t pending = 0, of_uid = 0;
    for (const auto& c : conns_) {
      if (c->holds_slot || c->fd < 0) continue;
      ++pending;
      if (c->uid == cred.uid) ++of_uid;
    }
    if (of_uid >= kMaxPendingPerUid) {  // this user's own flood: refuse it
      close(fd);
      continue;
    }
    if (pending >= kMaxPending) {  // make room: the longest waiting goes
      for (auto& c : conns_) {
        if (!c->holds_slot && c->fd >= 0) {
          Close(c.get());
          break;
        }
      }
    }
    auto c = std::make_unique<Conn>();
    c->fd = fd;
    c->pid = static_cast<uint32_t>(cred.pid);
    c->uid = cred.uid;
    c->accepted_ms = NowMonotonicMs();
    conns_.push_back(std::move(c));
  }
}

bool SlotBroker::Serve(Conn* c) {
  AttachRequest req{};
  const ssize_t n = recv(c->fd, &req, sizeof(req), MSG_DONTWAIT);
  if (n != sizeof(req)) return false;  // closed, or not our protocol
  if (req.magic != kAttachMagic || req.version != kAttachVersion) {
    const AttachReply r =
        Reply(Code::kVersionMismatch, "attach protocol version differs");
    SendAll(c->fd, &r, sizeof(r));
    return false;
  }
  switch (static_cast<AttachOp>(req.op)) {
    case AttachOp::kClaimSlot:
      return ClaimSlot(c);
    case AttachOp::kListReaders:
      ListReaders(c);
      return false;
  }
  const AttachReply r = Reply(Code::kInvalidArgument, "unknown attach op");
  SendAll(c->fd, &r, sizeof(r));
  return false;
}

bool SlotBroker::ClaimSlot(Conn* c) {
  Status s;
  const int page_fd = CreateSealedMemfd("ember.slot", 4096, &s);
  if (page_fd >= 0)
    s = Mapping::Map(page_fd, 4096, true, "a slot page", &c->page);
  uint32_t index = 0;
  auto* slot = reinterpret_cast<ReaderSlot*>(c->page.base());
  if (s.ok() && !registry_->Add(slot, c->pid, c->uid, false, &index)) {
    s = Status::Busy("all " + std::to_string(header_->geo.max_readers) +
                     " reader slots are taken");
  }
  AttachReply r = Reply(s.code(), s.message());
  if (!s.ok()) {
    if (page_fd >= 0) close(page_fd);
    c->page.Reset();
    SendAll(c->fd, &r, sizeof(r));
    return false;
  }
  r.slot_index = index;
  r.generation = header_->generation.load(std::memory_order_acquire);
  const int fds[3] = {data_ro_fd_, hints_fd_, page_fd};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(fds))] = {};
  iovec iov{&r, sizeof(r)};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  cmsghdr* cm = CMSG_FIRSTHDR(&msg);
  cm->cmsg_level = SOL_SOCKET;
  cm->cmsg_type = SCM_RIGHTS;
  cm->cmsg_len = CMSG_LEN(sizeof(fds));
  std::memcpy(CMSG_DATA(cm), fds, sizeof(fds));
  const bool sent = sendmsg(c->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT) ==
                    static_cast<ssize_t>(sizeof(r));
  close(page_fd);  // the mapping keeps the page; the reader has its copy
  c->holds_slot = true;
  c->slot_index = index;
  return sent;
}

bool SlotBroker::ListReaders(Conn* c) {
  std::vector<ReaderInfo> list;
  registry_->ForEach([&](uint32_t i, const ReaderEntry& e) {
    ReaderInfo info{};
    info.slot_index = i;
    info.pid = e.pid;
    info.uid = e.uid;
    info.revocations = e.slot->revocations.load(std::memory_order_relaxed);
    info.announce = e.slot->announce.load(std::memory_order_relaxed);
    info.internal = e.internal ? 1 : 0;
    list.push_back(info);
  });
  AttachReply r = Reply(Code::kOk, "");
  r.reader_count = static_cast<uint32_t>(list.size());
  // A fresh socket's buffer takes a list of a few hundred readers whole.
  return SendAll(c->fd, &r, sizeof(r)) &&
         (list.empty() ||
          SendAll(c->fd, list.data(), list.size() * sizeof(ReaderInfo)));
}

void SlotBroker::Close(Conn* c) {
  if (c->fd < 0) return;
  if (c->holds_slot) {
    registry_->Remove(c->slot_index);  // the registry lets go of the page
    c->page.Reset();
    c->holds_slot = false;
  }
  close(c->fd);
  c->fd = -1;
}

}  // namespace ember::shm
