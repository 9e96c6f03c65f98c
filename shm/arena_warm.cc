// shm/arena_warm.cc: the warm restart. A server that finds the arena a
// killed or stopped server left in /dev/shm checks it (header, identity,
// then every item the index reaches) and keeps what passes, instead of
// starting empty. DESIGN.md, "Warm restart".
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstring>
#include <string>
#include <unordered_set>

#include "shm/arena_writer.h"
#include "shm/key_hash.h"
#include "shm/layout.h"

namespace ember::shm {
namespace {

const char* StateName(uint32_t s) {
  switch (static_cast<ArenaState>(s)) {
    case ArenaState::kInit:
      return "init (its creation never finished)";
    case ArenaState::kRetired:
      return "retired";
    default:
      return "unknown";
  }
}

// Whether the current copy of the database map is one. (The other copy may
// be half written: a writer killed in a SetDbMap.)
bool DbMapIsPermutation(const ArenaHeader& h) {
  uint64_t seq = 0;
  const std::atomic<uint8_t>* current = CurrentDbMap(h, &seq);
  uint8_t map[256];
  for (int i = 0; i < 256; ++i)
    map[i] = current[i].load(std::memory_order_relaxed);
  return IsDbMapPermutation(map);
}

// True when no byte of [p, p + n) is set. `n` is a multiple of 8.
bool AllZero(const char* p, uint64_t n) {
  const auto* w = reinterpret_cast<const uint64_t*>(p);
  for (uint64_t i = 0; i < n / 8; ++i) {
    if (w[i] != 0) return false;
  }
  return true;
}

}  // namespace

Status ArenaWriter::Open(const ArenaOptions& options, uint64_t store_id,
                         bool warm, std::unique_ptr<ArenaWriter>* out,
                         StartReport* report) {
  const auto start = std::chrono::steady_clock::now();
  *report = StartReport();
  Prepared p;
  EMBER_RETURN_IF_ERROR(Prepare(options, &p));
  std::unique_ptr<ArenaWriter> w;
  std::string reason = "warm restart is off (arena_warm_restart no)";
  if (warm) {
    EMBER_RETURN_IF_ERROR(TakeOver(options, &p, store_id, &w, report, &reason));
  }
  if (w != nullptr) {
    report->warm = true;
  } else {
    *report = StartReport();
    report->reason = reason;
    EMBER_RETURN_IF_ERROR(CreateFresh(options, std::move(p), store_id, &w));
  }
  // Readers may claim slots now; they read once Activate() says so.
  EMBER_RETURN_IF_ERROR(w->StartBroker());
  report->ms = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::steady_clock::now() - start)
          .count());
  *out = std::move(w);
  return Status::Ok();
}

Status ArenaWriter::TakeOver(const ArenaOptions& options, Prepared* p,
                             uint64_t store_id,
                             std::unique_ptr<ArenaWriter>* out,
                             StartReport* report, std::string* reason) {
  reason->clear();
  const std::string shm_name = PathsFor(options.name).data_shm;
  Segment seg;
  const Status s = Segment::Open(shm_name, /*writable=*/true, 0, &seg);
  if (s.code() == Code::kUnavailable) {
    *reason = "no arena was left by an earlier server";
    return Status::Ok();
  }
  // Whatever is wrong with it, CreateFresh's clean-up decides what to say:
  // another user's segment and a live writer are errors there.
  if (!s.ok()) {
    *reason = s.ToString();
    return Status::Ok();
  }
  if (seg.owner() != geteuid() || SegmentWriterAlive(seg.fd())) {
    *reason = "the arena is another user's or a live server's";
    return Status::Ok();
  }
  // Nobody but its writer may ever have been able to write it: what a
  // group member could change after the checks below is not trusted.
  if ((seg.mode() & 022) != 0) {
    *reason = "the arena's segment is writable by its group or others";
    return Status::Ok();
  }
  // Held from here on: the next server sees this one alive.
  if (!LockSegmentWriter(seg.fd())) {
    *reason = "another process holds a lock on the arena's segment";
    return Status::Ok();
  }
  if (seg.size() < sizeof(ArenaHeader)) {
    *reason = "the segment is smaller than a header";
    return Status::Ok();
  }
  auto* h = reinterpret_cast<ArenaHeader*>(seg.base());
  const Status valid = ValidateHeader(*h, seg.size(), ShmPath(shm_name));
  const uint32_t state = h->state.load(std::memory_order_acquire);
  SizeClasses classes(p->geo.page_bytes);
  bool classes_match = valid.ok();
  for (int c = 0; classes_match && c < classes.count(); ++c)
    classes_match = h->classes[c].chunk_bytes == classes.chunk_bytes(c);
  if (!valid.ok()) {
    *reason = valid.ToString();
  } else if (std::memcmp(&h->geo, &p->geo, sizeof(Geometry)) != 0 ||
             !classes_match) {
    *reason =
        "the arena's layout differs from this configuration (arena_bytes or "
        "page_bytes changed)";
  } else if (h->creator_uid != geteuid()) {
    *reason = "the arena was created by uid " + std::to_string(h->creator_uid);
  } else if (state != static_cast<uint32_t>(ArenaState::kActive) &&
             state != static_cast<uint32_t>(ArenaState::kClean) &&
             state != static_cast<uint32_t>(ArenaState::kRecovering)) {
    *reason = std::string("the arena's state is ") + StateName(state);
  } else if (h->boot_id != BootId()) {
    *reason = "the arena was written before the host last booted";
  } else if (h->store_id != store_id) {
    *reason =
        "the arena was written from another cold store (data_dir) than this "
        "one";
  } else if (!DbMapIsPermutation(*h)) {
    *reason = "the arena's database map is damaged (not a permutation)";
  } else if (h->generation.load() == UINT32_MAX) {
    *reason = "the arena's generation is exhausted";
  } else if (h->global_epoch.load() >= (uint64_t{1} << 62)) {
    // Announces are epoch << 1 | 1: an epoch this large is damage.
    *reason = "the arena's epoch is out of range";
  }
  if (!reason->empty()) return Status::Ok();
  // Taken over: readers of the previous writer stop at their next guard (a
  // new generation), and epochs go on increasing.
  h->state.store(static_cast<uint32_t>(ArenaState::kRecovering),
                 std::memory_order_seq_cst);
  h->generation.fetch_add(1, std::memory_order_seq_cst);
  h->global_epoch.fetch_add(1, std::memory_order_seq_cst);
  report->published_lsn = h->published_lsn.load(std::memory_order_relaxed);
  EMBER_RETURN_IF_ERROR(Assemble(options, std::move(*p), std::move(seg), out));
  ArenaWriter& w = **out;
  // A reader of the previous writer may be inside a guard taken before the
  // new generation; its slot is invisible here. Nothing it may be reading
  // is reused for one lease (as if revoked: its release says so).
  w.hold_until_ms_ =
      SteadyMs() + std::min<uint64_t>(options.reader_lease_ms, kMaxHoldMs);
  w.Rebuild(report);
  return Status::Ok();
}

