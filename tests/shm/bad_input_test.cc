// Bad input never crashes and always names the problem: wrong magic,
// version, ABI or size; a segment of another owner; a full /dev/shm; a
// second writer; no free reader slot; a corrupt index.
#include <sys/statvfs.h>
#include <unistd.h>

#include <fstream>
#include <random>

#include "shm/layout.h"
#include "tests/shm/arena_test_util.h"

namespace ember::shm::testing {
namespace {

class BadInputTest : public ArenaFixture {
 protected:
  // The data segment mapped read-write, as a vandal would.
  ArenaHeader* MapHeaderRW() {
    Status s = Segment::Open(PathsFor(options_.name).data_shm, true,
                             kHeaderBytes, &vandal_);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return reinterpret_cast<ArenaHeader*>(vandal_.base());
  }
  Status TryOpenReader() {
    std::unique_ptr<ArenaReader> r;
    return ArenaReader::Open(options_.name, run_dir_, &r);
  }
  Segment vandal_;
};

TEST_F(BadInputTest, ReaderWithoutServerIsUnavailable) {
  Status s = TryOpenReader();
  EXPECT_EQ(s.code(), Code::kUnavailable) << s.ToString();
  EXPECT_NE(s.message().find("no server"), std::string::npos);
}

TEST_F(BadInputTest, InvalidNamesAndOptionsAreRejected) {
  options_.name = "../etc";
  EXPECT_EQ(ArenaWriter::Create(options_, &writer_).code(),
            Code::kInvalidArgument);
  options_.name = "ok";
  options_.page_bytes = 1000;
  Status s = ArenaWriter::Create(options_, &writer_);
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_NE(s.message().find("page_bytes"), std::string::npos);
  options_.page_bytes = 64 << 10;
  options_.arena_bytes = 4096;
  s = ArenaWriter::Create(options_, &writer_);
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_NE(s.message().find("arena_bytes"), std::string::npos);
}

// The writer lock is per run_dir, the segment per name: a second server
// with the same name and another run_dir must not take over (retire and
// unlink) the arena of a live one; it is refused, naming the holder.
TEST_F(BadInputTest, SameNameInAnotherRunDirIsRefusedWhileTheOwnerLives) {
  CreateWriter();
  ASSERT_TRUE(writer_->Put("k", "v").ok());
  char tmpl[] = "/tmp/ember-test-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  ArenaOptions other = options_;
  other.run_dir = tmpl;
  other.remove_on_close = false;
  std::unique_ptr<ArenaWriter> second;
  const Status s = ArenaWriter::Create(other, &second);
  EXPECT_EQ(s.code(), Code::kBusy) << s.ToString();
  EXPECT_NE(s.ToString().find("pid " + std::to_string(getpid())),
            std::string::npos)
      << s.ToString();
  auto r = OpenReader();  // the first arena is untouched
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(Read(r.get(), "k"), "v");
  std::filesystem::remove_all(tmpl);
}

TEST_F(BadInputTest, WrongMagicIsCorruption) {
  CreateWriter();
  MapHeaderRW()->magic = 0x454D4252;  // byte-swapped
  Status s = TryOpenReader();
  EXPECT_EQ(s.code(), Code::kCorruption) << s.ToString();
  EXPECT_NE(s.message().find("magic"), std::string::npos);
}

TEST_F(BadInputTest, WrongVersionOrAbiIsVersionMismatch) {
  CreateWriter();
  ArenaHeader* h = MapHeaderRW();
  h->layout_version = kLayoutVersion + 1;
  EXPECT_EQ(TryOpenReader().code(), Code::kVersionMismatch);
  h->layout_version = kLayoutVersion;
  h->abi_hash ^= 1;
  EXPECT_EQ(TryOpenReader().code(), Code::kVersionMismatch);
  h->abi_hash ^= 1;
  EXPECT_TRUE(TryOpenReader().ok());
}

TEST_F(BadInputTest, WrongSizeOrGeometryIsCorruption) {
  CreateWriter();
  ArenaHeader* h = MapHeaderRW();
  h->segment_bytes += 4096;
  Status s = TryOpenReader();
  EXPECT_EQ(s.code(), Code::kCorruption) << s.ToString();
  h->segment_bytes -= 4096;
  h->geo.bucket_count *= 1000;  // index would run past the segment
  s = TryOpenReader();
  EXPECT_EQ(s.code(), Code::kCorruption) << s.ToString();
  EXPECT_NE(s.message().find("geometry"), std::string::npos);
  h->geo.bucket_count /= 1000;
  // Found by fuzz_arena_reader: a misaligned index made SSE loads of its
  // buckets fault. The geometry check refuses it.
  h->geo.index_offset += 8;
  s = TryOpenReader();
  EXPECT_EQ(s.code(), Code::kCorruption) << s.ToString();
  h->geo.index_offset -= 8;
  EXPECT_TRUE(TryOpenReader().ok());
}

TEST_F(BadInputTest, TruncatedLeftoverSegmentIsReplaced) {
  // A segment shorter than a header, left by a crash: never mapped past,
  // and replaced by the next writer.
  const std::string shm = PathsFor(options_.name).data_shm;
  {
    Segment seg;
    ASSERT_TRUE(Segment::Create(shm, 4096, 0640, &seg).ok());
  }
  Segment small;
  EXPECT_EQ(Segment::Open(shm, false, kHeaderBytes, &small).code(),
            Code::kCorruption);
  CreateWriter();
  ASSERT_TRUE(writer_->Put("k", "v").ok());
  auto r = OpenReader();
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(Read(r.get(), "k"), "v");
}

TEST_F(BadInputTest, InactiveArenaIsUnavailable) {
  CreateWriter();
  writer_->SetState(ArenaState::kRecovering);
  EXPECT_EQ(TryOpenReader().code(), Code::kUnavailable);
  writer_->SetState(ArenaState::kActive);
  auto r = OpenReader();
  writer_->SetState(ArenaState::kRetired);
  ReadGuard g(r.get());
  EXPECT_EQ(g.status().code(), Code::kUnavailable);
}

TEST_F(BadInputTest, SegmentOfAnotherOwnerIsRefused) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to chown";
  const std::string shm = PathsFor(options_.name).data_shm;
  Segment seg;
  ASSERT_TRUE(Segment::Create(shm, 1 << 20, 0640, &seg).ok());
  ASSERT_EQ(chown(ShmPath(shm).c_str(), 12345, 12345), 0);
  Status s = ArenaWriter::Create(options_, &writer_);
  EXPECT_EQ(s.code(), Code::kIOError) << s.ToString();
  EXPECT_NE(s.message().find("owned by uid 12345"), std::string::npos);
  EXPECT_EQ(access(ShmPath(shm).c_str(), F_OK), 0) << "not ours to remove";
  Segment::Remove(shm);
}

TEST_F(BadInputTest, WorldWritableSegmentIsRefused) {
  CreateWriter();
  ASSERT_EQ(chmod(ShmPath(PathsFor(options_.name).data_shm).c_str(), 0666), 0);
  Segment seg;
  Status s = Segment::Open(PathsFor(options_.name).data_shm, false,
                           kHeaderBytes, &seg);
  EXPECT_EQ(s.code(), Code::kCorruption) << s.ToString();
  EXPECT_NE(s.message().find("world-writable"), std::string::npos);
}

TEST_F(BadInputTest, ArenaLargerThanDevShmFailsAtCreate) {
  struct statvfs vfs;
  ASSERT_EQ(statvfs("/dev/shm", &vfs), 0);
  options_.arena_bytes =
      static_cast<uint64_t>(vfs.f_blocks) * vfs.f_frsize + (uint64_t{1} << 30);
  Status s = ArenaWriter::Create(options_, &writer_);
  EXPECT_EQ(s.code(), Code::kIOError) << s.ToString();
  EXPECT_NE(s.message().find("/dev/shm"), std::string::npos);
  EXPECT_EQ(access(ShmPath(PathsFor(options_.name).data_shm).c_str(), F_OK), -1)
      << "a failed create leaves nothing behind";
}

TEST_F(BadInputTest, SecondWriterIsBusy) {
  CreateWriter();
  std::unique_ptr<ArenaWriter> second;
  Status s = ArenaWriter::Create(options_, &second);
  EXPECT_EQ(s.code(), Code::kBusy) << s.ToString();
  EXPECT_NE(s.message().find(std::to_string(getpid())), std::string::npos);
}

TEST_F(BadInputTest, NoFreeReaderSlotIsBusy) {
  options_.max_readers = 3;
  CreateWriter();
  auto a = OpenReader(), b = OpenReader(), c = OpenReader();
  Status s = TryOpenReader();
  EXPECT_EQ(s.code(), Code::kBusy) << s.ToString();
  b.reset();  // a closed reader frees its slot at once
  EXPECT_TRUE(TryOpenReader().ok());
}

TEST_F(BadInputTest, CorruptIndexNeverLeadsOutsideTheArena) {
  CreateWriter();
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE(writer_->Put("key" + std::to_string(i), "value").ok());
  }
  ArenaHeader* h = MapHeaderRW();
  auto* buckets =
      reinterpret_cast<Bucket*>(vandal_.base() + h->geo.index_offset);
  std::mt19937_64 rng(7);
  const uint64_t end = h->segment_bytes;
  for (uint64_t b = 0; b < h->geo.bucket_count; ++b) {
    for (auto& slot : buckets[b].slot) {
      const uint64_t tag =
          slot.load() & kSlotTagMask;  // keep tags: force Match
      switch (rng() % 4) {
        case 0:
          slot.store(tag | (rng() & kSlotOffsetMask));
          break;
        case 1:
          slot.store(tag | ((end - 8) >> 3));
          break;  // header past the end
        case 2:
          slot.store(tag | (h->geo.data_offset + 8) >> 3);
          break;  // mid-chunk
        default:
          break;
      }
    }
  }
  auto r = OpenReader();
  ReadGuard g(r.get());
  int hits = 0;
  for (int i = 0; i < 200; ++i) {
    std::string_view v;
    Status s = g.Get("key" + std::to_string(i), &v);
    if (s.ok()) {
      ++hits;
      EXPECT_EQ(v, "value");
    } else {
      EXPECT_TRUE(s.IsNotFound()) << s.ToString();
    }
  }
  EXPECT_LT(hits, 200);
}

