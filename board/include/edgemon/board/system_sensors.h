// Generic Linux system readers: CPU count, load average, memory and swap, uptime, boot id.
// Each takes the root of a procfs/sysfs tree ("/" live, a fixture directory in tests), reads into
// storage sized at construction, and never allocates per fetch.
// fetch() errors (all sensors): kUnsupported (file missing: permanent on this board),
// kInvalidArgument (empty or unparseable: the message names the file), kIo, kPermissionDenied.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "edgemon/board/sensor.h"
#include "edgemon/board/text_fields.h"

namespace edgemon::board {

// "cpu/count": online CPUs from <root>/sys/devices/system/cpu/online ("0-3", "0,2-5").
class CpuCountSensor final : public Sensor {
 public:
  explicit CpuCountSensor(std::string_view root = "/");
  std::string_view id() const override { return "cpu_count"; }
  Status fetch() override;
  std::span<const SensorValue> values() const override { return values_; }
  Status ingest(std::string_view text);

 private:
  std::string path_;
  std::vector<SensorValue> values_;
  std::array<char, 4096> buffer_{};
};

// "load/1m", "load/5m", "load/15m", "proc/running", "proc/total" from <root>/proc/loadavg.
class LoadAverageSensor final : public Sensor {
 public:
  explicit LoadAverageSensor(std::string_view root = "/");
  std::string_view id() const override { return "load"; }
  Status fetch() override;
  std::span<const SensorValue> values() const override { return values_; }
  Status ingest(std::string_view text);

 private:
  std::string path_;
  std::vector<SensorValue> values_;
  std::array<char, 256> buffer_{};
};

// From <root>/proc/meminfo, in bytes: "mem/total", "mem/available", "mem/used" (total -
// available, as `free` computes it since procps 4), "mem/free", "mem/buff_cache" (Buffers +
// Cached + SReclaimable), "mem/used_percent", "swap/total", "swap/used", "swap/used_percent"
// (empty when there is no swap). Kernels before 3.14 lack MemAvailable: it is then estimated as
// MemFree + Buffers + Cached.
class MemorySensor final : public Sensor {
 public:
  explicit MemorySensor(std::string_view root = "/");
  std::string_view id() const override { return "memory"; }
  Status fetch() override;
  std::span<const SensorValue> values() const override { return values_; }
  Status ingest(std::string_view text);

 private:
  std::string path_;
  std::vector<SensorValue> values_;
  std::array<char, 8192> buffer_{};
};

// "uptime" in seconds from <root>/proc/uptime.
class UptimeSensor final : public Sensor {
 public:
  explicit UptimeSensor(std::string_view root = "/");
  std::string_view id() const override { return "uptime"; }
  Status fetch() override;
  std::span<const SensorValue> values() const override { return values_; }
  Status ingest(std::string_view text);

 private:
  std::string path_;
  std::vector<SensorValue> values_;
  std::array<char, 256> buffer_{};
};

// Watches <root>/proc/sys/kernel/random/boot_id. A different id than last time means the board
// rebooted: the shared BootEpoch generation is bumped so every rate sensor drops its baseline.
// Fetch it before the rate sensors in each cycle (make_sensors() orders it first).
// "boot/reboots_seen" counts changes observed while this process ran.
class BootIdSensor final : public Sensor {
 public:
  BootIdSensor(std::string_view root, std::shared_ptr<BootEpoch> epoch);
  std::string_view id() const override { return "boot"; }
  Status fetch() override;
  std::span<const SensorValue> values() const override { return values_; }
  Status ingest(std::string_view text);
  std::string_view boot_id() const { return {boot_id_.data(), boot_id_len_}; }

 private:
  std::string path_;
  std::shared_ptr<BootEpoch> epoch_;
  std::vector<SensorValue> values_;
  std::array<char, 64> boot_id_{};
  std::size_t boot_id_len_ = 0;
  std::uint64_t changes_ = 0;
  std::array<char, 128> buffer_{};
};

}  // namespace edgemon::board
