// client/ember_cli.cc: ember-cli, a redis-cli-like client. Runs the command
// in its arguments, or each line of a piped stdin, or a prompt with line
// editing and history (libedit) when stdin is a terminal.
//   ember-cli [-h host] [-p port] [-s socket] [-a password] [cmd args...]
//   ember-cli --local NAME [--run-dir DIR] [cmd args...]   GET from the arena
//   ember-cli [--run-dir DIR] arena NAME                   the arena's state
// Replies print as redis-cli prints them (client/cli_format.h). Exit code:
// 0 when every command got a reply, error replies included (as redis-cli);
// 1 on a bad flag or when the server cannot be reached.
#include <editline/readline.h>
#include <strings.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "client/arena_info.h"
#include "client/cli_format.h"
#include "client/local_client.h"
#include "client/remote_client.h"
#include "protocol/inline_args.h"
#include "shm/arena_writer.h"

namespace ember::client {
namespace {

struct CliOptions {
  RemoteOptions remote;
  std::string local_name;              // --local: read through this arena
  std::string run_dir = "/tmp/ember";  // the server's run_dir
  std::optional<ReplyFormat> format;   // unset: by whether stdout is a tty
  std::vector<std::string> args;       // the command (or subcommand) to run
};

// Command-line flags, before the first argument that is not one. One row
// per flag: adding a flag (e.g. --local NAME) is adding a row.
struct Flag {
  std::string_view name;
  std::string_view value_name;  // empty: the flag takes no value
  std::string_view help;
  // Applies the flag; false with `*error` set on a bad value.
  bool (*apply)(const std::string& value, CliOptions* options,
                std::string* error);
};

const Flag kFlags[] = {
    {"-h", "host", "server address (default 127.0.0.1)",
     [](const std::string& v, CliOptions* o, std::string*) {
       o->remote.host = v;
       return true;
     }},
    {"-p", "port", "server port (default 7379)",
     [](const std::string& v, CliOptions* o, std::string* error) {
       char* end = nullptr;
       long port = std::strtol(v.c_str(), &end, 10);
       if (v.empty() || *end != '\0' || port < 1 || port > 65535) {
         *error = "bad port '" + v + "'";
         return false;
       }
       o->remote.port = static_cast<uint16_t>(port);
       return true;
     }},
    {"-s", "socket", "Unix socket path (instead of host and port)",
     [](const std::string& v, CliOptions* o, std::string*) {
       o->remote.unix_socket = v;
       return true;
     }},
    {"-a", "password", "password sent with AUTH on connect",
     [](const std::string& v, CliOptions* o, std::string*) {
       o->remote.password = v;
       return true;
     }},
    {"--local", "name",
     "GETs read arena <name> zero-copy (through the server's Unix socket on "
     "a miss); other commands use the socket: -s, else "
     "<run-dir>/ember.sock (-h and -p are not used)",
     [](const std::string& v, CliOptions* o, std::string*) {
       o->local_name = v;
       return true;
     }},
    {"--run-dir", "dir", "the server's run_dir (default /tmp/ember)",
     [](const std::string& v, CliOptions* o, std::string*) {
       o->run_dir = v;
       return true;
     }},
    {"--raw", "", "print replies raw, even to a terminal",
     [](const std::string&, CliOptions* o, std::string*) {
       o->format = ReplyFormat::kRaw;
       return true;
     }},
    {"--no-raw", "", "print replies for humans, even to a pipe",
     [](const std::string&, CliOptions* o, std::string*) {
       o->format = ReplyFormat::kHuman;
       return true;
     }},
};

// Where commands go. The server's socket is the one kind so far; another
// (say, the local arena) implements the same three calls.
class Session {
 public:
  virtual ~Session() = default;
  virtual shm::Status Connect() = 0;
  // kOk whenever the command got a reply, an error reply included.
  virtual shm::Status Run(const std::vector<std::string>& args,
                          protocol::Reply* reply) = 0;
  // What the prompt shows, e.g. "127.0.0.1:7379".
  virtual std::string Name() const = 0;
};

class RemoteSession : public Session {
 public:
  explicit RemoteSession(const RemoteOptions& options) : client_(options) {}
  shm::Status Connect() override { return client_.Connect(); }
  shm::Status Run(const std::vector<std::string>& args,
                  protocol::Reply* reply) override {
    return client_.Command(args, reply);
  }
  std::string Name() const override { return client_.Endpoint(); }

