// Temperatures and CPU frequency from sysfs: thermal zones (every Linux board; on a Raspberry Pi
// zone 0 is the SoC, type "cpu-thermal"), the Pi SoC temperature under its own name, and the
// current cpufreq frequency per core.
// Zones and cores are discovered at the first fetch (directory listing allocates); afterwards
// each fetch reads one small file per zone/core into fixed storage.
#pragma once

#include <array>
#include <string>
#include <vector>

#include "edgemon/board/sensor.h"

namespace edgemon::board {

// "thermal/<type>" in °C per <root>/sys/class/thermal/thermal_zone*/ (temp in millidegrees,
// type a name such as "cpu-thermal", "x86_pkg_temp", "acpitz"; a repeated type gets "_<zone#>").
// A zone whose temp read fails (some ACPI zones return EIO/ENODATA) has an empty value.
// Errors: kUnsupported (no zones), kInvalidArgument (every zone unreadable or garbled).
class ThermalZoneSensor final : public Sensor {
 public:
  explicit ThermalZoneSensor(std::string_view root = "/");
  std::string_view id() const override { return "thermal"; }
  Status fetch() override;
  std::span<const SensorValue> values() const override { return values_; }

 private:
  Status discover();
  std::string root_;
  bool discovered_ = false;
  std::vector<std::string> temp_paths_;
  std::vector<SensorValue> values_;
  std::array<char, 64> buffer_{};
};

// "soc/temperature" in °C: the thermal zone of type "cpu-thermal" (Raspberry Pi's bcm2835/2711/
// 2712 thermal driver). Errors: kUnsupported (no such zone: not a Pi), kInvalidArgument.
class SocTemperatureSensor final : public Sensor {
 public:
  explicit SocTemperatureSensor(std::string_view root = "/");
  std::string_view id() const override { return "soc_temp"; }
  Status fetch() override;
  std::span<const SensorValue> values() const override { return values_; }

 private:
  std::string root_;
  std::string temp_path_;  // empty until found
  bool searched_ = false;
  std::vector<SensorValue> values_;
  std::array<char, 64> buffer_{};
};

// "cpu/freq/core<N>" in MHz from <root>/sys/devices/system/cpu/cpu<N>/cpufreq/scaling_cur_freq
// (kHz). Errors: kUnsupported (no cpufreq: many VMs), kInvalidArgument.
class CpuFrequencySensor final : public Sensor {
 public:
  explicit CpuFrequencySensor(std::string_view root = "/");
  std::string_view id() const override { return "cpu_freq"; }
  Status fetch() override;
  std::span<const SensorValue> values() const override { return values_; }

 private:
  Status discover();
  std::string root_;
  bool discovered_ = false;
  std::vector<std::string> paths_;
  std::vector<SensorValue> values_;
  std::array<char, 64> buffer_{};
};

// Parses a millidegree Celsius sysfs value ("48312\n"). Returns false on anything else.
bool parse_millidegrees(std::string_view text, double& celsius);

}  // namespace edgemon::board
