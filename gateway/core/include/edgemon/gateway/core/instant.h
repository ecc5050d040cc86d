// One reading of both clocks: `mono` measures intervals, `wall` names moments (timestamps that
// leave the process: history, events, the API). Read once per event and passed down, so a stage
// never reads a clock of its own.
#pragma once

#include <chrono>
#include <cstdint>

#include "edgemon/common/clock.h"

namespace edgemon::gateway {

struct Instant {
  MonoTime mono{};
  WallTime wall{};
  std::int64_t wall_ms() const { return to_unix_ms(wall); }
  static Instant of(const Clock& clock) { return {clock.mono(), clock.wall()}; }
};

// Steps of the wall clock against the monotonic one (NTP setting the time of a board without an
// RTC, an admin running `date -s`). Slewing (small corrections spread over time) is never a step:
// each call compares with the previous call only.
class ClockSteps {
 public:
  explicit ClockSteps(std::chrono::milliseconds tolerance = std::chrono::milliseconds(1000)) : tolerance_(tolerance) {}
  // The step since the last call (new wall - expected wall), or 0 when within the tolerance.
  std::chrono::milliseconds observe(const Instant& now) {
    const auto offset = std::chrono::duration_cast<std::chrono::milliseconds>(now.wall.time_since_epoch()) -
                        std::chrono::duration_cast<std::chrono::milliseconds>(now.mono.time_since_epoch());
    if (!seen_) {
      seen_ = true;
      offset_ = offset;
      return std::chrono::milliseconds(0);
    }
    const auto step = offset - offset_;
    offset_ = offset;
    if (step > tolerance_ || step < -tolerance_) {
      ++steps_;
      return step;
    }
    return std::chrono::milliseconds(0);
  }
  std::uint64_t steps() const { return steps_; }

 private:
  std::chrono::milliseconds tolerance_;
  std::chrono::milliseconds offset_{0};
  bool seen_ = false;
  std::uint64_t steps_ = 0;
};

}  // namespace edgemon::gateway
