// tests/fuzz/dispatch_fuzz.cc: libFuzzer target for command dispatch
// against a real server core: the command table and Execute over a real
// arena, redo log, dirty table, applier and RocksDB, assembled once per
// process as the server assembles them (tests/server/writer_test.cc). The
// input is a RESP2 request stream (inline or multibulk, as a client sends
// it), split into commands by the server's own parser; each is routed as a
// connection routes it (writes, and reads right after a write, through the
// Writer's group commit; other reads and server commands on a NetKeyspace),
// and every reply must be exactly one well-formed RESP2 reply
// (protocol/resp_reply.h). An argument "@dump" stands for the payload of
// the last DUMP reply, so RESTORE gets valid payloads too. Each input
// starts with FLUSHALL: state stays bounded, inputs stay independent.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "protocol/resp_parser.h"
#include "protocol/resp_reply.h"
#include "server/applier.h"
#include "server/commands.h"
#include "server/db_keyspace.h"
#include "server/redo_log.h"
#include "server/server_info.h"
#include "server/writer.h"
#include "shm/size_classes.h"

namespace {

using namespace ember::server;
using ember::shm::Status;

void Check(const Status& s, const char* what) {
  if (s.ok()) return;
  std::fprintf(stderr, "fuzz_dispatch: %s: %s\n", what, s.ToString().c_str());
  std::abort();
}

// The server-level answers commands ask for: the config, SCAN cursors (at
// most 4096, as the server's shared pool), MEMORY USAGE's chunk sizes.
class FuzzInfo : public ServerInfo {
 public:
  FuzzInfo(const Config& c, uint32_t page_bytes)
      : config_(c), classes_(page_bytes) {}
  const Config& config() const override { return config_; }
  std::string InfoText(std::string_view) override { return "# Server\r\n"; }
  uint64_t RememberCursor(const std::string& next_key) override {
    if (cursors_.size() >= 4096) cursors_.erase(cursors_.begin());
    cursors_[++next_cursor_] = next_key;
    return next_cursor_;
  }
  bool RecallCursor(uint64_t cursor, std::string* next_key) override {
    auto it = cursors_.find(cursor);
    if (it == cursors_.end()) return false;
    *next_key = it->second;
    return true;
  }
  uint64_t ArenaChunkBytes(uint64_t item_bytes) override {
    const int cls = classes_.ClassFor(item_bytes);
    return cls < 0 ? 0 : classes_.chunk_bytes(cls);
  }

 private:
  const Config& config_;
  const ember::shm::SizeClasses classes_;
  std::map<uint64_t, std::string> cursors_;
  uint64_t next_cursor_ = 0;
};

// One server core in a temporary directory, for the life of the process
// (torn down at exit, which unlinks the arena and the directory).
struct Core {
  std::string dir;
  Config config;
  Stats stats;
  asio::io_context io;  // the one "event loop": the fuzzer's thread
  std::unique_ptr<ColdStore> cold;
  std::unique_ptr<RedoLog> log;
  std::unique_ptr<DirtyTable> dirty;
  std::unique_ptr<Applier> applier;
  std::unique_ptr<ember::shm::ArenaWriter> arena;
  std::unique_ptr<FuzzInfo> info;
  std::unique_ptr<Writer> writer;
  std::unique_ptr<ember::shm::ArenaReader> reader;  // the loop's own slot
  std::unique_ptr<NetKeyspace> keys;

  Core() {
    char tmpl[] = "/tmp/ember-fuzz-dispatch-XXXXXX";
    if (mkdtemp(tmpl) == nullptr) std::abort();
    dir = tmpl;
    Check(ColdStore::Open(dir + "/db", &cold), "ColdStore::Open");
    Check(RedoLog::Open({dir + "/redo", FsyncMode::kNo, 1 << 20}, &log),
          "RedoLog::Open");
    Check(log->Start(1), "RedoLog::Start");
    dirty = std::make_unique<DirtyTable>(DirtyTable::Limits{4 << 20, 10000}, 0);
    applier = std::make_unique<Applier>(dirty.get(), cold.get(), log.get(),
                                        std::chrono::milliseconds(1));
    applier->Start();
    ember::shm::ArenaOptions o;
    o.name = "fuzzdispatch" + std::to_string(getpid());
    o.run_dir = dir;
    o.arena_bytes = 2 << 20;  // small: eviction runs
    o.page_bytes = 64 << 10;
    o.max_readers = 8;
    o.remove_on_close = true;
    Check(ember::shm::ArenaWriter::Create(o, &arena), "ArenaWriter::Create");
    config.fsync = FsyncMode::kNo;  // commits run inline, on this thread
    config.max_value_bytes_hot = 16 << 10;
    // SETRANGE, SETBIT, BITFIELD and APPEND refuse results past this: keeps
    // each input's memory and time small.
    config.proto_max_bulk_len = 64 << 10;
    info = std::make_unique<FuzzInfo>(config, o.page_bytes);
    writer =
        std::make_unique<Writer>(config, cold.get(), arena.get(), info.get(),
                                 &stats, WriteBack{log.get(), dirty.get(), 1});
    writer->Start();
    Check(ember::shm::ArenaReader::Attach(*arena, &reader), "Attach");
    keys = std::make_unique<NetKeyspace>(reader.get(), cold.get(), writer.get(),
                                         config.max_value_bytes_hot, &stats);
  }
  ~Core() {
    keys.reset();
    reader.reset();
    writer.reset();
    applier.reset();
    dirty.reset();
    log.reset();
    arena.reset();
    info.reset();
    cold.reset();
    std::filesystem::remove_all(dir);
  }

