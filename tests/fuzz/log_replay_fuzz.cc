// tests/fuzz/log_replay_fuzz.cc: libFuzzer target for reading the redo log
// at start (ReadLog) over corrupted segments. Each input is split in two
// at its first byte (a cut point): the first part becomes one segment, the
// second the next; each part is written after a valid segment header, and
// half the inputs edit a valid log instead (the input as (offset, byte)
// edits over a log of real commits). ReadLog must never fault, hand on a
// record that does not check, go backwards in LSN, or take damage before
// synced records for a torn tail.
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "server/db_keyspace.h"
#include "server/log_record.h"
#include "server/log_recovery.h"
#include "server/redo_log.h"

namespace {

using namespace ember::server;

struct Dir {
  std::string path;
  Dir() {
    char tmpl[] = "/tmp/ember-fuzz-log-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~Dir() { std::filesystem::remove_all(path); }
};

void WriteFile(const std::string& path, const std::string& bytes) {
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0640);
  if (fd < 0) std::abort();
  if (write(fd, bytes.data(), bytes.size()) !=
      static_cast<ssize_t>(bytes.size()))
    std::abort();
  close(fd);
}

// A log of a few commits of mixed records, as the server writes them.
std::string ValidLog(uint64_t first_lsn) {
  std::string log = EncodeSegmentHeader(first_lsn);
  uint64_t lsn = first_lsn, synced = first_lsn - 1;
  for (int commit = 0; commit < 6; ++commit) {
    for (int i = 0; i <= commit % 3; ++i, ++lsn) {
      const LogKind kind = (lsn % 5 == 0)   ? LogKind::kDelete
                           : (lsn % 7 == 0) ? LogKind::kClear
                           : (lsn % 9 == 0) ? LogKind::kDbMap
                                            : LogKind::kPut;
      if (kind == LogKind::kDbMap) {  // a SWAPDB of 0 and the LSN's db
        DbMap map = IdentityDbMap();
        std::swap(map[0], map[lsn % 256]);
        AppendLogRecord(&log, lsn, synced, kind, 0, "", DbMapBytes(map),
                        i == commit % 3);
        continue;
      }
      AppendLogRecord(&log, lsn, synced, kind, lsn * 10,
                      "key" + std::to_string(lsn), std::string(lsn % 40, 'v'),
                      i == commit % 3);
    }
    synced = lsn - 1;  // fsync=always: every earlier commit
  }
  return log;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Dir dir;
  for (const auto& e : std::filesystem::directory_iterator(dir.path))
    std::filesystem::remove(e.path());
  const std::string in(reinterpret_cast<const char*>(data), size);
  if (!in.empty() && (in[0] & 1)) {
    // Edits over a valid log.
    std::string log = ValidLog(1);
    for (size_t i = 1; i + 2 < in.size(); i += 3) {
      const size_t at =
          (static_cast<uint8_t>(in[i]) << 8 | static_cast<uint8_t>(in[i + 1])) %
          (log.size() + 64);
      if (at >= log.size()) log.resize(at + 1, '\0');
      log[at] = in[i + 2];
    }
    WriteFile(dir.path + "/" + RedoLog::SegmentName(1), log);
  } else {
    const size_t cut =
        in.empty() ? 0 : static_cast<uint8_t>(in[0]) * in.size() / 256;
    const std::string a = in.substr(in.empty() ? 0 : 1, cut),
                      b = in.substr(std::min(in.size(), cut + 1));
    WriteFile(dir.path + "/" + RedoLog::SegmentName(1),
              EncodeSegmentHeader(1) + a);
    if (!b.empty())
      WriteFile(dir.path + "/" + RedoLog::SegmentName(100),
                EncodeSegmentHeader(100) + b);
  }
  uint64_t last = 0;
  LogReadReport report;
  (void)ReadLog(
      dir.path, 0,
      [&](const LogRecord& r) {
        if (r.lsn <= last) std::abort();  // LSNs only increase
        last = r.lsn;
        return ember::shm::Status::Ok();
      },
      &report);
  return 0;
}
