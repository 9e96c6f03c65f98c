// RemoteClient against the real ember-server: the basic commands over TCP
// and the Unix socket, binary and large values, pipelining, AUTH, error
// replies as values, timeouts and transparent reconnection.
#include "client/remote_client.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "tests/client/server_fixture.h"

namespace ember::client {
namespace {

using namespace std::string_literals;
using protocol::Reply;
using shm::Code;

class RemoteClientTest : public testing::ServerTest {
 protected:
  RemoteOptions Tcp() {
    RemoteOptions o;
    o.host = "127.0.0.1";
    o.port = server().port();
    o.password = server().password();
    return o;
  }
  RemoteOptions Unix() {
    RemoteOptions o = Tcp();
    o.unix_socket = server().unix_socket();
    return o;
  }
  // SET, GET, DEL, INCR and PEXPIRE through the convenience calls.
  void ExerciseBasics(RemoteClient* c) {
    ASSERT_TRUE(c->Set("k", "v1").ok());
    std::string value;
    bool found = false;
    ASSERT_TRUE(c->Get("k", &value, &found).ok());
    EXPECT_TRUE(found);
    EXPECT_EQ(value, "v1");
    int64_t deleted = -1;
    ASSERT_TRUE(c->Del("k", &deleted).ok());
    EXPECT_EQ(deleted, 1);
    ASSERT_TRUE(c->Del("k", &deleted).ok());
    EXPECT_EQ(deleted, 0);
    ASSERT_TRUE(c->Get("k", &value, &found).ok());
    EXPECT_FALSE(found);
    int64_t n = 0;
    ASSERT_TRUE(c->Incr("counter", &n).ok());
    ASSERT_TRUE(c->Incr("counter", &n).ok());
    EXPECT_EQ(n, 2);
    bool applied = true;
    ASSERT_TRUE(c->Expire("missing", 1000, &applied).ok());
    EXPECT_FALSE(applied);
    ASSERT_TRUE(c->Expire("counter", 50, &applied).ok());
    EXPECT_TRUE(applied);
    ASSERT_TRUE(c->Set("ttl", "x", 50).ok());
    Reply pttl;
    ASSERT_TRUE(c->Command({"PTTL", "ttl"}, &pttl).ok());
    EXPECT_EQ(pttl.kind, Reply::Kind::kInteger);
    EXPECT_GT(pttl.integer, 0);
    EXPECT_LE(pttl.integer, 50);
    std::this_thread::sleep_for(std::chrono::milliseconds(120));
    ASSERT_TRUE(c->Get("counter", &value, &found).ok());
    EXPECT_FALSE(found) << "expired after 50 ms";
    ASSERT_TRUE(c->Get("ttl", &value, &found).ok());
    EXPECT_FALSE(found) << "expired after 50 ms";
  }
};

TEST_F(RemoteClientTest, BasicsOverTcp) {
  RemoteClient c(Tcp());
  ASSERT_TRUE(c.Connect().ok());
  ExerciseBasics(&c);
}

TEST_F(RemoteClientTest, BasicsOverUnixSocket) {
  RemoteClient c(Unix());
  ASSERT_TRUE(c.Connect().ok());
  EXPECT_EQ(c.Endpoint(), server().unix_socket());
  ExerciseBasics(&c);
}

TEST_F(RemoteClientTest, FirstCommandConnects) {
  RemoteClient c(Tcp());
  EXPECT_FALSE(c.connected());
  Reply reply;
  ASSERT_TRUE(c.Command({"PING"}, &reply).ok());
  EXPECT_EQ(reply, Reply::Status("PONG"));
}

TEST_F(RemoteClientTest, BinaryValuesSurviveIntact) {
  RemoteClient c(Unix());
  std::string all_bytes;
  for (int i = 0; i < 256; ++i) all_bytes.push_back(static_cast<char>(i));
  const std::string key = "k\0\r\n$-1\r\n"s;
  const std::string value = "\0a\r\n*3\r\n\0"s + all_bytes;
  ASSERT_TRUE(c.Set(key, value).ok());
  std::string got;
  bool found = false;
  ASSERT_TRUE(c.Get(key, &got, &found).ok());
  ASSERT_TRUE(found);
  EXPECT_EQ(got, value);
}

TEST_F(RemoteClientTest, OneMebibyteValue) {
  RemoteClient c(Tcp());
  std::string value(1 << 20, '\0');
  for (size_t i = 0; i < value.size(); ++i) value[i] = static_cast<char>(i * 7);
  ASSERT_TRUE(c.Set("big", value).ok());
  std::string got;
  bool found = false;
  ASSERT_TRUE(c.Get("big", &got, &found).ok());
  ASSERT_TRUE(found);
  EXPECT_TRUE(got == value) << "1 MiB value differs";
}

TEST_F(RemoteClientTest, PipelinesAThousandCommands) {
  RemoteClient c(Tcp());
  std::vector<std::vector<std::string>> commands;
  for (int i = 0; i < 1000; ++i) {
    if (i % 2 == 0) {
      commands.push_back({"SET", "p" + std::to_string(i), std::to_string(i)});
    } else {
      commands.push_back({"INCR", "pcount"});
    }
  }
  std::vector<Reply> replies;
  ASSERT_TRUE(c.Pipeline(commands, &replies).ok());
  ASSERT_EQ(replies.size(), 1000u);
  for (int i = 0; i < 1000; ++i) {
    if (i % 2 == 0) {
      EXPECT_EQ(replies[i], Reply::Status("OK")) << i;
    } else {
      EXPECT_EQ(replies[i], Reply::Integer(i / 2 + 1)) << i;
    }
  }
  std::vector<std::vector<std::string>> gets;
  for (int i = 0; i < 1000; i += 2)
    gets.push_back({"GET", "p" + std::to_string(i)});
  ASSERT_TRUE(c.Pipeline(gets, &replies).ok());
  ASSERT_EQ(replies.size(), 500u);
  for (int i = 0; i < 500; ++i) {
    EXPECT_EQ(replies[i], Reply::Bulk(std::to_string(2 * i)));
  }
  ASSERT_TRUE(c.Pipeline({}, &replies).ok());
  EXPECT_TRUE(replies.empty());
}

// Megabytes of requests whose replies are bigger still (3 MB out, 48 MB
// back). The client reads replies while it writes, so it cannot deadlock
// with a server that stops reading while its replies back up; ember-server
// today buffers them instead, so this checks that big pipelines arrive
// whole and in order.
TEST_F(RemoteClientTest, LargePipelineDoesNotDeadlock) {
  RemoteClient c(Unix());
  const std::string key(1000, 'k');
  const std::string value(16 * 1024, 'v');
  ASSERT_TRUE(c.Set(key, value).ok());
  std::vector<std::vector<std::string>> gets(3000, {"GET", key});
  std::vector<Reply> replies;
  ASSERT_TRUE(c.Pipeline(gets, &replies).ok());
  ASSERT_EQ(replies.size(), gets.size());
  for (const Reply& r : replies) ASSERT_EQ(r.str.size(), value.size());
}

TEST_F(RemoteClientTest, ErrorRepliesAreValues) {
  RemoteClient c(Tcp());
  ASSERT_TRUE(c.Set("word", "abc").ok());
  Reply reply;
  ASSERT_TRUE(c.Command({"INCR", "word"}, &reply).ok());
  EXPECT_EQ(reply, Reply::Error("ERR value is not an integer or out of range"));
  ASSERT_TRUE(
      c.Command(std::vector<std::string>{"NOSUCHCOMMAND"}, &reply).ok());
  EXPECT_TRUE(reply.is_error());
  EXPECT_EQ(reply.str.rfind("ERR unknown command", 0), 0u) << reply;
  // The convenience calls turn the same reply into a status.
  shm::Status s = c.Incr("word");
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_EQ(s.message(), "ERR value is not an integer or out of range");
  // And the connection carries on.
  EXPECT_TRUE(c.connected());
  ASSERT_TRUE(c.Command({"PING"}, &reply).ok());
  EXPECT_TRUE(reply.IsStatus("PONG"));
  EXPECT_EQ(c.Command(std::vector<std::string>{}, &reply).code(),
            Code::kInvalidArgument);
}

TEST_F(RemoteClientTest, ServerGoneIsUnavailable) {
  RemoteClient c(Unix());
  ASSERT_TRUE(c.Set("k", "v").ok());
  server().Kill();
  Reply reply;
  shm::Status s = c.Command({"GET", "k"}, &reply);
  EXPECT_EQ(s.code(), Code::kUnavailable) << s.ToString();
  EXPECT_TRUE(reply.is_null());
  EXPECT_FALSE(c.connected());
}

// The server restarts between two commands; the client notices the closed
// connection before sending and dials again, on the same socket path (and
// on the same TCP port, which the fixture keeps across restarts).
TEST_F(RemoteClientTest, ReconnectsTransparentlyAfterRestart) {
  RemoteClient unix_client(Unix());
  RemoteClient tcp_client(Tcp());
  ASSERT_TRUE(unix_client.Set("k", "before").ok());
  ASSERT_TRUE(tcp_client.Set("k2", "before").ok());
  ASSERT_TRUE(server().Restart());
  std::string value;
  bool found = false;
  ASSERT_TRUE(unix_client.Get("k", &value, &found).ok());
  EXPECT_TRUE(found);
  EXPECT_EQ(value, "before");
  ASSERT_TRUE(tcp_client.Get("k2", &value, &found).ok());
  EXPECT_EQ(value, "before");
}

TEST_F(RemoteClientTest, WithoutReconnectALostConnectionStaysLost) {
  RemoteOptions o = Unix();
  o.reconnect = false;
  RemoteClient c(o);
  Reply reply;
  EXPECT_EQ(c.Command({"PING"}, &reply).code(), Code::kUnavailable)
      << "not connected yet";
  ASSERT_TRUE(c.Connect().ok());
  ASSERT_TRUE(server().Restart());
  shm::Status s = c.Command({"PING"}, &reply);
  EXPECT_EQ(s.code(), Code::kUnavailable) << s.ToString();
  ASSERT_TRUE(c.Connect().ok());
  ASSERT_TRUE(c.Command({"PING"}, &reply).ok());
  EXPECT_TRUE(reply.IsStatus("PONG"));
}

class AuthTest : public RemoteClientTest {
 protected:
  AuthTest() { server_options_.requirepass = "s3cret"; }
};

TEST_F(AuthTest, WithoutPasswordCommandsGetNoauth) {
  RemoteOptions o = Tcp();
  o.password.clear();
  RemoteClient c(o);
  ASSERT_TRUE(c.Connect().ok());
  Reply reply;
  ASSERT_TRUE(c.Command({"GET", "k"}, &reply).ok());
  EXPECT_EQ(reply, Reply::Error("NOAUTH Authentication required."));
}

TEST_F(AuthTest, WithPasswordCommandsWork) {
  RemoteClient c(Unix());
  ASSERT_TRUE(c.Connect().ok());
  ASSERT_TRUE(c.Set("k", "v").ok());
  // After a restart the client authenticates its new connection too.
  ASSERT_TRUE(server().Restart());
  std::string value;
  bool found = false;
  ASSERT_TRUE(c.Get("k", &value, &found).ok());
  EXPECT_EQ(value, "v");
}

TEST_F(AuthTest, WrongPasswordFailsToConnect) {
  RemoteOptions o = Tcp();
  o.password = "wrong";
  RemoteClient c(o);
  shm::Status s = c.Connect();
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_NE(s.message().find("AUTH failed"), std::string::npos) << s.message();
  EXPECT_FALSE(c.connected());
}

// A TCP socket that listens on 127.0.0.1 but never accepts or answers: the
// kernel completes connects, and requests go unanswered.
class SilentListener {
 public:
  explicit SilentListener(int backlog = 16) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), len), 0);
    EXPECT_EQ(::listen(fd_, backlog), 0);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
  }
  ~SilentListener() { ::close(fd_); }
  uint16_t port() const { return port_; }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
};

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
      .count();
}

