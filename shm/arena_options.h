// shm/arena_options.h: how an arena is sized and named. The server fills it
// from conf/ember.conf; tests and benchmarks set it directly.
#pragma once

#include <cstdint>
#include <string>

namespace ember::shm {

// Whether the data segment asks for transparent huge pages (PostgreSQL's
// huge_pages): a 2 GiB arena on 4 KiB pages misses the TLB on every lookup.
// Huge pages come only where the kernel gives them to shared memory
// (/sys/kernel/mm/transparent_hugepage/shmem_enabled "advise" or better, or
// /dev/shm mounted with huge=within_size).
enum class HugePages { kOff, kTry, kOn };

struct ArenaOptions {
  // Instance name: the data segment is /dev/shm/ember.<name>.data.
  std::string name = "default";
  // Directory for the writer lock file and the attach socket: created 0750
  // if missing, refused if another uid's or open to others.
  std::string run_dir = "/tmp/ember";
  // Size of the data segment in bytes (header, intents, index and pages).
  // The hints memfd adds 1/32 of the page bytes.
  uint64_t arena_bytes = uint64_t{256} << 20;
  // Slab page size in bytes: the largest item (header + key + value).
  // A multiple of 4096, at most 64 MiB.
  uint32_t page_bytes = 1u << 20;
  // Reader slots: local reader threads that may hold a slot at once.
  uint32_t max_readers = 256;
  // Index sizing: one 8-byte slot per this many page bytes. 64 suits items
  // of about 64-80 bytes; larger values save memory for larger items.
  uint32_t bytes_per_index_slot = 64;
  // Pending-write records (the intent ring).
  uint32_t intent_slots = 4096;
  // A guard held longer than this while memory is short is revoked (ms).
  uint32_t reader_lease_ms = 1000;
  // Readers announce with a plain store and the writer issues membarrier(2)
  // per reclaim scan, when the kernel has it. False: readers always use a
  // seq_cst exchange (slower lookups; what ThreadSanitizer builds use).
  bool use_membarrier = true;
  // Huge pages for the data segment (see HugePages).
  HugePages huge_pages = HugePages::kTry;
  // Unlink the segment, lock file and socket when the writer closes (tests).
  bool remove_on_close = false;
};

}  // namespace ember::shm
