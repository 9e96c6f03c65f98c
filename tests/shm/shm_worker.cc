// tests/shm/shm_worker.cc: a separate process for the shared-memory tests.
//   shm_worker writer NAME RUN_DIR SECONDS KEYS READY_FILE
//     creates the arena, loads KEYS keys, touches READY_FILE, then rewrites
//     random keys for SECONDS (every tenth key is deleted and re-added).
//   shm_worker reader NAME RUN_DIR SECONDS KEYS THREADS [misses-ok]
//     checks every value it sees: it names its key and its checksum holds;
//     a key that is never deleted must always be found (unless misses-ok:
//     the writer may drop keys, as a kBusy put does). Exit 0 when clean.
//     With takeover-ok (which implies misses-ok), a guard refused because a
//     restarted writer took the arena over ends that thread's reads without
//     failing (it prints how many threads were cut off that way).
//   shm_worker holder NAME RUN_DIR KEY
//     takes a guard, reads KEY, prints "held" and waits to be killed.
//   shm_worker hostile NAME RUN_DIR SECONDS UID GID
//     a hostile local client (as UID:GID when run as root, UID != 0): tries
//     to write, resize, chmod and reseal what it can reach, printing
//     "refused <what>" or "ALLOWED <what>" for each; holds locks on the data
//     segment; then for SECONDS scribbles random bytes over its slot page
//     and the hints, and opens, abuses and drops attach connections.
#include <fcntl.h>
#include <grp.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "shm/arena_reader.h"
#include "shm/arena_writer.h"
#include "shm/attach.h"
#include "shm/key_hash.h"
#include "shm/run_dir.h"
#include "tests/shm/worker_value.h"

using namespace ember::shm;
using Clock = std::chrono::steady_clock;

