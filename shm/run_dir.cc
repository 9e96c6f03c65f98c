// shm/run_dir.cc: creating and checking the run directory, and the
// descriptor-relative file operations every file in it goes through.
#include "shm/run_dir.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace ember::shm {
namespace {

std::string Errno(int e) { return std::strerror(e); }

std::string Octal(mode_t m) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "%04o", static_cast<unsigned>(m & 07777));
  return buf;
}

// mkdir -p: parents with 0755, the last component with `mode`. Existing
// components are left as they are (the checks happen on open).
Status MakeDirs(const std::string& path, mode_t mode) {
  for (size_t i = 1; i <= path.size(); ++i) {
    if (i < path.size() && path[i] != '/') continue;
    const std::string part = path.substr(0, i);
    const bool last = i == path.size();
    if (mkdir(part.c_str(), last ? mode : 0755) != 0 && errno != EEXIST) {
      return Status::IOError("cannot create run_dir " + part + ": " +
                             Errno(errno));
    }
  }
  return Status::Ok();
}

}  // namespace

RunDir::RunDir(RunDir&& o) noexcept
    : path_(std::move(o.path_)),
      fd_(std::exchange(o.fd_, -1)),
      owner_(o.owner_) {}

RunDir& RunDir::operator=(RunDir&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) close(fd_);
    path_ = std::move(o.path_);
    fd_ = std::exchange(o.fd_, -1);
    owner_ = o.owner_;
  }
  return *this;
}

RunDir::~RunDir() {
  if (fd_ >= 0) close(fd_);
}

Status RunDir::Open(const std::string& path, bool must_own, RunDir* out) {
  std::string p = path;
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  if (p.empty()) return Status::InvalidArgument("run_dir is empty");
  const int fd =
      open(p.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    const int e = errno;
    if (e == ENOENT)
      return Status::Unavailable("run_dir " + p + " does not exist");
    if (e == ELOOP || e == ENOTDIR) {
      return Status::IOError("run_dir " + p +
                             " is a symlink or not a directory; refusing it");
    }
    return Status::IOError("cannot open run_dir " + p + ": " + Errno(e));
  }
  struct stat st;
  if (fstat(fd, &st) != 0) {
    const int e = errno;
    close(fd);
    return Status::IOError("fstat run_dir " + p + ": " + Errno(e));
  }
  Status bad;
  constexpr mode_t forbidden = 027;  // group write, any access for others
  if (must_own && st.st_uid != geteuid()) {
    bad = Status::IOError("run_dir " + p + " is owned by uid " +
                          std::to_string(st.st_uid) + ", not by this uid " +
                          std::to_string(geteuid()) +
                          "; remove it or choose another run_dir");
  } else if ((st.st_mode & forbidden) != 0) {
    const char* who = (st.st_mode & 02) != 0    ? "other users change"
                      : (st.st_mode & 020) != 0 ? "its group change"
                                                : "other users enter";
    bad = Status::IOError("run_dir " + p + " has mode " + Octal(st.st_mode) +
                          ", which lets " + who +
                          " it; chmod it to 0750 or remove it");
  }
  if (!bad.ok()) {
    close(fd);
    return bad;
  }
  *out = RunDir();
  out->path_ = p;
  out->fd_ = fd;
  out->owner_ = st.st_uid;
  return Status::Ok();
}

Status RunDir::OpenForServer(const std::string& path, RunDir* out) {
  Status s = Open(path, /*must_own=*/true, out);
  if (s.code() != Code::kUnavailable) return s;
  EMBER_RETURN_IF_ERROR(MakeDirs(path, 0750));
  return Open(path, /*must_own=*/true, out);
}

Status RunDir::OpenExisting(const std::string& path, RunDir* out) {
  return Open(path, /*must_own=*/true, out);
}

Status RunDir::OpenForReader(const std::string& path, RunDir* out) {
  return Open(path, /*must_own=*/false, out);
}

int RunDir::OpenFile(const std::string& name, int flags, mode_t mode,
                     Status* s) const {
  const int fd =
      openat(fd_, name.c_str(), flags | O_NOFOLLOW | O_CLOEXEC, mode);
  if (fd < 0) {
    const int e = errno;
    *s = e == ELOOP
             ? Status::IOError(PathOf(name) + " is a symlink; refusing it")
             : Status::IOError("cannot open " + PathOf(name) + ": " + Errno(e));
    return -1;
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid()) {
    close(fd);
    *s = Status::IOError(PathOf(name) +
                         " is not a regular file of this uid; refusing it");
    return -1;
  }
  *s = Status::Ok();
  return fd;
}

void RunDir::Unlink(const std::string& name) const {
  unlinkat(fd_, name.c_str(), 0);
}

bool RunDir::Chmod(const std::string& name, mode_t mode) const {
  return fchmodat(fd_, name.c_str(), mode, 0) == 0;
}

}  // namespace ember::shm
