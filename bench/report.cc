// bench/report.cc: formats an ember-bench Report as a block for people and
// as one RESULT or JSON line for scripts.
#include "bench/report.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "bench/machine.h"

namespace ember::bench {
namespace {

// Values go into a "key=value" line split at spaces: no spaces, no '='.
std::string Token(std::string s) {
  for (char& c : s) {
    if (c == ' ' || c == '=' || c == '\t') c = '_';
  }
  return s.empty() ? "-" : s;
}

std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    if (static_cast<unsigned char>(c) >= 0x20) out.push_back(c);
  }
  return out + "\"";
}

bool IsNumber(const std::string& s) {
  if (s.empty()) return false;
  char* end = nullptr;
  std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size() && s != "-";
}

}  // namespace

std::string Fixed(double value, int digits) {
  char text[64];
  std::snprintf(text, sizeof(text), "%.*f", digits, value);
  return text;
}

std::string MiB(int64_t bytes) {
  return bytes < 0 ? "-" : Fixed(double(bytes) / (1024.0 * 1024.0), 1);
}

Report::Report(std::string workload, std::string phase, std::string label)
    : workload_(std::move(workload)),
      phase_(std::move(phase)),
      label_(std::move(label)) {
  Setting("cpu", CpuModel());
  Setting("cores", std::to_string(CoreCount()));
  Setting("host_name", HostName());
  Setting("time", NowText());
}

void Report::Setting(const std::string& key, const std::string& value) {
  settings_.emplace_back(key, value);
}

void Report::Figure(const std::string& key, const std::string& value) {
  figures_.emplace_back(key, value);
}

void Report::AddThroughput(uint64_t ops, double seconds, const Histogram& h) {
  auto us = [](double ns) { return Fixed(ns / 1000.0, 1); };
  Figure("ops", std::to_string(ops));
  Figure("seconds", Fixed(seconds, 2));
  Figure("ops_per_s", Fixed(seconds > 0 ? double(ops) / seconds : 0, 0));
  Figure("mean_us", us(h.mean()));
  Figure("p50_us", us(double(h.Percentile(0.50))));
  Figure("p99_us", us(double(h.Percentile(0.99))));
  Figure("p999_us", us(double(h.Percentile(0.999))));
  Figure("max_us", us(double(h.max())));
}

void Report::Print(bool json) const {
  std::printf("== ember-bench %s (%s)%s%s\n", workload_.c_str(), phase_.c_str(),
              label_.empty() ? "" : ": ", label_.c_str());
  std::string line = "  ";
  for (const auto& [k, v] : settings_) {
    const std::string item = k + "=" + v + "  ";
    if (line.size() + item.size() > 100 && line.size() > 2) {
      std::printf("%s\n", line.c_str());
      line = "  ";
    }
    line += item;
  }
  std::printf("%s\n", line.c_str());
  // The figures as a table: a header row over a value row, columns
  // aligned, wrapped into further pairs of rows at about 100 characters.
  std::string head = "  ", row = "  ";
  for (const auto& [k, v] : figures_) {
    const size_t w = std::max(k.size(), v.size()) + 2;
    if (head.size() + w > 100 && head.size() > 2) {
      std::printf("%s\n%s\n", head.c_str(), row.c_str());
      head = row = "  ";
    }
    head += k + std::string(w - k.size(), ' ');
    row += v + std::string(w - v.size(), ' ');
  }
  std::printf("%s\n%s\n", head.c_str(), row.c_str());

  if (json) {
    std::string out = "{\"workload\":" + JsonString(workload_) +
                      ",\"phase\":" + JsonString(phase_) +
                      ",\"label\":" + JsonString(label_);
    for (const auto* list : {&settings_, &figures_}) {
      for (const auto& [k, v] : *list) {
        out += "," + JsonString(k) + ":" + (IsNumber(v) ? v : JsonString(v));
      }
    }
    std::printf("%s}\n", out.c_str());
  } else {
    std::string out = "RESULT workload=" + Token(workload_) +
                      " phase=" + Token(phase_) + " label=" + Token(label_);
    for (const auto* list : {&settings_, &figures_}) {
      for (const auto& [k, v] : *list) out += " " + k + "=" + Token(v);
    }
    std::printf("%s\n", out.c_str());
  }
  std::fflush(stdout);
}

}  // namespace ember::bench
