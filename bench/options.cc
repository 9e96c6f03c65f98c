// bench/options.cc: parses ember-bench's flags into Options and checks their
// ranges.
#include "bench/options.h"

#include <charconv>
#include <cstdlib>
#include <functional>
#include <map>
#include <string_view>

namespace ember::bench {
namespace {

template <typename T>
bool ParseNumber(std::string_view text, T* value) {
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, *value);
  return !text.empty() && ec == std::errc() && ptr == end;
}

// "9:1" into its two weights.
bool ParseRatio(std::string_view text, int* get, int* set) {
  const size_t colon = text.find(':');
  if (colon == text.npos) return false;
  return ParseNumber(text.substr(0, colon), get) &&
         ParseNumber(text.substr(colon + 1), set) && *get >= 0 && *set >= 0 &&
         *get + *set > 0;
}

// Byte counts: a number with an optional k or m suffix (1 KiB units).
bool ParseBytes(std::string_view text, size_t* value) {
  size_t unit = 1;
  if (!text.empty() && (text.back() == 'k' || text.back() == 'K')) unit = 1024;
  if (!text.empty() && (text.back() == 'm' || text.back() == 'M')) {
    unit = 1024 * 1024;
  }
  if (unit != 1) text.remove_suffix(1);
  if (!ParseNumber(text, value)) return false;
  *value *= unit;
  return true;
}

}  // namespace

std::string OptionsHelp() {
  return R"(flags (--name value or --name=value):
  --host H            server address (127.0.0.1)
  --port P            server port (remote 7379, memcache 11211)
  --connections C     connections in all (16)
  --threads T         event-loop threads sharing them; local: reader
                      threads per process (1)
  --processes M       local: reader processes (1)
  --name N            local, tiered: the server's arena name (default)
  --run-dir D         local, tiered: the server's run_dir (/tmp/ember)
  --socket S          local, tiered: its Unix socket (<run-dir>/ember.sock)
  --pipeline P        requests in flight per connection (1)
  --memcache-get G    memcache: mg (meta get, memcached 1.6+) | get (mg)
  --ratio G:S         GET:SET weights (1:0)
  --keys N            key space: "key:%012u", 16 bytes (100000)
  --dist D            uniform | zipf (uniform)
  --skew S            Zipf exponent (0.99)
  --value-size B      SET value bytes; k and m suffixes (32)
  --duration S        measured seconds (10), unless --requests
  --requests N        measured requests (0: use --duration)
  --warmup S          unmeasured seconds first (0)
  --load              SET every key once before measuring
  --server-pid PID    report this process's RSS and CPU
  --cdf FILE          write the latency CDF (microseconds fraction)
  --label TEXT        copied into the RESULT line
  --json              JSON instead of the RESULT line
  --progress 0|1      progress line on stderr (default: if a terminal)
  --seed N            key sequence seed (42)
)";
}

bool ParseOptions(int argc, char** argv, Options* o, std::string* error) {
  using Setter = std::function<bool(std::string_view)>;
  auto flag = [](bool* b) {
    return [b](std::string_view) { return *b = true; };
  };
  auto num = [](auto* v) {
    return [v](std::string_view s) { return ParseNumber(s, v); };
  };
  const std::map<std::string_view, Setter> value_flags = {
      {"host", [o](std::string_view s) { return !(o->host = s).empty(); }},
      {"port", num(&o->port)},
      {"connections", num(&o->connections)},
      {"threads", num(&o->threads)},
      {"processes", num(&o->processes)},
      {"name", [o](std::string_view s) { return !(o->name = s).empty(); }},
      {"run-dir",
       [o](std::string_view s) { return !(o->run_dir = s).empty(); }},
      {"socket", [o](std::string_view s) { return !(o->socket = s).empty(); }},
      {"pipeline", num(&o->pipeline)},
      {"memcache-get",
       [o](std::string_view s) {
         o->memcache_get = s;
         return s == "mg" || s == "get";
       }},
      {"ratio",
       [o](std::string_view s) {
         return ParseRatio(s, &o->get_weight, &o->set_weight);
       }},
      {"keys", num(&o->keys)},
      {"dist",
       [o](std::string_view s) {
         o->dist = s;
         return s == "uniform" || s == "zipf";
       }},
      {"skew", num(&o->skew)},
      {"value-size",
       [o](std::string_view s) { return ParseBytes(s, &o->value_size); }},
      {"duration", num(&o->duration_s)},
      {"requests", num(&o->requests)},
      {"warmup", num(&o->warmup_s)},
      {"server-pid", num(&o->server_pid)},
      {"cdf", [o](std::string_view s) { return !(o->cdf_path = s).empty(); }},
      {"label", [o](std::string_view s) { return !(o->label = s).empty(); }},
      {"progress", num(&o->progress)},
      {"seed", num(&o->seed)},
  };
  const std::map<std::string_view, Setter> bool_flags = {
      {"load", flag(&o->load)}, {"json", flag(&o->json)}};

  if (argc < 2 || std::string_view(argv[1]).rfind("-", 0) == 0) {
    *error = "the first argument names the workload";
    return false;
  }
  o->workload = argv[1];
  for (int i = 2; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg.rfind("--", 0) != 0) {
      *error = "unexpected argument '" + std::string(arg) + "'";
      return false;
    }
    arg.remove_prefix(2);
    std::string_view name = arg, value;
    const size_t eq = arg.find('=');
    const bool inline_value = eq != arg.npos;
    if (inline_value) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
    }
    if (auto b = bool_flags.find(name);
        b != bool_flags.end() && !inline_value) {
      b->second(value);
      continue;
    }
    auto v = value_flags.find(name);
    if (v == value_flags.end()) {
      *error = "unknown flag --" + std::string(name);
      return false;
    }
    if (!inline_value) {
      if (i + 1 >= argc) {
        *error = "--" + std::string(name) + " needs a value";
        return false;
      }
      value = argv[++i];
    }
    if (!v->second(value)) {
      *error =
          "bad value '" + std::string(value) + "' for --" + std::string(name);
      return false;
    }
  }
  if (o->connections < 1 || o->threads < 1 || o->pipeline < 1 ||
      o->processes < 1 ||
      (o->threads > o->connections && o->workload != "local" &&
       o->workload != "tiered")) {
    *error =
        "need connections >= threads >= 1, processes >= 1 and pipeline >= 1";
    return false;
  }
  if (o->keys < 1 || o->keys > (uint64_t{1} << 32) || o->skew < 0 ||
      o->duration_s < 0 || o->warmup_s < 0 || o->value_size < 1) {
    *error =
        "need 1 <= keys <= 2^32, skew >= 0, value-size >= 1, "
        "non-negative durations";
    return false;
  }
  return true;
}

}  // namespace ember::bench