 private:
  RemoteClient client_;
};

// --local: GET key reads the arena through LocalClient (zero-copy, with
// the socket behind it); every other command goes over the socket.
class LocalSession : public Session {
 public:
  explicit LocalSession(const CliOptions& options) {
    o_.name = options.local_name;
    o_.run_dir = options.run_dir;
    o_.remote = options.remote;
    if (o_.remote.unix_socket.empty())
      o_.remote.unix_socket = options.run_dir + "/ember.sock";
    open_ = LocalClient::Open(o_, &client_);
    name_ = "local:" + o_.name;
  }
  shm::Status Connect() override {
    if (!open_.ok()) return open_;
    if (!client_->arena_ready()) {
      std::cerr << "(arena " << client_->options().name
                << " is not readable here: reads go to "
                << client_->options().remote.unix_socket << ")" << std::endl;
    }
    protocol::Reply pong;  // the socket, for everything but GET
    return client_->Command({"PING"}, &pong);
  }
  shm::Status Run(const std::vector<std::string>& args,
                  protocol::Reply* reply) override {
    if (args.size() == 2 && strcasecmp(args[0].c_str(), "get") == 0) {
      // A read held past the lease may be revoked: read it again, once.
      for (int attempt = 0;; ++attempt) {
        Value v;
        shm::Status s = client_->Get(args[1], &v);
        if (s.code() == shm::Code::kNotFound) {
          *reply = protocol::Reply::Null();
          return shm::Status::Ok();
        }
        if (!s.ok()) return s;
        *reply = protocol::Reply::Bulk(v.view());
        s = v.Release();
        if (s.code() != shm::Code::kRevoked || attempt == 1) return s;
      }
    }
    EMBER_RETURN_IF_ERROR(client_->Command(args, reply));
    return FollowDatabase(args, *reply);
  }
  std::string Name() const override { return name_; }

 private:
  // After a SELECT (or RESET) the server answered +OK, the arena reads go
  // to that database too: a client of it replaces this one.
  shm::Status FollowDatabase(const std::vector<std::string>& args,
                             const protocol::Reply& reply) {
    if (reply.kind != protocol::Reply::Kind::kStatus || args.empty())
      return shm::Status::Ok();
    int db = -1;
    if (args.size() == 2 && strcasecmp(args[0].c_str(), "select") == 0) {
      db = std::atoi(args[1].c_str());  // the server accepted it
    } else if (args.size() == 1 && strcasecmp(args[0].c_str(), "reset") == 0) {
      db = 0;
    }
    if (db < 0 || db == o_.db) return shm::Status::Ok();
    LocalOptions o = o_;
    o.db = db;
    std::unique_ptr<LocalClient> c;
    EMBER_RETURN_IF_ERROR(LocalClient::Open(o, &c));
    o_ = o;
    client_ = std::move(c);
    return shm::Status::Ok();
  }

