// Raspberry Pi firmware state: throttling and under-voltage flags.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "edgemon/board/command_runner.h"
#include "edgemon/board/sensor.h"

namespace edgemon::board {

// The firmware's get_throttled bit field (same bits from sysfs and `vcgencmd get_throttled`).
struct ThrottleFlags {
  static constexpr std::uint32_t kUnderVoltageNow = 1u << 0;
  static constexpr std::uint32_t kFreqCappedNow = 1u << 1;
  static constexpr std::uint32_t kThrottledNow = 1u << 2;
  static constexpr std::uint32_t kSoftTempLimitNow = 1u << 3;
  static constexpr std::uint32_t kUnderVoltageOccurred = 1u << 16;
  static constexpr std::uint32_t kFreqCappedOccurred = 1u << 17;
  static constexpr std::uint32_t kThrottledOccurred = 1u << 18;
  static constexpr std::uint32_t kSoftTempLimitOccurred = 1u << 19;
};

// Parses "50005", "0x50005" or "throttled=0x50005" (trailing newline allowed).
bool parse_throttled(std::string_view text, std::uint32_t& bits);

// "throttle/raw" (the bit field as a number) and 0/1 values "throttle/under_voltage",
// "throttle/freq_capped", "throttle/throttled", "throttle/soft_temp_limit" (now) and the same
// with "_occurred" (since boot). Source: <root>/sys/devices/platform/soc/soc:firmware/get_throttled
// (hex, Raspberry Pi kernel >= 4.19), else `<vcgencmd> get_throttled` when that program exists.
// Errors: kUnsupported (neither source: not a Pi), kInvalidArgument (unparseable output).
class ThrottleSensor final : public Sensor {
 public:
  // `vcgencmd` empty disables the fallback; `runner` null uses PosixCommandRunner.
  ThrottleSensor(std::string_view root, std::string vcgencmd = "", std::unique_ptr<CommandRunner> runner = nullptr);
  std::string_view id() const override { return "throttle"; }
  Status fetch() override;
  std::span<const SensorValue> values() const override { return values_; }
  Status ingest(std::string_view text);

 private:
  std::string sysfs_path_;
  std::vector<std::string> argv_;
  std::unique_ptr<CommandRunner> runner_;
  bool use_command_ = false;
  std::vector<SensorValue> values_;
  std::array<char, 256> buffer_{};
};

}  // namespace edgemon::board
