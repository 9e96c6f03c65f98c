// shm/clock.h: the process's one clock (DESIGN.md, "Clock"). Expiry times,
// heartbeats, leases, the applier's delay and lag and the log's everysec
// sync all read it here, so a test can replace it with a ManualClock and
// advance time instead of sleeping.
// Thread safety: every function may be called from any thread. A
// ManualClock is installed and removed by one test thread; readers on other
// threads see the switch at their next call.
#pragma once

#include <cstdint>

namespace ember::shm {

// Wall-clock milliseconds since the Unix epoch (the unit of expiry times
// and of the arena's heartbeat). CLOCK_REALTIME: it steps when the system
// time is set. Hot path (every reader's expiry check): the kernel's clock
// behind one relaxed load and a branch.
uint64_t NowUnixMs();
// As NowUnixMs, from CLOCK_REALTIME_COARSE (a few ms behind, cheaper):
// LocalClient's heartbeat check.
uint64_t NowUnixMsCoarse();
// Wall-clock microseconds since the Unix epoch (TIME).
uint64_t NowUnixUs();
// Milliseconds of CLOCK_MONOTONIC: ages and deadlines (leases, timeouts,
// the applier, the log sync), immune to wall-clock steps.
uint64_t NowMonotonicMs();

// How long to really wait (condition variable, poll) for `ms` of this
// clock to pass: `ms` itself, or at most 1 while a ManualClock is
// installed, so that a waiting thread re-reads the clock often and sees an
// Advance within about a millisecond. Callers loop on their deadline.
uint64_t RealWaitMs(uint64_t ms);

// Tests only: while it lives, the functions above read it instead of the
// kernel, in this process (a server process a test starts keeps the real
// clock). It starts at the real wall-clock and monotonic times and moves
// only when told. At most one at a time.
class ManualClock {
 public:
  ManualClock();
  ~ManualClock();  // back to the kernel's clocks
  ManualClock(const ManualClock&) = delete;
  ManualClock& operator=(const ManualClock&) = delete;

  // Both clocks move `ms` forward.
  void Advance(uint64_t ms);
  // The wall clock is set (as by settimeofday); the monotonic one stays.
  void SetUnixMs(uint64_t unix_ms);
};

}  // namespace ember::shm