bool ArenaWriter::CheckItem(uint64_t bucket, uint64_t slot, std::string* buf,
                            uint64_t* hash, int* cls) const {
  const Geometry& g = header_->geo;
  const uint64_t off = SlotOffset(slot);
  if (off < g.data_offset ||
      off + sizeof(ItemHeader) > g.data_offset + g.data_bytes) {
    return false;
  }
  const char* p = data_.base() + off;
  ItemHeader it;
  std::memcpy(&it, p, sizeof(it));
  if (it.magic != kItemMagic || it.size_class >= classes_.count() ||
      it.flags != 0 || it.reserved != 0 || it.key_len == 0 ||
      it.key_len > g.max_key_bytes) {
    return false;
  }
  // At a chunk boundary of its class, in the smallest class that fits it
  // (the one the writer picks), inside its page.
  const uint32_t chunk = classes_.chunk_bytes(it.size_class);
  const uint64_t in_page = (off - g.data_offset) % g.page_bytes;
  const uint64_t bytes =
      sizeof(ItemHeader) + it.key_len + uint64_t{it.value_len};
  if (in_page % chunk != 0 || in_page + chunk > g.page_bytes || bytes > chunk ||
      classes_.ClassFor(bytes) != it.size_class) {
    return false;
  }
  // The checksum is over the item with its checksum field 0 (WriteItem).
  buf->assign(p, bytes);
  std::memset(buf->data() + offsetof(ItemHeader, checksum), 0,
              sizeof(it.checksum));
  if (static_cast<uint32_t>(XXH3_64bits(buf->data(), bytes)) != it.checksum)
    return false;
  // Indexed where its key says: the tag and one of its two buckets.
  const std::string_view key(p + sizeof(ItemHeader), it.key_len);
  *hash = HashKey(key, seed_);
  const Probe probe = MakeProbe(*hash, g.bucket_count);
  if ((slot & kSlotTagMask) != probe.tag_bits ||
      (bucket != probe.b1 && bucket != probe.b2)) {
    return false;
  }
  *cls = it.size_class;
  return true;
}

