// shm/arena_writer.h: the only writer of an arena. Creates the segments,
// publishes items, evicts, and reclaims chunks readers can no longer see.
// Thread safety: one thread at a time (the server's writer thread); readers
// in any process and thread run concurrently through ArenaReader.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "shm/arena_format.h"
#include "shm/arena_options.h"
#include "shm/evictor.h"
#include "shm/intent_ring.h"
#include "shm/key_hash.h"
#include "shm/mapping.h"
#include "shm/reader_registry.h"
#include "shm/reclaimer.h"
#include "shm/run_dir.h"
#include "shm/segment.h"
#include "shm/size_classes.h"
#include "shm/slab_allocator.h"
#include "shm/slot_broker.h"
#include "shm/status.h"

namespace ember::shm {

class ArenaWriter {
 public:
  // Opens (creating) and checks the run directory, takes the writer lock,
  // creates a fresh data segment (a stale arena left by a dead writer of the
  // same user is retired and unlinked), the hints memfd and the attach
  // socket, and marks the arena kActive. kBusy: a live writer owns
  // `options.name`. kIOError: /dev/shm lacks room, the run directory or a
  // segment belongs to another user or is open to others.
  static Status Create(const ArenaOptions& options,
                       std::unique_ptr<ArenaWriter>* out);
  // What a server start did with the arena it found (Open).
  struct StartReport {
    bool warm = false;             // the previous writer's items were kept
    std::string reason;            // why the start was cold ("" when warm)
    uint64_t kept = 0;             // items kept
    uint64_t dropped = 0;          // items dropped: damaged, pending or expired
    uint64_t dropped_pending = 0;  // of those: keys in the intent ring
    uint64_t dropped_damaged = 0;  // of those: failed a check
    uint64_t published_lsn = 0;    // the header's, as found
    uint64_t ms = 0;               // wall time of Open
  };
  // A server start: takes over the arena a killed or stopped server of
  // `options.name` left behind (a warm restart: shm/arena_warm.cc) when it
  // validates, else creates a fresh one as Create does and says why in
  // `report->reason`. A warm arena is left kRecovering, so readers wait
  // while the server reconciles it with its log (Put, Delete, Clear,
  // SetPublishedLsn); Activate() opens it. `store_id` names the cold store
  // (0: none); an arena written from another is never kept. `warm` false:
  // always cold. Errors as Create's.
  static Status Open(const ArenaOptions& options, uint64_t store_id, bool warm,
                     std::unique_ptr<ArenaWriter>* out, StartReport* report);
  // Lets readers in (kActive). REQUIRES: after Open.
  void Activate() { SetState(ArenaState::kActive); }
  // Records that every commit up to `lsn` is published (or pending in the
  // intent ring): what a warm restart publishes from.
  void SetPublishedLsn(uint64_t lsn) {
    header_->published_lsn.store(lsn, std::memory_order_relaxed);
  }
  // The database map (ArenaHeader::db_map): `map` is 256 bytes, a
  // permutation, written into the copy not in use, which then becomes the
  // current one. Readers that start a lookup after this see it. One
  // thread (the committer, or the server before readers attach).
  void SetDbMap(const uint8_t* map) {
    const uint64_t seq = header_->db_map_seq.load(std::memory_order_relaxed);
    std::atomic<uint8_t>* next = header_->db_map[(seq + 1) & 1];
    for (size_t i = 0; i < 256; ++i)
      next[i].store(map[i], std::memory_order_release);
    header_->db_map_seq.store(seq + 1, std::memory_order_release);
  }
  // Database `db`'s entry of the current map. Any thread.
  uint8_t db_map(uint8_t db) const {
    uint64_t seq = 0;
    return CurrentDbMap(*header_, &seq)[db].load(std::memory_order_acquire);
  }
  uint64_t db_map_seq() const {
    return header_->db_map_seq.load(std::memory_order_acquire);
  }
  // The whole current map, as of one moment between swaps. Any thread.
  void ReadDbMap(uint8_t* out) const {
    uint64_t seq = 0;
    do {
      const std::atomic<uint8_t>* map = CurrentDbMap(*header_, &seq);
      for (size_t i = 0; i < 256; ++i)
        out[i] = map[i].load(std::memory_order_acquire);
    } while (db_map_seq() != seq);
  }
  // True while a warm restart holds back memory a reader of the previous
  // writer may still be reading: one reader_lease_ms after the takeover, at
  // most kMaxHoldMs (a guard held across a takeover is protected that long;
  // its release reports kRevoked). Meanwhile a Put that finds no memory
  // that never held an item is refused (kBusy) instead of evicting.
  bool holding() const { return slabs_.holding(); }
  static constexpr uint64_t kMaxHoldMs = 1000;
  // Steady-clock ms until holding() ends (0 when not holding).
  uint64_t hold_left_ms() const {
    const uint64_t now = SteadyMs();
    return holding() && hold_until_ms_ > now ? hold_until_ms_ - now : 0;
  }
  // Marks the arena kClean (or unlinks it with remove_on_close).
  ~ArenaWriter();
  ArenaWriter(const ArenaWriter&) = delete;
  ArenaWriter& operator=(const ArenaWriter&) = delete;

