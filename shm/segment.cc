// shm/segment.cc: creating, opening and locking the arena's OS objects.
// Boost.Interprocess exceptions stop here and become Status values.
#include "shm/segment.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace ember::shm {
namespace bip = boost::interprocess;

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

void Segment::Adopt(bip::shared_memory_object shm, bip::mode_t mode,
                    const struct stat& st) {
  region_ = bip::mapped_region(shm, mode);  // maps the whole object
  shm_ = std::move(shm);
  owner_ = st.st_uid;
  mode_ = st.st_mode & 07777;
}

Status Segment::Create(const std::string& shm_name, uint64_t bytes, mode_t mode,
                       Segment* out) {
  const std::string path = ShmPath(shm_name);
  uint64_t free_bytes = ShmFreeBytes();
  if (bytes > free_bytes) {
    return Status::IOError("/dev/shm has " + std::to_string(free_bytes) +
                           " bytes free but " + path + " needs " +
                           std::to_string(bytes) +
                           "; lower arena_bytes or enlarge /dev/shm");
  }
  try {
    bip::permissions perm(mode);
    bip::shared_memory_object shm(bip::create_only, shm_name.c_str(),
                                  bip::read_write, perm);
    int fd = shm.get_mapping_handle().handle;
    int err = posix_fallocate(fd, 0, static_cast<off_t>(bytes));
    if (err != 0) {
      bip::shared_memory_object::remove(shm_name.c_str());
      return Status::IOError("cannot reserve " + std::to_string(bytes) +
                             " bytes for " + path + ": " + Errno(err) +
                             (err == ENOSPC ? " (/dev/shm is full)" : ""));
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
      int e = errno;
      bip::shared_memory_object::remove(shm_name.c_str());
      return Status::IOError("fstat " + path + ": " + Errno(e));
    }
    out->Adopt(std::move(shm), bip::read_write, st);
    return Status::Ok();
  } catch (const bip::interprocess_exception& e) {
    if (e.get_error_code() == bip::already_exists_error) {
      return Status::Busy(path + " already exists");
    }
    bip::shared_memory_object::remove(shm_name.c_str());
    return Status::IOError("cannot create " + path + ": " + e.what());
  }
}

Status Segment::Open(const std::string& shm_name, bool writable,
                     uint64_t min_bytes, Segment* out) {
  const std::string path = ShmPath(shm_name);
  try {
    bip::shared_memory_object shm(bip::open_only, shm_name.c_str(),
                                  writable ? bip::read_write : bip::read_only);
    struct stat st;
    if (fstat(shm.get_mapping_handle().handle, &st) != 0) {
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
    out->Adopt(std::move(shm), writable ? bip::read_write : bip::read_only, st);
    return Status::Ok();
  } catch (const bip::interprocess_exception& e) {
    if (e.get_error_code() == bip::not_found_error) {
      return Status::Unavailable(path + " does not exist (no server?)");
    }
    if (e.get_error_code() == bip::security_error) {
      return Status::IOError("permission denied opening " + path);
    }
    return Status::IOError("cannot open " + path + ": " + e.what());
  }
}

void Segment::Remove(const std::string& shm_name) {
  bip::shared_memory_object::remove(shm_name.c_str());
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