void ArenaWriter::Rebuild(StartReport* r) {
  const Geometry& g = header_->geo;
  // Keys whose write was in flight when the writer died: the arena may be
  // behind the log for them.
  std::unordered_set<uint64_t> pending;
  auto* ring = reinterpret_cast<IntentSlot*>(data_.base() + g.intent_offset);
  for (const auto& e : IntentRing::List(ring, g.intent_slots))
    pending.insert(e.key_hash);
  // Counts start again from what is kept (huge_bytes is this mapping's).
  ArenaStats& st = header_->stats;
  for (std::atomic<uint64_t>* a :
       {&st.items, &st.kv_bytes, &st.chunk_bytes, &st.puts, &st.deletes,
        &st.evictions, &st.index_evictions, &st.put_failures,
        &st.retired_pending, &st.reclaimed, &st.live_readers, &st.readers_seen,
        &st.revocations, &st.free_pages, &st.page_moves, &st.index_moves}) {
    a->store(0, std::memory_order_relaxed);
  }
  for (int c = 0; c < classes_.count(); ++c) {
    ClassInfo& ci = header_->classes[c];
    ci.pages.store(0, std::memory_order_relaxed);
    ci.items.store(0, std::memory_order_relaxed);
    ci.chunk_bytes_used.store(0, std::memory_order_relaxed);
    ci.evictions.store(0, std::memory_order_relaxed);
  }

  struct Kept {
    uint64_t hash;
    uint64_t off;
    std::atomic<uint64_t>* slot;
    int cls;
  };
  std::vector<Kept> kept;
  // One bit per granule: an offset in two slots is a cuckoo move the writer
  // died in (the copy is stored before the original is cleared).
  std::vector<uint64_t> seen(((g.data_bytes >> kGranuleShift) + 63) / 64);
  const uint64_t now = NowUnixMs();
  std::string buf;
  for (uint64_t b = 0; b < g.bucket_count; ++b) {
    for (auto& slot : BucketAt(b)->slot) {
      const uint64_t v = slot.load(std::memory_order_relaxed);
      if (v == 0) continue;
      uint64_t hash = 0;
      int cls = 0;
      const uint64_t off = SlotOffset(v);
      if (!CheckItem(b, v, &buf, &hash, &cls)) {
        ++r->dropped_damaged;
      } else if (pending.contains(hash)) {
        ++r->dropped_pending;
      } else {
        const uint64_t gr = (off - g.data_offset) >> kGranuleShift;
        const uint64_t expiry = ItemAt(off)->expiry_unix_ms;
        if (seen[gr / 64] >> (gr % 64) & 1) {
          slot.store(0, std::memory_order_relaxed);  // the same item again
          continue;
        }
        seen[gr / 64] |= uint64_t{1} << (gr % 64);
        if (expiry == 0 || expiry > now) {
          kept.push_back({hash, off, &slot, cls});
          continue;
        }
        expired_.store(expired_.load(std::memory_order_relaxed) + 1,
                       std::memory_order_relaxed);
      }
      slot.store(0, std::memory_order_relaxed);
      ++r->dropped;
    }
  }
  // Two items of one key (only damage makes them): which is newer is
  // unknown, so neither stays.
  std::sort(kept.begin(), kept.end(),
            [](const Kept& a, const Kept& b) { return a.hash < b.hash; });
  auto key_of = [this](uint64_t off) {
    const ItemHeader* it = ItemAt(off);
    return std::string_view(reinterpret_cast<const char*>(it + 1), it->key_len);
  };
  std::vector<bool> drop(kept.size());
  for (size_t i = 0; i + 1 < kept.size(); ++i) {
    for (size_t j = i + 1; j < kept.size() && kept[j].hash == kept[i].hash;
         ++j) {
      if (key_of(kept[i].off) == key_of(kept[j].off)) drop[i] = drop[j] = true;
    }
  }
  for (size_t i = 0; i < kept.size(); ++i) {
    const Kept& k = kept[i];
    // A page belongs to one class: an item of another class in it is damage.
    if (drop[i] || !slabs_.Adopt(k.off, k.cls)) {
      k.slot->store(0, std::memory_order_relaxed);
      ++r->dropped;
      ++r->dropped_damaged;
      continue;
    }
    evictor_.Adopt(k.off, k.cls);
    const ItemHeader* it = ItemAt(k.off);
    if (it->expiry_unix_ms != 0) ++expiring_items_;
    const uint32_t chunk = classes_.chunk_bytes(k.cls);
    st.items.fetch_add(1, std::memory_order_relaxed);
    st.kv_bytes.fetch_add(it->key_len + uint64_t{it->value_len},
                          std::memory_order_relaxed);
    st.chunk_bytes.fetch_add(chunk, std::memory_order_relaxed);
    header_->classes[k.cls].items.fetch_add(1, std::memory_order_relaxed);
    header_->classes[k.cls].chunk_bytes_used.fetch_add(
        chunk, std::memory_order_relaxed);
    ++r->kept;
  }
  // Everything the index does not reach is free. A reader of the previous
  // writer can be reading only what held an item when it died (a live or a
  // retired one): a chunk that starts with an item's magic, or a page with
  // any byte set. Those wait for the lease; the rest is free at once.
  slabs_.FinishAdopt(
      [this](uint64_t off) { return evictor_.StateOf(off) == Evictor::kMain; },
      [this](uint64_t off, uint64_t bytes) {
        const char* p = data_.base() + off;
        if (bytes == header_->geo.page_bytes) return !AllZero(p, bytes);
        uint16_t magic;
        std::memcpy(&magic, p, sizeof(magic));
        return magic == kItemMagic;
      });
  // Every pending key is gone from the index; the ring starts empty.
  for (uint32_t i = 0; i < g.intent_slots; ++i) {
    ring[i].seq_state.store(0, std::memory_order_relaxed);
    ring[i].key_hash.store(0, std::memory_order_relaxed);
  }
}

}  // namespace ember::shm
