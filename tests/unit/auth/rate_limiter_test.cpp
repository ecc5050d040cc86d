#include "edgemon/auth/rate_limiter.h"

#include <gtest/gtest.h>

namespace edgemon::auth {
namespace {

using namespace std::chrono_literals;

TEST(RateLimiter, TenAllowedThenEleventhWaitsUntilTheFirstLeavesTheWindow) {
  ManualClock clock;
  RateLimiter limiter(10);
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(limiter.retry_after("k", clock.mono()), 0s) << i;
    limiter.record("k", clock.mono());
    clock.advance(1s);
  }
  // t = 10 s: the first event (t = 0) leaves the window at t = 60 s.
  EXPECT_EQ(limiter.retry_after("k", clock.mono()), 50s);
  EXPECT_EQ(limiter.retry_after("other", clock.mono()), 0s);
  clock.advance(49500ms);
  EXPECT_EQ(limiter.retry_after("k", clock.mono()), 1s);  // rounded up
  clock.advance(500ms);
  EXPECT_EQ(limiter.retry_after("k", clock.mono()), 0s);
  limiter.record("k", clock.mono());
  EXPECT_EQ(limiter.retry_after("k", clock.mono()), 1s);  // the t = 1 s event leaves at 61 s
  clock.advance(60s);
  EXPECT_EQ(limiter.retry_after("k", clock.mono()), 0s);
}

TEST(RateLimiter, KeysAreBounded) {
  ManualClock clock;
  RateLimiter limiter(1, 100);
  for (int i = 0; i < 1000; ++i) limiter.record("k" + std::to_string(i), clock.mono());
  EXPECT_LE(limiter.keys(), 100u);
  clock.advance(61s);
  limiter.record("fresh", clock.mono());
  EXPECT_EQ(limiter.keys(), 1u);  // every expired key went when the table was full
}

}  // namespace
}  // namespace edgemon::auth
