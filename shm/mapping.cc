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
                    const std::string& what, Mapping* out, bool huge_aligned) {
  constexpr uint64_t kHuge = 2u << 20;
  void* at = nullptr;
  if (huge_aligned) {
    // Reserve a range with room to align in, then map over its aligned part.
    void* r = mmap(nullptr, bytes + kHuge, PROT_NONE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (r != MAP_FAILED) {
      const auto lo = reinterpret_cast<uintptr_t>(r);
      const uintptr_t aligned = (lo + kHuge - 1) & ~(kHuge - 1);
      if (aligned > lo) munmap(r, aligned - lo);
      munmap(reinterpret_cast<void*>(aligned + bytes),
             lo + bytes + kHuge - aligned - bytes);
      at = reinterpret_cast<void*>(aligned);
    }
  }
  void* p = mmap(at, bytes, writable ? PROT_READ | PROT_WRITE : PROT_READ,
                 MAP_SHARED | (at != nullptr ? MAP_FIXED : 0), fd, 0);
  if (p == MAP_FAILED) {
    const int e = errno;
    if (at != nullptr) munmap(at, bytes);
    return Status::IOError("cannot map " + what + ": " + std::strerror(e));
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
