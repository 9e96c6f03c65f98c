// Config: file + command line, defaults, units, and errors that name the key.
#include "server/config.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <stdexcept>
#include <vector>

namespace ember::server {
namespace {

class ConfigTest : public ::testing::Test {
 protected:
  Config Parse(std::vector<std::string> args) {
    args.insert(args.begin(), "ember-server");
    std::vector<const char*> argv;
    for (auto& a : args) argv.push_back(a.c_str());
    bool help = false;
    std::string usage;
    return ParseConfig(static_cast<int>(argv.size()), argv.data(), &help,
                       &usage);
  }
  std::string WriteFile(const std::string& text) {
    std::string path =
        "/tmp/ember-config-test-" + std::to_string(getpid()) + ".conf";
    std::ofstream(path) << text;
    files_.push_back(path);
    return path;
  }
  std::string ErrorOf(std::vector<std::string> args) {
    try {
      Parse(std::move(args));
    } catch (const std::runtime_error& e) {
      return e.what();
    }
    return "";
  }
  void TearDown() override {
    for (auto& f : files_) unlink(f.c_str());
  }
  std::vector<std::string> files_;
};

TEST_F(ConfigTest, ShippedConfigParsesToTheDefaults) {
  Config c = Parse({EMBER_SOURCE_DIR "/conf/ember.conf"});
  Config d;
  EXPECT_EQ(c.port, d.port);
  EXPECT_EQ(c.bind, d.bind);
  EXPECT_EQ(c.arena_bytes, d.arena_bytes);
  EXPECT_EQ(c.fsync, FsyncMode::kEverySec);
  EXPECT_EQ(c.cold_tier, ColdTier::kRocksDb);
  EXPECT_EQ(c.requirepass, "");
  EXPECT_EQ(c.unix_socket_mode, 0660u);
  EXPECT_EQ(c.huge_pages, d.huge_pages);
  EXPECT_EQ(c.reader_lease_ms, d.reader_lease_ms);
}

TEST_F(ConfigTest, CommandLineOverridesTheFile) {
  const std::string f = WriteFile("port = 7000\nfsync = always\n");
  Config c = Parse({f, "--port", "7400", "--arena_bytes", "64mb"});
  EXPECT_EQ(c.port, 7400);
  EXPECT_EQ(c.fsync, FsyncMode::kAlways);
  EXPECT_EQ(c.arena_bytes, uint64_t{64} << 20);
  EXPECT_EQ(c.config_file, f);
}

TEST_F(ConfigTest, UnknownKeyInFileIsNamed) {
  const std::string f = WriteFile("port = 7000\nmaxmemmory = 1gb\n");
  EXPECT_NE(ErrorOf({f}).find("maxmemmory"), std::string::npos) << ErrorOf({f});
}

TEST_F(ConfigTest, UnknownFlagIsNamed) {
  EXPECT_NE(ErrorOf({"--prot", "1"}).find("prot"), std::string::npos);
}

TEST_F(ConfigTest, BadValuesNameTheirKey) {
  EXPECT_NE(ErrorOf({"--port", "70000"}).find("'port'"), std::string::npos);
  EXPECT_NE(ErrorOf({"--fsync", "sometimes"}).find("'fsync'"),
            std::string::npos);
  EXPECT_NE(ErrorOf({"--arena_bytes", "12parsecs"}).find("'arena_bytes'"),
            std::string::npos);
  EXPECT_NE(ErrorOf({"--threads", "-1"}).find("'threads'"), std::string::npos);
  EXPECT_NE(ErrorOf({"--cold_tier", "tape"}).find("'cold_tier'"),
            std::string::npos);
  EXPECT_NE(
      ErrorOf({"--max_value_bytes_hot", "2mb"}).find("max_value_bytes_hot"),
      std::string::npos);
}

TEST_F(ConfigTest, MissingConfigFileIsNamed) {
  EXPECT_NE(
      ErrorOf({"/nonexistent/ember.conf"}).find("/nonexistent/ember.conf"),
      std::string::npos);
}

}  // namespace
}  // namespace ember::server