  // Runs `args` as one job of the group commit and returns its reply (the
  // Writer posts a Flush to `io` and replies there).
  std::string Commit(const CommandSpec* spec, Args args, uint8_t db) {
    std::string reply;
    bool done = false;
    std::vector<WriteJob> jobs;
    jobs.push_back(WriteJob{spec, std::move(args), &io,
                            [&](std::string r) {
                              reply = std::move(r);
                              done = true;
                            },
                            db});
    writer->Submit(&jobs);
    while (!done) {
      io.restart();
      io.run_one_for(std::chrono::milliseconds(10));
    }
    return reply;
  }
};

Core* the_core = nullptr;

Core& TheCore() {
  if (the_core == nullptr) {
    the_core = new Core();
    std::atexit([] { delete the_core; });
  }
  return *the_core;
}

// The property: `reply` is one whole, well-formed RESP2 reply.
void CheckReply(const Args& args, const std::string& reply) {
  ember::protocol::ReplyParser parser;
  ember::protocol::Reply parsed;
  size_t used = 0;
  const auto r = parser.Parse(reply, &used, &parsed);
  if (r == ember::protocol::ReplyResult::kReply && used == reply.size()) return;
  std::fprintf(stderr, "fuzz_dispatch: bad reply to '%s' (%zu args): %s\n",
               args[0].c_str(), args.size(),
               r == ember::protocol::ReplyResult::kError
                   ? parser.error().c_str()
                   : (r == ember::protocol::ReplyResult::kReply ? "trailing"
                                                                : "truncated"));
  std::fprintf(stderr, "reply (%zu bytes): %.200s\n", reply.size(),
               reply.c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ember::protocol;
  Core& core = TheCore();
  CheckReply({"flushall"},
             core.Commit(FindCommand("flushall"), {"FLUSHALL"}, 0));
  ParserLimits limits;
  limits.max_inline_bytes = 1024;
  limits.max_multibulk_args = 64;
  limits.max_bulk_bytes = 8192;
  RespParser parser(limits);
  Session session;  // the connection's
  session.id = 1;
  session.authenticated = true;
  session.peer = "127.0.0.1:1";
  std::string input(reinterpret_cast<const char*>(data), size);
  input += "\r\n";  // a last inline command needs no newline of its own
  std::string last_dump;
  bool after_write = false;  // a write of this "connection" is in flight
  std::string_view rest(input);
  for (int n = 0; n < 64 && !session.quit; ++n) {
    Command cmd;
    size_t used = 0;
    const ParseResult pr = parser.Parse(rest, &used, &cmd);
    rest.remove_prefix(used);
    if (pr != ParseResult::kCommand) break;
    Args args(cmd.begin(), cmd.end());
    for (std::string& a : args) {
      if (a == "@dump") a = last_dump;
    }
    const CommandSpec* spec = FindCommand(args[0]);
    std::string reply;
    if (spec == nullptr) {
      reply = UnknownCommandError(args);
    } else if (spec->flags & kDebug) {
      continue;  // DEBUG SLEEP would sleep; the connection refuses it
    } else if ((spec->flags & kWrite) ||
               ((spec->flags & kRead) && after_write &&
                spec->handler != CmdScan)) {
      reply = core.Commit(spec, args, session.db);
      after_write = (spec->flags & kWrite) != 0;
    } else {
      DbKeyspace db(core.keys.get(), session.db);
      CommandContext ctx{&db, &session, core.info.get(), core.keys.get()};
      Execute(*spec, args, ctx, &reply);
      after_write = false;
    }
    CheckReply(args, reply);
    if (spec != nullptr && spec->handler == CmdDump && reply[0] == '$' &&
        reply != "$-1\r\n") {
      const size_t eol = reply.find("\r\n");
      last_dump = reply.substr(eol + 2, reply.size() - eol - 4);
    }
  }
  return 0;
}
