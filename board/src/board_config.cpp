#include "edgemon/board/board_config.h"

#include <algorithm>
#include <unistd.h>

#include "edgemon/board/bme280.h"
#include "edgemon/board/cpu_usage_sensor.h"
#include "edgemon/board/disk_sensors.h"
#include "edgemon/board/file_reader.h"
#include "edgemon/board/network_sensors.h"
#include "edgemon/board/pi_sensors.h"
#include "edgemon/board/sim/simulated_board.h"
#include "edgemon/board/system_sensors.h"
#include "edgemon/board/text_fields.h"
#include "edgemon/board/thermal_sensors.h"
#include "edgemon/board/w1_sensors.h"

namespace edgemon::board {
namespace {

// Stands in for a sensor whose setup failed (e.g. /dev/i2c-1 cannot be opened) so the failure is
// reported through the same once-only path as every other sensor.
class FailedSensor final : public Sensor {
 public:
  FailedSensor(std::string_view id, Error error) : id_(id), error_(std::move(error)) {}
  std::string_view id() const override { return id_; }
  Status fetch() override { return error_; }
  std::span<const SensorValue> values() const override { return {}; }

 private:
  std::string id_;
  Error error_;
};

bool is_sensor_id(std::string_view id) {
  return id == "sim" || std::find(kSensorIds.begin(), kSensorIds.end(), id) != kSensorIds.end();
}

}  // namespace

double BoardConfig::interval_for(std::string_view id) const {
  const auto it = interval_s.find(id);
  return it != interval_s.end() ? it->second : default_interval_s;
}

bool BoardConfig::is_disabled(std::string_view id) const {
  return std::find(disabled.begin(), disabled.end(), id) != disabled.end();
}

BoardConfig read_board_config(ConfigReader& r) {
  BoardConfig c;
  c.default_interval_s = r.get_double("sensors.interval_s", c.default_interval_s, 0, 86400);
  for (const std::string_view id : kSensorIds) {
    const std::string key = "sensors.intervals." + std::string(id);
    if (r.has(key)) c.interval_s[std::string(id)] = r.get_double(key, 0, 0, 86400);
  }
  if (r.has("sensors.intervals.sim")) c.interval_s["sim"] = r.get_double("sensors.intervals.sim", 0, 0, 86400);
  c.disabled = r.get_string_array("sensors.disabled", {});
  for (const std::string& id : c.disabled) {
    if (!is_sensor_id(id)) r.add_error("sensors.disabled", "unknown sensor id '" + id + "'");
  }
  c.vcgencmd = r.get_string("sensors.vcgencmd", c.vcgencmd);
  c.bme280_bus = r.get_string("sensors.bme280.bus", c.bme280_bus);
  c.bme280_address = static_cast<int>(r.get_int("sensors.bme280.address", c.bme280_address, 0x76, 0x77));
  c.sim_scenario = r.get_string("sensors.sim.scenario", c.sim_scenario);
  return c;
}

Result<std::vector<std::unique_ptr<Sensor>>> make_sensors(const BoardConfig& config, const Clock& clock) {
  std::vector<std::unique_ptr<Sensor>> out;
  if (!config.sim_scenario.empty()) {
    auto scenario = sim::load_scenario(config.sim_scenario);
    if (!scenario) return scenario.error();
    out.push_back(std::make_unique<sim::SimulatedBoard>(std::move(*scenario), clock));
    return out;
  }
  const std::string& root = config.root;
  auto epoch = std::make_shared<BootEpoch>();
  const auto want = [&](std::string_view id) { return !config.is_disabled(id); };

  // Rate sensors read the epoch even when "boot" is disabled (then it never changes).
  if (want("boot")) out.push_back(std::make_unique<BootIdSensor>(root, epoch));
  if (want("cpu")) out.push_back(std::make_unique<CpuUsageSensor>(root));
  if (want("cpu_count")) out.push_back(std::make_unique<CpuCountSensor>(root));
  if (want("load")) out.push_back(std::make_unique<LoadAverageSensor>(root));
  if (want("memory")) out.push_back(std::make_unique<MemorySensor>(root));
  if (want("disk")) {
    // Live root: statvfs. A recorded tree: the numbers recorded with it (edgemon-statvfs).
    std::unique_ptr<FsStatSource> stats;
    const std::string recorded = join_root(root, "edgemon-statvfs");
    if (root != "/" && ::access(recorded.c_str(), R_OK) == 0) {
      auto loaded = RecordedFsStat::load(recorded);
      if (loaded) stats = std::move(*loaded);
      else out.push_back(std::make_unique<FailedSensor>("disk", loaded.error()));
    } else {
      stats = std::make_unique<PosixFsStat>(root);
    }
    if (stats) out.push_back(std::make_unique<DiskUsageSensor>(root, std::move(stats)));
  }
  if (want("disk_io")) out.push_back(std::make_unique<DiskIoSensor>(root, clock, epoch));
  if (want("net_io")) out.push_back(std::make_unique<NetIoSensor>(root, clock, epoch));
  if (want("thermal")) out.push_back(std::make_unique<ThermalZoneSensor>(root));
  if (want("uptime")) out.push_back(std::make_unique<UptimeSensor>(root));
  if (want("soc_temp")) out.push_back(std::make_unique<SocTemperatureSensor>(root));
  if (want("throttle")) {
    // vcgencmd only runs against the live root: a fixture tree must not spawn programs.
    out.push_back(std::make_unique<ThrottleSensor>(root, root == "/" ? config.vcgencmd : std::string()));
  }
  if (want("cpu_freq")) out.push_back(std::make_unique<CpuFrequencySensor>(root));
  if (want("wifi")) out.push_back(std::make_unique<WifiSensor>(root));
  if (want("w1")) out.push_back(std::make_unique<Ds18b20Sensor>(root));
  if (want("bme280") && !config.bme280_bus.empty()) {
    auto bus = LinuxI2cBus::open(config.bme280_bus);
    if (bus) {
      out.push_back(std::make_unique<Bme280Sensor>(std::move(*bus), static_cast<std::uint8_t>(config.bme280_address)));
    } else {
      out.push_back(std::make_unique<FailedSensor>("bme280", bus.error()));
    }
  }
  return out;
}

}  // namespace edgemon::board