// huge_pages = on where the kernel gives shared memory no huge pages fails
// the start, naming what to change, and leaves nothing behind; try starts.
TEST_F(BadInputTest, HugePagesOnWithoutKernelSupportIsRefused) {
  std::ifstream f("/sys/kernel/mm/transparent_hugepage/shmem_enabled");
  std::string modes;
  std::getline(f, modes);
  std::ifstream mounts("/proc/mounts");
  std::string line;
  bool huge_mount = false;
  while (std::getline(mounts, line)) {
    if (line.find(" /dev/shm ") != std::string::npos &&
        line.find("huge=") != std::string::npos &&
        line.find("huge=never") == std::string::npos) {
      huge_mount = true;
    }
  }
  if (modes.find("[never]") == std::string::npos || huge_mount) {
    GTEST_SKIP() << "this kernel gives shared memory huge pages";
  }
  options_.huge_pages = HugePages::kOn;
  options_.arena_bytes = 8 << 20;
  Status s = ArenaWriter::Create(options_, &writer_);
  EXPECT_EQ(s.code(), Code::kIOError) << s.ToString();
  EXPECT_NE(s.message().find("huge_pages"), std::string::npos) << s.ToString();
  EXPECT_EQ(access(ShmPath(PathsFor(options_.name).data_shm).c_str(), F_OK),
            -1);
  options_.huge_pages = HugePages::kTry;
  CreateWriter();
  EXPECT_EQ(writer_->header().stats.huge_bytes.load(), 0u);
}

}  // namespace
}  // namespace ember::shm::testing
