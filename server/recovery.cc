// server/recovery.cc: replaying the redo log into RocksDB at start
// (RecoverColdStore in log_recovery.h; reading the log is log_recovery.cc).
#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <optional>

#include "server/cold_store.h"
#include "server/dirty_table.h"
#include "server/log_recovery.h"
#include "server/redo_log.h"

namespace ember::server {

shm::Status RecoverColdStore(
    const std::string& dir, ColdStore* cold, RecoveryReport* report,
    uint64_t observe_after,
    const std::function<void(const LogRecord&)>& observe,
    const std::function<shm::Status(const RecoveryReport&)>& before_trim) {
  const auto start = std::chrono::steady_clock::now();
  *report = RecoveryReport();
  report->applied_lsn_before = cold->applied_lsn();
  // Records are copied into a batch of their final states: the segment's
  // bytes are reused for the next one.
  std::vector<std::pair<std::string, DirtyEntry>> pending;
  std::vector<ColdOp> ops;
  bool clear_first = false;
  std::optional<DbMap> db_map;  // the newest SWAPDB's in this batch
  uint64_t pending_bytes = 0, last = 0;
  auto flush_batch = [&]() -> shm::Status {
    if (pending.empty() && !clear_first && !db_map) return shm::Status::Ok();
    ops.clear();
    for (const auto& [k, e] : pending)
      ops.push_back(ColdOp{k, e.value, e.expiry_ms, e.deleted});
    EMBER_RETURN_IF_ERROR(
        cold->Apply(ops, clear_first, last, db_map ? &*db_map : nullptr));
    pending.clear();
    clear_first = false;
    db_map.reset();
    pending_bytes = 0;
    return shm::Status::Ok();
  };
  // From the older of the two: records RocksDB already holds are only
  // observed, when the log still has them all.
  const uint64_t applied = report->applied_lsn_before;
  uint64_t from = applied;
  if (observe && observe_after < applied) {
    uint64_t first = UINT64_MAX;
    if (DIR* d = opendir(dir.c_str())) {
      while (dirent* e = readdir(d)) {
        uint64_t lsn = 0;
        if (RedoLog::ParseSegmentName(e->d_name, &lsn))
          first = std::min(first, lsn);
      }
      closedir(d);
    }
    if (first <= observe_after + 1) {
      from = observe_after;
    } else {
      report->observe_gap = true;
      observe_after = UINT64_MAX;
    }
  }
  shm::Status s = ReadLog(
      dir, from,
      [&](const LogRecord& r) -> shm::Status {
        if (observe && r.lsn > observe_after) observe(r);
        if (r.lsn <= applied) return shm::Status::Ok();
        if (r.kind == LogKind::kClear) {
          // Everything before it in this batch is moot (the map is not).
          pending.clear();
          clear_first = true;
        } else if (r.kind == LogKind::kDbMap) {
          db_map.emplace();
          ParseDbMap(r.value, &*db_map);  // checked by DecodeLogRecord
        } else {
          pending.emplace_back(
              std::string(r.key),
              DirtyEntry{std::string(r.kind == LogKind::kPut ? r.value : ""),
                         r.expiry_ms,
                         r.kind == LogKind::kDelete,
                         {}});
          pending_bytes += r.key.size() + r.value.size();
        }
        last = r.lsn;
        if (pending_bytes >= (16 << 20) || pending.size() >= 65536)
          return flush_batch();
        return shm::Status::Ok();
      },
      &report->log);
  if (s.ok()) s = flush_batch();
  if (s.ok() && report->log.records > 0) s = cold->Flush();
  if (!s.ok()) return s;
  report->next_lsn =
      std::max(report->applied_lsn_before, report->log.last_lsn) + 1;
  if (before_trim) EMBER_RETURN_IF_ERROR(before_trim(*report));
  for (const std::string& name : report->log.names)
    unlink((dir + "/" + name).c_str());
  report->ms = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::steady_clock::now() - start)
          .count());
  return shm::Status::Ok();
}

}  // namespace ember::server
