// shm/clock.cc: the kernel's clocks, or a test's ManualClock in their place.
#include "shm/clock.h"

#include <time.h>

#include <algorithm>
#include <atomic>
#include <cassert>

namespace ember::shm {
namespace {

// Static storage, set before the flag is raised: a reader that sees the
// flag reads initialized atomics whatever the ordering.
std::atomic<bool> g_manual{false};
std::atomic<uint64_t> g_manual_unix_ms{0};
std::atomic<uint64_t> g_manual_monotonic_ms{0};

uint64_t KernelMs(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

}  // namespace

uint64_t NowUnixMs() {
  if (g_manual.load(std::memory_order_relaxed)) [[unlikely]]
    return g_manual_unix_ms.load(std::memory_order_acquire);
  return KernelMs(CLOCK_REALTIME);
}

uint64_t NowUnixMsCoarse() {
  if (g_manual.load(std::memory_order_relaxed)) [[unlikely]]
    return g_manual_unix_ms.load(std::memory_order_acquire);
  return KernelMs(CLOCK_REALTIME_COARSE);
}

uint64_t NowUnixUs() {
  if (g_manual.load(std::memory_order_relaxed)) [[unlikely]]
    return g_manual_unix_ms.load(std::memory_order_acquire) * 1000;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
}

uint64_t NowMonotonicMs() {
  if (g_manual.load(std::memory_order_relaxed)) [[unlikely]]
    return g_manual_monotonic_ms.load(std::memory_order_acquire);
  return KernelMs(CLOCK_MONOTONIC);
}

uint64_t RealWaitMs(uint64_t ms) {
  return g_manual.load(std::memory_order_relaxed) ? std::min<uint64_t>(ms, 1)
                                                  : ms;
}

ManualClock::ManualClock() {
  assert(!g_manual.load() && "one ManualClock at a time");
  g_manual_unix_ms.store(KernelMs(CLOCK_REALTIME));
  g_manual_monotonic_ms.store(KernelMs(CLOCK_MONOTONIC));
  g_manual.store(true);
}

ManualClock::~ManualClock() { g_manual.store(false); }

void ManualClock::Advance(uint64_t ms) {
  g_manual_unix_ms.fetch_add(ms, std::memory_order_acq_rel);
  g_manual_monotonic_ms.fetch_add(ms, std::memory_order_acq_rel);
}

void ManualClock::SetUnixMs(uint64_t unix_ms) {
  g_manual_unix_ms.store(unix_ms, std::memory_order_release);
}

}  // namespace ember::shm
