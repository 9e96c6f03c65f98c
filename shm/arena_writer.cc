// shm/arena_writer.cc: creating an arena and the write protocol: allocate a
// chunk, write the item, publish it with one slot store, retire the old one.
#include "shm/arena_writer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <random>

#include "shm/barrier.h"
#include "shm/clock.h"
#include "shm/key_hash.h"
#include "shm/layout.h"

namespace ember::shm {
namespace {

// Retires a stale data segment of a dead writer, refusing one owned by
// another user (it is not ours to remove) and one whose writer lives (it
// holds the segment's writer lock: a server with the same name and another
// run_dir). A dead writer's segment is marked kRetired first: readers still
// mapping it (a killed server leaves it kActive) then stop reading it at
// their next guard instead of serving its values while this writer takes
// new writes elsewhere.
Status ClearStale(const std::string& shm_name) {
  Segment old;
  bool writable = true;
  Status s = Segment::Open(shm_name, writable, 0, &old);
  if (s.code() == Code::kIOError) {  // not writable by us: look only
    writable = false;
    s = Segment::Open(shm_name, writable, 0, &old);
  }
  if (s.code() == Code::kUnavailable) return Status::Ok();
  if (s.ok() && old.owner() != geteuid()) {
    return Status::IOError(ShmPath(shm_name) + " is owned by uid " +
                           std::to_string(old.owner()) + ", not uid " +
                           std::to_string(geteuid()) +
                           "; remove it or run as its owner");
  }
  // A live writer holds the segment's write lock. Taking it ourselves (not
  // just probing) also holds off a writer making this very segment until it
  // is retired and unlinked; readers' read locks (all a reader can take)
  // may keep us from taking it, but never make a dead writer look alive.
  const bool live =
      s.ok() && writable &&
      (SegmentWriterAlive(old.fd()) ||
       (!LockSegmentWriter(old.fd()) && SegmentWriterAlive(old.fd())));
  if (live) {
    const auto* h = reinterpret_cast<const ArenaHeader*>(old.base());
    const uint32_t pid = old.size() >= sizeof(ArenaHeader)
                             ? h->writer_pid.load(std::memory_order_relaxed)
                             : 0;
    return Status::Busy(ShmPath(shm_name) +
                        " is in use by a live server (pid " +
                        std::to_string(pid) +
                        "), maybe with another run_dir; pick another name");
  }
  if (s.ok() && writable && old.size() >= sizeof(ArenaHeader)) {
    auto* h = reinterpret_cast<ArenaHeader*>(old.base());
    if (h->magic == kArenaMagic) {
      h->state.store(static_cast<uint32_t>(ArenaState::kRetired),
                     std::memory_order_release);
    }
  }
  // Ours (or unreadable as an arena): readers see it vanish, and detach
  // when they find kRetired or a generation change.
  if (s.ok()) {
    Segment::RemoveIfSame(shm_name, old.fd());
  } else {
    Segment::Remove(shm_name);
  }
  return Status::Ok();
}

// A read-only descriptor of the segment behind `fd`, for readers: reopened
// through /proc so it is the same file whatever /dev/shm's names say now.
int ReopenReadOnly(int fd, Status* s) {
  const std::string proc = "/proc/self/fd/" + std::to_string(fd);
  const int ro = open(proc.c_str(), O_RDONLY | O_CLOEXEC);
  *s = ro >= 0 ? Status::Ok()
               : Status::IOError("cannot reopen the data segment read-only: " +
                                 std::string(std::strerror(errno)));
  return ro;
}

}  // namespace

Status ArenaWriter::Prepare(const ArenaOptions& options, Prepared* p) {
  EMBER_RETURN_IF_ERROR(ValidateName(options.name));
  EMBER_RETURN_IF_ERROR(ComputeGeometry(options, &p->geo));
  EMBER_RETURN_IF_ERROR(RunDir::OpenForServer(options.run_dir, &p->dir));
  p->lock = std::make_unique<WriterLock>();
  return p->lock->Acquire(p->dir, PathsFor(options.name).writer_file);
}

Status ArenaWriter::Create(const ArenaOptions& options,
                           std::unique_ptr<ArenaWriter>* out) {
  Prepared p;
  EMBER_RETURN_IF_ERROR(Prepare(options, &p));
  std::unique_ptr<ArenaWriter> w;
  EMBER_RETURN_IF_ERROR(CreateFresh(options, std::move(p), 0, &w));
  // On failure ~ArenaWriter marks it kClean (or removes it).
  EMBER_RETURN_IF_ERROR(w->StartBroker());
  w->SetState(ArenaState::kActive);
  *out = std::move(w);
  return Status::Ok();
}

Status ArenaWriter::CreateFresh(const ArenaOptions& options, Prepared p,
                                uint64_t store_id,
                                std::unique_ptr<ArenaWriter>* out) {
  const ArenaPaths paths = PathsFor(options.name);
  EMBER_RETURN_IF_ERROR(ClearStale(paths.data_shm));
  // Created 0600 and opened to the group only once locked, so no reader
  // can hold a descriptor of a segment whose writer lock is not yet taken.
  Segment data;
  EMBER_RETURN_IF_ERROR(Segment::Create(paths.data_shm, options.arena_bytes,
                                        0600, &data, options.huge_pages));
  if (fchmod(data.fd(), 0640) != 0) {
    Segment::RemoveIfSame(paths.data_shm, data.fd());
    return Status::IOError("cannot open " + ShmPath(paths.data_shm) +
                           " to the group: " + std::strerror(errno));
  }
  // Identity and geometry first, state last: a reader that sees kActive
  // (acquire) sees everything before it.
  auto* h = reinterpret_cast<ArenaHeader*>(data.base());
  h->magic = kArenaMagic;
  h->layout_version = kLayoutVersion;
  h->abi_hash = AbiHash();
  h->segment_bytes = data.size();
  h->hash_seed = std::random_device{}() | uint64_t{std::random_device{}()}
                                              << 32;
  h->created_unix_ms = NowUnixMs();
  h->creator_uid = geteuid();
  h->state.store(static_cast<uint32_t>(ArenaState::kInit));
  h->generation.store(1);
  h->global_epoch.store(1);
  h->boot_id = BootId();
  h->store_id = store_id;
  h->geo = p.geo;
  for (size_t i = 0; i < 256; ++i) h->db_map[i].store(static_cast<uint8_t>(i));
  SizeClasses classes(p.geo.page_bytes);
  for (int c = 0; c < classes.count(); ++c) {
    h->classes[c].chunk_bytes = classes.chunk_bytes(c);
  }
  const int fd = data.fd();
  Status s = Assemble(options, std::move(p), std::move(data), out);
  if (!s.ok()) Segment::RemoveIfSame(paths.data_shm, fd);
  return s;
}

Status ArenaWriter::Assemble(const ArenaOptions& options, Prepared p,
                             Segment data, std::unique_ptr<ArenaWriter>* out) {
  Status s;
  int ro_fd = ReopenReadOnly(data.fd(), &s);
  int hints_fd = -1;
  Mapping hints;
  const uint64_t hint_bytes = HintBytes(p.geo);
  if (s.ok()) {
    hints_fd =
        CreateSealedMemfd("ember." + options.name + ".hints", hint_bytes, &s);
  }
  if (s.ok()) s = Mapping::Map(hints_fd, hint_bytes, true, "hints", &hints);
  if (!s.ok()) {
    if (ro_fd >= 0) close(ro_fd);
    if (hints_fd >= 0) close(hints_fd);
    return s;
  }
  auto* h = reinterpret_cast<ArenaHeader*>(data.base());
  h->writer_pid.store(getpid());
#if defined(__SANITIZE_THREAD__)
  const bool membarrier = false;  // TSan cannot see membarrier's ordering
#else
  const bool membarrier = options.use_membarrier && RegisterMembarrier();
#endif
  h->barrier_mode = static_cast<uint32_t>(membarrier ? BarrierMode::kMembarrier
                                                     : BarrierMode::kExchange);
  h->heartbeat_unix_ms.store(NowUnixMs());
  h->stats.huge_bytes.store(HugeMappedBytes(data.base()));
  out->reset(new ArenaWriter(options, std::move(p.dir), std::move(data), ro_fd,
                             hints_fd, std::move(hints), std::move(p.lock)));
  return Status::Ok();
}

Status ArenaWriter::StartBroker() {
  return SlotBroker::Start(dir_, options_.name, data_ro_fd_, hints_fd_, header_,
                           &registry_, &broker_);
}

ArenaWriter::ArenaWriter(const ArenaOptions& options, RunDir dir, Segment data,
                         int data_ro_fd, int hints_fd, Mapping hints,
                         std::unique_ptr<WriterLock> lock)
    : options_(options),
      dir_(std::move(dir)),
      data_(std::move(data)),
      data_ro_fd_(data_ro_fd),
      hints_fd_(hints_fd),
      hints_(std::move(hints)),
      writer_lock_(std::move(lock)),
      header_(reinterpret_cast<ArenaHeader*>(data_.base())),
      registry_(header_, header_->geo.max_readers),
      seed_(header_->hash_seed),
      classes_(header_->geo.page_bytes),
      slabs_(header_, &classes_),
      evictor_(header_->geo, &slabs_,
               reinterpret_cast<std::atomic<uint8_t>*>(hints_.base()),
               classes_.count()),
      reclaimer_(header_, &registry_, options.reader_lease_ms),
      intents_(reinterpret_cast<IntentSlot*>(data_.base() +
                                             header_->geo.intent_offset),
               header_->geo.intent_slots),
      steal_cursor_(classes_.count(), 0) {}

ArenaWriter::~ArenaWriter() {
  broker_.reset();  // no new readers; clients' slots are let go
  if (options_.remove_on_close) {
    SetState(ArenaState::kRetired);
    Segment::RemoveIfSame(PathsFor(options_.name).data_shm, data_.fd());
    const ArenaPaths p = PathsFor(options_.name);
    dir_.Unlink(p.attach_socket);
    dir_.Unlink(p.writer_file);
  } else {
    SetState(ArenaState::kClean);
  }
  close(data_ro_fd_);
  close(hints_fd_);
  // The segment (and its writer lock) before the run_dir flock: a writer
  // that gets the flock next finds the segment's lock free.
  data_ = Segment();
}

void ArenaWriter::SetState(ArenaState s) {
  header_->state.store(static_cast<uint32_t>(s), std::memory_order_release);
}

void ArenaWriter::Destroy(const std::string& name, const std::string& run_dir) {
  const ArenaPaths p = PathsFor(name);
  Segment::Remove(p.data_shm);
  RunDir dir;
  if (RunDir::OpenExisting(run_dir, &dir).ok()) {
    dir.Unlink(p.writer_file);
    dir.Unlink(p.attach_socket);
  }
}

Status ArenaWriter::DropStopped(const std::string& name, uint64_t* bytes) {
  EMBER_RETURN_IF_ERROR(ValidateName(name));
  const std::string shm_name = PathsFor(name).data_shm;
  Segment seg;
  EMBER_RETURN_IF_ERROR(Segment::Open(shm_name, /*writable=*/false, 0, &seg));
  *bytes = seg.size();
  if (SegmentWriterAlive(seg.fd())) {
    const auto* h = reinterpret_cast<const ArenaHeader*>(seg.base());
    const uint32_t pid = seg.size() >= sizeof(ArenaHeader)
                             ? h->writer_pid.load(std::memory_order_relaxed)
                             : 0;
    return Status::Busy(ShmPath(shm_name) + " is held by a live server (pid " +
                        std::to_string(pid) + "); stop it first");
  }
  if (seg.owner() != geteuid() && geteuid() != 0) {
    return Status::IOError(ShmPath(shm_name) + " belongs to uid " +
                           std::to_string(seg.owner()) +
                           "; only its owner (or root) may drop it");
  }
  // ClearStale does the rest: lock where readers allow, retire, unlink.
  return ClearStale(shm_name);
}

uint64_t ArenaWriter::HashOf(std::string_view key) const {
  return HashKey(key, seed_);
}

void ArenaWriter::WriteItem(uint64_t off, int cls, std::string_view key,
                            std::string_view value, uint64_t expiry) {
  char* p = data_.base() + off;
  ItemHeader h{};
  h.magic = kItemMagic;
  h.size_class = static_cast<uint8_t>(cls);
  h.value_len = static_cast<uint32_t>(value.size());
  h.key_len = static_cast<uint16_t>(key.size());
  h.expiry_unix_ms = expiry;
  std::memcpy(p, &h, sizeof(h));
  std::memcpy(p + sizeof(h), key.data(), key.size());
  std::memcpy(p + sizeof(h) + key.size(), value.data(), value.size());
  const uint64_t sum = XXH3_64bits(p, sizeof(h) + key.size() + value.size());
  reinterpret_cast<ItemHeader*>(p)->checksum = static_cast<uint32_t>(sum);
}

void ArenaWriter::Unlink(const SlotRef& ref, bool clear) {
  if (clear) ref.slot->store(0, std::memory_order_seq_cst);
  const ItemHeader* it = ItemAt(ref.off);
  const int cls = it->size_class;
  if (it->expiry_unix_ms != 0) --expiring_items_;
  evictor_.OnUnlink(ref.off, cls);
  reclaimer_.Retire(ref.off);
  ++retires_since_reclaim_;
  auto& st = header_->stats;
  st.items.fetch_sub(1, std::memory_order_relaxed);
  st.kv_bytes.fetch_sub(it->key_len + uint64_t{it->value_len},
                        std::memory_order_relaxed);
  st.chunk_bytes.fetch_sub(classes_.chunk_bytes(cls),
                           std::memory_order_relaxed);
  header_->classes[cls].items.fetch_sub(1, std::memory_order_relaxed);
  header_->classes[cls].chunk_bytes_used.fetch_sub(classes_.chunk_bytes(cls),
                                                   std::memory_order_relaxed);
}

void ArenaWriter::CountIfExpired(uint64_t off) {
  const uint64_t expiry = ItemAt(off)->expiry_unix_ms;
  if (expiry != 0 && expiry <= NowUnixMs())
    expired_.store(expired_.load(std::memory_order_relaxed) + 1,
                   std::memory_order_relaxed);
}

bool ArenaWriter::Evict(uint64_t off, bool from_small) {
  const ItemHeader* it = ItemAt(off);
  const uint64_t hash = HashKey(
      std::string_view(reinterpret_cast<const char*>(it + 1), it->key_len),
      seed_);
  SlotRef ref = FindOffset(hash, off);
  assert(ref.slot != nullptr && "live chunk missing from the index");
  if (ref.slot == nullptr) return false;
  const int cls = it->size_class;
  Unlink(ref, /*clear=*/true);
  if (from_small) evictor_.RememberEvicted(hash);
  header_->stats.evictions.fetch_add(1, std::memory_order_relaxed);
  header_->classes[cls].evictions.fetch_add(1, std::memory_order_relaxed);
  return true;
}

size_t ArenaWriter::EvictBatch(int cls, size_t n) {
  size_t done = 0;
  while (done < n) {
    Evictor::Victim v = evictor_.Next(cls);
    if (v.off == 0 || !Evict(v.off, v.from_small)) break;
    ++done;
  }
  return done;
}

bool ArenaWriter::StealPage(int cls) {
  const int victim = slabs_.RichestClass(cls);
  if (victim < 0) return false;
  const auto& pages = slabs_.PagesOf(victim);
  uint32_t& cursor = steal_cursor_[victim];
  for (size_t tries = 0; tries < pages.size(); ++tries) {
    const uint32_t page = pages[cursor++ % pages.size()];
    if (slabs_.Draining(page)) continue;
    const uint32_t chunk = slabs_.ChunkBytes(victim);
    const uint64_t base = slabs_.PageOffset(page);
    for (uint32_t i = 0; i < slabs_.ChunksPerPage(victim); ++i) {
      const uint64_t off = base + uint64_t{i} * chunk;
      const auto st = evictor_.StateOf(off);
      if (st == Evictor::kSmall || st == Evictor::kMain) Evict(off, false);
    }
    slabs_.StartDrain(page);
    return true;
  }
  return false;
}

uint64_t ArenaWriter::SteadyMs() { return NowMonotonicMs(); }

size_t ArenaWriter::ReclaimNow(bool memory_short) {
  retires_since_reclaim_ = 0;
  // After a warm restart, readers of the previous writer are invisible to
  // the scan: nothing retired is freed until their lease is over.
  if (slabs_.holding()) return 0;
  return reclaimer_.Reclaim(memory_short, [this](uint64_t off) {
    evictor_.OnFree(off);
    slabs_.Free(off);
  });
}

uint64_t ArenaWriter::AllocateChunk(int cls) {
  // A reader holds an epoch for about one lookup, but one preempted inside
  // a guard holds it for a scheduler slice. The writer never waits that
  // long: a few short rounds, then kBusy (the key is just not cached).
  constexpr int kRounds = 32;
  // Holding after a warm restart: evicting would free nothing for now.
  if (slabs_.holding()) return slabs_.Allocate(cls);
  bool evicted = false;
  for (int round = 0; round < kRounds; ++round) {
    if (uint64_t off = slabs_.Allocate(cls)) return off;
    if (ReclaimNow(/*memory_short=*/round > 0) > 0) continue;
    if (!evicted) {
      evicted = true;
      // Evict ahead in a batch so one epoch scan frees several chunks, but
      // not while many evicted chunks already wait for a slow reader.
      const uint64_t items =
          evictor_.small_items(cls) + evictor_.main_items(cls);
      const size_t batch = std::clamp<uint64_t>(items / 64, 1, 64);
      if (reclaimer_.pending() < 4 * batch && EvictBatch(cls, batch) == 0 &&
          !StealPage(cls) && reclaimer_.pending() == 0) {
        return 0;  // nothing to evict, no page to take, nothing to wait for
      }
      if (ReclaimNow(false) > 0) continue;
    }
    for (int i = 0; i < 64; ++i) __builtin_ia32_pause();  // ~1-2 us
  }
  return 0;
}

Status ArenaWriter::Put(std::string_view key, std::string_view value,
                        uint64_t expiry_unix_ms) {
  if (key.empty() || key.size() > header_->geo.max_key_bytes) {
    return Status::InvalidArgument(
        "key of " + std::to_string(key.size()) + " bytes; keys are 1.." +
        std::to_string(header_->geo.max_key_bytes) + " bytes");
  }
  const uint64_t hash = HashKey(key, seed_);
  const uint64_t item_bytes = sizeof(ItemHeader) + key.size() + value.size();
  const int cls = classes_.ClassFor(item_bytes);
  uint64_t off = 0;
  if (cls >= 0) off = AllocateChunk(cls);
  if (off == 0) {
    // Not cached: make sure no older value stays visible either.
    if (SlotRef old = Find(hash, key); old.slot) {
      CountIfExpired(old.off);
      Unlink(old, true);
    }
    if (cls < 0) {
      return Status::InvalidArgument("item of " + std::to_string(item_bytes) +
                                     " bytes exceeds page_bytes " +
                                     std::to_string(header_->geo.page_bytes));
    }
    header_->stats.put_failures.fetch_add(1, std::memory_order_relaxed);
    return Status::Busy("arena full: no " +
                        std::to_string(classes_.chunk_bytes(cls)) +
                        "-byte chunk could be freed (readers holding guards?)");
  }
  WriteItem(off, cls, key, value, expiry_unix_ms);
  if (expiry_unix_ms != 0) ++expiring_items_;
  const uint64_t tag = MakeProbe(hash, header_->geo.bucket_count).tag_bits;
  // Looked up after allocating: eviction may have removed the old item.
  SlotRef old = Find(hash, key);
  if (old.slot != nullptr) {
    evictor_.OnPublish(off, cls, hash, old.off);
    old.slot->store(MakeSlot(tag, off), std::memory_order_seq_cst);
    CountIfExpired(old.off);
    Unlink(old, /*clear=*/false);
  } else {
    std::atomic<uint64_t>* slot = FreeSlot(hash);
    evictor_.OnPublish(off, cls, hash, 0);
    slot->store(MakeSlot(tag, off), std::memory_order_seq_cst);
  }
  auto& st = header_->stats;
  st.puts.fetch_add(1, std::memory_order_relaxed);
  st.items.fetch_add(1, std::memory_order_relaxed);
  st.kv_bytes.fetch_add(key.size() + value.size(), std::memory_order_relaxed);
  st.chunk_bytes.fetch_add(classes_.chunk_bytes(cls),
                           std::memory_order_relaxed);
  header_->classes[cls].items.fetch_add(1, std::memory_order_relaxed);
  header_->classes[cls].chunk_bytes_used.fetch_add(classes_.chunk_bytes(cls),
                                                   std::memory_order_relaxed);
  // Tick() reclaims every millisecond; reclaim here only when a burst of
  // writes retires many chunks in between (each scan may cost a membarrier,
  // an interrupt on every CPU that runs a reader).
  if (retires_since_reclaim_ >= 4096) ReclaimNow(false);
  return Status::Ok();
}

Status ArenaWriter::Delete(std::string_view key) {
  SlotRef ref = Find(HashKey(key, seed_), key);
  if (ref.slot == nullptr) return Status::NotFound();
  CountIfExpired(ref.off);
  Unlink(ref, /*clear=*/true);
  header_->stats.deletes.fetch_add(1, std::memory_order_relaxed);
  return Status::Ok();
}

void ArenaWriter::Clear() {
  const uint64_t n = header_->geo.bucket_count;
  for (uint64_t b = 0; b < n; ++b) {
    for (auto& slot : BucketAt(b)->slot) {
      const uint64_t v = slot.load(std::memory_order_relaxed);
      if (v != 0) Unlink(SlotRef{&slot, SlotOffset(v)}, /*clear=*/true);
    }
  }
  ReclaimNow(false);
}

void ArenaWriter::SweepExpired(uint32_t buckets) {
  // Readers already treat expired items as misses; this only frees their
  // memory early. Nothing to find without items that expire.
  if (expiring_items_ == 0) return;
  const uint64_t now = NowUnixMs();
  const uint64_t n = header_->geo.bucket_count;
  for (uint32_t i = 0; i < buckets && i < n; ++i) {
    Bucket* b = BucketAt(sweep_cursor_);
    sweep_cursor_ = (sweep_cursor_ + 1 == n) ? 0 : sweep_cursor_ + 1;
    for (auto& slot : b->slot) {
      const uint64_t v = slot.load(std::memory_order_relaxed);
      if (v == 0) continue;
      const ItemHeader* it = ItemAt(SlotOffset(v));
      if (it->expiry_unix_ms != 0 && it->expiry_unix_ms <= now) {
        Unlink(SlotRef{&slot, SlotOffset(v)}, /*clear=*/true);
        expired_.store(expired_.load(std::memory_order_relaxed) + 1,
                       std::memory_order_relaxed);
      }
    }
  }
}

void ArenaWriter::Tick() {
  if (slabs_.holding() && SteadyMs() >= hold_until_ms_) slabs_.ReleaseHeld();
  SweepExpired(64);
  ReclaimNow(false);
}

uint64_t ArenaWriter::PrivateBytes() const {
  return evictor_.PrivateBytes() + slabs_.PrivateBytes() +
         reclaimer_.PrivateBytes() + steal_cursor_.capacity() * 4;
}

}  // namespace ember::shm
