// tests/client/crash_reader.cc: a local reader process for
// tests/integration/test_crash_loop.py. Usage: crash_reader NAME RUN_DIR
// SOCKET. It reads keys through one LocalClient (arena first, else the
// server's Unix socket) and checks every value it gets back:
//   - "n:..." keys (counters) hold a decimal integer;
//   - every other key holds "<key>|<writer>|<seq>|<pad>|<sum>": <writer> is
//     the key up to its last ':' ("d:2:17" -> "d:2", "h:5" -> "h"), <seq> a
//     decimal version, <pad> the letter 'a' + seq % 26 repeated (maybe 0
//     times), <sum> 8 lowercase hex digits of the CRC-32 (zlib's) of
//     everything before the last '|'.
// A value of another shape, another key or another writer, a bad checksum,
// or a version (seq, or the counter's number) below the largest this thread
// saw of that key before, is a violation. Versions only grow per key, so a
// NIL (a deleted key) is never a violation and keeps the largest seen.
// Errors (kUnavailable while the server is down) are counted, never
// violations. The reader survives server restarts: LocalClient reattaches.
//
// Commands on stdin, one per line, each answered with one line on stdout:
//   LOOP <prefix> <count> [<prefix> <count> ...] -> "LOOPING": a thread
//       reads keys <prefix>0 .. <prefix><count-1> round and round until EXIT
//   READY <ms> -> "READY 1" as soon as the main thread's zero-copy path is
//       open (an ACTIVE arena, fresh heartbeat), "READY 0" after <ms>
//   HOT <prefix> <count> -> "HOT hits=H srv=S nil=N err=E bad=B first=F":
//       each key read once on the main thread; H of them were arena hits
//   STATS -> "STATS reads=R hits=H srv=S nil=N err=E bad=B first=F", the
//       loop thread's counts so far (F: its first violation, or "-")
//   EXIT (or EOF) -> stops the loop thread, exits 0
#include <unistd.h>

#include <array>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "client/local_client.h"