namespace {

std::string Key(uint64_t i) { return "key:" + std::to_string(i); }

std::string Value(const std::string& key, uint64_t version) {
  return ember::shm::testing::WorkerValue(key, version);
}
bool ValueIsSound(std::string_view key, std::string_view v) {
  return ember::shm::testing::WorkerValueIsSound(key, v);
}

int RunWriter(char** argv) {
  ArenaOptions o;
  o.name = argv[2];
  o.run_dir = argv[3];
  const int seconds = std::atoi(argv[4]);
  const uint64_t keys = std::strtoull(argv[5], nullptr, 10);
  o.arena_bytes = 64 << 20;
  o.page_bytes = 64 << 10;
  o.remove_on_close = true;
  std::unique_ptr<ArenaWriter> w;
  Status s = ArenaWriter::Create(o, &w);
  if (!s.ok()) {
    std::fprintf(stderr, "writer: %s\n", s.ToString().c_str());
    return 2;
  }
  std::vector<uint64_t> version(keys, 0);
  for (uint64_t i = 0; i < keys; ++i) {
    if (!w->Put(Key(i), Value(Key(i), 0)).ok()) return 3;
  }
  std::ofstream(argv[6]) << "ready\n";
  std::mt19937_64 rng(getpid());
  const auto end = Clock::now() + std::chrono::seconds(seconds);
  uint64_t puts = 0, deletes = 0;
  auto last_tick = Clock::now();
  while (Clock::now() < end) {
    const uint64_t i = rng() % keys;
    const std::string k = Key(i);
    if (i % 10 == 0 && (version[i] & 1) == 0) {
      w->Delete(k);
      ++deletes;
    } else if (!(s = w->Put(k, Value(k, version[i] + 1))).ok()) {
      std::fprintf(stderr, "writer: put %s: %s\n", k.c_str(),
                   s.ToString().c_str());
      return 4;
    } else {
      ++puts;
    }
    ++version[i];
    if (Clock::now() - last_tick > std::chrono::milliseconds(1)) {
      w->Tick();
      last_tick = Clock::now();
    }
  }
  std::printf(
      "writer: %llu puts, %llu deletes, %llu reclaimed, %llu readers seen\n",
      static_cast<unsigned long long>(puts),
      static_cast<unsigned long long>(deletes),
      static_cast<unsigned long long>(w->header().stats.reclaimed.load()),
      static_cast<unsigned long long>(w->header().stats.readers_seen.load()));
  return 0;
}

int RunReader(char** argv) {
  const std::string name = argv[2], run_dir = argv[3];
  const int seconds = std::atoi(argv[4]);
  const uint64_t keys = std::strtoull(argv[5], nullptr, 10);
  const int threads = std::atoi(argv[6]);
  const std::string mode = argv[7] != nullptr ? argv[7] : "";
  const bool takeover_ok = mode == "takeover-ok";
  const bool misses_ok = mode == "misses-ok" || takeover_ok;
  std::atomic<uint64_t> cut_off{0};
  std::atomic<uint64_t> reads{0}, hits{0}, torn{0}, missing{0}, failures{0},
      revoked{0};
  auto body = [&](int t) {
    std::unique_ptr<ArenaReader> r;
    Status s = ArenaReader::Open(name, run_dir, &r);
    if (!s.ok()) {
      std::fprintf(stderr, "reader: %s\n", s.ToString().c_str());
      ++failures;
      return;
    }
    std::mt19937_64 rng(getpid() * 31 + t);
    const auto end = Clock::now() + std::chrono::seconds(seconds);
    std::vector<std::string> batch(16);
    std::vector<std::string_view> views(16), vals(16);
    bool found[16];
    uint64_t n = 0, h = 0, bad = 0, miss = 0;
    while (Clock::now() < end) {
      for (int k = 0; k < 16; ++k) {
        batch[k] = Key(rng() % keys);
        views[k] = batch[k];
      }
      ReadGuard g(r.get());
      if (!g.status().ok()) {
        if (takeover_ok && r->generation() != r->header().generation.load()) {
          ++cut_off;
        } else {
          ++failures;
        }
        break;
      }
      if (t % 2 == 0) {
        g.MultiGet(views, vals.data(), found);
      } else {
        for (int k = 0; k < 16; ++k) found[k] = g.Get(views[k], &vals[k]).ok();
      }
      // Checked before the release, judged after it: a guard the writer
      // revoked (held past the lease) was told its bytes may have changed,
      // which is a right answer; read again.
      uint64_t batch_hits = 0, batch_bad = 0, batch_miss = 0;
      for (int k = 0; k < 16; ++k) {
        const uint64_t i = std::strtoull(batch[k].c_str() + 4, nullptr, 10);
        if (found[k]) {
          ++batch_hits;
          if (!ValueIsSound(views[k], vals[k])) ++batch_bad;
        } else if (i % 10 != 0) {
          ++batch_miss;
        }
      }
      const Status released = g.Release();
      if (released.code() == Code::kRevoked) {
        ++revoked;
        continue;
      }
      if (!released.ok()) ++failures;
      n += 16;
      h += batch_hits;
      bad += batch_bad;
      miss += batch_miss;
    }
    reads += n;
    hits += h;
    torn += bad;
    missing += miss;
  };
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) pool.emplace_back(body, t);
  for (auto& th : pool) th.join();
  std::printf(
      "reader %d: %llu reads, %llu hits, %llu torn, %llu stable keys "
      "missing, %llu batches revoked, %llu threads cut off by a takeover\n",
      getpid(), static_cast<unsigned long long>(reads.load()),
      static_cast<unsigned long long>(hits.load()),
      static_cast<unsigned long long>(torn.load()),
      static_cast<unsigned long long>(missing.load()),
      static_cast<unsigned long long>(revoked.load()),
      static_cast<unsigned long long>(cut_off.load()));
  return (torn == 0 && (missing == 0 || misses_ok) && failures == 0 &&
          reads > 0)
             ? 0
             : 1;
}

int RunHolder(char** argv) {
  std::unique_ptr<ArenaReader> r;
  Status s = ArenaReader::Open(argv[2], argv[3], &r);
  if (!s.ok()) {
    std::fprintf(stderr, "holder: %s\n", s.ToString().c_str());
    return 2;
  }
  ReadGuard g(r.get());
  std::string_view v;
  if (!g.Get(argv[4], &v).ok()) return 3;
  std::printf("held\n");
  std::fflush(stdout);
  while (true) pause();
}

void Say(bool refused, const char* what) {
  std::printf("%s %s\n", refused ? "refused" : "ALLOWED", what);
  std::fflush(stdout);
}

// Connects to the attach socket and writes `bytes` (garbage or a partial
// request), then drops the connection.
void AbuseAttach(const RunDir& dir, const std::string& name,
                 const std::string& bytes) {
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  const std::string path = dir.PathOf(AttachSocketName(name));
  std::snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path.c_str());
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
    send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
  }
  close(fd);
}

