// bench/report.h: one ember-bench result: the settings and figures, printed
// for people (a block with the machine, the settings and a one-row table)
// and for scripts (one line "RESULT workload=<name> key=value ...", or a
// JSON object with --json; values never hold spaces). bench/compare parses
// the RESULT lines. Thread safety: a plain value.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "bench/histogram.h"

namespace ember::bench {

class Report {
 public:
  // `workload` and `phase` ("run", or "load" for a --load phase) start the
  // machine-readable line; `label` (may be empty) follows them.
  Report(std::string workload, std::string phase, std::string label);

  // A setting (printed above the table) or a figure (a table column).
  // Both go into the RESULT line, in the order added.
  void Setting(const std::string& key, const std::string& value);
  void Figure(const std::string& key, const std::string& value);

  // Figures of a timed phase: ops, seconds, ops_per_s, then mean, p50,
  // p99, p99.9 and max latency in microseconds.
  void AddThroughput(uint64_t ops, double seconds, const Histogram& latency);

  // Prints to stdout: the block for people, then the RESULT (or JSON) line.
  void Print(bool json) const;

 private:
  std::string workload_, phase_, label_;
  std::vector<std::pair<std::string, std::string>> settings_, figures_;
};

// Numbers as text: "%.{digits}f".
std::string Fixed(double value, int digits);
// Bytes as MiB with one decimal, "-" when negative (unknown).
std::string MiB(int64_t bytes);

}  // namespace ember::bench
