// 1-wire DS18B20 temperature probes through the kernel's w1-therm driver.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "edgemon/board/sensor.h"

namespace edgemon::board {

// Dallas/Maxim CRC-8 (polynomial x^8 + x^5 + x^4 + 1), as the DS18B20 scratchpad uses.
std::uint8_t dallas_crc8(std::span<const std::uint8_t> bytes);

// Parses one w1_slave file:
//   72 01 4b 46 7f ff 0e 10 57 : crc=57 YES
//   72 01 4b 46 7f ff 0e 10 57 t=23125
// Accepts it only if the driver said YES, the nine scratchpad bytes' CRC checks out here too,
// and the t= value agrees with the raw scratchpad temperature. Errors: kInvalidArgument
// (CRC NO, garbled, or the 85 °C power-on-reset value that means a failed conversion).
Result<double> parse_w1_slave(std::string_view text);

// "w1/<device id>/temperature" in °C for each <root>/sys/bus/w1/devices/28-*/w1_slave
// (28 is the DS18B20 family code). Devices are discovered at the first fetch and again when
// one disappears. A device with a bad CRC this round has an empty value; the others still report.
// Errors: kUnsupported (no 1-wire bus or no DS18B20), kInvalidArgument (no device readable).
class Ds18b20Sensor final : public Sensor {
 public:
  explicit Ds18b20Sensor(std::string_view root = "/");
  std::string_view id() const override { return "w1"; }
  Status fetch() override;
  std::span<const SensorValue> values() const override { return values_; }

 private:
  Status discover();
  std::string root_;
  bool discovered_ = false;
  std::vector<std::string> paths_;
  std::vector<SensorValue> values_;
  std::array<char, 256> buffer_{};
};

}  // namespace edgemon::board
