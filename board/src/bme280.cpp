#include "edgemon/board/bme280.h"

#include <thread>

namespace edgemon::board {
namespace {

std::uint16_t u16le(const std::uint8_t* p) { return static_cast<std::uint16_t>(p[0] | (p[1] << 8)); }
std::int16_t s16le(const std::uint8_t* p) { return static_cast<std::int16_t>(u16le(p)); }

}  // namespace

Bme280Calibration Bme280::parse_calibration(std::span<const std::uint8_t, 26> b, std::span<const std::uint8_t, 7> h) {
  Bme280Calibration c;
  c.t1 = u16le(&b[0]);
  c.t2 = s16le(&b[2]);
  c.t3 = s16le(&b[4]);
  c.p1 = u16le(&b[6]);
  c.p2 = s16le(&b[8]);
  c.p3 = s16le(&b[10]);
  c.p4 = s16le(&b[12]);
  c.p5 = s16le(&b[14]);
  c.p6 = s16le(&b[16]);
  c.p7 = s16le(&b[18]);
  c.p8 = s16le(&b[20]);
  c.p9 = s16le(&b[22]);
  c.h1 = b[25];  // 0xA1 (0xA0 is unused)
  c.h2 = s16le(&h[0]);
  c.h3 = h[2];
  // 0xE4..0xE6 pack two signed 12-bit values: H4 = E4[7:0] E5[3:0], H5 = E6[7:0] E5[7:4].
  c.h4 = static_cast<std::int16_t>(static_cast<std::int8_t>(h[3]) * 16 | (h[4] & 0x0F));
  c.h5 = static_cast<std::int16_t>(static_cast<std::int8_t>(h[5]) * 16 | (h[4] >> 4));
  c.h6 = static_cast<std::int8_t>(h[6]);
  return c;
}

Result<Bme280Raw> Bme280::parse_data(std::span<const std::uint8_t, 8> d) {
  Bme280Raw r;
  r.adc_p = static_cast<std::int32_t>((std::uint32_t{d[0]} << 12) | (std::uint32_t{d[1]} << 4) | (d[2] >> 4));
  r.adc_t = static_cast<std::int32_t>((std::uint32_t{d[3]} << 12) | (std::uint32_t{d[4]} << 4) | (d[5] >> 4));
  r.adc_h = static_cast<std::int32_t>((std::uint32_t{d[6]} << 8) | d[7]);
  if (r.adc_t == 0x80000 || r.adc_p == 0x80000 || r.adc_h == 0x8000) {
    return make_error(ErrorCode::kUnavailable, "bme280: no measurement yet");
  }
  return r;
}

Bme280Compensated Bme280::compensate(const Bme280Calibration& c, const Bme280Raw& raw) {
  Bme280Compensated out;
  // Temperature (datasheet: BME280_compensate_T_int32). C++20 defines shifts of negative values.
  const std::int32_t adc_t = raw.adc_t;
  std::int32_t v1 = (((adc_t >> 3) - (std::int32_t{c.t1} << 1)) * std::int32_t{c.t2}) >> 11;
  std::int32_t v2 = (((((adc_t >> 4) - std::int32_t{c.t1}) * ((adc_t >> 4) - std::int32_t{c.t1})) >> 12) *
                     std::int32_t{c.t3}) >> 14;
  const std::int32_t t_fine = v1 + v2;
  out.temperature_centi_c = (t_fine * 5 + 128) >> 8;

  // Pressure (BME280_compensate_P_int64).
  std::int64_t p1 = std::int64_t{t_fine} - 128000;
  std::int64_t p2 = p1 * p1 * std::int64_t{c.p6};
  p2 = p2 + ((p1 * std::int64_t{c.p5}) << 17);
  p2 = p2 + (std::int64_t{c.p4} << 35);
  p1 = ((p1 * p1 * std::int64_t{c.p3}) >> 8) + ((p1 * std::int64_t{c.p2}) << 12);
  p1 = (((std::int64_t{1} << 47) + p1) * std::int64_t{c.p1}) >> 33;
  if (p1 != 0) {
    std::int64_t p = 1048576 - raw.adc_p;
    p = (((p << 31) - p2) * 3125) / p1;
    p1 = (std::int64_t{c.p9} * (p >> 13) * (p >> 13)) >> 25;
    p2 = (std::int64_t{c.p8} * p) >> 19;
    p = ((p + p1 + p2) >> 8) + (std::int64_t{c.p7} << 4);
    out.pressure_q24_8 = static_cast<std::uint32_t>(p);
  }

  // Humidity (bme280_compensate_H_int32).
  std::int32_t h = t_fine - 76800;
  h = ((((raw.adc_h << 14) - (std::int32_t{c.h4} << 20) - (std::int32_t{c.h5} * h)) + 16384) >> 15) *
      (((((((h * std::int32_t{c.h6}) >> 10) * (((h * std::int32_t{c.h3}) >> 11) + 32768)) >> 10) + 2097152) *
            std::int32_t{c.h2} +
        8192) >> 14);
  h = h - (((((h >> 15) * (h >> 15)) >> 7) * std::int32_t{c.h1}) >> 4);
  h = h < 0 ? 0 : h;
  h = h > 419430400 ? 419430400 : h;
  out.humidity_q22_10 = static_cast<std::uint32_t>(h >> 12);
  return out;
}

Status Bme280::setup() {
  std::uint8_t id = 0;
  if (Status s = bus_.read_registers(address_, kRegChipId, std::span(&id, 1)); !s) {
    return make_error(ErrorCode::kUnsupported, "bme280: no chip at address " + std::to_string(address_) + ": " +
                                                   s.error().message);
  }
  if (id != kChipId) {
    return make_error(ErrorCode::kUnsupported, "bme280: chip id " + std::to_string(id) +
                                                   (id == 0x58 ? " is a BMP280 (no humidity)" : " is not a BME280"));
  }
  if (Status s = bus_.write_register(address_, kRegReset, 0xB6); !s) return s;
  // The chip copies its calibration NVM after reset (status bit 0, "im_update"); 2 ms typical.
  for (int i = 0; i < 10; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    std::uint8_t status = 0;
    if (Status s = bus_.read_registers(address_, kRegStatus, std::span(&status, 1)); !s) return s;
    if ((status & 0x01) == 0) break;
  }
  std::array<std::uint8_t, 26> b1{};
  std::array<std::uint8_t, 7> b2{};
  if (Status s = bus_.read_registers(address_, kRegCalib00, b1); !s) return s;
  if (Status s = bus_.read_registers(address_, kRegCalib26, b2); !s) return s;
  cal_ = parse_calibration(b1, b2);
  // ctrl_hum must be written before ctrl_meas for it to take effect.
  if (Status s = bus_.write_register(address_, kRegCtrlHum, 0x01); !s) return s;        // osrs_h x1
  if (Status s = bus_.write_register(address_, kRegConfig, 0xA0); !s) return s;         // t_sb 1000 ms
  if (Status s = bus_.write_register(address_, kRegCtrlMeas, 0x27); !s) return s;       // osrs_t/p x1, normal
  return Status::Ok();
}

Result<Bme280Compensated> Bme280::read() {
  std::array<std::uint8_t, 8> data{};
  if (Status s = bus_.read_registers(address_, kRegData, data); !s) return s.error();
  auto raw = parse_data(data);
  if (!raw) return raw.error();
  return compensate(cal_, *raw);
}

Bme280Sensor::Bme280Sensor(std::unique_ptr<I2cBus> bus, std::uint8_t address)
    : bus_(std::move(bus)),
      chip_(*bus_, address),
      values_{{"bme280/temperature", "°C", {}}, {"bme280/pressure", "hPa", {}}, {"bme280/humidity", "%", {}}} {}

Status Bme280Sensor::fetch() {
  if (!ready_) {
    if (Status s = chip_.setup(); !s) return s;
    ready_ = true;
  }
  auto r = chip_.read();
  if (!r) {
    if (r.error().code == ErrorCode::kIo) ready_ = false;  // unplugged or reset: set up again
    return r.error();
  }
  values_[0].value = r->temperature_c();
  values_[1].value = r->pressure_hpa();
  values_[2].value = r->humidity_percent();
  return Status::Ok();
}

}  // namespace edgemon::board
