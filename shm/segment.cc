// shm/segment.cc: creating, opening and locking the arena's OS objects.
// Boost.Interprocess exceptions stop here and become Status values.
#include "shm/segment.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>

namespace ember::shm {

ArenaPaths PathsFor(const std::string& name) {
  ArenaPaths p;
  p.data_shm = "ember." + name + ".data";
  p.writer_file = "ember." + name + ".writer";
  p.attach_socket = "ember." + name + ".attach";
  return p;
}

Status ValidateName(const std::string& name) {
  if (name.empty() || name.size() > 64) {
    return Status::InvalidArgument("arena name must be 1-64 characters");
  }
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (!ok) {
      return Status::InvalidArgument("arena name '" + name +
                                     "' may hold only [A-Za-z0-9_-]");
    }
  }
  return Status::Ok();
}

std::string ShmPath(const std::string& shm_name) {
  return "/dev/shm/" + shm_name;
}

namespace {

std::string Errno(int err) { return std::strerror(err); }

// Free bytes of the tmpfs behind shm_open, or UINT64_MAX when unknown.
uint64_t ShmFreeBytes() {
  struct statvfs vfs;
  if (statvfs("/dev/shm", &vfs) != 0) return UINT64_MAX;
  return static_cast<uint64_t>(vfs.f_bavail) * vfs.f_frsize;
}

}  // namespace

Segment::Segment(Segment&& o) noexcept
    : fd_(std::exchange(o.fd_, -1)),
      map_(std::move(o.map_)),
      owner_(o.owner_),
      mode_(o.mode_) {}

Segment& Segment::operator=(Segment&& o) noexcept {
  if (this != &o) {
    map_ = std::move(o.map_);
    if (fd_ >= 0) close(fd_);
    fd_ = std::exchange(o.fd_, -1);
    owner_ = o.owner_;
    mode_ = o.mode_;
  }
  return *this;
}

Segment::~Segment() {
  map_.Reset();
  if (fd_ >= 0) close(fd_);
}

