// tests/shm/arena_test_util.h: a fixture that gives each test its own arena
// name and run directory, and removes both afterwards.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cctype>
#include <filesystem>
#include <memory>
#include <string>

#include "shm/arena_reader.h"
#include "shm/arena_writer.h"
#include "tests/str_cat.h"

namespace ember::shm::testing {

// A name no other test (or test process) uses at the same time.
inline std::string UniqueArenaName(std::string tag) {
  static int counter = 0;
  for (char& c : tag) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return ember::testing::Cat("t", getpid(), "_", ++counter, "_",
                             tag.substr(0, 40));
}

class ArenaFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ember-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    run_dir_ = tmpl;
    options_.name = UniqueArenaName(
        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    options_.run_dir = run_dir_;
    options_.arena_bytes = 8 << 20;
    options_.page_bytes = 64 << 10;
    options_.max_readers = 64;
    options_.remove_on_close = true;
  }
  void TearDown() override {
    writer_.reset();
    ArenaWriter::Destroy(options_.name, run_dir_);
    std::filesystem::remove_all(run_dir_);
  }
  void CreateWriter() {
    Status s = ArenaWriter::Create(options_, &writer_);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  std::unique_ptr<ArenaReader> OpenReader() {
    std::unique_ptr<ArenaReader> r;
    Status s = ArenaReader::Open(options_.name, run_dir_, &r);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return r;
  }
  // The value of `key` through a fresh guard, or "<miss>".
  static std::string Read(ArenaReader* r, std::string_view key) {
    std::string v;
    Status s = r->Get(key, &v);
    return s.ok() ? v : (s.IsNotFound() ? "<miss>" : s.ToString());
  }

  std::string run_dir_;
  ArenaOptions options_;
  std::unique_ptr<ArenaWriter> writer_;
};

}  // namespace ember::shm::testing
