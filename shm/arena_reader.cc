// shm/arena_reader.cc: attaching to an arena and the read protocol:
// announce the epoch, probe two buckets, validate, compare, return a view.
#include "shm/arena_reader.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <utility>

#include "shm/arena_writer.h"
#include "shm/attach.h"
#include "shm/barrier.h"
#include "shm/key_hash.h"
#include "shm/layout.h"
#include "shm/reclaimer.h"

namespace ember::shm {

Status ArenaReader::Open(const std::string& name, const std::string& run_dir,
                         std::unique_ptr<ArenaReader>* out,
                         int64_t server_uid) {
  EMBER_RETURN_IF_ERROR(ValidateName(name));
  RunDir dir;
  EMBER_RETURN_IF_ERROR(RunDir::OpenForReader(run_dir, &dir));
  if (server_uid >= 0 && dir.owner() != static_cast<uid_t>(server_uid)) {
    return Status::IOError("run_dir " + run_dir + " belongs to uid " +
                           std::to_string(dir.owner()) +
                           ", not to the server's uid " +
                           std::to_string(server_uid) + "; refusing it");
  }
  ClaimedSlot claim;
  EMBER_RETURN_IF_ERROR(ClaimSlot(dir, name, &claim));
  const std::string what = ShmPath(PathsFor(name).data_shm);
  // Whatever came over the socket is checked before it is mapped: the data
  // segment must be the server's and read-only to us; the memfds must be
  // sealed, so no other holder can shrink them under our mappings.
  struct stat st;
  if (fstat(claim.data_fd, &st) != 0 || !S_ISREG(st.st_mode) ||
      st.st_uid != dir.owner() ||
      static_cast<uint64_t>(st.st_size) < kHeaderBytes ||
      (fcntl(claim.data_fd, F_GETFL) & O_ACCMODE) != O_RDONLY) {
    return Status::Corruption(what +
                              ": the server's data descriptor is not "
                              "a read-only segment of run_dir's owner");
  }
  uint64_t hint_bytes = 0, slot_bytes = 0;
  if (!IsSizeSealed(claim.hints_fd, 1, &hint_bytes) ||
      !IsSizeSealed(claim.slot_fd, sizeof(ReaderSlot), &slot_bytes)) {
    return Status::Corruption(what + ": hints or slot memfd is not sealed");
  }
  std::unique_ptr<ArenaReader> r(new ArenaReader());
  // Aligned and advised like the writer's, so the segment's huge pages (if
  // the kernel gave it any) are mapped whole here too.
  EMBER_RETURN_IF_ERROR(Mapping::Map(claim.data_fd, st.st_size, false, what,
                                     &r->data_map_, /*huge_aligned=*/true));
  madvise(r->data_map_.base(), r->data_map_.size(), MADV_HUGEPAGE);
  EMBER_RETURN_IF_ERROR(
      Mapping::Map(claim.hints_fd, hint_bytes, true, "hints", &r->hints_map_));
  EMBER_RETURN_IF_ERROR(Mapping::Map(claim.slot_fd, sizeof(ReaderSlot), true,
                                     "slot page", &r->slot_map_));
  r->conn_ = std::exchange(claim.conn, -1);
  r->slot_index_ = claim.slot_index;
  EMBER_RETURN_IF_ERROR(
      r->Init(what, r->data_map_.base(), r->data_map_.size(),
              r->hints_map_.base(), r->hints_map_.size(),
              reinterpret_cast<ReaderSlot*>(r->slot_map_.base())));
  if (claim.generation != r->header_->generation.load()) {
    return Status::Unavailable("arena " + name + " is being replaced");
  }
  *out = std::move(r);
  return Status::Ok();
}

Status ArenaReader::Attach(ArenaWriter& writer,
                           std::unique_ptr<ArenaReader>* out) {
  std::unique_ptr<ArenaReader> r(new ArenaReader());
  r->own_slot_ = std::make_unique<ReaderSlot>();
  if (!writer.registry()->Add(r->own_slot_.get(), getpid(), geteuid(), true,
                              &r->slot_index_)) {
    return Status::Busy("all " + std::to_string(writer.options().max_readers) +
                        " reader slots of arena " + writer.options().name +
                        " are taken");
  }
  r->registry_ = writer.registry();
  EMBER_RETURN_IF_ERROR(
      r->Init(ShmPath(PathsFor(writer.options().name).data_shm),
              writer.data_base(), writer.data_bytes(), writer.hints_base(),
              writer.hints_bytes(), r->own_slot_.get()));
  *out = std::move(r);
  return Status::Ok();
}

Status ArenaReader::Init(const std::string& what, const char* data,
                         uint64_t data_size, char* hints, uint64_t hints_size,
                         ReaderSlot* slot) {
  header_ = reinterpret_cast<const ArenaHeader*>(data);
  const ArenaHeader& h = *header_;
  if (h.state.load(std::memory_order_acquire) !=
          static_cast<uint32_t>(ArenaState::kActive) &&
      (h.magic == kArenaMagic || h.magic == 0)) {
    // Checked first: a header still being written is not corrupt.
    return Status::Unavailable(what + " is not active");
  }
  EMBER_RETURN_IF_ERROR(ValidateHeader(h, data_size, what));
  if (hints_size < (h.geo.data_bytes >> kGranuleShift)) {
    return Status::Corruption(what + ": hints smaller than the data area");
  }
  slot_ = slot;
  // A dead predecessor may have left an announce behind; the slot is ours.
  slot_->announce.store(0, std::memory_order_release);
  slot_->pid.store(static_cast<uint32_t>(getpid()), std::memory_order_relaxed);
  base_ = data;
  buckets_ = reinterpret_cast<const Bucket*>(base_ + h.geo.index_offset);
  hints_ = reinterpret_cast<std::atomic<uint8_t>*>(hints);
  // A reader may always use the exchange; the plain store needs this
  // process registered for the writer's membarrier.
  plain_announce_ =
      h.barrier_mode == static_cast<uint32_t>(BarrierMode::kMembarrier) &&
      RegisterMembarrier();
  seed_ = h.hash_seed;
  generation_ = h.generation.load(std::memory_order_acquire);
  bucket_count_ = h.geo.bucket_count;
  data_offset_ = h.geo.data_offset;
  data_end_ = h.geo.data_offset + h.geo.data_bytes;
  return Status::Ok();
}

ArenaReader::~ArenaReader() {
  if (slot_ != nullptr) {
    slot_->announce.store(0, std::memory_order_release);
    slot_->pid.store(0, std::memory_order_relaxed);
  }
  if (registry_ != nullptr) registry_->Remove(slot_index_);
  if (conn_ >= 0) close(conn_);  // the server frees the slot page
}

Status ArenaReader::Get(std::string_view key, std::string* value) {
  ReadGuard guard(this);
  if (!guard.status().ok()) return guard.status();
  std::string_view v;
  Status s = guard.Get(key, &v);
  if (s.ok()) value->assign(v.data(), v.size());
  Status r = guard.Release();
  return r.ok() ? s : r;
}

inline bool ArenaReader::Match(uint64_t slot, std::string_view key,
                               uint64_t* now_ms,
                               std::string_view* value) const {
  // Bounds before trust: a corrupt slot must never lead outside the data.
  const uint64_t off = SlotOffset(slot);
  if (off < data_offset_ || off + sizeof(ItemHeader) > data_end_) return false;
  const auto* it = reinterpret_cast<const ItemHeader*>(base_ + off);
  if (it->magic != kItemMagic || it->key_len != key.size()) return false;
  const uint64_t end =
      off + sizeof(ItemHeader) + it->key_len + uint64_t{it->value_len};
  if (end > data_end_) return false;
  const char* k = reinterpret_cast<const char*>(it + 1);
  if (!KeyEquals(k, key.data(), key.size())) return false;
  if (it->expiry_unix_ms != 0) {
    if (*now_ms == 0) *now_ms = NowUnixMs();
    if (it->expiry_unix_ms <= *now_ms) return false;
  }
  // Sampled: one hit in kHintSample marks the chunk. A key read often is
  // marked long before the CLOCK hand returns; skipping the load on the
  // other hits keeps a third cache line off most lookups.
  if ((++hint_clock_ & (kHintSample - 1)) == 0) {
    std::atomic<uint8_t>& hint = hints_[(off - data_offset_) >> kGranuleShift];
    if (hint.load(std::memory_order_relaxed) == 0) {
      hint.store(1, std::memory_order_relaxed);
    }
  }
  *value = std::string_view(k + it->key_len, it->value_len);
  return true;
}

bool ArenaReader::Find(std::string_view key, const Probe& p, uint64_t* now_ms,
                       std::string_view* value) const {
  // A cuckoo move stores the copy in the other bucket before it clears the
  // original, but a reader that looked at the destination before the copy
  // and at the source after the clear saw neither. So a miss looks once
  // more: the move it raced has completed by then (another move of the same
  // key in that window is needed to miss again). Misses only: a hit pays
  // nothing, and a miss is followed by a socket round trip anyway.
  for (int look = 0; look < 2; ++look) {
    const Bucket* b = &buckets_[p.b1];
    for (int pass = 0; pass < 2; ++pass) {
      for (uint32_t m = TagCandidates(*b, p.tag_bits); m != 0; m &= m - 1) {
        // seq_cst: pairs with the announce (a plain load on x86).
        const uint64_t v =
            b->slot[__builtin_ctz(m)].load(std::memory_order_seq_cst);
        if (v != 0 && (v & kSlotTagMask) == p.tag_bits &&
            Match(v, key, now_ms, value)) {
          return true;
        }
      }
      if (p.b2 == p.b1) break;
      b = &buckets_[p.b2];
    }
  }
  return false;
}

ReadGuard::ReadGuard(ArenaReader* reader) : reader_(reader) { Renew(); }

bool ReadGuard::Renew() {
  ArenaReader* reader = reader_;
  const ArenaHeader& h = *reader->header_;
  now_ms_ = 0;
  if (h.state.load(std::memory_order_acquire) !=
      static_cast<uint32_t>(ArenaState::kActive)) {
    status_ = Status::Unavailable("arena is not active");
    return false;
  }
  // A restarted writer cannot see this slot: reading on would be unsafe.
  if (h.generation.load(std::memory_order_relaxed) != reader->generation_) {
    status_ = Status::Unavailable("arena taken over by a restarted server");
    return false;
  }
  if (!status_.ok()) status_ = Status::Ok();
  // Sampled before the announce: a revocation of this guard (which can only
  // follow the announce) then always differs from it.
  revocations_ = reader->slot_->revocations.load(std::memory_order_acquire);
  const uint64_t epoch = h.global_epoch.load(std::memory_order_acquire);
  if (reader->plain_announce_) {
    // Ordered before the index loads by the writer's membarrier; the
    // signal fence keeps the compiler from moving the loads above it.
    reader->slot_->announce.store(epoch << 1 | 1, std::memory_order_relaxed);
    std::atomic_signal_fence(std::memory_order_seq_cst);
  } else {
    // A full barrier: the index loads below cannot move above it.
    reader->slot_->announce.exchange(epoch << 1 | 1, std::memory_order_seq_cst);
  }
  held_ = true;
  return true;
}

Status ReadGuard::Get(std::string_view key, std::string_view* value) {
  if (!held_)
    return status_.ok() ? Status::Unavailable("guard released") : status_;
  const Probe p =
      MakeProbe(HashKey(key, reader_->seed_), reader_->bucket_count_);
  if (reader_->Find(key, p, &now_ms_, value)) return Status::Ok();
  return Status::NotFound();
}

Status ReadGuard::Get(std::string_view key, std::string_view* value,
                      uint64_t* expiry_ms) {
  Status s = Get(key, value);
  if (s.ok()) {
    // The item is header | key | value, contiguous (arena_format.h).
    const auto* it = reinterpret_cast<const ItemHeader*>(
        value->data() - key.size() - sizeof(ItemHeader));
    *expiry_ms = it->expiry_unix_ms;
  }
  return s;
}

size_t ReadGuard::MultiGet(std::span<const std::string_view> keys,
                           std::string_view* values, bool* found) {
  constexpr size_t kBatch = 16;
  size_t hits = 0;
  const ArenaReader& r = *reader_;
  for (size_t start = 0; start < keys.size(); start += kBatch) {
    const size_t n = std::min(kBatch, keys.size() - start);
    const std::string_view* ks = keys.data() + start;
    Probe probes[kBatch];
    uint64_t candidate[kBatch];
    // A: hash every key and start loading its preferred bucket.
    for (size_t i = 0; i < n; ++i) {
      probes[i] = MakeProbe(HashKey(ks[i], r.seed_), r.bucket_count_);
      __builtin_prefetch(&r.buckets_[probes[i].b1]);
    }
    // B: pick each key's first tag match in b1 and start loading its item;
    // keys with none there start loading b2 instead.
    auto pick = [&](size_t i, uint64_t bucket_index) {
      const Bucket& bucket = r.buckets_[bucket_index];
      const uint32_t m = TagCandidates(bucket, probes[i].tag_bits);
      candidate[i] =
          m == 0
              ? 0
              : bucket.slot[__builtin_ctz(m)].load(std::memory_order_seq_cst);
      const uint64_t off = SlotOffset(candidate[i]);
      if (off >= r.data_offset_ && off < r.data_end_) {
        __builtin_prefetch(r.base_ + off);
      }
    };
    for (size_t i = 0; i < n; ++i) {
      pick(i, probes[i].b1);
      if (candidate[i] == 0) __builtin_prefetch(&r.buckets_[probes[i].b2]);
    }
    // B2: the same in b2 for those keys.
    for (size_t i = 0; i < n; ++i) {
      if (candidate[i] == 0 && probes[i].b2 != probes[i].b1)
        pick(i, probes[i].b2);
    }
    // C: check the candidate; anything else takes the full two-bucket path.
    for (size_t i = 0; i < n; ++i) {
      std::string_view& v = values[start + i];
      bool hit = held_ && candidate[i] != 0 &&
                 (candidate[i] & kSlotTagMask) == probes[i].tag_bits &&
                 r.Match(candidate[i], ks[i], &now_ms_, &v);
      if (!hit && held_) hit = r.Find(ks[i], probes[i], &now_ms_, &v);
      found[start + i] = hit;
      if (hit) {
        ++hits;
      } else {
        v = std::string_view();
      }
    }
  }
  return hits;
}

bool ReadGuard::revoked() const {
  return held_ &&
         (reader_->slot_->revocations.load(std::memory_order_acquire) !=
              revocations_ ||
          reader_->header_->generation.load(std::memory_order_acquire) !=
              reader_->generation_);
}

Status ReadGuard::Release() {
  if (!held_) return Status::Ok();
  held_ = false;
  reader_->slot_->announce.store(0, std::memory_order_release);
  if (reader_->slot_->revocations.load(std::memory_order_acquire) !=
      revocations_) {
    return Status::Revoked(
        "guard held past reader_lease_ms while the arena was short of memory; "
        "values read under it may have changed");
  }
  // A restarted writer holds back reuse for one lease after it took over;
  // past that, values read under a guard from before may have changed.
  if (reader_->header_->generation.load(std::memory_order_acquire) !=
      reader_->generation_) {
    return Status::Revoked(
        "the arena was taken over by a restarted server while the guard was "
        "held; values read under it may have changed");
  }
  return Status::Ok();
}

}  // namespace ember::shm
