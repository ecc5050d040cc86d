// The clock seam. Anything whose decision depends on time takes a Clock&, so tests step time
// instead of sleeping. Durations and deadlines use the monotonic clock; only timestamps that leave
// the process (telemetry, logs, history) use wall time.
#pragma once

#include <chrono>
#include <cstdint>

namespace edgemon {

using MonoClock = std::chrono::steady_clock;
using MonoTime = MonoClock::time_point;
using WallClock = std::chrono::system_clock;
using WallTime = WallClock::time_point;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual MonoTime mono() const = 0;
  virtual WallTime wall() const = 0;
};

// The real clocks.
class SystemClock final : public Clock {
 public:
  MonoTime mono() const override { return MonoClock::now(); }
  WallTime wall() const override { return WallClock::now(); }
  static SystemClock& instance();
};

// A clock that moves only when told to (tests).
class ManualClock final : public Clock {
 public:
  explicit ManualClock(WallTime wall_start = WallTime(std::chrono::seconds(1'700'000'000)))
      : wall_(wall_start) {}
  MonoTime mono() const override { return mono_; }
  WallTime wall() const override { return wall_; }
  void advance(std::chrono::nanoseconds d) { mono_ += d; wall_ += std::chrono::duration_cast<WallClock::duration>(d); }
  void step_wall(std::chrono::nanoseconds d) { wall_ += std::chrono::duration_cast<WallClock::duration>(d); }

 private:
  MonoTime mono_{};
  WallTime wall_;
};

inline std::int64_t to_unix_ms(WallTime t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

}  // namespace edgemon
