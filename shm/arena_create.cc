// shm/arena_create.cc: an arena's life: a fresh segment laid out (Prepare,
// CreateFresh, Assemble), its broker, the writer's construction and stop,
// and removing a stopped or stale one. The takeover of a segment a previous
// writer left is arena_warm.cc; the write protocol, arena_writer.cc.
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

#include "shm/arena_writer.h"
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
  h->db_map_seq.store(0);
  for (auto& copy : h->db_map) {
    for (size_t i = 0; i < 256; ++i) copy[i].store(static_cast<uint8_t>(i));
  }
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

}  // namespace ember::shm
