// shm/attach.cc: the reader's side of the attach socket.
#include "shm/attach.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace ember::shm {
namespace {

std::string Errno(int e) { return std::strerror(e); }

// Connects to the attach socket of `name` in `dir` and sends `op`. The
// socket is named through /proc/self/fd/<dir fd>, so the directory that was
// checked is the one connected in. Returns the fd or -1 with `*s` set.
int Connect(const RunDir& dir, const std::string& name, AttachOp op,
            Status* s) {
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *s = Status::IOError("socket: " + Errno(errno));
    return -1;
  }
  struct timeval tv = {2, 0};  // a live server answers in microseconds
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  const std::string path = "/proc/self/fd/" + std::to_string(dir.fd()) + "/" +
                           AttachSocketName(name);
  if (path.size() >= sizeof(addr.sun_path)) {
    *s = Status::InvalidArgument("attach socket path too long: " + path);
    close(fd);
    return -1;
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    const int e = errno;
    *s = Status::Unavailable("cannot connect to " +
                             dir.PathOf(AttachSocketName(name)) + ": " +
                             Errno(e) + " (no server?)");
    close(fd);
    return -1;
  }
  struct ucred cred {};
  socklen_t len = sizeof(cred);
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 ||
      cred.uid != dir.owner()) {
    *s = Status::Corruption(dir.PathOf(AttachSocketName(name)) +
                            " is served by uid " + std::to_string(cred.uid) +
                            ", not by run_dir's owner " +
                            std::to_string(dir.owner()));
    close(fd);
    return -1;
  }
  const AttachRequest req{kAttachMagic, kAttachVersion,
                          static_cast<uint32_t>(op), 0};
  if (send(fd, &req, sizeof(req), MSG_NOSIGNAL) != sizeof(req)) {
    *s = Status::Unavailable("attach request failed: " + Errno(errno));
    close(fd);
    return -1;
  }
  *s = Status::Ok();
  return fd;
}

Status CheckReply(const AttachReply& r) {
  if (r.magic != kAttachMagic || r.version != kAttachVersion) {
    return Status::VersionMismatch("the server speaks another attach version");
  }
  if (r.code != static_cast<uint32_t>(Code::kOk)) {
    const std::string m(r.message, strnlen(r.message, sizeof(r.message)));
    return Status::FromCode(r.code <= static_cast<uint32_t>(Code::kRevoked)
                                ? static_cast<Code>(r.code)
                                : Code::kCorruption,
                            m);
  }
  return Status::Ok();
}

}  // namespace

std::string AttachSocketName(const std::string& name) {
  return "ember." + name + ".attach";
}

ClaimedSlot::~ClaimedSlot() {
  for (int fd : {conn, data_fd, hints_fd, slot_fd}) {
    if (fd >= 0) close(fd);
  }
}

Status ClaimSlot(const RunDir& dir, const std::string& name, ClaimedSlot* out) {
  Status s;
  out->conn = Connect(dir, name, AttachOp::kClaimSlot, &s);
  if (out->conn < 0) return s;
  AttachReply reply{};
  iovec iov{&reply, sizeof(reply)};
  alignas(cmsghdr) char control[CMSG_SPACE(3 * sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  const ssize_t n = recvmsg(out->conn, &msg, MSG_CMSG_CLOEXEC | MSG_WAITALL);
  // Only a message that arrived carries descriptors; each one received is
  // owned here (closed by ~ClaimedSlot), the first three in order, any
  // beyond them closed at once.
  std::vector<int> fds;
  if (n > 0) {
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr;
         c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
          c->cmsg_len < CMSG_LEN(0)) {
        continue;
      }
      const size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (size_t i = 0; i < count; ++i) {
        int fd;
        std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
        fds.push_back(fd);
      }
    }
  }
  for (size_t i = 0; i < fds.size(); ++i) {
    if (i == 0)
      out->data_fd = fds[i];
    else if (i == 1)
      out->hints_fd = fds[i];
    else if (i == 2)
      out->slot_fd = fds[i];
    else
      close(fds[i]);
  }
  if (n != static_cast<ssize_t>(sizeof(reply))) {
    return Status::Unavailable("no attach reply from the server");
  }
  EMBER_RETURN_IF_ERROR(CheckReply(reply));
  if ((msg.msg_flags & MSG_CTRUNC) != 0 || out->data_fd < 0 ||
      out->hints_fd < 0 || out->slot_fd < 0) {
    return Status::Corruption("attach reply without its descriptors");
  }
  out->slot_index = reply.slot_index;
  out->generation = reply.generation;
  return Status::Ok();
}

Status ListReaders(const RunDir& dir, const std::string& name,
                   std::vector<ReaderInfo>* out) {
  Status s;
  const int fd = Connect(dir, name, AttachOp::kListReaders, &s);
  if (fd < 0) return s;
  AttachReply reply{};
  if (recv(fd, &reply, sizeof(reply), MSG_WAITALL) != sizeof(reply)) {
    close(fd);
    return Status::Unavailable("no attach reply from the server");
  }
  s = CheckReply(reply);
  if (s.ok() && reply.reader_count > 65536)
    s = Status::Corruption("reader count");
  if (s.ok()) {
    out->resize(reply.reader_count);
    const ssize_t want = out->size() * sizeof(ReaderInfo);
    if (want > 0 && recv(fd, out->data(), want, MSG_WAITALL) != want) {
      s = Status::Unavailable("short reader list");
    }
  }
  close(fd);
  return s;
}

}  // namespace ember::shm