Status Segment::Create(const std::string& shm_name, uint64_t bytes, mode_t mode,
                       Segment* out, HugePages huge) {
  const std::string path = ShmPath(shm_name);
  uint64_t free_bytes = ShmFreeBytes();
  if (bytes > free_bytes) {
    return Status::IOError("/dev/shm has " + std::to_string(free_bytes) +
                           " bytes free but " + path + " needs " +
                           std::to_string(bytes) +
                           "; lower arena_bytes or enlarge /dev/shm");
  }
  const std::string name = "/" + shm_name;
  const int fd = shm_open(
      name.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
  if (fd < 0) {
    const int e = errno;
    if (e == EEXIST) return Status::Busy(path + " already exists");
    return Status::IOError("cannot create " + path + ": " + Errno(e));
  }
  Segment seg;
  seg.fd_ = fd;
  Status s;
  struct stat st;
  // The writer lock first, before the segment is sized or opened to anyone:
  // from here on nobody can take it for a dead writer's and unlink it.
  if (!LockSegmentWriter(fd)) {
    s = Status::Busy(path + " was locked by another writer as it was made");
  } else if (fchmod(fd, mode) != 0 ||
             ftruncate(fd, static_cast<off_t>(bytes)) != 0 ||
             fstat(fd, &st) != 0) {
    s = Status::IOError("cannot size " + path + ": " + Errno(errno));
  }
  if (s.ok()) {
    s = Mapping::Map(fd, bytes, true, path, &seg.map_,
                     /*huge_aligned=*/huge != HugePages::kOff);
  }
  if (s.ok()) {
    madvise(seg.map_.base(), bytes,
            huge == HugePages::kOff ? MADV_NOHUGEPAGE : MADV_HUGEPAGE);
    // Every page now: a full /dev/shm is an error here, not a SIGBUS later.
    // Faulting through the advised mapping (rather than fallocate) lets the
    // kernel hand out huge pages.
    if (madvise(seg.map_.base(), bytes, MADV_POPULATE_WRITE) != 0) {
      const int e = errno;
      const int err = e == EINVAL ? posix_fallocate(fd, 0, bytes) : e;
      if (err != 0) {
        s = Status::IOError("cannot reserve " + std::to_string(bytes) +
                            " bytes for " + path + ": " + Errno(err) +
                            (err == ENOSPC || err == ENOMEM || err == EFAULT
                                 ? " (/dev/shm is full)"
                                 : ""));
      }
    }
  }
  if (s.ok() && huge == HugePages::kOn && HugeMappedBytes(seg.base()) == 0) {
    s = Status::IOError(
        "huge_pages = on, but the kernel gave " + path +
        " no huge pages: set /sys/kernel/mm/transparent_hugepage/"
        "shmem_enabled to advise, or mount /dev/shm with huge=within_size, "
        "or set huge_pages = try");
  }
  if (!s.ok()) {
    RemoveIfSame(shm_name, seg.fd_);
    return s;
  }
  seg.owner_ = st.st_uid;
  seg.mode_ = mode & 07777;
  *out = std::move(seg);
  return Status::Ok();
}

Status Segment::Open(const std::string& shm_name, bool writable,
                     uint64_t min_bytes, Segment* out) {
  const std::string path = ShmPath(shm_name);
  const std::string name = "/" + shm_name;
  const int fd = shm_open(
      name.c_str(), (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC | O_NOFOLLOW, 0);
  if (fd < 0) {
    const int e = errno;
    if (e == ENOENT) {
      return Status::Unavailable(path + " does not exist (no server?)");
    }
    if (e == EACCES)
      return Status::IOError("permission denied opening " + path);
    return Status::IOError("cannot open " + path + ": " + Errno(e));
  }
  Segment seg;
  seg.fd_ = fd;
  struct stat st;
  if (fstat(fd, &st) != 0) {
    return Status::IOError("fstat " + path + ": " + Errno(errno));
  }
  if (!S_ISREG(st.st_mode)) {
    return Status::Corruption(path + " is not a shared-memory object");
  }
  if (st.st_mode & S_IWOTH) {
    return Status::Corruption(path + " is world-writable; refusing it");
  }
  if (static_cast<uint64_t>(st.st_size) < min_bytes) {
    return Status::Corruption(path + " is " + std::to_string(st.st_size) +
                              " bytes, smaller than its header");
  }
  if (st.st_size > 0) {
    EMBER_RETURN_IF_ERROR(
        Mapping::Map(fd, st.st_size, writable, path, &seg.map_));
  }
  seg.owner_ = st.st_uid;
  seg.mode_ = st.st_mode & 07777;
  *out = std::move(seg);
  return Status::Ok();
}

void Segment::Remove(const std::string& shm_name) {
  shm_unlink(("/" + shm_name).c_str());
}

void Segment::RemoveIfSame(const std::string& shm_name, int fd) {
  struct stat mine, named;
  if (fd < 0 || fstat(fd, &mine) != 0 ||
      stat(ShmPath(shm_name).c_str(), &named) != 0 ||
      mine.st_ino != named.st_ino || mine.st_dev != named.st_dev) {
    return;  // the name is another segment's now (or gone): not ours
  }
  shm_unlink(("/" + shm_name).c_str());
}

uint64_t HugeMappedBytes(const void* base) {
  FILE* f = std::fopen("/proc/self/smaps", "re");
  if (f == nullptr) return 0;
  char line[512];
  bool in = false;
  uint64_t kb = 0;
  const auto want = reinterpret_cast<uintptr_t>(base);
  while (std::fgets(line, sizeof(line), f) != nullptr) {
    unsigned long lo = 0, hi = 0;
    if (std::sscanf(line, "%lx-%lx ", &lo, &hi) == 2 &&
        std::strchr(line, '-') && line[0] != ' ') {
      in = lo == want;
      continue;
    }
    unsigned long v = 0;
    if (in && (std::sscanf(line, "ShmemPmdMapped: %lu kB", &v) == 1 ||
               std::sscanf(line, "FilePmdMapped: %lu kB", &v) == 1)) {
      kb += v;
    }
  }
  std::fclose(f);
  return kb * 1024;
}

WriterLock::~WriterLock() {
  if (fd_ >= 0) close(fd_);  // releases the flock
}

Status WriterLock::Acquire(const RunDir& dir, const std::string& name) {
  Status s;
  const int fd = dir.OpenFile(name, O_RDWR | O_CREAT, 0600, &s);
  if (fd < 0) return s;
  const std::string path = dir.PathOf(name);
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    char buf[32] = {0};
    ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
    close(fd);
    if (err == EWOULDBLOCK) {
      return Status::Busy("another writer (pid " +
                          std::string(n > 0 ? buf : "?") + ") holds " + path);
    }
    return Status::IOError("flock " + path + ": " + Errno(err));
  }
  std::string pid = std::to_string(getpid());
  if (ftruncate(fd, 0) != 0 || pwrite(fd, pid.data(), pid.size(), 0) !=
                                   static_cast<ssize_t>(pid.size())) {
    int err = errno;
    close(fd);
    return Status::IOError("cannot write " + path + ": " + Errno(err));
  }
  fd_ = fd;
  return Status::Ok();
}

namespace {
struct flock ByteZero(short type) {
  struct flock fl;
  std::memset(&fl, 0, sizeof(fl));
  fl.l_type = type;
  fl.l_whence = SEEK_SET;
  fl.l_start = 0;
  fl.l_len = 1;
  return fl;
}
}  // namespace

bool LockSegmentWriter(int fd) {
  struct flock fl = ByteZero(F_WRLCK);
  return fcntl(fd, F_OFD_SETLK, &fl) == 0;
}

bool SegmentWriterAlive(int fd) {
  // A read-lock probe conflicts with write locks only: readers' read locks
  // (all a read-only descriptor allows) are not mistaken for a writer.
  struct flock fl = ByteZero(F_RDLCK);
  if (fcntl(fd, F_OFD_GETLK, &fl) != 0) return true;  // unsure: assume live
  return fl.l_type == F_WRLCK;
}

}  // namespace ember::shm
