// client/arena_info.cc: DescribeArena, for `ember-cli arena NAME`.
#include "client/arena_info.h"

#include <cinttypes>
#include <cstdarg>
#include <cstdio>
#include <vector>

#include "shm/arena_format.h"
#include "shm/attach.h"
#include "shm/reclaimer.h"
#include "shm/run_dir.h"
#include "shm/segment.h"

namespace ember::client {
namespace {

using shm::Status;

const char* StateName(uint32_t state) {
  switch (static_cast<shm::ArenaState>(state)) {
    case shm::ArenaState::kInit:
      return "INIT";
    case shm::ArenaState::kActive:
      return "ACTIVE";
    case shm::ArenaState::kClean:
      return "CLEAN";
    case shm::ArenaState::kRecovering:
      return "RECOVERING";
    case shm::ArenaState::kRetired:
      return "RETIRED";
  }
  return "UNKNOWN";
}

// printf into a std::string, one line (the compiler checks the format).
__attribute__((format(printf, 2, 3))) void Line(std::string* out,
                                                const char* fmt, ...) {
  char buf[256];
  va_list ap;
  va_start(ap, fmt);
  const int n = std::vsnprintf(buf, sizeof(buf), fmt, ap);
  va_end(ap);
  if (n > 0) out->append(buf, std::min<size_t>(n, sizeof(buf) - 1));
  out->push_back('\n');
}

uint64_t Load(const std::atomic<uint64_t>& a) {
  return a.load(std::memory_order_relaxed);
}

// The reader slots in use, as the live server lists them over the attach
// socket (slots live in the server's memfds; there is nothing to map).
void DescribeReaders(const std::string& name, const std::string& run_dir,
                     uint32_t max_readers, std::string* out) {
  shm::RunDir dir;
  std::vector<shm::ReaderInfo> list;
  Status s = shm::RunDir::OpenForReader(run_dir, &dir);
  if (s.ok()) s = shm::ListReaders(dir, name, &list);
  if (!s.ok()) {
    Line(out, "readers: unknown (%s)", s.ToString().c_str());
    return;
  }
  Line(out, "readers: %zu of %u slots claimed", list.size(), max_readers);
  for (const shm::ReaderInfo& r : list) {
    Line(out,
         "  slot %4u  pid %-8u uid %-6u %-8s %s epoch %" PRIu64 "  revoked %u",
         r.slot_index, r.pid, r.uid, r.internal ? "server" : "client",
         (r.announce & 1) ? "reading," : "idle,   ", r.announce >> 1,
         r.revocations);
  }
}

}  // namespace

Status DescribeArena(const std::string& name, const std::string& run_dir,
                     std::string* out) {
  EMBER_RETURN_IF_ERROR(shm::ValidateName(name));
  const shm::ArenaPaths paths = shm::PathsFor(name);
  shm::Segment data;
  EMBER_RETURN_IF_ERROR(shm::Segment::Open(paths.data_shm, /*writable=*/false,
                                           sizeof(shm::ArenaHeader), &data));
  // Only the server's segment is read: one of another owner could be cut
  // short under this mapping by whoever made it.
  shm::RunDir dir;
  if (shm::RunDir::OpenForReader(run_dir, &dir).ok() &&
      data.owner() != dir.owner()) {
    return Status::Corruption(
        shm::ShmPath(paths.data_shm) + " belongs to uid " +
        std::to_string(data.owner()) + ", not to run_dir's owner " +
        std::to_string(dir.owner()));
  }
  const auto& h = *reinterpret_cast<const shm::ArenaHeader*>(data.base());
  Line(out, "arena: %s (%s, %" PRIu64 " bytes mapped)", name.c_str(),
       shm::ShmPath(paths.data_shm).c_str(), data.size());
  const bool ours = h.magic == shm::kArenaMagic &&
                    h.layout_version == shm::kLayoutVersion &&
                    h.abi_hash == shm::AbiHash();
  Line(out, "format: magic %08x, layout %u, abi %016" PRIx64 " (%s)", h.magic,
       h.layout_version, h.abi_hash,
       ours ? "this build's" : "ANOTHER layout or build: not read further");
  if (!ours) return Status::Ok();
  const uint32_t state = h.state.load(std::memory_order_acquire);
  const uint64_t now = shm::NowUnixMs();
  const uint64_t beat = Load(h.heartbeat_unix_ms);
  Line(out,
       "state: %s, generation %u, writer pid %u, heartbeat %" PRIu64 " ms ago",
       StateName(state), h.generation.load(std::memory_order_relaxed),
       h.writer_pid.load(std::memory_order_relaxed),
       now >= beat ? now - beat : 0);
  Line(out, "epoch: %" PRIu64 ", published up to LSN %" PRIu64,
       Load(h.global_epoch), Load(h.published_lsn));
  const shm::Geometry& g = h.geo;
  if (g.data_offset + g.data_bytes > data.size()) {
    Line(out, "geometry: does not fit the segment (corrupt)");
    return Status::Ok();
  }
  Line(out,
       "geometry: %" PRIu64
       " buckets x %u slots, %u pages of %u bytes,"
       " %u classes, %u reader slots, keys up to %u bytes",
       g.bucket_count, shm::kSlotsPerBucket, g.page_count, g.page_bytes,
       g.class_count, g.max_readers, g.max_key_bytes);
  const shm::ArenaStats& st = h.stats;
  const uint64_t items = Load(st.items);
  Line(out,
       "fill: %" PRIu64 " items (%.1f%% of index slots), %" PRIu64
       " key+value bytes, %" PRIu64 " chunk bytes, %" PRIu64
       " of %u pages free",
       items, 100.0 * items / double(g.bucket_count * shm::kSlotsPerBucket),
       Load(st.kv_bytes), Load(st.chunk_bytes), Load(st.free_pages),
       g.page_count);
  Line(out,
       "writes: %" PRIu64 " puts, %" PRIu64 " deletes, %" PRIu64
       " put failures",
       Load(st.puts), Load(st.deletes), Load(st.put_failures));
  Line(out,
       "eviction: %" PRIu64 " for memory, %" PRIu64 " for index room, %" PRIu64
       " index moves, %" PRIu64 " page moves",
       Load(st.evictions), Load(st.index_evictions), Load(st.index_moves),
       Load(st.page_moves));
  Line(out,
       "reclamation: %" PRIu64 " chunks waiting for readers, %" PRIu64
       " reclaimed, %" PRIu64 " revocations",
       Load(st.retired_pending), Load(st.reclaimed), Load(st.revocations));
  Line(out, "classes (chunk bytes: pages, items, evictions):");
  for (uint32_t c = 0; c < std::min(g.class_count, shm::kMaxClasses); ++c) {
    const shm::ClassInfo& ci = h.classes[c];
    const uint32_t pages = ci.pages.load(std::memory_order_relaxed);
    if (pages == 0) continue;
    Line(out, "  %8u: %u pages, %" PRIu64 " items, %" PRIu64 " evictions",
         ci.chunk_bytes, pages, ci.items.load(std::memory_order_relaxed),
         ci.evictions.load(std::memory_order_relaxed));
  }
  DescribeReaders(name, run_dir, g.max_readers, out);
  return Status::Ok();
}

}  // namespace ember::client