  // Publishes key -> value, expiring at `expiry_unix_ms` (0: never). When
  // this returns, every reader that starts a guard sees the new value.
  // Whatever it returns, no older value of `key` stays visible.
  // kInvalidArgument: key empty or over max_key_bytes, or item larger than
  // page_bytes (keep it in the cold tier). kBusy: no memory could be freed
  // now (readers hold old epochs); the key is then absent from the arena.
  // The item a Put or Delete replaced or removed (`found`), with its expiry:
  // the key's state before the call, when the arena held the key.
  struct OldItem {
    bool found = false;
    uint64_t expiry_unix_ms = 0;
  };
  // `old` (if given): the item replaced, if one was found (an item evicted
  // meanwhile is not).
  Status Put(std::string_view key, std::string_view value,
             uint64_t expiry_unix_ms = 0, OldItem* old = nullptr);
  // Removes `key`. kNotFound when it was not in the arena (a normal answer).
  Status Delete(std::string_view key, OldItem* old = nullptr);
  // Removes every key (FLUSHALL).
  void Clear();
  // Housekeeping, about once a millisecond: epoch, reclaim, a slice of the
  // expiry sweep. (The heartbeat beats on the broker's thread.)
  void Tick();

  // The intent ring of this arena (used by the server's write path).
  IntentRing& intents() { return intents_; }
  uint64_t HashOf(std::string_view key) const;
  const ArenaHeader& header() const { return *header_; }
  const ArenaOptions& options() const { return options_; }
  // Changes reader_lease_ms while the arena runs (any thread); guards held
  // now are judged by the new lease at the next reclaim.
  void SetReaderLeaseMs(uint32_t ms) { reclaimer_.set_lease_ms(ms); }
  uint32_t reader_lease_ms() const { return reclaimer_.lease_ms(); }
  // Bytes of writer-private bookkeeping (for the memory overhead report).
  uint64_t PrivateBytes() const;
  // Items removed because their expiry had passed: by the sweep, or by a
  // Put or Delete that found the old item expired (Redis's expired_keys,
  // for the keys that were hot). Any thread may read it.
  uint64_t expired_items() const {
    return expired_.load(std::memory_order_relaxed);
  }
  uint64_t hints_bytes() const { return hints_.size(); }
  // The mappings and slots, for in-process readers (ArenaReader::Attach).
  const char* data_base() const { return data_.base(); }
  uint64_t data_bytes() const { return data_.size(); }
  char* hints_base() const { return hints_.base(); }
  ReaderRegistry* registry() { return &registry_; }
  // Sets the state word (kClean on graceful stop, kRetired to tell readers
  // to detach).
  void SetState(ArenaState s);

  // Unlinks every object of arena `name`; absent ones are not an error.
  static void Destroy(const std::string& name, const std::string& run_dir);
  // Drops a stopped server's arena `name` (what a killed or stopped server
  // leaves in /dev/shm for the next start): marks it kRetired, so readers
  // still mapping it stop, and unlinks it. kBusy naming the pid while a live
  // writer holds it; kUnavailable when there is none; kIOError when it is
  // not ours to remove. `*bytes` gets its size.
  static Status DropStopped(const std::string& name, uint64_t* bytes);

