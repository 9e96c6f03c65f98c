// server/redo_log.cc: segment files, the one-write Append, the everysec
// sync thread and segment deletion.
#include "server/redo_log.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <vector>

#include "server/log_record.h"
#include "shm/clock.h"

namespace ember::server {
namespace {

std::string Errno(const char* what, int err) {
  return std::string(what) + ": " + std::strerror(err);
}

// pwrite of all of `data` at `offset`; false with errno set on failure or a
// short write. *written (if given): the bytes that did reach the file.
bool WriteAll(int fd, std::string_view data, uint64_t offset,
              uint64_t* written = nullptr) {
  uint64_t done = 0;
  bool ok = true;
  while (!data.empty()) {
    const ssize_t n =
        pwrite(fd, data.data(), data.size(), static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (n == 0) errno = EIO;
      ok = false;
      break;
    }
    data.remove_prefix(static_cast<size_t>(n));
    offset += static_cast<uint64_t>(n);
    done += static_cast<uint64_t>(n);
  }
  if (written != nullptr) *written = done;
  return ok;
}

}  // namespace

std::string RedoLog::SegmentName(uint64_t first_lsn) {
  char name[64];
  std::snprintf(name, sizeof(name), "log-%020" PRIu64 ".ember", first_lsn);
  return name;
}

bool RedoLog::ParseSegmentName(std::string_view name, uint64_t* first_lsn) {
  constexpr std::string_view kPrefix = "log-", kSuffix = ".ember";
  if (name.size() != kPrefix.size() + 20 + kSuffix.size() ||
      !name.starts_with(kPrefix) || !name.ends_with(kSuffix)) {
    return false;
  }
  uint64_t v = 0;
  for (char c : name.substr(kPrefix.size(), 20)) {
    if (c < '0' || c > '9') return false;
    const uint64_t d = static_cast<uint64_t>(c - '0');
    if (v > (UINT64_MAX - d) / 10) return false;
    v = v * 10 + d;
  }
  *first_lsn = v;
  return true;
}

shm::Status RedoLog::Open(const Options& options,
                          std::unique_ptr<RedoLog>* out) {
  std::unique_ptr<RedoLog> log(new RedoLog());
  log->options_ = options;
  shm::Status s = shm::RunDir::OpenForServer(options.dir, &log->dir_);
  if (!s.ok())
    return shm::Status::IOError("log_dir " + options.dir + ": " + s.message());
  log->lock_fd_ = log->dir_.OpenFile("LOCK", O_RDWR | O_CREAT, 0640, &s);
  if (log->lock_fd_ < 0) return s;
  if (flock(log->lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    return shm::Status::IOError("log_dir " + options.dir +
                                " is in use by another ember-server (" +
                                std::strerror(errno) + ")");
  }
  *out = std::move(log);
  return shm::Status::Ok();
}

shm::Status RedoLog::Start(uint64_t next_lsn) {
  next_lsn_ = next_lsn;
  EMBER_RETURN_IF_ERROR(StartSegment(next_lsn));
  if (options_.fsync == FsyncMode::kEverySec) {
    syncer_ = std::thread([this] {
      pthread_setname_np(pthread_self(), "ember-logsync");
      SyncLoop();
    });
  }
  return shm::Status::Ok();
}

RedoLog::~RedoLog() {
  {
    MutexLock lock(&mu_);
    stop_ = true;
  }
  cv_.SignalAll();
  if (syncer_.joinable()) syncer_.join();
  if (fd_ >= 0) {
    if (!failed() && options_.fsync != FsyncMode::kNo) fdatasync(fd_);
    close(fd_);
  }
  if (lock_fd_ >= 0) close(lock_fd_);  // drops the flock
}

shm::Status RedoLog::StartSegment(uint64_t first_lsn) {
  const std::string name = SegmentName(first_lsn);
  shm::Status s;
  // O_EXCL: a name already there is a segment recovery did not delete, and
  // is never overwritten.
  const int fd = dir_.OpenFile(name, O_WRONLY | O_CREAT | O_EXCL, 0640, &s);
  if (fd < 0) return s;
  const std::string header = EncodeSegmentHeader(first_lsn);
  std::string why;
  // Preallocated: writes in place need no size change, so fdatasync has no
  // inode size to commit. posix_fallocate fails (ENOSPC) on a full disk.
  int err = posix_fallocate(fd, 0, static_cast<off_t>(options_.segment_bytes));
  if (err != 0) {
    why = Errno("preallocating", err);
  } else if (!WriteAll(fd, header, 0)) {
    why = Errno("writing its header", errno);
  } else if (options_.fsync != FsyncMode::kNo &&
             (fdatasync(fd) != 0 || fsync(dir_.fd()) != 0)) {
    why = Errno("syncing it", errno);
  }
  if (!why.empty()) {
    close(fd);
    dir_.Unlink(name);
    return shm::Status::IOError("cannot start log segment " +
                                dir_.PathOf(name) + ": " + why);
  }
  const int old = fd_;
  {
    MutexLock lock(&mu_);
    fd_ = fd;
    segments_list_.push_back(Segment{name, first_lsn, 0, header.size()});
  }
  if (old >= 0) close(old);
  offset_ = header.size();
  bytes_.fetch_add(header.size(), std::memory_order_relaxed);
  segments_.fetch_add(1, std::memory_order_relaxed);
  return shm::Status::Ok();
}

shm::Status RedoLog::Append(std::string_view records, uint64_t last_lsn) {
  if (failed()) {
    MutexLock lock(&mu_);
    return shm::Status::IOError(
        "the redo log stopped taking writes after " + failure_ +
        "; fix the disk and restart ember-server (reads still work)");
  }
  // A commit that does not fit goes to a new segment, unless the current
  // one is still empty (a commit larger than a segment has one to itself).
  bool empty;
  {
    MutexLock lock(&mu_);
    empty = segments_list_.back().last_lsn == 0;
  }
  if (!empty && offset_ + records.size() > options_.segment_bytes) {
    // The finished segment is synced before the new one takes writes: a
    // sync thread only ever syncs the current one.
    if (options_.fsync != FsyncMode::kNo) {
      if (fdatasync(fd_) != 0) {
        const int err = errno;
        Fail(Errno("fdatasync of a finished log segment", err));
        return shm::Status::IOError(Errno("redo log sync", err));
      }
      // Older segments were synced as they finished.
      synced_lsn_.store(written_lsn_.load(std::memory_order_acquire),
                        std::memory_order_release);
    }
    EMBER_RETURN_IF_ERROR(StartSegment(next_lsn_));
  }
  uint64_t written = 0;
  if (!WriteAll(fd_, records, offset_, &written)) {
    const int err = errno;
    // Nothing is acknowledged. What did reach the file is zeroed (its
    // blocks are allocated: the zeros fit where the bytes went) and synced,
    // so recovery never finds part of a refused commit, and the next
    // Append writes at the same offset. A file grown past its
    // preallocation is cut back. A disk that refused the bytes of a
    // preallocated file for another reason (EIO) is not trusted again.
    const std::string zeros(written, '\0');
    const bool cleaned =
        (written == 0 || WriteAll(fd_, zeros, offset_)) &&
        (offset_ + written <= options_.segment_bytes ||
         ftruncate(fd_, static_cast<off_t>(
                            std::max(offset_, options_.segment_bytes))) == 0) &&
        (options_.fsync == FsyncMode::kNo || written == 0 ||
         fdatasync(fd_) == 0);
    if (!cleaned || (err != ENOSPC && err != EFBIG && err != EDQUOT))
      Fail(Errno("a log write", err));
    return shm::Status::IOError(Errno("redo log write", err));
  }
  written_lsn_.store(last_lsn, std::memory_order_release);
  if (options_.fsync == FsyncMode::kAlways) {
    if (fdatasync(fd_) != 0) {
      const int err = errno;
      Fail(Errno("a log fdatasync", err));
      return shm::Status::IOError(Errno("redo log sync", err));
    }
    syncs_.fetch_add(1, std::memory_order_relaxed);
    synced_lsn_.store(last_lsn, std::memory_order_release);
  }
  offset_ += records.size();
  next_lsn_ = last_lsn + 1;
  bytes_.fetch_add(records.size(), std::memory_order_relaxed);
  MutexLock lock(&mu_);
  Segment& cur = segments_list_.back();
  cur.last_lsn = last_lsn;
  cur.bytes = offset_;
  return shm::Status::Ok();
}

void RedoLog::Release(uint64_t durable_lsn) {
  std::vector<Segment> gone;
  {
    MutexLock lock(&mu_);
    // Never the current segment: it may take more records.
    while (segments_list_.size() > 1 &&
           segments_list_.front().last_lsn <= durable_lsn) {
      gone.push_back(std::move(segments_list_.front()));
      segments_list_.pop_front();
    }
  }
  for (const Segment& seg : gone) {
    dir_.Unlink(seg.name);
    bytes_.fetch_sub(seg.bytes, std::memory_order_relaxed);
    segments_.fetch_sub(1, std::memory_order_relaxed);
  }
}

uint64_t RedoLog::oldest_finished_lsn() const {
  MutexLock lock(&mu_);
  return segments_list_.size() > 1 ? segments_list_.front().last_lsn
                                   : UINT64_MAX;
}

void RedoLog::Fail(const std::string& why) {
  MutexLock lock(&mu_);
  if (failed_.load(std::memory_order_relaxed)) return;  // the first stays
  failure_ = why;
  failed_.store(true, std::memory_order_release);
}

int RedoLog::DupCurrent() {
  MutexLock lock(&mu_);
  return fd_ >= 0 ? fcntl(fd_, F_DUPFD_CLOEXEC, 0) : -1;
}

void RedoLog::SyncLoop() {
  while (true) {
    {
      MutexLock lock(&mu_);
      // A second of shm/clock.h's monotonic clock (a test's ManualClock
      // ends it with an Advance); the real wait only sleeps towards it.
      const uint64_t deadline = shm::NowMonotonicMs() + 1000;
      for (uint64_t now = shm::NowMonotonicMs(); !stop_ && now < deadline;
           now = shm::NowMonotonicMs()) {
        cv_.WaitForMs(&mu_, shm::RealWaitMs(deadline - now));
      }
      if (stop_) return;
    }
    if (failed()) continue;
    // Read before the descriptor: a record written later may be in a
    // newer segment this sync does not cover.
    const uint64_t written = written_lsn_.load(std::memory_order_acquire);
    const int fd = DupCurrent();
    if (fd < 0) continue;
    // Writes to the file before this call are on disk after it, whichever
    // descriptor wrote them; older segments were synced as they finished.
    if (fdatasync(fd) != 0) {
      Fail(Errno("the once-a-second log fdatasync", errno));
    } else {
      syncs_.fetch_add(1, std::memory_order_relaxed);
      uint64_t cur = synced_lsn_.load(std::memory_order_relaxed);
      while (cur < written &&
             !synced_lsn_.compare_exchange_weak(cur, written)) {
      }
    }
    close(fd);
  }
}

}  // namespace ember::server
