// server/arena_start.cc: the arena at start. A warm restart keeps what a
// killed or stopped server left in /dev/shm (shm/arena_warm.cc checks it
// item by item); here it is reconciled with the redo log before readers
// may use it. DESIGN.md, "Warm restart".
#include <spdlog/spdlog.h>

#include <chrono>

#include "server/server.h"

namespace ember::server {

shm::Status Server::OpenArena(uint64_t store_id, bool warm,
                              const std::string& cold_reason) {
  shm::ArenaOptions o;
  o.name = config_.name;
  o.run_dir = config_.run_dir;
  o.arena_bytes = config_.arena_bytes;
  o.page_bytes = config_.page_bytes;
  o.reader_lease_ms = config_.reader_lease_ms;
  o.huge_pages = config_.huge_pages;
  arena_.reset();  // a rejected warm one first: it holds the segment lock
  EMBER_RETURN_IF_ERROR(
      shm::ArenaWriter::Open(o, store_id, warm, &arena_, &arena_start_));
  if (!cold_reason.empty()) arena_start_.reason = cold_reason;
  if (arena_start_.warm) {
    spdlog::info(
        "arena: warm start: {} items kept, {} dropped ({} in flight, {} "
        "failed a check, {} expired) in {} ms",
        arena_start_.kept, arena_start_.dropped, arena_start_.dropped_pending,
        arena_start_.dropped_damaged,
        arena_start_.dropped - arena_start_.dropped_pending -
            arena_start_.dropped_damaged,
        arena_start_.ms);
  } else {
    spdlog::info("arena: cold start: {}", arena_start_.reason);
  }
  return shm::Status::Ok();
}

shm::Status Server::ReconcileArena(const RecoveryReport& r,
                                   const std::vector<LogRecordCopy>& tail,
                                   bool tail_overflow, uint64_t store_id) {
  const uint64_t log_end = r.next_lsn - 1;
  if (arena_start_.warm) {
    // The arena is published after the log is written, so after a crash
    // it is never ahead of the log. RocksDB may be (a restart that died
    // after its replay): then the log still holds what the arena lacks,
    // and the records after its published LSN were read for it. Anything
    // else means the log is not the one the arena was filled from.
    const uint64_t published = arena_start_.published_lsn;
    std::string why;
    if (published > log_end) {
      why = "the arena holds writes up to LSN " + std::to_string(published) +
            " but the log ends at " + std::to_string(log_end);
    } else if (r.observe_gap) {
      why = "the arena was published up to LSN " + std::to_string(published) +
            " and the log no longer holds the records after it";
    } else if (tail_overflow) {
      why = "the log after the arena's published LSN " +
            std::to_string(published) + " is longer than " +
            std::to_string(kMaxTailBytes >> 20) + " MiB";
    }
    if (!why.empty()) {
      spdlog::warn("arena: not kept: {}", why);
      EMBER_RETURN_IF_ERROR(OpenArena(store_id, false, why));
    } else {
      const auto start = std::chrono::steady_clock::now();
      uint64_t dropped = 0;
      for (const LogRecordCopy& rec : tail) {
        if (rec.kind == LogKind::kDbMap) continue;  // the header's, at start
        if (rec.kind == LogKind::kClear) {
          arena_->Clear();
        } else if (rec.kind == LogKind::kDelete ||
                   rec.value.size() > config_.max_value_bytes_hot) {
          arena_->Delete(rec.key);
        } else if (!arena_->Put(rec.key, rec.value, rec.expiry_ms).ok()) {
          ++dropped;  // not cached; Put removed any older value
        }
      }
      arena_start_.ms += static_cast<uint64_t>(
          std::chrono::duration_cast<std::chrono::milliseconds>(
              std::chrono::steady_clock::now() - start)
              .count());
      if (!tail.empty()) {
        spdlog::info(
            "arena: published the log's {} records after LSN {} ({} not "
            "cached)",
            tail.size(), published, dropped);
      }
    }
  }
  arena_->SetPublishedLsn(log_end);
  return shm::Status::Ok();
}

}  // namespace ember::server
