// server/log_recovery.h: reading the redo log at start (DESIGN.md
// "Recovery"). Segments are read in LSN order; each record after the
// store's applied_lsn is handed on. Where a record fails its checksum, the
// log ends there if nothing valid follows in the last segment: that is the
// torn tail of a crash (a write that was never acknowledged), dropped and
// reported. Anything else (a bad record with valid ones after it, damage
// in an earlier segment, a missing LSN, a foreign header) stops the start
// with a message naming the segment and the offset.
// Thread safety: a function of its arguments.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "server/log_record.h"
#include "shm/status.h"

namespace ember::server {

struct LogReadReport {
  uint64_t segments = 0;           // segment files found
  uint64_t records = 0;            // records after from_lsn, handed on
  uint64_t skipped = 0;            // records at or before from_lsn
  uint64_t bytes = 0;              // bytes of the records handed on
  uint64_t last_lsn = 0;           // the last valid record's LSN (0: none)
  std::string dropped;             // the torn tail, described; "" when none
  std::vector<std::string> names;  // the segment files, oldest first
};

// Reads every segment in `dir` (a missing directory is an empty log) and
// calls `apply` for each record with LSN > `from_lsn`, in LSN order; stops
// at the first non-kOk `apply` returns, and returns it.
shm::Status ReadLog(const std::string& dir, uint64_t from_lsn,
                    const std::function<shm::Status(const LogRecord&)>& apply,
                    LogReadReport* report);

}  // namespace ember::server

namespace ember::server {

class ColdStore;

struct RecoveryReport {
  LogReadReport log;
  uint64_t applied_lsn_before = 0;  // RocksDB's at open
  uint64_t next_lsn = 1;            // the LSN the new log starts at
  uint64_t ms = 0;                  // wall time of the whole recovery
  // The log no longer holds every record after `observe_after` (they were
  // not observed).
  bool observe_gap = false;
};

// Replays the log in `dir` into `cold` from its applied_lsn (batches with
// the WAL off, each carrying its last LSN), flushes RocksDB, then deletes
// the segments: after kOk, RocksDB alone holds the whole database and the
// new log starts at report->next_lsn. Not kOk (damage, a failing disk):
// nothing is deleted. `observe` (may be empty) sees every record of the
// log after LSN `observe_after` in LSN order, those RocksDB already held
// too (its bytes only during the call); `before_trim` runs after the flush
// and before the segments go (a failure keeps them): the warm restart
// publishes the log's tail into the arena there, so a crash before it is
// done finds the log again. report->log.records counts what was read,
// observed-only records included. In recovery.cc (ReadLog alone needs no
// RocksDB).
shm::Status RecoverColdStore(
    const std::string& dir, ColdStore* cold, RecoveryReport* report,
    uint64_t observe_after = UINT64_MAX,
    const std::function<void(const LogRecord&)>& observe = {},
    const std::function<shm::Status(const RecoveryReport&)>& before_trim = {});

}  // namespace ember::server
