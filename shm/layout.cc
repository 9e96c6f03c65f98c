// shm/layout.cc: geometry of the segments and validation of mapped headers.
#include "shm/layout.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

#include <fstream>
#include <string>

#include "shm/size_classes.h"

namespace ember::shm {
namespace {

constexpr uint64_t kAlign = 4096;
uint64_t RoundUp(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

}  // namespace

Status ComputeGeometry(const ArenaOptions& o, Geometry* geo) {
  if (o.page_bytes < kAlign || o.page_bytes % kAlign != 0 ||
      o.page_bytes > (64u << 20)) {
    return Status::InvalidArgument(
        "page_bytes must be a multiple of 4096 between 4 KiB and 64 MiB");
  }
  if (o.max_readers < 1 || o.max_readers > 65536) {
    return Status::InvalidArgument("max_readers must be 1..65536");
  }
  if (o.intent_slots < 1 || o.intent_slots > (1u << 24)) {
    return Status::InvalidArgument("intent_slots must be 1..16777216");
  }
  if (o.bytes_per_index_slot < 16) {
    return Status::InvalidArgument("bytes_per_index_slot must be >= 16");
  }
  Geometry g{};
  g.intent_offset = kHeaderBytes;
  g.intent_slots = o.intent_slots;
  g.index_offset = RoundUp(g.intent_offset + uint64_t{o.intent_slots} * 16, 64);
  g.page_bytes = o.page_bytes;
  g.max_readers = o.max_readers;
  g.max_key_bytes = kMaxKeyBytes;
  g.class_count = SizeClasses(o.page_bytes).count();
  // Pages and index grow together: each page needs page_bytes of data and
  // page_bytes / bytes_per_index_slot slots of 8 bytes.
  const uint64_t fixed = g.index_offset + kAlign + 64;
  if (o.arena_bytes <= fixed) {
    return Status::InvalidArgument("arena_bytes " +
                                   std::to_string(o.arena_bytes) +
                                   " is too small for the header");
  }
  const double per_page = o.page_bytes * (1.0 + 8.0 / o.bytes_per_index_slot);
  uint64_t pages = static_cast<uint64_t>((o.arena_bytes - fixed) / per_page);
  for (; pages > 0; --pages) {
    const uint64_t slots = pages * o.page_bytes / o.bytes_per_index_slot;
    g.bucket_count = (slots + kSlotsPerBucket - 1) / kSlotsPerBucket;
    g.data_offset = RoundUp(g.index_offset + g.bucket_count * 64, kAlign);
    if (g.data_offset + pages * o.page_bytes <= o.arena_bytes) break;
  }
  if (pages == 0) {
    return Status::InvalidArgument(
        "arena_bytes " + std::to_string(o.arena_bytes) +
        " holds no page of page_bytes " + std::to_string(o.page_bytes));
  }
  if (pages > UINT32_MAX || pages * o.page_bytes >= (uint64_t{1} << 50)) {
    return Status::InvalidArgument("arena_bytes is too large");
  }
  g.page_count = static_cast<uint32_t>(pages);
  g.data_bytes = pages * o.page_bytes;
  *geo = g;
  return Status::Ok();
}

uint64_t BootId() {
  static const uint64_t id = [] {
    std::ifstream in("/proc/sys/kernel/random/boot_id");
    std::string line;
    if (!std::getline(in, line) || line.empty()) return uint64_t{0};
    return static_cast<uint64_t>(XXH3_64bits(line.data(), line.size()));
  }();
  return id;
}

uint64_t HintBytes(const Geometry& geo) {
  return RoundUp(geo.data_bytes >> kGranuleShift, kAlign);
}

Status ValidateHeader(const ArenaHeader& h, uint64_t mapped,
                      const std::string& path) {
  if (h.magic != kArenaMagic) {
    return Status::Corruption(path +
                              ": bad magic (not an Ember arena, or "
                              "written on a machine of another byte order)");
  }
  if (h.layout_version != kLayoutVersion) {
    return Status::VersionMismatch(
        path + ": layout version " + std::to_string(h.layout_version) +
        ", this build reads " + std::to_string(kLayoutVersion));
  }
  if (h.abi_hash != AbiHash()) {
    return Status::VersionMismatch(path + ": ABI hash differs from this build");
  }
  if (h.segment_bytes != mapped) {
    return Status::Corruption(path + ": header says " +
                              std::to_string(h.segment_bytes) +
                              " bytes, mapping has " + std::to_string(mapped));
  }
  const Geometry& g = h.geo;
  const bool fits =
      g.intent_offset >= kHeaderBytes &&
      g.intent_offset % alignof(IntentSlot) == 0 &&
      g.index_offset % alignof(Bucket) == 0 &&
      g.index_offset >= g.intent_offset + uint64_t{g.intent_slots} * 16 &&
      g.bucket_count > 0 && g.bucket_count < (uint64_t{1} << 40) &&
      g.data_offset >= g.index_offset + g.bucket_count * 64 &&
      g.page_bytes >= kAlign && g.page_count > 0 &&
      g.data_bytes == uint64_t{g.page_count} * g.page_bytes &&
      g.data_offset + g.data_bytes <= mapped && g.data_offset % 8 == 0 &&
      g.class_count > 0 && g.class_count <= kMaxClasses && g.max_readers > 0 &&
      g.max_readers <= 65536;
  if (!fits)
    return Status::Corruption(path + ": geometry does not fit the segment");
  return Status::Ok();
}

}  // namespace ember::shm
