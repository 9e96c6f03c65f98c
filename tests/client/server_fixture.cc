// tests/client/server_fixture.cc: fork/exec of ember-server with its output
// in a log file, readiness by the "listening on" lines, and cleanup.
#include "tests/client/server_fixture.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

namespace ember::testing {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kStartTimeout = std::chrono::seconds(10);
constexpr auto kStopTimeout = std::chrono::seconds(30);

std::string UniqueName() {
  static std::atomic<int> counter{0};
  return "ct" + std::to_string(::getpid()) + "_" + std::to_string(++counter);
}

std::string ReadFrom(const std::string& path, size_t offset) {
  std::ifstream in(path, std::ios::binary);
  in.seekg(static_cast<std::streamoff>(offset));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

EmberServer::EmberServer(ServerOptions options)
    : options_(std::move(options)), name_(UniqueName()) {
  const char* env = std::getenv("EMBER_SERVER");
  binary_ = env != nullptr && *env ? env : EMBER_SERVER_PATH;
  char root[] = "/tmp/ember-ct-XXXXXX";
  if (::mkdtemp(root) == nullptr) std::abort();
  root_ = root;
  data_dir_ = root_ + "/data";
  run_dir_ = root_ + "/run";
  if (options_.unix_socket) unix_socket_ = root_ + "/s.sock";
  log_path_ = root_ + "/server.log";
}

EmberServer::~EmberServer() {
  if (running()) Kill();
  std::error_code ec;
  std::filesystem::remove_all(root_, ec);
  for (const char* suffix : {"data"}) {
    ::unlink(("/dev/shm/ember." + name_ + "." + suffix).c_str());
  }
}

std::string EmberServer::log() const {
  return "ember-server output:\n" + ReadFrom(log_path_, 0);
}

::testing::AssertionResult EmberServer::Start() {
  if (running()) return ::testing::AssertionFailure() << "already running";
  std::vector<std::string> args = {
      binary_,  "--bind",        "127.0.0.1",  "--port",  std::to_string(port_),
      "--name", name_,           "--data_dir", data_dir_, "--run_dir",
      run_dir_, "--unix_socket", unix_socket_};
  if (!options_.requirepass.empty()) {
    args.insert(args.end(), {"--requirepass", options_.requirepass});
  }
  args.insert(args.end(), options_.extra_args.begin(),
              options_.extra_args.end());
  // Everything the child needs is prepared before fork: after it, only
  // async-signal-safe calls until exec.
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const int log_fd = ::open(log_path_.c_str(),
                            O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) return ::testing::AssertionFailure() << "cannot open log";
  const size_t log_offset = std::filesystem::file_size(log_path_);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // no server outlives its test
    ::dup2(log_fd, STDOUT_FILENO);
    ::dup2(log_fd, STDERR_FILENO);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(log_fd);
  if (pid < 0) return ::testing::AssertionFailure() << "fork failed";
  pid_ = pid;

  static const std::regex kTcp(R"(listening on tcp 127\.0\.0\.1:(\d+))");
  const auto deadline = Clock::now() + kStartTimeout;
  for (;;) {
    const std::string out = ReadFrom(log_path_, log_offset);
    std::smatch m;
    if (std::regex_search(out, m, kTcp) &&
        (unix_socket_.empty() ||
         out.find("listening on unix " + unix_socket_) != std::string::npos)) {
      port_ = static_cast<uint16_t>(std::stoi(m[1].str()));
      return ::testing::AssertionSuccess();
    }
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return ::testing::AssertionFailure()
             << "ember-server (" << binary_ << ") exited with status " << status
             << " before listening\n"
             << log();
    }
    if (Clock::now() > deadline) {
      Kill();
      return ::testing::AssertionFailure()
             << "ember-server did not listen within 10 s\n"
             << log();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

int EmberServer::SignalAndWait(int signal) {
  ::kill(pid_, signal);
  const auto deadline = Clock::now() + kStopTimeout;
  int status = 0;
  while (::waitpid(pid_, &status, WNOHANG) != pid_) {
    if (Clock::now() > deadline) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  pid_ = -1;
  return status;
}

::testing::AssertionResult EmberServer::Stop() {
  if (!running()) return ::testing::AssertionSuccess();
  const int status = SignalAndWait(SIGTERM);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure()
         << "ember-server did not exit cleanly after SIGTERM (wait status "
         << status << ")\n"
         << log();
}

::testing::AssertionResult EmberServer::Restart() {
  if (auto stopped = Stop(); !stopped) return stopped;
  return Start();
}

void EmberServer::Kill() {
  if (running()) SignalAndWait(SIGKILL);
}

void ServerTest::SetUp() {
  server_ = std::make_unique<EmberServer>(server_options_);
  ASSERT_TRUE(server_->Start());
}

void ServerTest::TearDown() {
  EXPECT_TRUE(server_->Stop());
  server_.reset();
}

}  // namespace ember::testing
