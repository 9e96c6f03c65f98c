// Config: the settings table, file + command line, defaults, units, errors
// that name the key, the shipped config, CONFIG REWRITE's file rewrite.
#include "server/config.h"

#include <gtest/gtest.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <vector>

#include "server/settings.h"
#include "tests/str_cat.h"

namespace ember::server {
namespace {

using ::ember::testing::Cat;

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

// Every `key = value` line of conf/ember.conf, in order.
std::vector<std::pair<std::string, std::string>> ShippedLines(
    std::vector<std::string>* raw = nullptr) {
  std::ifstream in(EMBER_SOURCE_DIR "/conf/ember.conf");
  std::vector<std::pair<std::string, std::string>> out;
  for (std::string line; std::getline(in, line);) {
    if (raw != nullptr) raw->push_back(line);
    if (line.empty() || line[0] == '#') continue;
    const size_t eq = line.find('=');
    if (eq == std::string::npos) continue;
    auto trim = [](std::string s) {
      s.erase(0, s.find_first_not_of(' '));
      s.erase(s.find_last_not_of(' ') + 1);
      return s;
    };
    out.emplace_back(trim(line.substr(0, eq)), trim(line.substr(eq + 1)));
  }
  return out;
}

TEST_F(ConfigTest, EveryDefaultParses) {
  for (const Setting& s : AllSettings()) {
    Config c;
    std::string why;
    EXPECT_TRUE(s.parse(s.default_value, &c, &why)) << s.name << ": " << why;
    EXPECT_FALSE(s.doc.empty()) << s.name;
  }
}

TEST_F(ConfigTest, ShippedConfigSetsEveryKeyToTheTablesDefault) {
  const Config defaults;
  const auto lines = ShippedLines();
  ASSERT_FALSE(lines.empty());
  for (const auto& [key, value] : lines) {
    const Setting* s = FindSetting(key);
    ASSERT_NE(s, nullptr) << "conf/ember.conf sets '" << key
                          << "', which the table does not have";
    EXPECT_EQ(s->name, key) << "conf/ember.conf should use Ember's name";
    Config c;
    std::string why;
    ASSERT_TRUE(s->parse(value, &c, &why)) << key << ": " << why;
    EXPECT_EQ(s->format(c), s->format(defaults))
        << key << " = " << value << " in conf/ember.conf, default "
        << s->default_value;
  }
  // And the file as a whole parses to the defaults, a relative path taken
  // against conf/ (./data is conf/data).
  const Config shipped = Parse({EMBER_SOURCE_DIR "/conf/ember.conf"});
  for (const Setting& s : AllSettings()) {
    std::string want = s.format(defaults);
    if (s.path && !want.empty() && want[0] != '/') {
      want = Cat(EMBER_SOURCE_DIR "/conf/",
                 want.starts_with("./") ? want.substr(2) : want);
    }
    EXPECT_EQ(s.format(shipped), want) << s.name;
  }
}

TEST_F(ConfigTest, EverySettingIsInTheShippedConfigWithAComment) {
  std::vector<std::string> raw;
  const auto lines = ShippedLines(&raw);
  for (const Setting& s : AllSettings()) {
    size_t at = raw.size();
    for (size_t i = 0; i < raw.size(); ++i) {
      if (raw[i].starts_with(std::string(s.name) + " =")) at = i;
    }
    ASSERT_LT(at, raw.size()) << s.name << " is missing in conf/ember.conf";
    ASSERT_GT(at, 0u);
    EXPECT_TRUE(raw[at - 1].starts_with("# "))
        << s.name << " has no comment above it in conf/ember.conf";
  }
  EXPECT_EQ(lines.size(), AllSettings().size()) << "a key set twice?";
}

TEST_F(ConfigTest, HelpListsEverySettingWithItsDoc) {
  std::vector<const char*> argv = {"ember-server", "--help"};
  bool help = false;
  std::string usage;
  ParseConfig(2, argv.data(), &help, &usage);
  EXPECT_TRUE(help);
  for (const Setting& s : AllSettings()) {
    EXPECT_NE(usage.find("  " + std::string(s.name)), std::string::npos)
        << s.name;
    EXPECT_NE(usage.find(std::string(s.doc)), std::string::npos) << s.name;
  }
}

TEST_F(ConfigTest, RedisNamesAndEqualsFormWork) {
  Config c = Parse({"--maxclients", "5", "--maxmemory=64mb", "--appendfsync",
                    "always", "--slowlog-max-len", "3"});
  EXPECT_EQ(c.max_clients, 5u);
  EXPECT_EQ(c.arena_bytes, uint64_t{64} << 20);
  EXPECT_EQ(c.fsync, FsyncMode::kAlways);
  EXPECT_EQ(c.slowlog_max_len, 3u);
}

TEST_F(ConfigTest, BadValuesAreExplainedInRedisWords) {
  EXPECT_NE(ErrorOf({"--max_clients", "0"})
                .find("argument must be between 1 and 1000000 inclusive"),
            std::string::npos);
  EXPECT_NE(ErrorOf({"--fsync", "x"})
                .find("argument(s) must be one of the following: always, "
                      "everysec, no"),
            std::string::npos);
  EXPECT_NE(ErrorOf({"--arena_bytes", "x"}).find("memory value"),
            std::string::npos);
  EXPECT_NE(ErrorOf({"--port"}).find("--port"), std::string::npos);
}

TEST_F(ConfigTest, RewriteKeepsCommentsAndOrderAndAppendsTheRest) {
  const std::string f = WriteFile(
      "# top\nport = 7000\n\n# clients\nmax_clients = 5\nmax_clients = "
      "6\n");
  Config c = Parse({f});
  c.max_clients = 50;
  c.slowlog_max_len = 7;
  ASSERT_EQ(RewriteConfigFile(f, c), "");
  const std::string want =
      "# top\nport = 7000\n\n# clients\nmax_clients = 50\n"
      "# Generated by CONFIG REWRITE\nslowlog_max_len = 7\n";
  std::ifstream in(f);
  std::string got((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(got, want);
  // Again: the same file, one marker.
  ASSERT_EQ(RewriteConfigFile(f, Parse({f})), "");
  std::ifstream again(f);
  EXPECT_EQ(std::string((std::istreambuf_iterator<char>(again)), {}), want);
}

TEST_F(ConfigTest, RewrittenValuesReadBackTheSame) {
  const std::string f = WriteFile("requirepass =\n");
  Config c = Parse({f});
  c.requirepass = " pass \"word\" \\ ";
  ASSERT_EQ(RewriteConfigFile(f, c), "");
  EXPECT_EQ(Parse({f}).requirepass.get(), c.requirepass.get());
}

TEST_F(ConfigTest, ShippedConfigParsesToTheDefaults) {
  Config c = Parse({EMBER_SOURCE_DIR "/conf/ember.conf"});
  Config d;
  EXPECT_EQ(c.port, d.port);
  EXPECT_EQ(c.bind, d.bind);
  EXPECT_EQ(c.arena_bytes, d.arena_bytes);
  EXPECT_EQ(c.fsync, FsyncMode::kEverySec);
  EXPECT_EQ(c.cold_tier, ColdTier::kRocksDb);
  EXPECT_EQ(c.requirepass.get(), "");
  EXPECT_EQ(c.unix_socket_mode, 0660u);
  EXPECT_EQ(c.huge_pages, d.huge_pages);
  EXPECT_EQ(c.reader_lease_ms, d.reader_lease_ms);
  EXPECT_EQ(c.client_query_buffer_limit, uint64_t{1} << 30);
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

TEST_F(ConfigTest, ThreadsIsAutoByDefaultAndReadsAutoOrANumber) {
  const Setting* s = FindSetting("threads");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->format(Config()), "auto");
  EXPECT_EQ(Parse({"--threads", "AUTO"}).threads, 0u);
  EXPECT_EQ(Parse({"--threads", "0"}).threads, 0u);  // the old spelling
  EXPECT_EQ(Parse({"--threads", "3"}).threads, 3u);
  EXPECT_NE(ErrorOf({"--threads", "257"})
                .find("must be auto or between 1 and "
                      "256"),
            std::string::npos);
  EXPECT_NE(ErrorOf({"--threads", "many"}).find("'threads'"),
            std::string::npos);
}

TEST_F(ConfigTest, ThreadsAutoIsOneLessThanTheUsableCoresAndAtLeastOne) {
  cpu_set_t all;
  ASSERT_EQ(sched_getaffinity(0, sizeof(all), &all), 0);
  const uint32_t cores = static_cast<uint32_t>(CPU_COUNT(&all));
  EXPECT_EQ(UsableCores(), cores);
  EXPECT_EQ(NetworkThreads(0), std::max(1u, cores - 1));
  EXPECT_EQ(NetworkThreads(5), 5u);  // a number is taken as given
  // Pinned to one CPU (as taskset would): auto still gives one thread.
  cpu_set_t one;
  CPU_ZERO(&one);
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (CPU_ISSET(cpu, &all)) {
      CPU_SET(cpu, &one);
      break;
    }
  }
  ASSERT_EQ(sched_setaffinity(0, sizeof(one), &one), 0);
  EXPECT_EQ(UsableCores(), 1u);
  EXPECT_EQ(NetworkThreads(0), 1u);
  ASSERT_EQ(sched_setaffinity(0, sizeof(all), &all), 0);
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

// A config file in <tmp>/etc, read by a server whose working directory is
// <tmp>/elsewhere: as nginx and PostgreSQL users expect, a relative path in
// the file is taken against the file's directory, not the cwd.
class ConfigPathTest : public ConfigTest {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ember-config-path-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    root_ = std::filesystem::canonical(tmpl).string();  // as ConfigDir
    ASSERT_EQ(mkdir(Cat(root_, "/etc").c_str(), 0700), 0);
    ASSERT_EQ(mkdir(Cat(root_, "/elsewhere").c_str(), 0700), 0);
    old_cwd_ = std::filesystem::current_path();
    std::filesystem::current_path(Cat(root_, "/elsewhere"));
  }
  void TearDown() override {
    std::filesystem::current_path(old_cwd_);
    std::filesystem::remove_all(root_);
  }
  std::string WriteConf(const std::string& text) {
    const std::string path = Cat(root_, "/etc/ember.conf");
    std::ofstream(path) << text;
    return path;
  }
  std::string ReadConf() {
    std::ifstream in(Cat(root_, "/etc/ember.conf"));
    return std::string((std::istreambuf_iterator<char>(in)), {});
  }
  std::string root_;
  std::filesystem::path old_cwd_;
};

TEST_F(ConfigPathTest, RelativePathsInTheFileAreTakenAgainstItsDirectory) {
  WriteConf(
      "data_dir = ./data\nlog_dir = ../logs/redo\nrun_dir = run\n"
      "unix_socket = run/ember.sock\n");
  // The file named relative to the working directory, as a user types it.
  const Config c = Parse({"../etc/ember.conf"});
  const std::string etc = Cat(root_, "/etc");
  EXPECT_EQ(c.data_dir, Cat(etc, "/data"));
  EXPECT_EQ(c.log_dir, Cat(etc, "/../logs/redo"));
  EXPECT_EQ(c.run_dir, Cat(etc, "/run"));
  EXPECT_EQ(c.unix_socket, Cat(etc, "/run/ember.sock"));
  EXPECT_EQ(c.config_file, "../etc/ember.conf");
  // Every path setting is one of those four (a new one needs a line here).
  for (const Setting& s : AllSettings()) {
    if (!s.path) continue;
    EXPECT_TRUE(s.format(c).starts_with(etc)) << s.name << " not resolved";
  }
}

TEST_F(ConfigPathTest, AbsoluteAndEmptyPathsKeepTheirMeaning) {
  const std::string f = WriteConf(
      "data_dir = /var/lib/ember\nlog_dir =\nrun_dir = /run/ember\n"
      "unix_socket = \"\"\n");
  const Config c = Parse({f});
  EXPECT_EQ(c.data_dir, "/var/lib/ember");
  EXPECT_EQ(c.log_dir, "");
  EXPECT_EQ(LogDirOf(c), "/var/lib/ember/redo");
  EXPECT_EQ(c.run_dir, "/run/ember");
  EXPECT_EQ(c.unix_socket, "");  // disabled, not <etc>/
}

TEST_F(ConfigPathTest, EmptyLogDirFollowsAResolvedDataDir) {
  const Config c = Parse({WriteConf("data_dir = data\nlog_dir =\n")});
  EXPECT_EQ(LogDirOf(c), Cat(root_, "/etc/data/redo"));
}

TEST_F(ConfigPathTest, CommandLinePathsStayRelativeToTheWorkingDirectory) {
  const std::string f = WriteConf("data_dir = data\nrun_dir = run\n");
  const Config c = Parse({f, "--data_dir", "mine", "--unix_socket=s.sock"});
  EXPECT_EQ(c.data_dir, "mine");
  EXPECT_EQ(c.unix_socket, "s.sock");
  EXPECT_EQ(c.run_dir, Cat(root_, "/etc/run"));
  // Defaults are not read from the file: ./data stays the cwd's.
  EXPECT_EQ(Parse({WriteConf("port = 7000\n")}).data_dir, "./data");
}

TEST_F(ConfigPathTest, RewriteKeepsRelativeLinesAndWritesFlagsAbsolute) {
  const std::string f = WriteConf("data_dir = ./data\nrun_dir = run\n");
  const Config c = Parse({f, "--run_dir", "mine", "--log_dir", "logs"});
  ASSERT_EQ(RewriteConfigFile(f, c), "");
  const std::string cwd = Cat(root_, "/elsewhere");
  EXPECT_EQ(ReadConf(), Cat("data_dir = ./data\nrun_dir = ", cwd,
                            "/mine\n# Generated by CONFIG REWRITE\n",
                            "log_dir = ", cwd, "/logs\n"));
  // Read back from another working directory, every path is the same.
  std::filesystem::current_path(root_);
  const Config again = Parse({f});
  EXPECT_EQ(again.data_dir, c.data_dir);
  EXPECT_EQ(again.run_dir, Cat(cwd, "/mine"));
  EXPECT_EQ(again.log_dir, Cat(cwd, "/logs"));
}

TEST_F(ConfigTest, MissingConfigFileIsNamed) {
  EXPECT_NE(
      ErrorOf({"/nonexistent/ember.conf"}).find("/nonexistent/ember.conf"),
      std::string::npos);
}

}  // namespace
}  // namespace ember::server
