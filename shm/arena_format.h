// shm/arena_format.h: byte layout of the shared arena. Story: shm/FORMAT.md.
// Both the server (writer) and every local reader compile against this file;
// it is the whole contract between them.
//
// Data segment /dev/shm/ember.<name>.data (writer RW, readers RO):
//   0               ArenaHeader                       kHeaderBytes
//   intent_offset   IntentSlot[intent_slots]          16 bytes each
//   index_offset    Bucket[bucket_count]              64 bytes each
//   data_offset     page_count pages of page_bytes    slab chunks
// Hints: a sealed memfd shared by the writer and every reader (RW):
//   0               uint8 hint[data_bytes >> kGranuleShift], page-rounded
// Reader slot: a sealed memfd page per reader (its reader and the writer):
//   0               ReaderSlot                        64 bytes
// Readers get the three descriptors over the attach socket (shm/attach.h).
//
// Invariants (numbered in DESIGN.md, "Invariants"; tests cite the numbers):
//  1. A published item is never written again until it is unreachable from
//     the index and every live reader announced an epoch newer than the one
//     it was retired in, or was revoked (and is told so at release).
//  2. An index slot changes only by one aligned 8-byte seq_cst store, made
//     after its item is complete.
//  3. Only the writer writes the data segment; no reader can write, shrink
//     or grow it. A reader writes only its own slot page and hint bytes;
//     the writer writes slots' `revocations` and resets the hints of chunks
//     it allocates. Nothing a reader writes there can crash the writer or
//     make it return a value nobody wrote (DESIGN.md, "Trust boundary").
//  4. Links are byte offsets from the segment base, never pointers; a reader
//     bounds-checks every offset before following it.
//  5. global_epoch, generation and hash_seed only increase or stay.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace ember::shm {

// "EMBR" in memory order; a byte-swapped reader sees 0x454D4252 and refuses.
inline constexpr uint32_t kArenaMagic = 0x52424D45;
// Bump on ANY change to the structs or constants in this file. Readers refuse
// other values (kVersionMismatch); the server recreates the arena.
inline constexpr uint32_t kLayoutVersion = 5;

inline constexpr uint32_t kHeaderBytes = 8192;
inline constexpr uint32_t kMaxClasses = 160;
inline constexpr uint32_t kSlotsPerBucket = 8;
// Hints and writer metadata track chunks at this granularity; no chunk is
// smaller, so each chunk owns at least one granule of its own.
inline constexpr uint32_t kGranuleShift = 5;  // 32 bytes
inline constexpr uint32_t kMinChunkBytes = 1u << kGranuleShift;
inline constexpr uint32_t kMaxKeyBytes = 65535;

enum class ArenaState : uint32_t {
  kInit = 1,        // being laid out; readers wait or use the socket
  kActive = 2,      // a writer owns it; readers may read
  kClean = 3,       // writer stopped gracefully; contents valid but static
  kRecovering = 4,  // a restarted writer is validating it (warm restart)
  kRetired = 5,     // replaced by a fresh segment; detach
};

// Immutable after creation. All offsets are from the segment base.
struct Geometry {
  uint64_t intent_offset;
  uint64_t index_offset;
  uint64_t bucket_count;  // any positive count (no power of two needed)
  uint64_t data_offset;   // page-aligned to 4096
  uint64_t data_bytes;    // page_count * page_bytes
  uint32_t intent_slots;
  uint32_t page_bytes;  // largest item; multiple of 4096
  uint32_t page_count;
  uint32_t class_count;
  uint32_t max_readers;
  uint32_t max_key_bytes;
};
static_assert(sizeof(Geometry) == 64);

