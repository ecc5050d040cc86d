// BME280 chip logic fed with recorded register bytes through a fake I2C bus. Expected values come
// from the datasheet's integer reference code (the calibration and ADC values are the Bosch
// BMP280 datasheet example: 25.08 °C, 100653.27 Pa) and agree with its double formulas.
#include <array>
#include <vector>

#include <gtest/gtest.h>

#include "edgemon/board/bme280.h"

namespace edgemon::board {
namespace {

constexpr std::array<std::uint8_t, 26> kCalib1 = {0x70, 0x6b, 0x43, 0x67, 0x18, 0xfc, 0x7d, 0x8e, 0x43,
                                                  0xd6, 0xd0, 0x0b, 0x27, 0x0b, 0x8c, 0x00, 0xf9, 0xff,
                                                  0x8c, 0x3c, 0xf8, 0xc6, 0x70, 0x17, 0x00, 0x4b};
constexpr std::array<std::uint8_t, 7> kCalib2 = {0x6a, 0x01, 0x00, 0x13, 0x29, 0x03, 0x1e};
constexpr std::array<std::uint8_t, 8> kData = {0x65, 0x5a, 0xc0, 0x7e, 0xed, 0x00, 0x75, 0x30};

// A register file per chip; reads past 0xFF or at a silent address fail like a NACK.
class FakeI2cBus final : public I2cBus {
 public:
  explicit FakeI2cBus(std::uint8_t address) : address_(address) {}
  Status write_register(std::uint8_t address, std::uint8_t reg, std::uint8_t value) override {
    if (address != address_) return make_error(ErrorCode::kIo, "nack");
    writes.emplace_back(reg, value);
    if (reg != Bme280::kRegReset) regs[reg] = value;
    return Status::Ok();
  }
  Status read_registers(std::uint8_t address, std::uint8_t reg, std::span<std::uint8_t> out) override {
    if (address != address_ || reg + out.size() > regs.size()) return make_error(ErrorCode::kIo, "nack");
    std::copy_n(regs.begin() + reg, out.size(), out.begin());
    return Status::Ok();
  }
  void load(std::uint8_t reg, std::span<const std::uint8_t> bytes) { std::copy(bytes.begin(), bytes.end(), regs.begin() + reg); }

  std::array<std::uint8_t, 256> regs{};
  std::vector<std::pair<std::uint8_t, std::uint8_t>> writes;