  LocalOptions o_;
  shm::Status open_;
  std::unique_ptr<LocalClient> client_;
  std::string name_;
};

std::unique_ptr<Session> MakeSession(const CliOptions& options) {
  if (!options.local_name.empty())
    return std::make_unique<LocalSession>(options);
  return std::make_unique<RemoteSession>(options.remote);
}

// Runs one command line; prints the reply, or the failure to stderr.
// Returns false on a transport failure.
bool RunAndPrint(Session* session, const std::vector<std::string>& args,
                 ReplyFormat format) {
  protocol::Reply reply;
  shm::Status s = session->Run(args, &reply);
  if (!s.ok()) {
    std::cerr << "Error: " << s.message() << std::endl;
    return false;
  }
  std::cout << FormatReply(reply, format) << std::flush;
  return true;
}

// One line typed or piped. Returns false on a transport failure; sets
// `*quit` on "quit" or "exit".
bool RunLine(Session* session, const std::string& line, ReplyFormat format,
             bool* quit) {
  std::vector<std::string> args;
  if (!protocol::SplitInlineArgs(line, &args)) {
    std::cerr << "Invalid argument(s)" << std::endl;
    return true;
  }
  if (args.empty()) return true;
  if (args.size() == 1 && (strcasecmp(args[0].c_str(), "quit") == 0 ||
                           strcasecmp(args[0].c_str(), "exit") == 0)) {
    *quit = true;
    return true;
  }
  return RunAndPrint(session, args, format);
}

// Commands from a pipe or file, one per line, no prompt.
int RunPiped(Session* session, ReplyFormat format) {
  bool all_ok = true;
  bool quit = false;
  std::string line;
  while (!quit && std::getline(std::cin, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    all_ok = RunLine(session, line, format, &quit) && all_ok;
  }
  return all_ok ? 0 : 1;
}

// The interactive prompt. History lives in ~/.ember_cli_history.
int RunPrompt(Session* session, ReplyFormat format, bool connected) {
  std::string history;
  if (const char* home = std::getenv("HOME"); home != nullptr && *home) {
    history = std::string(home) + "/.ember_cli_history";
  }
  using_history();
  stifle_history(1000);
  if (!history.empty()) read_history(history.c_str());
  bool quit = false;
  while (!quit) {
    const std::string prompt =
        (connected ? session->Name() : std::string("not connected")) + "> ";
    char* raw = readline(prompt.c_str());
    if (raw == nullptr) break;  // end of input (Ctrl-D)
    const std::string line(raw);
    std::free(raw);
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    add_history(line.c_str());
    if (!history.empty()) write_history(history.c_str());
    connected = RunLine(session, line, format, &quit);
  }
  return 0;
}

// ember-cli NAME ...: tools that are not server commands. The first
// argument is looked up here before it is sent to the server as a command;
// `run` gets the options with `args` starting at NAME.
struct Subcommand {
  std::string_view name;
  std::string_view usage;
  int (*run)(const CliOptions& options);
};
int RunArena(const CliOptions& options) {
  if (options.args.size() != 2) {
    std::cerr << "usage: ember-cli [--run-dir DIR] arena NAME\n";
    return 1;
  }
  std::string text;
  shm::Status s = DescribeArena(options.args[1], options.run_dir, &text);
  std::cout << text;
  if (!s.ok()) {
    std::cerr << "ember-cli arena: " << s.ToString() << std::endl;
    return 1;
  }
  return 0;
}

int RunDropArena(const CliOptions& options) {
  if (options.args.size() != 2) {
    std::cerr << "usage: ember-cli drop-arena NAME\n";
    return 1;
  }
  uint64_t bytes = 0;
  shm::Status s = shm::ArenaWriter::DropStopped(options.args[1], &bytes);
  if (!s.ok()) {
    std::cerr << "ember-cli drop-arena: " << s.ToString() << std::endl;
    return 1;
  }
  std::cout << "dropped arena " << options.args[1] << " (" << bytes
            << " bytes of /dev/shm)" << std::endl;
  return 0;
}

constexpr std::array<Subcommand, 2> kSubcommands{{
    {"arena",
     "arena <name>      print arena <name>'s header, fill, classes "
     "and readers (read-only)",
     &RunArena},
    {"drop-arena",
     "drop-arena <name> remove a stopped server's arena from /dev/shm "
     "(refused while a live server holds it)",
     &RunDropArena},
}};

void PrintUsage(std::ostream& os) {
  os << "usage: ember-cli [options] [command [arg ...]]\n"
        "Runs the command; without one, reads commands from stdin (a "
        "prompt on a terminal).\nOptions:\n";
  for (const Flag& f : kFlags) {
    std::string left(f.name);
    if (!f.value_name.empty()) left += " <" + std::string(f.value_name) + ">";
    left.resize(std::max<size_t>(left.size() + 1, 18), ' ');
    os << "  " << left << f.help << "\n";
  }
  os << "  --help            print this help\n";
  for (const Subcommand& s : kSubcommands) os << "  " << s.usage << "\n";
}

// Fills `*options` from argv. Returns -1 to go on, else the exit code.
int ParseArgs(int argc, char** argv, CliOptions* options) {
  int i = 1;
  for (; i < argc && argv[i][0] == '-'; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--help") {
      PrintUsage(std::cout);
      return 0;
    }
    const Flag* flag = nullptr;
    for (const Flag& f : kFlags) {
      if (f.name == arg) flag = &f;
    }
    if (flag == nullptr) {
      std::cerr << "ember-cli: unknown option '" << arg << "'\n";
      PrintUsage(std::cerr);
      return 1;
    }
    std::string value;
    if (!flag->value_name.empty()) {
      if (++i == argc) {
        std::cerr << "ember-cli: " << arg << " needs a value\n";
        return 1;
      }
      value = argv[i];
    }
    std::string error;
    if (!flag->apply(value, options, &error)) {
      std::cerr << "ember-cli: " << error << "\n";
      return 1;
    }
  }
  options->args.assign(argv + i, argv + argc);
  return -1;
}

int Main(int argc, char** argv) {
  CliOptions options;
  if (int code = ParseArgs(argc, argv, &options); code >= 0) return code;
  if (!options.args.empty()) {
    for (const Subcommand& s : kSubcommands) {
      if (s.name == options.args[0]) return s.run(options);
    }
  }
  const ReplyFormat format = options.format.value_or(
      isatty(STDOUT_FILENO) ? ReplyFormat::kHuman : ReplyFormat::kRaw);
  const bool prompt = options.args.empty() && isatty(STDIN_FILENO);
  std::unique_ptr<Session> session = MakeSession(options);
  shm::Status s = session->Connect();
  if (!s.ok()) {
    std::cerr << "Could not connect: " << s.message() << std::endl;
    // A prompt starts anyway, as redis-cli's does, and dials again on the
    // next command.
    if (!prompt) return 1;
  }
  if (prompt) return RunPrompt(session.get(), format, s.ok());
  if (options.args.empty()) return RunPiped(session.get(), format);
  return RunAndPrint(session.get(), options.args, format) ? 0 : 1;
}

}  // namespace
}  // namespace ember::client

int main(int argc, char** argv) { return ember::client::Main(argc, argv); }
