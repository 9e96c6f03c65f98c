// shm/mapping.h: an owned mmap of a file descriptor, and the memfd helpers
// behind the sealed control objects (hints, reader slot pages).
// Thread safety: a Mapping is owned by one object; its pages are shared.
#pragma once

#include <cstdint>
#include <string>
#include <utility>

#include "shm/status.h"

namespace ember::shm {

class Mapping {
 public:
  Mapping() = default;
  Mapping(Mapping&& o) noexcept
      : base_(std::exchange(o.base_, nullptr)),
        size_(std::exchange(o.size_, 0)) {}
  Mapping& operator=(Mapping&& o) noexcept {
    if (this != &o) {
      Reset();
      base_ = std::exchange(o.base_, nullptr);
      size_ = std::exchange(o.size_, 0);
    }
    return *this;
  }
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  ~Mapping() { Reset(); }

  // Maps `bytes` of `fd` shared, read-only or read-write. The fd may be
  // closed afterwards. `huge_aligned`: at a 2 MiB boundary, so huge pages
  // of the file can be mapped whole. kIOError naming `what` on failure.
  static Status Map(int fd, uint64_t bytes, bool writable,
                    const std::string& what, Mapping* out,
                    bool huge_aligned = false);
  void Reset();
  char* base() const { return base_; }
  uint64_t size() const { return size_; }

 private:
  char* base_ = nullptr;
  uint64_t size_ = 0;
};

// A memfd of `bytes` zeroed bytes whose size can change no more (sealed
// against shrinking and growing, and against new seals; writes stay
// allowed), so nobody holding it can make a mapping of it fault.
// Returns the fd or -1 with `*s` set.
int CreateSealedMemfd(const std::string& name, uint64_t bytes, Status* s);
// True when `fd` is sealed against shrinking and growing and
// holds at least `min_bytes`; `*bytes` gets its size.
bool IsSizeSealed(int fd, uint64_t min_bytes, uint64_t* bytes);

}  // namespace ember::shm
