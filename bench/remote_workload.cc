// bench/remote_workload.cc: the remote and memcache workloads: an optional
// load phase (SET every key once), then the measured GET/SET mix, through
// the load generator; server RSS and CPU from /proc, and for RESP servers
// the memory figures of INFO memory.
#include <cstdio>
#include <memory>
#include <optional>

#include "bench/codec.h"
#include "bench/keys.h"
#include "bench/load_generator.h"
#include "bench/machine.h"
#include "bench/report.h"
#include "bench/server_info.h"
#include "bench/workloads.h"
#include "client/remote_client.h"

namespace ember::bench {
namespace {

// INFO fields worth a column when the server has them: ember's arena and
// Redis's allocator figure. Absent fields are left out.
constexpr const char* kInfoFields[] = {"used_memory", "arena_bytes",
                                       "arena_items", "arena_chunk_bytes"};

void AddInfoMemory(const Options& o, Report* r) {
  client::RemoteOptions ro;
  ro.host = o.host;
  ro.port = uint16_t(o.port);
  ro.reconnect = false;
  client::RemoteClient c(ro);
  if (!c.Connect().ok()) return;
  const auto info = InfoFields(&c, "memory");
  for (const char* f : kInfoFields) {
    if (auto it = info.find(f); it != info.end())
      r->Figure(std::string("info_") + f, it->second);
  }
}

void AddSettings(const Options& o, int port, bool load_phase, Report* r) {
  r->Setting("server", o.host + ":" + std::to_string(port));
  r->Setting("connections", std::to_string(o.connections));
  r->Setting("threads", std::to_string(o.threads));
  r->Setting("pipeline", std::to_string(load_phase ? 32 : o.pipeline));
  if (o.workload == "memcache") r->Setting("memcache_get", o.memcache_get);
  r->Setting("ratio", load_phase ? "0:1"
                                 : std::to_string(o.get_weight) + ":" +
                                       std::to_string(o.set_weight));
  r->Setting("keys", std::to_string(o.keys));
  r->Setting("dist", load_phase ? "sequential" : o.dist);
  if (!load_phase && o.dist == "zipf") r->Setting("skew", Fixed(o.skew, 2));
  r->Setting("key_bytes", std::to_string(kKeyBytes));
  r->Setting("value_bytes", std::to_string(o.value_size));
  if (!load_phase) {
    r->Setting("warmup_s", Fixed(o.warmup_s, 1));
    r->Setting(
        o.requests != 0 ? "requests" : "duration_s",
        o.requests != 0 ? std::to_string(o.requests) : Fixed(o.duration_s, 1));
  }
}

void AddLoadFigures(const LoadStats& s, Report* r) {
  r->AddThroughput(s.ops, s.seconds, s.latency);
  r->Figure("misses", std::to_string(s.misses));
  r->Figure("errors", std::to_string(s.errors));
  r->Figure("cpu_s", Fixed(s.cpu_seconds, 2));
  if (s.server_cpu_seconds >= 0) {
    r->Figure("server_cpu_s", Fixed(s.server_cpu_seconds, 2));
  }
}

bool Run(const Options& o, const char* name, int default_port,
         CodecFactory codec, bool resp, std::string* error) {
  const int port = o.port != 0 ? o.port : default_port;
  LoadPlan plan;
  plan.host = o.host;
  plan.port = port;
  plan.connections = o.connections;
  plan.threads = o.threads;
  plan.codec = std::move(codec);
  plan.value = MakeValue(o.value_size);
  plan.server_pid = o.server_pid;
  plan.progress = o.progress == 1;
  plan.progress_name = name;

  if (o.load) {
    LoadPlan load = plan;
    load.mode = LoadPlan::Mode::kLoad;
    load.load_keys = o.keys;
    load.pipeline = 32;
    const int64_t rss0 = ProcessRssBytes(o.server_pid);
    LoadStats s;
    if (!RunLoad(load, &s, error)) return false;
    const int64_t rss1 = ProcessRssBytes(o.server_pid);
    Report r(name, "load", o.label);
    AddSettings(o, port, true, &r);
    AddLoadFigures(s, &r);
    if (o.server_pid > 0) {
      r.Setting("memory_method",
                "server_VmRSS_after_load_minus_before,_per_key");
      r.Figure("rss_before_mib", MiB(rss0));
      r.Figure("rss_after_mib", MiB(rss1));
      if (rss0 >= 0 && rss1 >= 0) {
        r.Figure("rss_per_key_bytes",
                 Fixed(double(rss1 - rss0) / double(o.keys), 1));
      }
    }
    if (resp) AddInfoMemory(o, &r);
    r.Print(o.json);
    if (s.errors != 0) {
      *error = std::to_string(s.errors) + " SETs of the load failed";
      return false;
    }
  }
  if (o.requests == 0 && o.duration_s == 0) return true;  // load only

  const KeySequence seq(o.keys, o.dist == "zipf" ? o.skew : 0.0, o.seed);
  plan.mode = LoadPlan::Mode::kMix;
  plan.sequence = &seq;
  plan.pipeline = o.pipeline;
  plan.get_weight = o.get_weight;
  plan.set_weight = o.set_weight;
  plan.requests = o.requests;
  plan.duration_s = o.duration_s;
  plan.warmup_s = o.warmup_s;
  LoadStats s;
  if (!RunLoad(plan, &s, error)) return false;
  Report r(name, "run", o.label);
  AddSettings(o, port, false, &r);
  if (o.dist == "zipf") r.Setting("hot1pct_share", Fixed(seq.hot_share(), 3));
  AddLoadFigures(s, &r);
  r.Figure("hits", std::to_string(s.hits));
  if (o.server_pid > 0) {
    r.Figure("server_rss_mib", MiB(ProcessRssBytes(o.server_pid)));
  }
  if (resp) AddInfoMemory(o, &r);
  r.Print(o.json);
  if (!o.cdf_path.empty() &&
      !s.latency.WriteCdf(o.cdf_path, std::string(name) + " " + o.label,
                          error)) {
    return false;
  }
  if (s.errors != 0) {
    *error = std::to_string(s.errors) + " error replies";
    return false;
  }
  return true;
}

}  // namespace

bool RunRemote(const Options& o, std::string* error) {
  return Run(o, "remote", 7379, MakeRespCodec, true, error);
}

bool RunMemcache(const Options& o, std::string* error) {
  const MemcacheGet get =
      o.memcache_get == "get" ? MemcacheGet::kClassic : MemcacheGet::kMeta;
  return Run(
      o, "memcache", 11211, [get] { return MakeMemcacheCodec(get); }, false,
      error);
}

}  // namespace ember::bench
