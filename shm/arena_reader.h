// shm/arena_reader.h: finds keys in a server's arena with no system call and
// no copy. Claims one reader slot over the attach socket (shm/attach.h) and
// maps the data segment read-only.
// Thread safety: one thread at a time per ArenaReader; give each thread its
// own (they share nothing but the mappings' pages).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "shm/arena_format.h"
#include "shm/mapping.h"
#include "shm/reader_registry.h"
#include "shm/status.h"

namespace ember::shm {

class ReadGuard;
struct Probe;

class ArenaReader {
 public:
  // Checks `run_dir` (a directory only its owner can change), claims a
  // reader slot from the server of arena `name` listening in it (which must
  // be run_dir's owner), and maps what it hands over. kUnavailable: no
  // server, or the arena is not kActive. kVersionMismatch: another layout or
  // build. kCorruption: a header, geometry or descriptor that does not fit.
  // kBusy: every slot is taken. kIOError: run_dir is open to others.
  // `server_uid` >= 0: also refuse (kIOError) a run_dir that uid does not
  // own, so a directory someone else made first is never trusted.
  static Status Open(const std::string& name, const std::string& run_dir,
                     std::unique_ptr<ArenaReader>* out,
                     int64_t server_uid = -1);
  // Same, for a thread of the writer's own process: reads through the
  // writer's mapping, with a slot in private memory that no client can
  // write. kBusy: every slot is taken. REQUIRES: `writer` outlives this.
  static Status Attach(class ArenaWriter& writer,
                       std::unique_ptr<ArenaReader>* out);
  ~ArenaReader();  // releases the slot
  ArenaReader(const ArenaReader&) = delete;
  ArenaReader& operator=(const ArenaReader&) = delete;

  // Copies the value of `key` into `*value` (one guard per call). kOk, or
  // kNotFound when absent or expired; a miss here is never a final answer:
  // ask the server, which also looks in the cold tier.
  Status Get(std::string_view key, std::string* value);

  // In a child after fork(): forgets the slot without touching it (it, and
  // the connection that holds it, stay the parent's). Destroying this
  // reader then only unmaps and closes the child's copies. No guard may be
  // used after this.
  void Abandon() {
    slot_ = nullptr;
    registry_ = nullptr;
  }

  const ArenaHeader& header() const { return *header_; }
  uint32_t slot_index() const { return slot_index_; }
  // True when guards announce with a plain store (see shm/barrier.h).
  bool plain_announce() const { return plain_announce_; }
  // False once the writer marked the arena kRetired or kClean, or another
  // writer took it over (a warm restart bumped the generation): reopen.
  bool active() const {
    return header_->state.load(std::memory_order_acquire) ==
               static_cast<uint32_t>(ArenaState::kActive) &&
           header_->generation.load(std::memory_order_relaxed) == generation_;
  }
  // The generation this reader attached to.
  uint32_t generation() const { return generation_; }
  // The first key byte of database `db`'s items (ArenaHeader::db_map, as
  // the writer last published it), with the map's seq in *seq: a lookup
  // under that byte answers for database `db` only if DbMapSeq() still
  // returns *seq after it (else a SWAPDB came between: retry or ask the
  // server).
  uint8_t PhysicalDb(uint8_t db, uint64_t* seq) const {
    return CurrentDbMap(*header_, seq)[db].load(std::memory_order_acquire);
  }
  uint64_t DbMapSeq() const {
    return header_->db_map_seq.load(std::memory_order_acquire);
  }

 private:
  friend class ReadGuard;
  ArenaReader() = default;
  // Validates the mapped data segment and hints; `slot` is claimed.
  Status Init(const std::string& what, const char* data, uint64_t data_size,
              char* hints, uint64_t hints_size, ReaderSlot* slot);
  // Looks `key` up; REQUIRES a guard is announced.
  bool Find(std::string_view key, const Probe& p, uint64_t* now_ms,
            std::string_view* value) const;
  bool Match(uint64_t slot, std::string_view key, uint64_t* now_ms,
             std::string_view* value) const;

  // Open(): the mappings and the connection that holds the slot.
  Mapping data_map_, hints_map_, slot_map_;
  int conn_ = -1;
  // Attach(): the private slot and the registry it is in.
  std::unique_ptr<ReaderSlot> own_slot_;
  ReaderRegistry* registry_ = nullptr;
  const ArenaHeader* header_ = nullptr;
  const char* base_ = nullptr;
  const Bucket* buckets_ = nullptr;
  std::atomic<uint8_t>* hints_ = nullptr;
  ReaderSlot* slot_ = nullptr;
  uint64_t seed_ = 0;
  uint64_t bucket_count_ = 0;
  uint64_t data_offset_ = 0;
  uint64_t data_end_ = 0;
  uint32_t slot_index_ = 0;
  // The writer this reader's slot belongs to. A restarted writer (warm
  // restart) bumps the header's generation: it cannot see this slot, so
  // guards stop at once and a guard held across the takeover is revoked.
  uint32_t generation_ = 0;
  bool plain_announce_ = false;  // BarrierMode::kMembarrier and registered
  static constexpr uint32_t kHintSample = 8;  // a power of two
  mutable uint32_t hint_clock_ = 0;  // hits so far; picks the sampled ones
};

// An announced read: values found through it point into the arena and stay
// valid (unchanged) until Release() or destruction. Zero-copy bytes are for
// reading now: copy anything to be kept. Hold a guard briefly; one held past
// the lease while memory is short is revoked, and Release says so.
class ReadGuard {
 public:
  // Announces the current epoch in the reader's slot. Check status():
  // kUnavailable when the arena is not kActive or belongs to another writer
  // generation than the reader's (use the socket; reopen).
  explicit ReadGuard(ArenaReader* reader);
  // A guard that holds nothing until Renew(): one guard object can serve a
  // thread's reads one after another (LocalClient keeps one per thread).
  struct Deferred {};
  ReadGuard(ArenaReader* reader, Deferred) : reader_(reader) {}
  ~ReadGuard() { Release(); }
  // Announces again, as constructing a new guard does; false (and
  // status() says why) when the arena is not kActive. REQUIRES: not held.
  bool Renew();
  ReadGuard(const ReadGuard&) = delete;
  ReadGuard& operator=(const ReadGuard&) = delete;

  const Status& status() const { return status_; }
  // kOk with `*value` pointing into shared memory, or kNotFound (absent,
  // expired, or an index slot that failed validation).
  Status Get(std::string_view key, std::string_view* value);
  // The same, also giving the item's expiry (Unix ms, 0 = none).
  Status Get(std::string_view key, std::string_view* value,
             uint64_t* expiry_ms);
  // Looks up every key, overlapping their cache misses: hashes all, then
  // prefetches buckets, then items, then compares. `values[i]` is empty and
  // `found[i]` false on a miss. Returns the number of hits.
  size_t MultiGet(std::span<const std::string_view> keys,
                  std::string_view* values, bool* found);
  // Ends the read. kRevoked when the writer revoked this guard, or a new
  // writer took the arena over while it was held (the values may have
  // changed under it: read again); otherwise kOk.
  Status Release();
  // True when the writer revoked this held guard since it announced (what
  // Release() would report), without ending it.
  bool revoked() const;
  // In a child after fork(): ends the guard without touching the slot,
  // which is the parent's (see ArenaReader::Abandon).
  void Abandon() { held_ = false; }

 private:
  ArenaReader* reader_;
  Status status_;
  uint64_t now_ms_ = 0;  // read lazily, once per guard
  uint32_t revocations_ = 0;
  bool held_ = false;
};

}  // namespace ember::shm
