// bench/machine.h: what ember-bench reports about the machine and the
// processes it measures, read from /proc and getrusage. Every function is
// thread-safe (no shared state) and returns a neutral value (empty, 0, -1)
// rather than failing when the information is not there.
#pragma once

#include <cstdint>
#include <string>

namespace ember::bench {

// "AMD EPYC 7B13" from /proc/cpuinfo's first "model name"; "unknown".
std::string CpuModel();
// Online CPUs (sysconf); 0 if unknown.
int CoreCount();
// The host name; "unknown" if gethostname fails.
std::string HostName();
// The local time as "2026-11-26 14:03:05".
std::string NowText();

// User plus system CPU seconds of this process, all threads (getrusage).
double SelfCpuSeconds();

// Resident set of process `pid` in bytes (VmRSS of /proc/PID/status); it
// counts shared memory the process has touched (RssShmem). -1 if `pid` is
// not readable.
int64_t ProcessRssBytes(int pid);
// User plus system CPU seconds process `pid` has used so far, all its
// threads (/proc/PID/stat, utime + stime); -1 if not readable.
double ProcessCpuSeconds(int pid);

}  // namespace ember::bench
