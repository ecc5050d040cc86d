// What the agent needs from board/: the [sensors] config section, and every sensor this board
// can offer. See docs/sensors.md for the metric names and the config keys.
#pragma once

#include <array>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "edgemon/board/sensor.h"
#include "edgemon/common/clock.h"
#include "edgemon/common/config_reader.h"

namespace edgemon::board {

// Sensor ids, in the order make_sensors() returns them ("boot" first: it resets rate baselines
// after a reboot before the rate sensors read their counters).
inline constexpr std::array<std::string_view, 16> kSensorIds = {
    "boot",     "cpu",  "cpu_count", "load",     "memory", "disk", "disk_io", "net_io",
    "thermal",  "uptime", "soc_temp", "throttle", "cpu_freq", "wifi", "w1",     "bme280"};

struct BoardConfig {
  std::string root = "/";  // procfs/sysfs root; the agent copies agent.board_root here
  // Seconds between fetches per sensor id (see kSensorIds, plus "sim"); a sensor without an
  // entry uses default_interval_s. 0 = every agent cycle.
  double default_interval_s = 0;
  std::map<std::string, double, std::less<>> interval_s;
  std::vector<std::string> disabled;        // sensor ids left out entirely
  std::string vcgencmd = "/usr/bin/vcgencmd";  // fallback for throttle flags; "" = never run it
  std::string bme280_bus;                   // "/dev/i2c-1"; empty = no BME280
  int bme280_address = 0x76;
  std::string sim_scenario;                 // non-empty: the simulated board replaces all sensors

  double interval_for(std::string_view id) const;
  bool is_disabled(std::string_view id) const;
};

// Reads the [sensors] section:
//   sensors.interval_s            number, default interval for every sensor (0..86400)
//   sensors.intervals.<id>        number, per sensor id (0..86400)
//   sensors.disabled              array of sensor ids
//   sensors.vcgencmd              string
//   sensors.bme280.bus            string ("" = none), sensors.bme280.address 0x76 or 0x77
//   sensors.sim.scenario          string (path to a scenario TOML)
// Problems are recorded in the reader (its finish() reports them): unknown ids in disabled, bad
// ranges, and unknown keys under [sensors] via the reader's own unknown-key check.
BoardConfig read_board_config(ConfigReader& reader);

// Every sensor this board can offer for `config`. Sensors whose source is absent stay in the
// list and report kUnsupported at their first fetch (the Sampler logs that once and drops them),
// so the log tells the user exactly what this board lacks.
// Errors: kInvalidArgument / kNotFound only for a bad or missing sim scenario.
Result<std::vector<std::unique_ptr<Sensor>>> make_sensors(const BoardConfig& config,
                                                          const Clock& clock = SystemClock::instance());

}  // namespace edgemon::board