TEST(RemoteClientTimeoutTest, UnansweredCommandTimesOut) {
  SilentListener listener;
  RemoteOptions o;
  o.port = listener.port();
  o.io_timeout_ms = 200;
  RemoteClient c(o);
  ASSERT_TRUE(c.Connect().ok());
  const auto start = std::chrono::steady_clock::now();
  Reply reply;
  shm::Status s = c.Command({"PING"}, &reply);
  EXPECT_EQ(s.code(), Code::kUnavailable);
  EXPECT_NE(s.message().find("timed out after 200 ms"), std::string::npos)
      << s.message();
  EXPECT_GE(SecondsSince(start), 0.19);
  EXPECT_LT(SecondsSince(start), 2.0);
  EXPECT_FALSE(c.connected()) << "a timed-out stream is out of step";
}

TEST(RemoteClientTimeoutTest, UnansweredAuthTimesOutTheConnect) {
  SilentListener listener;
  RemoteOptions o;
  o.port = listener.port();
  o.password = "x";
  o.connect_timeout_ms = 200;
  RemoteClient c(o);
  const auto start = std::chrono::steady_clock::now();
  shm::Status s = c.Connect();
  EXPECT_EQ(s.code(), Code::kUnavailable);
  EXPECT_NE(s.message().find("timed out"), std::string::npos) << s.message();
  EXPECT_LT(SecondsSince(start), 2.0);
}

TEST(RemoteClientTimeoutTest, NobodyListeningIsRefusedAtOnce) {
  uint16_t port = 0;
  {
    SilentListener gone;  // a port that was free a moment ago
    port = gone.port();
  }
  RemoteOptions o;
  o.port = port;
  RemoteClient c(o);
  shm::Status s = c.Connect();
  EXPECT_EQ(s.code(), Code::kUnavailable);
  EXPECT_NE(s.message().find("refused"), std::string::npos) << s.message();
  o.unix_socket = "/nonexistent/ember.sock";
  RemoteClient u(o);
  EXPECT_EQ(u.Connect().code(), Code::kUnavailable);
}

}  // namespace
}  // namespace ember::client
