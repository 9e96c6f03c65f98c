// shm/segment.h: one POSIX shared-memory object (shm_open), created or
// opened and mapped whole. Also names every object of an arena.
// Thread safety: a Segment is owned by one object; its mapping is shared.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <cstdint>
#include <string>

#include "shm/arena_options.h"
#include "shm/mapping.h"
#include "shm/run_dir.h"
#include "shm/status.h"

namespace ember::shm {

// Names of the objects of arena `name`: the data segment lives in /dev/shm,
// the writer lock file and the attach socket in `run_dir`.
struct ArenaPaths {
  std::string data_shm;       // "ember.<name>.data" (shm_open name)
  std::string writer_file;    // "ember.<name>.writer", inside run_dir
  std::string attach_socket;  // "ember.<name>.attach", inside run_dir
};
ArenaPaths PathsFor(const std::string& name);

// Instance names are 1-64 of [A-Za-z0-9_-]; anything else kInvalidArgument.
Status ValidateName(const std::string& name);

// Full path of a shm object under /dev/shm, for messages.
std::string ShmPath(const std::string& shm_name);

class Segment {
 public:
  Segment() = default;
  Segment(Segment&& o) noexcept;
  Segment& operator=(Segment&& o) noexcept;
  Segment(const Segment&) = delete;
  Segment& operator=(const Segment&) = delete;
  ~Segment();

  // Creates `shm_name` exclusively with `mode` and takes its writer lock
  // (LockSegmentWriter, held while this Segment lives), maps it read-write,
  // zeroed, and faults in every page now (kIOError naming the shortfall when
  // /dev/shm lacks room, so a full /dev/shm fails here and never as a
  // SIGBUS later). `huge`: kTry asks for huge pages (madvise) and takes
  // what comes; kOn also fails (kIOError) when none came; kOff asks for
  // none. kBusy when the object already exists.
  static Status Create(const std::string& shm_name, uint64_t bytes, mode_t mode,
                       Segment* out, HugePages huge = HugePages::kOff);
  // Opens an existing object and maps it whole. kUnavailable when absent,
  // kIOError when permission is denied, kCorruption when it is not a regular
  // object, is world-writable, or is smaller than `min_bytes`.
  static Status Open(const std::string& shm_name, bool writable,
                     uint64_t min_bytes, Segment* out);
  // Unlinks `shm_name`; an absent object is not an error.
  static void Remove(const std::string& shm_name);
  // Unlinks `shm_name` only while it still names the object behind `fd`
  // (another writer may have replaced it since).
  static void RemoveIfSame(const std::string& shm_name, int fd);

  char* base() const { return map_.base(); }
  uint64_t size() const { return map_.size(); }
  uid_t owner() const { return owner_; }
  mode_t mode() const { return mode_; }  // permission bits only
  bool mapped() const { return map_.base() != nullptr; }
  int fd() const { return fd_; }

 private:
  int fd_ = -1;
  Mapping map_;
  uid_t owner_ = 0;
  mode_t mode_ = 0;
};

// Bytes of the mapping at `base` that are mapped with huge pages (from
// /proc/self/smaps; 0 when unknown).
uint64_t HugeMappedBytes(const void* base);

// Exclusive flock on the writer file in the run directory: one writer per
// arena and run_dir. The pid of the holder is written into the file for
// messages.
class WriterLock {
 public:
  WriterLock() = default;
  WriterLock(const WriterLock&) = delete;
  WriterLock& operator=(const WriterLock&) = delete;
  ~WriterLock();
  // kBusy naming the holder's pid when another process holds it; kIOError
  // when the file cannot be created or is not a regular file of ours.
  Status Acquire(const RunDir& dir, const std::string& name);

 private:
  int fd_ = -1;
};

// Writer liveness, per segment and whatever the run_dir: a live writer holds
// an OFD write lock on byte 0 of its data segment. Readers' descriptors are
// read-only and can take read locks only, so no reader can fake it, and the
// kernel drops it the moment the writer dies (before the process is reaped,
// unlike its pid). Lock: false when another holds it.
bool LockSegmentWriter(int fd);
bool SegmentWriterAlive(int fd);

}  // namespace ember::shm