namespace {

using ember::client::LocalClient;
using ember::client::Value;
using ember::shm::Code;
using ember::shm::Status;

// CRC-32 of `s` (zlib's, as Python's zlib.crc32).
uint32_t Crc32(std::string_view s) {
  static const auto table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  uint32_t c = 0xFFFFFFFFu;
  for (unsigned char b : s) c = table[(c ^ b) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

bool ParseU64(std::string_view s, uint64_t* out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

// Printable, one line, at most 160 bytes of `s`.
std::string Escape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size() && i < 160; ++i) {
    const unsigned char c = s[i];
    if (c > ' ' && c < 0x7f && c != '\\') {
      out += static_cast<char>(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02x", c);
      out += buf;
    }
  }
  if (s.size() > 160) out += "...(" + std::to_string(s.size()) + " bytes)";
  return out;
}

// The writer field a key's values must carry: the key up to its last ':'.
std::string_view OwnerOf(std::string_view key) {
  const size_t colon = key.rfind(':');
  return colon == std::string_view::npos ? std::string_view()
                                         : key.substr(0, colon);
}

// Checks `value` of `key`; on success sets `*version`. Returns an empty
// string, or what is wrong.
std::string Check(std::string_view key, std::string_view value,
                  uint64_t* version) {
  if (key.starts_with("n:")) {
    if (!ParseU64(value, version)) return "counter not a number";
    return {};
  }
  const size_t last = value.rfind('|');
  if (last == std::string_view::npos) return "no '|'";
  const std::string_view body = value.substr(0, last);
  uint32_t sum = 0;
  const std::string_view hex = value.substr(last + 1);
  auto [p, ec] =
      std::from_chars(hex.data(), hex.data() + hex.size(), sum, /*base=*/16);
  if (hex.size() != 8 || ec != std::errc() || p != hex.data() + hex.size()) {
    return "bad checksum field";
  }
  if (Crc32(body) != sum) return "checksum mismatch (torn?)";
  std::string_view f[4];
  std::string_view rest = body;
  for (int i = 0; i < 3; ++i) {
    const size_t bar = rest.find('|');
    if (bar == std::string_view::npos) return "too few fields";
    f[i] = rest.substr(0, bar);
    rest = rest.substr(bar + 1);
  }
  f[3] = rest;
  if (f[0] != key) return "value of another key";
  if (f[1] != OwnerOf(key)) return "value of another writer";
  if (!ParseU64(f[2], version)) return "bad version";
  const char pad = static_cast<char>('a' + *version % 26);
  for (char c : f[3]) {
    if (c != pad) return "bad padding";
  }
  return {};
}

struct Counts {
  std::atomic<uint64_t> reads{0}, hits{0}, srv{0}, nil{0}, err{0}, bad{0};
  std::mutex mu;
  std::string first;  // GUARDED_BY(mu): the first violation
};

// One thread's reads: per key the largest version this thread saw.
class Checker {
 public:
  explicit Checker(LocalClient* client) : client_(client) {}

  // Reads `key` once, counts in `*counts` where it was answered, checks the
  // value. Returns false on an error (the server may be down).
  bool Read(const std::string& key, Counts* counts) {
    counts_ = counts;
    Value v;
    const Status s = client_->Get(key, &v);
    counts_->reads.fetch_add(1, std::memory_order_relaxed);
    if (s.code() == Code::kNotFound) {
      counts_->nil.fetch_add(1, std::memory_order_relaxed);
      return true;
    }
    if (!s.ok()) {
      counts_->err.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    const bool hit = v.zero_copy();
    (hit ? counts_->hits : counts_->srv)
        .fetch_add(1, std::memory_order_relaxed);
    uint64_t version = 0;
    std::string wrong = Check(key, v.view(), &version);
    if (wrong.empty()) {
      uint64_t& seen = seen_[key];
      if (version < seen) {
        wrong = "version " + std::to_string(version) + " after " +
                std::to_string(seen) + " (older than seen)";
      } else {
        seen = version;
      }
    }
    if (!wrong.empty()) {
      counts_->bad.fetch_add(1, std::memory_order_relaxed);
      std::string text = std::string(hit ? "HIT " : "SRV ") + key + ": " +
                         wrong + ": " + Escape(v.view());
      std::cerr << "crash_reader violation: " << text << std::endl;
      std::lock_guard<std::mutex> lock(counts_->mu);
      if (counts_->first.empty()) counts_->first = std::move(text);
    }
    return true;
  }

 private:
  LocalClient* client_;
  Counts* counts_ = nullptr;  // Read()'s
  std::unordered_map<std::string, uint64_t> seen_;
};

std::string Summary(Counts& c) {
  std::ostringstream out;
  out << "hits=" << c.hits.load() << " srv=" << c.srv.load()
      << " nil=" << c.nil.load() << " err=" << c.err.load()
      << " bad=" << c.bad.load() << " first=";
  std::lock_guard<std::mutex> lock(c.mu);
  out << (c.first.empty() ? "-" : c.first);
  return out.str();
}

std::vector<std::string> Keys(std::istringstream& in) {
  std::vector<std::string> keys;
  std::string prefix;
  size_t count = 0;
  while (in >> prefix >> count) {
    for (size_t i = 0; i < count; ++i)
      keys.push_back(prefix + std::to_string(i));
  }
  return keys;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: crash_reader NAME RUN_DIR SOCKET\n");
    return 2;
  }
  ember::client::LocalOptions o;
  o.name = argv[1];
  o.run_dir = argv[2];
  o.remote.unix_socket = argv[3];
  o.remote.connect_timeout_ms = 1000;
  o.remote.io_timeout_ms = 5000;
  std::unique_ptr<LocalClient> client;
  if (!LocalClient::Open(o, &client).ok()) return 1;

  Counts loop_counts;
  Checker hot_checker(client.get());  // the main thread's (HOT)
  std::atomic<bool> stop{false};
  std::thread loop;
  std::string line;
  while (std::getline(std::cin, line)) {
    std::istringstream in(line);
    std::string cmd;
    in >> cmd;
    if (cmd == "EXIT") break;
    if (cmd == "LOOP" && !loop.joinable()) {
      std::vector<std::string> keys = Keys(in);
      loop = std::thread([&, keys = std::move(keys)] {
        Checker checker(client.get());
        size_t n = 0;
        while (!stop.load(std::memory_order_relaxed)) {
          for (const std::string& key : keys) {
            if (stop.load(std::memory_order_relaxed)) break;
            // Tight, but leaving the two CI cores to the server: a pause
            // per 256 reads, a longer one after an error (server down).
            if (!checker.Read(key, &loop_counts)) {
              std::this_thread::sleep_for(std::chrono::milliseconds(2));
            } else if (++n % 256 == 0) {
              std::this_thread::sleep_for(std::chrono::microseconds(300));
            }
          }
        }
      });
      std::cout << "LOOPING" << std::endl;
    } else if (cmd == "READY") {
      int ms = 0;
      in >> ms;
      const auto deadline =
          std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
      bool ready = client->arena_ready();
      while (!ready && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        ready = client->arena_ready();
      }
      std::cout << "READY " << (ready ? 1 : 0) << std::endl;
    } else if (cmd == "HOT") {
      Counts counts;
      for (const std::string& key : Keys(in)) hot_checker.Read(key, &counts);
      std::cout << "HOT " << Summary(counts) << std::endl;
    } else if (cmd == "STATS") {
      std::cout << "STATS reads=" << loop_counts.reads.load() << " "
                << Summary(loop_counts) << std::endl;
    } else {
      std::cout << "ERR unknown command: " << Escape(line) << std::endl;
    }
  }
  stop.store(true);
  if (loop.joinable()) loop.join();
  return 0;
}
