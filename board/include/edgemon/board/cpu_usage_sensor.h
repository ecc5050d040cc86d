// CPU utilisation from <root>/proc/stat deltas: "cpu/total" and "cpu/core<N>" in percent.
// The first fetch only primes the counters (values stay empty). A counter that goes backwards
// (reboot, or a core taken offline and back) re-primes that line instead of reporting garbage;
// a core whose line disappears (taken offline) has an empty value until it is back and re-primed.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "edgemon/board/sensor.h"

namespace edgemon::board {

class CpuUsageSensor final : public Sensor {
 public:
  explicit CpuUsageSensor(std::string root = "/");

  std::string_view id() const override { return "cpu"; }
  Status fetch() override;
  std::span<const SensorValue> values() const override { return values_; }

  // Parses one /proc/stat text (exposed for tests and the fuzzer).
  Status ingest(std::string_view proc_stat);

 private:
  struct Counters {
    std::uint64_t busy = 0;
    std::uint64_t total = 0;
    bool primed = false;
    bool seen = false;  // present in the current reading
  };

  std::string path_;
  std::vector<Counters> previous_;   // [0] total, [1 + n] core n
  std::vector<SensorValue> values_;  // same indexing
  std::array<char, 64 * 1024> buffer_{};
};

}  // namespace edgemon::board
