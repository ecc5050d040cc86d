// A scriptable simulated board: the seed's simulated services (CPU, memory, request latency,
// error rate, heartbeat) driven by a scenario file and an injected Clock, for tests, the demo
// command and the fleet simulator. Same scenario + same seed + same fetch times -> bit-identical
// output on every platform (own PRNG, noise from additions only, no libm).
//
// Scenario (TOML; every section optional, times in seconds since the board was created):
//   seed = 42
//   [cpu]                        # also: memory, latency_ms, error_rate
//   baseline = 25.0
//   noise = 4.0                  # standard deviation of approximately normal noise
//   min = 0.0                    # clamp (defaults: 0 and 100 for percentages, 0 and 1e9 else)
//   max = 100.0
//   spikes = [ { at_s = 60, duration_s = 15, value = 97.0 } ]
//   stuck  = [ { at_s = 200, duration_s = 30 } ]      # repeats the value it had at at_s
//   [heartbeat]
//   losses = [ { at_s = 300, duration_s = 45 } ]      # value empty, alive() false
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "edgemon/board/sensor.h"
#include "edgemon/common/clock.h"

namespace edgemon::board::sim {

struct Window {
  double at_s = 0;
  double duration_s = 0;
  double value = 0;  // spikes only
  bool contains(double t) const { return t >= at_s && t < at_s + duration_s; }
};

struct SignalScript {
  double baseline = 0;
  double noise = 0;
  double min = 0;
  double max = 0;
  std::vector<Window> spikes;
  std::vector<Window> stuck;
};

struct Scenario {
  std::uint64_t seed = 1;
  // cpu/total %, mem/used_percent %, service/latency_ms ms, service/error_rate %.
  std::array<SignalScript, 4> signals;
  std::vector<Window> heartbeat_losses;
};

// Errors: kNotFound (file missing), kInvalidArgument (TOML syntax, unknown key, wrong type,
// negative duration, min > max: with file:line).
Result<Scenario> parse_scenario(std::string_view text, const std::string& source_name);
Result<Scenario> load_scenario(const std::string& path);

// Small, fast, portable PRNG (SplitMix64), so runs are reproducible across libstdc++ versions.
class SplitMix64 {
 public:
  explicit SplitMix64(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next();
  double uniform();  // [0, 1)
  double normalish();  // Irwin-Hall: sum of 12 uniforms - 6 (mean 0, sd 1, within ±6)

 private:
  std::uint64_t state_;
};

// The simulated board as one Sensor ("sim"): values "cpu/total", "mem/used_percent",
// "service/latency_ms", "service/error_rate", "service/heartbeat" (1 while alive, empty during a
// heartbeat loss). Time zero is construction time on `clock`.
class SimulatedBoard final : public Sensor {
 public:
  SimulatedBoard(Scenario scenario, const Clock& clock);
  std::string_view id() const override { return "sim"; }
  Status fetch() override;
  std::span<const SensorValue> values() const override { return values_; }

  bool heartbeat_alive() const { return alive_; }
  double elapsed_s() const;

 private:
  Scenario scenario_;
  const Clock& clock_;
  MonoTime start_;
  std::array<SplitMix64, 4> rng_;
  std::array<double, 4> last_{};
  std::array<bool, 4> have_last_{};
  bool alive_ = true;
  std::vector<SensorValue> values_;
};

}  // namespace edgemon::board::sim
