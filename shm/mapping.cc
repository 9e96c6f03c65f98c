// shm/mapping.cc: mmap ownership and sealed memfds.
#include "shm/mapping.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace ember::shm {

Status Mapping::Map(int fd, uint64_t bytes, bool writable,
                    const std::string& what, Mapping* out) {
  void* p = mmap(nullptr, bytes, writable ? PROT_READ | PROT_WRITE : PROT_READ,
                 MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) {
    return Status::IOError("cannot map " + what + ": " + std::strerror(errno));
  }
  out->Reset();
  out->base_ = static_cast<char*>(p);
  out->size_ = bytes;
  return Status::Ok();
}

void Mapping::Reset() {
  if (base_ != nullptr) munmap(base_, size_);
  base_ = nullptr;
  size_ = 0;
}

int CreateSealedMemfd(const std::string& name, uint64_t bytes, Status* s) {
  const int fd = memfd_create(name.c_str(), MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) {
    *s = Status::IOError("memfd_create " + name + ": " + std::strerror(errno));
    return -1;
  }
  if (ftruncate(fd, static_cast<off_t>(bytes)) != 0 ||
      fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0) {
    *s = Status::IOError("cannot size and seal " + name + ": " +
                         std::strerror(errno));
    close(fd);
    return -1;
  }
  *s = Status::Ok();
  return fd;
}

bool IsSizeSealed(int fd, uint64_t min_bytes, uint64_t* bytes) {
  const int seals = fcntl(fd, F_GET_SEALS);
  if (seals < 0 || (seals & (F_SEAL_SHRINK | F_SEAL_GROW)) !=
                       (F_SEAL_SHRINK | F_SEAL_GROW)) {
    return false;
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || static_cast<uint64_t>(st.st_size) < min_bytes) {
    return false;
  }
  *bytes = static_cast<uint64_t>(st.st_size);
  return true;
}

}  // namespace ember::shm
