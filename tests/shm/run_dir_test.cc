// A run directory prepared by someone else: another owner, a mode open to
// others, a symlink for the directory or for a file in it. The server
// refuses, naming the directory, and changes nothing it points at.
#include "shm/run_dir.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "tests/shm/arena_test_util.h"

namespace ember::shm::testing {
namespace {

class RunDirTest : public ArenaFixture {
 protected:
  // A file outside run_dir that an attacker would like the server to cut.
  void SetUp() override {
    ArenaFixture::SetUp();
    victim_ = run_dir_ + "-victim";
    std::ofstream(victim_) << "precious contents\n";
  }
  void TearDown() override {
    unlink(victim_.c_str());
    ArenaFixture::TearDown();
  }
  std::string VictimText() const {
    std::ifstream in(victim_);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  std::string victim_;
};

TEST_F(RunDirTest, CreatedWithAModeThatAdmitsOnlyUserAndGroup) {
  std::filesystem::remove_all(run_dir_);
  CreateWriter();
  struct stat st;
  ASSERT_EQ(stat(run_dir_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0750u);
  EXPECT_EQ(st.st_uid, geteuid());
}

TEST_F(RunDirTest, OpenToOthersIsRefusedNamingIt) {
  for (mode_t mode : {0777, 0770, 0755, 0751}) {
    ASSERT_EQ(chmod(run_dir_.c_str(), mode), 0);
    Status s = ArenaWriter::Create(options_, &writer_);
    EXPECT_EQ(s.code(), Code::kIOError) << s.ToString();
    EXPECT_NE(s.message().find(run_dir_), std::string::npos) << s.ToString();
    EXPECT_NE(s.message().find("mode"), std::string::npos) << s.ToString();
  }
  // A reader refuses a directory its group or others may change.
  ASSERT_EQ(chmod(run_dir_.c_str(), 0770), 0);
  std::unique_ptr<ArenaReader> r;
  EXPECT_EQ(ArenaReader::Open(options_.name, run_dir_, &r).code(),
            Code::kIOError);
}

TEST_F(RunDirTest, ADirectoryOfAnotherUserWithPlantedSymlinksIsRefused) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to chown";
  const ArenaPaths p = PathsFor(options_.name);
  for (const std::string& f : {p.writer_file, p.attach_socket}) {
    ASSERT_EQ(symlink(victim_.c_str(), (run_dir_ + "/" + f).c_str()), 0);
  }
  ASSERT_EQ(chmod(run_dir_.c_str(), 0777), 0);
  ASSERT_EQ(chown(run_dir_.c_str(), 65534, 65534), 0);
  Status s = ArenaWriter::Create(options_, &writer_);
  EXPECT_EQ(s.code(), Code::kIOError) << s.ToString();
  EXPECT_NE(s.message().find("owned by uid 65534"), std::string::npos)
      << s.ToString();
  EXPECT_EQ(VictimText(), "precious contents\n");
}

TEST_F(RunDirTest, SymlinkedFilesInOurOwnDirectoryAreNotFollowed) {
  const ArenaPaths p = PathsFor(options_.name);
  ASSERT_EQ(symlink(victim_.c_str(), (run_dir_ + "/" + p.writer_file).c_str()),
            0);
  Status s = ArenaWriter::Create(options_, &writer_);
  EXPECT_EQ(s.code(), Code::kIOError) << s.ToString();
  EXPECT_NE(s.message().find("symlink"), std::string::npos) << s.ToString();
  EXPECT_EQ(VictimText(), "precious contents\n");
}

TEST_F(RunDirTest, ASymlinkAsTheDirectoryIsRefused) {
  const std::string link = run_dir_ + "-link";
  ASSERT_EQ(symlink(run_dir_.c_str(), link.c_str()), 0);
  options_.run_dir = link;
  Status s = ArenaWriter::Create(options_, &writer_);
  EXPECT_EQ(s.code(), Code::kIOError) << s.ToString();
  EXPECT_NE(s.message().find("symlink"), std::string::npos) << s.ToString();
  unlink(link.c_str());
  options_.run_dir = run_dir_;
}

TEST_F(RunDirTest, AStaleAttachSocketIsReplacedAndAPlantedOneIsNotFollowed) {
  const ArenaPaths p = PathsFor(options_.name);
  ASSERT_EQ(
      symlink(victim_.c_str(), (run_dir_ + "/" + p.attach_socket).c_str()), 0);
  CreateWriter();
  EXPECT_EQ(VictimText(), "precious contents\n");
  auto r = OpenReader();
  ASSERT_NE(r, nullptr);
}

// A reader told the server's uid refuses a run_dir someone else owns.
TEST_F(RunDirTest, AReaderToldTheServersUidRefusesAnotherOwnersRunDir) {
  CreateWriter();
  std::unique_ptr<ArenaReader> r;
  EXPECT_TRUE(ArenaReader::Open(options_.name, run_dir_, &r, geteuid()).ok());
  r.reset();
  Status s = ArenaReader::Open(options_.name, run_dir_, &r, geteuid() + 1);
  EXPECT_EQ(s.code(), Code::kIOError) << s.ToString();
  EXPECT_NE(s.message().find("not to the server's uid"), std::string::npos);
}

}  // namespace
}  // namespace ember::shm::testing