 private:
  std::uint8_t address_;
};

std::unique_ptr<FakeI2cBus> recorded_chip() {
  auto bus = std::make_unique<FakeI2cBus>(0x76);
  bus->regs[Bme280::kRegChipId] = Bme280::kChipId;
  bus->load(Bme280::kRegCalib00, kCalib1);
  bus->load(Bme280::kRegCalib26, kCalib2);
  bus->load(Bme280::kRegData, kData);
  return bus;
}

TEST(Bme280, ParsesCalibrationIncludingPackedH4H5) {
  const Bme280Calibration c = Bme280::parse_calibration(kCalib1, kCalib2);
  EXPECT_EQ(c.t1, 27504);
  EXPECT_EQ(c.t2, 26435);
  EXPECT_EQ(c.t3, -1000);
  EXPECT_EQ(c.p1, 36477);
  EXPECT_EQ(c.p2, -10685);
  EXPECT_EQ(c.p9, 6000);
  EXPECT_EQ(c.h1, 75);
  EXPECT_EQ(c.h2, 362);
  EXPECT_EQ(c.h3, 0);
  EXPECT_EQ(c.h4, 313);
  EXPECT_EQ(c.h5, 50);
  EXPECT_EQ(c.h6, 30);
}

TEST(Bme280, NegativePackedH4H5) {
  // H4 = -100 (0xF9C), H5 = -5 (0xFFB): E4 = 0xF9, E5 = (0xB << 4) | 0xC, E6 = 0xFF.
  const std::array<std::uint8_t, 7> block2 = {0, 0, 0, 0xF9, 0xBC, 0xFF, 0};
  const Bme280Calibration c = Bme280::parse_calibration(kCalib1, block2);
  EXPECT_EQ(c.h4, -100);
  EXPECT_EQ(c.h5, -5);
}

TEST(Bme280, CompensationMatchesDatasheetReference) {
  const auto raw = Bme280::parse_data(kData);
  ASSERT_TRUE(raw.ok());
  EXPECT_EQ(raw->adc_t, 519888);
  EXPECT_EQ(raw->adc_p, 415148);
  EXPECT_EQ(raw->adc_h, 30000);
  const Bme280Compensated out = Bme280::compensate(Bme280::parse_calibration(kCalib1, kCalib2), *raw);
  EXPECT_EQ(out.temperature_centi_c, 2508);
  EXPECT_EQ(out.pressure_q24_8, 25767233u);
  EXPECT_EQ(out.humidity_q22_10, 56317u);
  // The datasheet's floating-point formulas give 25.0825 °C, 100653.27 Pa, 55.0007 %RH.
  EXPECT_NEAR(out.temperature_c(), 25.0825, 0.01);
  EXPECT_NEAR(out.pressure_hpa(), 1006.5327, 0.001);
  EXPECT_NEAR(out.humidity_percent(), 55.0007, 0.01);
}

TEST(Bme280Sensor, SetsUpChipThenReadsValues) {
  auto bus = recorded_chip();
  FakeI2cBus* fake = bus.get();
  Bme280Sensor sensor(std::move(bus), 0x76);
  ASSERT_TRUE(sensor.fetch().ok());
  EXPECT_DOUBLE_EQ(*sensor.values()[0].value, 25.08);
  EXPECT_DOUBLE_EQ(*sensor.values()[1].value, 25767233 / 256.0 / 100.0);
  EXPECT_DOUBLE_EQ(*sensor.values()[2].value, 56317 / 1024.0);
  // Reset, then ctrl_hum before ctrl_meas (the datasheet's ordering rule), normal mode.
  ASSERT_GE(fake->writes.size(), 4u);
  EXPECT_EQ(fake->writes[0], std::make_pair(Bme280::kRegReset, std::uint8_t{0xB6}));
  std::size_t hum = 0, meas = 0;
  for (std::size_t i = 0; i < fake->writes.size(); ++i) {
    if (fake->writes[i].first == Bme280::kRegCtrlHum) hum = i;
    if (fake->writes[i].first == Bme280::kRegCtrlMeas) meas = i;
  }
  EXPECT_LT(hum, meas);
  EXPECT_EQ(fake->regs[Bme280::kRegCtrlMeas] & 0x03, 0x03);
}

TEST(Bme280Sensor, WrongChipOrNoChipIsUnsupported) {
  auto bmp = recorded_chip();
  bmp->regs[Bme280::kRegChipId] = 0x58;
  Bme280Sensor bmp280(std::move(bmp), 0x76);
  const Status s = bmp280.fetch();
  EXPECT_EQ(s.error().code, ErrorCode::kUnsupported);
  EXPECT_NE(s.error().message.find("BMP280"), std::string::npos);

  Bme280Sensor absent(recorded_chip(), 0x77);
  EXPECT_EQ(absent.fetch().error().code, ErrorCode::kUnsupported);
}

TEST(Bme280Sensor, NoMeasurementYetIsUnavailable) {
  auto bus = recorded_chip();
  const std::array<std::uint8_t, 8> skipped = {0x80, 0, 0, 0x80, 0, 0, 0x80, 0};
  bus->load(Bme280::kRegData, skipped);
  Bme280Sensor sensor(std::move(bus), 0x76);
  EXPECT_EQ(sensor.fetch().error().code, ErrorCode::kUnavailable);
}

}  // namespace
}  // namespace edgemon::board
