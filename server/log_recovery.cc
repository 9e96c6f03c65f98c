// server/log_recovery.cc: segment listing, record walking, telling a torn
// tail from damage.
#include "server/log_recovery.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "server/redo_log.h"

namespace ember::server {
namespace {

// The whole file, read through O_NOFOLLOW.
shm::Status ReadFile(const std::string& path, std::string* out) {
  const int fd = open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    return shm::Status::IOError("cannot open log segment " + path + ": " +
                                std::strerror(errno));
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return shm::Status::IOError("log segment " + path +
                                " is not a regular file");
  }
  out->resize(static_cast<size_t>(st.st_size));
  size_t got = 0;
  while (got < out->size()) {
    const ssize_t n = pread(fd, out->data() + got, out->size() - got,
                            static_cast<off_t>(got));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = n < 0 ? errno : EIO;
      close(fd);
      return shm::Status::IOError("cannot read log segment " + path + ": " +
                                  std::strerror(err));
    }
    got += static_cast<size_t>(n);
  }
  close(fd);
  return shm::Status::Ok();
}

bool AllZero(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c == 0; });
}

// The valid records after `from` whose LSN is at least `min_lsn`: the
// offset of the first (npos: none), and the largest synced_lsn any of them
// carries. Only a damaged log pays for this walk.
struct After {
  size_t first = std::string_view::npos;
  uint64_t count = 0;
  uint64_t max_synced = 0;
};
After ValidAfter(std::string_view data, size_t from, uint64_t min_lsn) {
  After a;
  for (size_t p = from + 1;
       p + kRecordHeaderBytes + kPayloadFixedBytes <= data.size(); ++p) {
    LogRecord rec;
    size_t used = 0;
    if (DecodeLogRecord(data.substr(p), &rec, &used) == DecodeResult::kOk &&
        rec.lsn >= min_lsn) {
      if (a.first == std::string_view::npos) a.first = p;
      ++a.count;
      a.max_synced = std::max(a.max_synced, rec.synced_lsn);
      p += used - 1;
    }
  }
  return a;
}

}  // namespace

shm::Status ReadLog(const std::string& dir, uint64_t from_lsn,
                    const std::function<shm::Status(const LogRecord&)>& apply,
                    LogReadReport* report) {
  *report = LogReadReport();
  std::vector<std::pair<uint64_t, std::string>> found;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d)) {
      uint64_t first = 0;
      if (RedoLog::ParseSegmentName(e->d_name, &first))
        found.emplace_back(first, e->d_name);
    }
    closedir(d);
  } else if (errno != ENOENT) {
    return shm::Status::IOError("cannot list log_dir " + dir + ": " +
                                std::strerror(errno));
  }
  std::sort(found.begin(), found.end());
  report->segments = found.size();
  uint64_t expected = 0;  // the next LSN; 0 before the first segment
  std::string data;
  for (size_t i = 0; i < found.size(); ++i) {
    const auto& [first_lsn, name] = found[i];
    report->names.push_back(name);
    const std::string path = dir + "/" + name;
    const bool last = i + 1 == found.size();
    EMBER_RETURN_IF_ERROR(ReadFile(path, &data));
    uint64_t header_lsn = 0;
    uint32_t version = 0;
    if (!DecodeSegmentHeader(data, &header_lsn, &version) ||
        header_lsn != first_lsn) {
      if (version == 1) {
        return shm::Status::Corruption(
            "log segment " + path +
            ": written by an Ember before databases (log version 1, bare "
            "keys); stop that version gracefully (SIGTERM applies and "
            "deletes its log), then start this one");
      }
      // A crash while a segment was being created leaves it without its
      // header: nothing in it was ever acknowledged.
      if (last && AllZero(data)) {
        report->dropped = path + ": a segment without its header (" +
                          std::to_string(data.size()) + " zero bytes)";
        break;
      }
      return shm::Status::Corruption(
          "log segment " + path +
          ": not an Ember log segment (version 2 or 3) for its name (bad "
          "header)");
    }
    // Segments wholly covered by RocksDB may be gone before this one; a
    // gap above from_lsn loses records.
    if (expected != 0 && first_lsn != expected &&
        !(first_lsn > expected && first_lsn - 1 <= from_lsn)) {
      return shm::Status::Corruption(
          "log segment " + path + " starts at LSN " +
          std::to_string(first_lsn) + " but the one before ends at " +
          std::to_string(expected - 1) + ": a segment is missing");
    }
    if (expected == 0 && first_lsn > from_lsn + 1) {
      return shm::Status::Corruption(
          "log segment " + path + " starts at LSN " +
          std::to_string(first_lsn) + " but RocksDB holds only up to " +
          std::to_string(from_lsn) + ": the segments between are missing");
    }
    expected = first_lsn;
    std::string_view rest(data);
    size_t off = kSegmentHeaderBytes;
    // The records of the commit being read, handed on at its last record:
    // a commit is applied whole or not at all. (A commit never spans two
    // segments: it is one write into one.)
    std::vector<std::pair<LogRecord, size_t>> commit;
    size_t commit_off = off;  // where `commit` starts
    while (true) {
      LogRecord rec;
      size_t used = 0;
      DecodeResult r = DecodeLogRecord(rest.substr(off), &rec, &used);
      if (r == DecodeResult::kOk && rec.lsn != expected) r = DecodeResult::kBad;
      if (r == DecodeResult::kOk) {
        if (commit.empty()) commit_off = off;
        commit.emplace_back(rec, used);
        ++expected;
        off += used;
        if (!rec.commit_end) continue;
        for (const auto& [c, bytes] : commit) {
          if (c.lsn > from_lsn) {
            EMBER_RETURN_IF_ERROR(apply(c));
            ++report->records;
            report->bytes += bytes;
          } else {
            ++report->skipped;
          }
          report->last_lsn = c.lsn;
        }
        commit.clear();
        continue;
      }
      // What follows is not a record: a commit in progress never ended, and
      // the damage (or the tail) starts with it.
      if (!commit.empty()) {
        expected = commit.front().first.lsn;
        off = commit_off;
        commit.clear();
        r = DecodeResult::kBad;
      }
      // The end of what was written, or a record that does not check.
      if (r == DecodeResult::kEnd && AllZero(rest.substr(off))) break;
      const std::string where = "log segment " + path +
                                " is damaged at offset " + std::to_string(off) +
                                " (the record for LSN " +
                                std::to_string(expected) + ")";
      if (!last) {
        return shm::Status::Corruption(
            where +
            " and is not the last segment: ember-server will not start "
            "without the records after it (move the segment away to start "
            "without them)");
      }
      // Valid records after the damage are a torn tail too as long as none
      // of them says the damaged one had reached the disk: the pages of
      // unsynced writes reach it in any order after a power cut.
      const After after = ValidAfter(rest, off, expected);
      if (after.max_synced >= expected) {
        return shm::Status::Corruption(
            where + ", and valid records follow at offset " +
            std::to_string(after.first) +
            " that were written after it was on disk: not a torn tail; "
            "ember-server will not start without them (move the segment "
            "away to start without its records from that offset on)");
      }
      report->dropped = path + ": a torn record at offset " +
                        std::to_string(off) + " (LSN " +
                        std::to_string(expected) + ", never synced)";
      if (after.count > 0) {
        report->dropped.append(" and ").append(std::to_string(after.count)) +=
            " unsynced records after it";
      }
      break;
    }
    if (!report->dropped.empty()) break;
  }
  return shm::Status::Ok();
}

}  // namespace ember::server
