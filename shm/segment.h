// shm/segment.h: one POSIX shared-memory object, created or opened through
// Boost.Interprocess and mapped whole. Also names every object of an arena.
// Thread safety: a Segment is owned by one object; its mapping is shared.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <boost/interprocess/mapped_region.hpp>
#include <boost/interprocess/shared_memory_object.hpp>
#include <cstdint>
#include <string>

#include "shm/status.h"

namespace ember::shm {

// Names of the objects of arena `name`: shm objects live in /dev/shm, the
// lock files in `run_dir`.
struct ArenaPaths {
  std::string data_shm;      // "ember.<name>.data" (shm_open name)
  std::string ctl_shm;       // "ember.<name>.ctl"
  std::string readers_file;  // "<run_dir>/ember.<name>.readers"
  std::string writer_file;   // "<run_dir>/ember.<name>.writer"
};
ArenaPaths PathsFor(const std::string& name, const std::string& run_dir);

// Instance names are 1-64 of [A-Za-z0-9_-]; anything else kInvalidArgument.
Status ValidateName(const std::string& name);

// Full path of a shm object under /dev/shm, for messages.
std::string ShmPath(const std::string& shm_name);

class Segment {
 public:
  Segment() = default;
  Segment(Segment&&) = default;
  Segment& operator=(Segment&&) = default;

  // Creates `shm_name` exclusively with `mode`, reserves `bytes` of /dev/shm
  // (kIOError naming the shortfall when it lacks room, so a full /dev/shm
  // fails here and never as a SIGBUS later) and maps it read-write, zeroed.
  // kBusy when the object already exists.
  static Status Create(const std::string& shm_name, uint64_t bytes, mode_t mode,
                       Segment* out);
  // Opens an existing object and maps it whole. kUnavailable when absent,
  // kIOError when permission is denied, kCorruption when it is not a regular
  // object, is world-writable, or is smaller than `min_bytes`.
  static Status Open(const std::string& shm_name, bool writable,
                     uint64_t min_bytes, Segment* out);
  // Unlinks `shm_name`; an absent object is not an error.
  static void Remove(const std::string& shm_name);

  char* base() const { return static_cast<char*>(region_.get_address()); }
  uint64_t size() const { return region_.get_size(); }
  uid_t owner() const { return owner_; }
  mode_t mode() const { return mode_; }  // permission bits only
  bool mapped() const { return region_.get_address() != nullptr; }

 private:
  // Maps `shm` whole with `mode` and keeps it; `st` is its fstat.
  void Adopt(boost::interprocess::shared_memory_object shm,
             boost::interprocess::mode_t mode, const struct stat& st);
  boost::interprocess::shared_memory_object shm_;
  boost::interprocess::mapped_region region_;
  uid_t owner_ = 0;
  mode_t mode_ = 0;
};

// Exclusive flock on the writer file: one writer per arena. The pid of the
// holder is written into the file for messages.
class WriterLock {
 public:
  WriterLock() = default;
  WriterLock(const WriterLock&) = delete;
  WriterLock& operator=(const WriterLock&) = delete;
  ~WriterLock();
  // kBusy naming the holder's pid when another process holds it; kIOError
  // when the file cannot be created.
  Status Acquire(const std::string& path);

 private:
  int fd_ = -1;
};

// The readers file: byte i locked (OFD lock, released by the kernel when the
// holder dies or closes) while reader slot i is claimed.
class ReaderLocks {
 public:
  ReaderLocks() = default;
  ReaderLocks(const ReaderLocks&) = delete;
  ReaderLocks& operator=(const ReaderLocks&) = delete;
  ~ReaderLocks();
  // Opens (with `create`, creates mode 0660 and sizes) the file at `path`.
  Status Open(const std::string& path, bool create, uint32_t max_readers);
  // Locks byte `i` for this open file description; false if held elsewhere.
  bool TryLock(uint32_t i);
  void Unlock(uint32_t i);
  // True when another open file description holds byte `i`.
  bool IsHeldElsewhere(uint32_t i) const;

 private:
  int fd_ = -1;
};

}  // namespace ember::shm