// Written by the writer with relaxed stores; read by anyone for INFO.
struct ArenaStats {
  std::atomic<uint64_t> items;
  std::atomic<uint64_t> kv_bytes;     // key + value bytes of live items
  std::atomic<uint64_t> chunk_bytes;  // chunk bytes of live items
  std::atomic<uint64_t> puts;
  std::atomic<uint64_t> deletes;
  std::atomic<uint64_t> evictions;        // items dropped for memory
  std::atomic<uint64_t> index_evictions;  // dropped because both buckets full
  std::atomic<uint64_t> put_failures;     // Put found no memory (kBusy)
  std::atomic<uint64_t> retired_pending;  // chunks waiting for readers
  std::atomic<uint64_t> reclaimed;        // chunks returned to free lists
  std::atomic<uint64_t> live_readers;     // claimed slots at last scan
  std::atomic<uint64_t> readers_seen;     // distinct slot claims observed
  std::atomic<uint64_t> revocations;      // guards revoked past their lease
  std::atomic<uint64_t> free_pages;
  std::atomic<uint64_t> page_moves;   // pages moved between classes
  std::atomic<uint64_t> index_moves;  // items moved to their other bucket
  std::atomic<uint64_t> huge_bytes;   // of the writer's mapping, at start
  std::atomic<uint64_t> reserved[15];
};
static_assert(sizeof(ArenaStats) == 256);

struct ClassInfo {
  uint32_t chunk_bytes;         // immutable
  std::atomic<uint32_t> pages;  // pages owned now
  std::atomic<uint64_t> items;
  std::atomic<uint64_t> chunk_bytes_used;
  std::atomic<uint64_t> evictions;
};
static_assert(sizeof(ClassInfo) == 32);

struct ArenaHeader {
  // Identity: written once before state becomes kActive.
  uint32_t magic;           // kArenaMagic
  uint32_t layout_version;  // kLayoutVersion
  uint64_t abi_hash;        // AbiHash()
  uint64_t segment_bytes;   // the whole data segment, this header included
  uint64_t hash_seed;
  uint64_t created_unix_ms;
  uint32_t creator_uid;
  std::atomic<uint32_t> state;       // ArenaState
  std::atomic<uint32_t> generation;  // +1 per writer that takes it over
  std::atomic<uint32_t> writer_pid;
  uint32_t barrier_mode;  // BarrierMode: how readers announce (shm/barrier.h)
  uint8_t pad0[4];
  // Own cache line: readers load it once per guard, the writer bumps it.
  alignas(64) std::atomic<uint64_t> global_epoch;
  uint8_t pad1[56];
  alignas(64) std::atomic<uint64_t> heartbeat_unix_ms;  // writer liveness
  // The redo log's LSN up to which every commit is in the index (or its key
  // is pending in the intent ring); a warm restart publishes the log after
  // it. 0 without a log.
  std::atomic<uint64_t> published_lsn;
  // Which boot of the host wrote this (XXH3 of the kernel's boot_id): a
  // segment from before a reboot is never trusted.
  uint64_t boot_id;
  // Which cold store the contents came from (XXH3 of RocksDB's identity; 0
  // without one): another data_dir's arena is never trusted.
  uint64_t store_id;
  uint8_t pad2[32];
  alignas(64) Geometry geo;
  alignas(64) ArenaStats stats;
  ClassInfo classes[kMaxClasses];
  // The server's database map (SWAPDB): the first key byte of database
  // `i`'s items (as clients number databases) is db_map[db_map_seq & 1][i].
  // Each copy a permutation of 0..255, the identity at creation; kept by a
  // warm restart. The writer fills the other copy (release stores), then
  // bumps db_map_seq (release): a copy is never written while it is the
  // current one, and a reader that loads the seq, then its entry
  // (acquire), then the seq again and finds it unchanged read a whole map's
  // entry, at a moment between two swaps (it retries otherwise).
  alignas(64) std::atomic<uint64_t> db_map_seq;
  alignas(64) std::atomic<uint8_t> db_map[2][256];
};
static_assert(offsetof(ArenaHeader, global_epoch) == 64);
static_assert(offsetof(ArenaHeader, heartbeat_unix_ms) == 128);
static_assert(offsetof(ArenaHeader, geo) == 192);
static_assert(offsetof(ArenaHeader, stats) == 256);
static_assert(offsetof(ArenaHeader, classes) == 512);
static_assert(offsetof(ArenaHeader, db_map_seq) == 5632);

// The current copy of `h`'s database map (db_map[db_map_seq & 1]), with
// the seq it was chosen by in *seq (load it again after reading entries:
// unchanged means they belong to one map).
inline const std::atomic<uint8_t>* CurrentDbMap(const ArenaHeader& h,
                                                uint64_t* seq) {
  *seq = h.db_map_seq.load(std::memory_order_acquire);
  return h.db_map[*seq & 1];
}
// True when the 256 bytes at `map` hold each of 0..255 once: a map that
// does not would merge two databases.
inline bool IsDbMapPermutation(const uint8_t* map) {
  bool seen[256] = {};
  for (int i = 0; i < 256; ++i) {
    if (seen[map[i]]) return false;
    seen[map[i]] = true;
  }
  return true;
}
static_assert(offsetof(ArenaHeader, db_map) == 5696);
static_assert(sizeof(ArenaHeader) <= kHeaderBytes);
static_assert(std::is_standard_layout_v<ArenaHeader>);

