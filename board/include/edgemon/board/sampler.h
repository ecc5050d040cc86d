// Runs a board's sensors on their own intervals and keeps the agent's loop free of sensor
// policy (after ESPHome's component states): a sensor whose source does not exist is logged
// once and dropped ("unsupported"); a failing sensor is logged once when it starts failing and
// once when it recovers, and its stale values are not published meanwhile.
#pragma once

#include <memory>
#include <span>
#include <vector>

#include "edgemon/board/board_config.h"
#include "edgemon/board/sensor.h"
#include "edgemon/common/clock.h"

namespace edgemon::board {

class Sampler {
 public:
  enum class State { kNew, kOk, kFailing, kUnsupported };

  Sampler(std::vector<std::unique_ptr<Sensor>> sensors, const BoardConfig& config);

  // Fetches every sensor that is due at `now` (all of them the first time). Does not allocate
  // in steady state (log lines are written only on state changes).
  void sample(MonoTime now);

  // Calls fn(const SensorValue&) for each value of each sensor whose last fetch succeeded.
  template <typename Fn>
  void for_each_value(Fn&& fn) const {
    for (const Entry& e : entries_) {
      if (e.state != State::kOk) continue;
      for (const SensorValue& v : e.sensor->values()) fn(v);
    }
  }

  std::size_t size() const { return entries_.size(); }
  const Sensor& sensor(std::size_t i) const { return *entries_[i].sensor; }
  State state(std::size_t i) const { return entries_[i].state; }

 private:
  struct Entry {
    std::unique_ptr<Sensor> sensor;
    std::chrono::nanoseconds interval{};
    MonoTime next_due{};
    State state = State::kNew;
  };
  std::vector<Entry> entries_;
};

}  // namespace edgemon::board