 private:
  // What every start needs before it touches a segment.
  struct Prepared {
    Geometry geo;
    RunDir dir;
    std::unique_ptr<WriterLock> lock;
  };
  // Checks the name and geometry, opens run_dir and takes the writer lock.
  static Status Prepare(const ArenaOptions& options, Prepared* p);
  // A fresh segment (a stale one retired first), header written, state
  // kInit, no broker yet.
  static Status CreateFresh(const ArenaOptions& options, Prepared p,
                            uint64_t store_id,
                            std::unique_ptr<ArenaWriter>* out);
  // The reader's descriptor, the hints memfd, the writer object around
  // `data` (its header valid). No broker yet.
  static Status Assemble(const ArenaOptions& options, Prepared p, Segment data,
                         std::unique_ptr<ArenaWriter>* out);
  // Takes over the segment left in /dev/shm (arena_warm.cc): kOk with the
  // arena kRecovering, or `*reason` says why not (then nothing was kept;
  // `p` is untouched). Other errors are final (a live writer: kBusy).
  static Status TakeOver(const ArenaOptions& options, Prepared* p,
                         uint64_t store_id, std::unique_ptr<ArenaWriter>* out,
                         StartReport* report, std::string* reason);
  // Walks the index of a taken-over segment: keeps every item that passes
  // every check, drops the rest, rebuilds slabs, evictor and stats.
  void Rebuild(StartReport* report);
  // Whether index slot `slot` of `bucket` leads to an item that passes
  // every check: bounds, magic, class and chunk alignment, checksum, its
  // key's tag and bucket. Sets its key's hash and class. `buf`: scratch.
  bool CheckItem(uint64_t bucket, uint64_t slot, std::string* buf,
                 uint64_t* hash, int* cls) const;
  Status StartBroker();
  static uint64_t SteadyMs();  // the monotonic clock (shm/clock.h)
  ArenaWriter(const ArenaOptions& options, RunDir dir, Segment data,
              int data_ro_fd, int hints_fd, Mapping hints,
              std::unique_ptr<WriterLock> lock);
  struct SlotRef {
    std::atomic<uint64_t>* slot = nullptr;
    uint64_t off = 0;
  };
  ItemHeader* ItemAt(uint64_t off) const {
    return reinterpret_cast<ItemHeader*>(data_.base() + off);
  }
  Bucket* BucketAt(uint64_t b) const {
    return reinterpret_cast<Bucket*>(data_.base() + header_->geo.index_offset) +
           b;
  }
  SlotRef Find(uint64_t hash, std::string_view key) const;
  SlotRef FindOffset(uint64_t hash, uint64_t off) const;
  // A free slot for a new key of `hash`: an empty one in b1/b2, one made by
  // moving occupants (MakeRoom), or the slot of an evicted cold item.
  std::atomic<uint64_t>* FreeSlot(uint64_t hash);
  std::atomic<uint64_t>* MakeRoom(const Probe& p);
  std::atomic<uint64_t>* EmptySlotIn(uint64_t bucket) const;
  // The bucket other than `b` where the item in `slot_value` may live.
  uint64_t OtherBucket(uint64_t slot_value, uint64_t b) const;
  uint64_t AllocateChunk(int cls);
  void WriteItem(uint64_t off, int cls, std::string_view key,
                 std::string_view value, uint64_t expiry);
  // Clears `ref`'s slot (when `clear`) and retires its item.
  void Unlink(const SlotRef& ref, bool clear);
  // Counts the item at `off` in expired_items() when its expiry has passed.
  void CountIfExpired(uint64_t off);
  // CountIfExpired, and `old_item` (if given) describes the item at `off`.
  void NoteOld(uint64_t off, OldItem* old_item);
  // Evicts the item at `off` for memory; false if it was not indexed.
  bool Evict(uint64_t off, bool from_small);
  size_t EvictBatch(int cls, size_t n);
  bool StealPage(int cls);
  size_t ReclaimNow(bool memory_short);
  void SweepExpired(uint32_t buckets);

  ArenaOptions options_;
  RunDir dir_;
  Segment data_;
  int data_ro_fd_;  // handed to readers: they can neither write nor resize
  int hints_fd_;    // sealed memfd
  Mapping hints_;
  std::unique_ptr<WriterLock> writer_lock_;
  ArenaHeader* header_;
  ReaderRegistry registry_;
  uint64_t seed_;
  SizeClasses classes_;
  SlabAllocator slabs_;
  Evictor evictor_;
  Reclaimer reclaimer_;
  IntentRing intents_;
  std::vector<uint32_t> steal_cursor_;
  uint64_t sweep_cursor_ = 0;
  uint32_t retires_since_reclaim_ = 0;
  uint64_t expiring_items_ = 0;  // indexed items with an expiry time
  // Warm restart: steady-clock ms until which memory is held (holding()).
  uint64_t hold_until_ms_ = 0;
  // Written by the one thread that writes at a time; read by any.
  std::atomic<uint64_t> expired_{0};
  // Last: stopped first, while the registry and mappings it uses live.
  std::unique_ptr<SlotBroker> broker_;
};

}  // namespace ember::shm