// Pending write between "cold store written" and "arena published".
struct IntentSlot {
  std::atomic<uint64_t> key_hash;
  std::atomic<uint64_t> seq_state;  // seq << 1 | 1 while pending; 0 = free
};
static_assert(sizeof(IntentSlot) == 16);

// One slot: tag (high 16 bits of the slot) | item offset / 8 (low 48 bits).
// 0 means empty; an item never sits at offset 0, so no live slot is 0.
struct alignas(64) Bucket {
  std::atomic<uint64_t> slot[kSlotsPerBucket];
};
static_assert(sizeof(Bucket) == 64);
inline constexpr uint64_t kSlotOffsetMask = (uint64_t{1} << 48) - 1;
inline constexpr uint64_t kSlotTagMask = ~kSlotOffsetMask;

// Item: this header, then key bytes, then value bytes, in one chunk.
// Immutable once its offset is stored in a slot (invariant 1).
inline constexpr uint16_t kItemMagic = 0xE3B1;
struct ItemHeader {
  uint16_t magic;      // kItemMagic
  uint8_t size_class;  // index into ArenaHeader::classes
  uint8_t flags;       // reserved, 0
  uint32_t value_len;  // bytes
  uint16_t key_len;    // bytes, 1..max_key_bytes
  uint16_t reserved;   // 0
  uint32_t
      checksum;  // low 32 bits of XXH3 over header (checksum 0), key, value
  uint64_t expiry_unix_ms;  // 0 = never expires
};
static_assert(sizeof(ItemHeader) == 24);
static_assert(std::is_trivially_copyable_v<ItemHeader>);

// One per reader thread, at offset 0 of its own sealed memfd page.
struct alignas(64) ReaderSlot {
  // 0 = idle; epoch << 1 | 1 while a guard is held. Written by its reader.
  std::atomic<uint64_t> announce;
  std::atomic<uint32_t> pid;          // written by its reader at claim
  std::atomic<uint32_t> revocations;  // bumped by the writer only
  uint8_t pad[48];
};
static_assert(sizeof(ReaderSlot) == 64);

static_assert(std::atomic<uint64_t>::is_always_lock_free);
static_assert(std::atomic<uint32_t>::is_always_lock_free);
static_assert(std::atomic<uint8_t>::is_always_lock_free);
static_assert(sizeof(std::atomic<uint64_t>) == 8);

// Hash of everything above that two builds must agree on: sizes, offsets,
// alignment and byte order. A mismatch means "another build", refused.
constexpr uint64_t AbiHash() {
  const uint64_t parts[] = {kLayoutVersion,
                            sizeof(ArenaHeader),
                            sizeof(Geometry),
                            sizeof(ArenaStats),
                            sizeof(ClassInfo),
                            sizeof(IntentSlot),
                            sizeof(Bucket),
                            sizeof(ItemHeader),
                            sizeof(ReaderSlot),
                            alignof(uint64_t),
                            offsetof(ItemHeader, expiry_unix_ms),
                            offsetof(ArenaHeader, geo),
                            offsetof(ArenaHeader, db_map_seq),
                            offsetof(ArenaHeader, db_map),
                            kMaxClasses,
                            kGranuleShift,
                            kHeaderBytes,
                            sizeof(void*),
                            kItemMagic};
  uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a
  for (uint64_t p : parts) {
    for (int i = 0; i < 8; ++i) {
      h ^= (p >> (8 * i)) & 0xff;
      h *= 0x100000001b3ULL;
    }
  }
  return h;
}

inline constexpr uint64_t MakeSlot(uint64_t tag_bits, uint64_t offset) {
  return tag_bits | (offset >> 3);
}
inline constexpr uint64_t SlotOffset(uint64_t slot) {
  return (slot & kSlotOffsetMask) << 3;
}

}  // namespace ember::shm