int RunHostile(char** argv) {
  const std::string name = argv[2], run_dir = argv[3];
  const int seconds = std::atoi(argv[4]);
  const uid_t uid = std::strtoul(argv[5], nullptr, 10);
  const gid_t gid = std::strtoul(argv[6], nullptr, 10);
  if (geteuid() == 0 && uid != 0) {
    if (setgroups(0, nullptr) != 0 || setgid(gid) != 0 || setuid(uid) != 0) {
      std::perror("hostile: dropping privileges");
      return 2;
    }
  }
  const std::string data_path = ShmPath(PathsFor(name).data_shm);
  Say(open(data_path.c_str(), O_RDWR) < 0, "open data segment read-write");
  Say(truncate(data_path.c_str(), 0) != 0, "truncate data segment by path");
  Say(chmod(data_path.c_str(), 0666) != 0, "chmod data segment");
  Say(unlink(data_path.c_str()) != 0, "unlink data segment");
  const std::string writer_path = run_dir + "/" + PathsFor(name).writer_file;
  Say(open(writer_path.c_str(), O_RDWR) < 0, "open the writer lock file");
  const std::string planted = run_dir + "/planted";
  Say(open(planted.c_str(), O_CREAT | O_WRONLY, 0666) < 0,
      "create a file in run_dir");
  RunDir dir;
  Status s = RunDir::OpenForReader(run_dir, &dir);
  if (!s.ok()) {
    std::fprintf(stderr, "hostile: %s\n", s.ToString().c_str());
    return 3;
  }
  ClaimedSlot claim;
  s = ClaimSlot(dir, name, &claim);
  if (!s.ok()) {
    std::fprintf(stderr, "hostile: %s\n", s.ToString().c_str());
    return 4;
  }
  Say(ftruncate(claim.data_fd, 0) != 0, "ftruncate data descriptor");
  Say(fchmod(claim.data_fd, 0666) != 0, "fchmod data descriptor");
  Say(mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, claim.data_fd,
           0) == MAP_FAILED,
      "map the data segment writable");
  for (int fd : {claim.hints_fd, claim.slot_fd}) {
    struct stat st;
    fstat(fd, &st);
    Say(ftruncate(fd, 0) != 0, "shrink a memfd");
    Say(ftruncate(fd, st.st_size + (1 << 20)) != 0, "grow a memfd");
    Say(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE) != 0,
        "seal a memfd against writes");
  }
  // Locks a reader can take: they must stop nothing.
  std::printf("locked the data segment (flock and an OFD read lock)\n");
  flock(claim.data_fd, LOCK_EX | LOCK_NB);
  struct flock fl {};
  fl.l_type = F_RDLCK;
  fl.l_whence = SEEK_SET;
  fl.l_len = 0;
  fcntl(claim.data_fd, F_OFD_SETLK, &fl);
  struct stat hs;
  fstat(claim.hints_fd, &hs);
  auto* hints =
      static_cast<uint8_t*>(mmap(nullptr, hs.st_size, PROT_READ | PROT_WRITE,
                                 MAP_SHARED, claim.hints_fd, 0));
  auto* slot = static_cast<uint64_t*>(mmap(
      nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, claim.slot_fd, 0));
  if (hints == MAP_FAILED || slot == MAP_FAILED) return 5;
  // More slots, held open and then dropped, and garbage on the socket.
  std::vector<std::unique_ptr<ClaimedSlot>> extra;
  std::mt19937_64 rng(getpid());
  const auto end = Clock::now() + std::chrono::seconds(seconds);
  uint64_t scribbles = 0;
  while (Clock::now() < end) {
    // The first half holds a guard of an ancient epoch (the lease must end
    // it), the second half announces whatever comes.
    const bool steady = Clock::now() < end - std::chrono::seconds(seconds) / 2;
    for (int i = 0; i < 512; ++i) slot[1 + rng() % 511] = rng();
    slot[0] = steady ? (1 << 1 | 1) : rng();
    for (int i = 0; i < 4096; ++i) hints[rng() % hs.st_size] = rng();
    ++scribbles;
    if (scribbles % 64 == 0) {
      if (extra.size() < 4) {
        auto c = std::make_unique<ClaimedSlot>();
        if (ClaimSlot(dir, name, c.get()).ok()) extra.push_back(std::move(c));
      } else {
        extra.clear();
      }
      std::string junk(rng() % 64, '\0');
      for (char& ch : junk) ch = static_cast<char>(rng());
      AbuseAttach(dir, name, junk);
    }
  }
  std::printf("hostile: %llu scribble rounds\n",
              static_cast<unsigned long long>(scribbles));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string role = argc > 1 ? argv[1] : "";
  if (role == "writer" && argc == 7) return RunWriter(argv);
  if (role == "reader" && (argc == 7 || argc == 8)) return RunReader(argv);
  if (role == "holder" && argc == 5) return RunHolder(argv);
  if (role == "hostile" && argc == 7) return RunHostile(argv);
  std::fprintf(stderr, "usage: see the top of tests/shm/shm_worker.cc\n");
  return 64;
}
