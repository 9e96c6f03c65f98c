// Clock: the seam every TTL, heartbeat, lease and interval reads, and the
// ManualClock tests put in its place.
#include "shm/clock.h"

#include <gtest/gtest.h>
#include <time.h>

namespace ember::shm {
namespace {

uint64_t KernelUnixMs() {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

TEST(ClockTest, WithoutAManualClockItIsTheKernels) {
  const uint64_t before = KernelUnixMs();
  const uint64_t now = NowUnixMs();
  EXPECT_GE(now, before);
  EXPECT_LE(now, KernelUnixMs());
  // The coarse clock lags by at most a tick (a few ms).
  EXPECT_LE(NowUnixMsCoarse(), KernelUnixMs());
  EXPECT_GE(NowUnixMsCoarse() + 100, before);
  EXPECT_GE(NowUnixUs() / 1000, before);
  EXPECT_EQ(RealWaitMs(250), 250u);
}

TEST(ClockTest, AManualClockStandsStillUntilAdvanced) {
  const uint64_t before = KernelUnixMs();
  ManualClock clock;
  const uint64_t unix_ms = NowUnixMs(), mono = NowMonotonicMs();
  EXPECT_GE(unix_ms, before);  // starts at the real time
  struct timespec pause = {0, 5 * 1000 * 1000};
  nanosleep(&pause, nullptr);  // the one sleep: real time passes, not its
  EXPECT_EQ(NowUnixMs(), unix_ms);
  EXPECT_EQ(NowUnixMsCoarse(), unix_ms);
  EXPECT_EQ(NowMonotonicMs(), mono);
  clock.Advance(1500);
  EXPECT_EQ(NowUnixMs(), unix_ms + 1500);
  EXPECT_EQ(NowUnixUs(), (unix_ms + 1500) * 1000);
  EXPECT_EQ(NowMonotonicMs(), mono + 1500);
  // Waits poll it: an Advance is seen within a millisecond.
  EXPECT_EQ(RealWaitMs(250), 1u);
  EXPECT_EQ(RealWaitMs(0), 0u);
}

TEST(ClockTest, AWallClockStepLeavesTheMonotonicClock) {
  ManualClock clock;
  const uint64_t mono = NowMonotonicMs();
  clock.SetUnixMs(1000);
  EXPECT_EQ(NowUnixMs(), 1000u);
  EXPECT_EQ(NowMonotonicMs(), mono);
}

TEST(ClockTest, RemovingTheManualClockRestoresTheKernels) {
  {
    ManualClock clock;
    clock.SetUnixMs(1000);
  }
  EXPECT_GE(NowUnixMs() + 1000, KernelUnixMs());
  EXPECT_EQ(RealWaitMs(250), 250u);
}

}  // namespace
}  // namespace ember::shm
