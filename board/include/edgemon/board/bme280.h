// Bosch BME280 temperature / pressure / humidity chip logic, independent of the bus.
// Compensation is the datasheet's integer reference code (BST-BME280-DS002, section 4.2.3 and
// 8.2): temperature in 0.01 °C, pressure in Q24.8 Pa (64-bit), humidity in Q22.10 %RH.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "edgemon/board/i2c_bus.h"
#include "edgemon/board/sensor.h"

namespace edgemon::board {

struct Bme280Calibration {
  std::uint16_t t1 = 0;
  std::int16_t t2 = 0, t3 = 0;
  std::uint16_t p1 = 0;
  std::int16_t p2 = 0, p3 = 0, p4 = 0, p5 = 0, p6 = 0, p7 = 0, p8 = 0, p9 = 0;
  std::uint8_t h1 = 0;
  std::int16_t h2 = 0;
  std::uint8_t h3 = 0;
  std::int16_t h4 = 0, h5 = 0;
  std::int8_t h6 = 0;
};

struct Bme280Raw {
  std::int32_t adc_t = 0;  // 20 bit
  std::int32_t adc_p = 0;  // 20 bit
  std::int32_t adc_h = 0;  // 16 bit
};

struct Bme280Compensated {
  std::int32_t temperature_centi_c = 0;  // 5123 = 51.23 °C
  std::uint32_t pressure_q24_8 = 0;      // Pa * 256; 0 when the calibration is invalid (p1 == 0)
  std::uint32_t humidity_q22_10 = 0;     // %RH * 1024
  double temperature_c() const { return temperature_centi_c / 100.0; }
  double pressure_hpa() const { return pressure_q24_8 / 256.0 / 100.0; }
  double humidity_percent() const { return humidity_q22_10 / 1024.0; }
};

class Bme280 {
 public:
  static constexpr std::uint8_t kChipId = 0x60;
  static constexpr std::uint8_t kRegChipId = 0xD0;
  static constexpr std::uint8_t kRegReset = 0xE0;
  static constexpr std::uint8_t kRegCalib00 = 0x88;  // 26 bytes, 0x88..0xA1
  static constexpr std::uint8_t kRegCalib26 = 0xE1;  // 7 bytes, 0xE1..0xE7
  static constexpr std::uint8_t kRegCtrlHum = 0xF2;
  static constexpr std::uint8_t kRegStatus = 0xF3;
  static constexpr std::uint8_t kRegCtrlMeas = 0xF4;
  static constexpr std::uint8_t kRegConfig = 0xF5;
  static constexpr std::uint8_t kRegData = 0xF7;     // 8 bytes, press/temp/hum

  // Decodes the two calibration blocks exactly as read from the chip.
  static Bme280Calibration parse_calibration(std::span<const std::uint8_t, 26> block1,
                                             std::span<const std::uint8_t, 7> block2);
  // Decodes registers 0xF7..0xFE. Errors: kUnavailable (0x80000 / 0x8000 "skipped" markers:
  // no measurement yet after power-up).
  static Result<Bme280Raw> parse_data(std::span<const std::uint8_t, 8> data);
  static Bme280Compensated compensate(const Bme280Calibration& cal, const Bme280Raw& raw);

  Bme280(I2cBus& bus, std::uint8_t address) : bus_(bus), address_(address) {}

  // Checks the chip id, reads calibration and starts normal mode (x1 oversampling for all
  // three, 1 s standby, filter off), so read() never waits for a conversion.
  // Errors: kUnsupported (no chip answering, or a BMP280 without humidity), kIo.
  Status setup();
  // Errors: kIo, kUnavailable (no measurement yet).
  Result<Bme280Compensated> read();

 private:
  I2cBus& bus_;
  std::uint8_t address_;
  Bme280Calibration cal_{};
};

// "bme280/temperature" (°C), "bme280/pressure" (hPa), "bme280/humidity" (%), through any I2cBus.
// setup() runs at the first fetch; a chip that stops answering is set up again later.
class Bme280Sensor final : public Sensor {
 public:
  Bme280Sensor(std::unique_ptr<I2cBus> bus, std::uint8_t address);
  std::string_view id() const override { return "bme280"; }
  Status fetch() override;
  std::span<const SensorValue> values() const override { return values_; }

 private:
  std::unique_ptr<I2cBus> bus_;
  Bme280 chip_;
  bool ready_ = false;
  std::vector<SensorValue> values_;
};

}  // namespace edgemon::board
