#include "edgemon/board/w1_sensors.h"

#include <optional>

#include "edgemon/board/file_reader.h"
#include "edgemon/board/text_fields.h"

namespace edgemon::board {

std::uint8_t dallas_crc8(std::span<const std::uint8_t> bytes) {
  std::uint8_t crc = 0;
  for (std::uint8_t b : bytes) {
    for (int i = 0; i < 8; ++i) {
      const bool mix = ((crc ^ b) & 0x01) != 0;
      crc = static_cast<std::uint8_t>(crc >> 1);
      if (mix) crc ^= 0x8C;
      b = static_cast<std::uint8_t>(b >> 1);
    }
  }
  return crc;
}

namespace {

Error garbled(std::string_view why) { return make_error(ErrorCode::kInvalidArgument, std::string(why)); }

// Reads nine hex byte fields from the start of a w1_slave line.
bool parse_scratchpad(std::string_view& line, std::array<std::uint8_t, 9>& bytes) {
  for (std::uint8_t& b : bytes) {
    const std::string_view f = next_field(line);
    std::uint32_t v = 0;
    if (f.size() != 2 || !parse_hex_u32(f, v)) return false;
    b = static_cast<std::uint8_t>(v);
  }
  return true;
}

}  // namespace

Result<double> parse_w1_slave(std::string_view text) {
  LineScanner lines(text);
  std::string_view first;
  std::string_view second;
  if (!lines.next(first) || !lines.next(second)) return garbled("w1_slave: expected two lines");
  std::array<std::uint8_t, 9> pad{};
  if (!parse_scratchpad(first, pad)) return garbled("w1_slave: bad scratchpad bytes");
  if (next_field(first) != ":" || next_field(first).substr(0, 4) != "crc=") return garbled("w1_slave: no crc field");
  if (next_field(first) != "YES") return garbled("w1_slave: driver reports CRC error");
  if (dallas_crc8(std::span(pad).first(8)) != pad[8]) return garbled("w1_slave: CRC mismatch");
  // An all-zero scratchpad passes the CRC (a shorted or missing data line): the configuration
  // register (byte 4) always has its low five bits set on a real DS18B20.
  if ((pad[4] & 0x1F) != 0x1F) return garbled("w1_slave: scratchpad is not from a DS18B20");
  std::array<std::uint8_t, 9> pad2{};
  if (!parse_scratchpad(second, pad2) || pad2 != pad) return garbled("w1_slave: second line differs");
  const std::string_view t = next_field(second);
  std::int64_t milli = 0;
  if (t.substr(0, 2) != "t=" || !parse_i64(t.substr(2), milli)) return garbled("w1_slave: no t= value");
  // Scratchpad bytes 0-1: temperature, 1/16 °C, two's complement (12-bit default resolution).
  const auto raw = static_cast<std::int16_t>(static_cast<std::uint16_t>(pad[0] | (pad[1] << 8)));
  const std::int64_t raw_milli = static_cast<std::int64_t>(raw) * 1000 / 16;
  if (raw_milli - milli > 1 || milli - raw_milli > 1) return garbled("w1_slave: t= disagrees with scratchpad");
  if (raw == 0x0550) return garbled("w1_slave: 85 C power-on value (conversion failed)");
  if (milli < -55000 || milli > 125000) return garbled("w1_slave: out of the DS18B20 range");
  return static_cast<double>(milli) / 1000.0;
}

Ds18b20Sensor::Ds18b20Sensor(std::string_view root) : root_(root) {}

Status Ds18b20Sensor::discover() {
  discovered_ = true;
  const std::string dir = join_root(root_, "sys/bus/w1/devices");
  auto devices = list_directory(dir, "28-");
  if (!devices) return devices.error();
  for (const std::string& d : *devices) {
    std::string path = dir + "/" + d + "/w1_slave";
    bool known = false;
    for (const std::string& p : paths_) known = known || p == path;
    if (known) continue;
    paths_.push_back(std::move(path));
    values_.push_back(SensorValue{"w1/" + sanitize_name(d) + "/temperature", "°C", {}});
  }
  if (paths_.empty()) return make_error(ErrorCode::kUnsupported, dir + ": no DS18B20 (28-*) devices");
  return Status::Ok();
}

Status Ds18b20Sensor::fetch() {
  if (!discovered_) {
    if (Status s = discover(); !s) return s;
  }
  std::size_t ok = 0;
  bool vanished = false;
  // Error text is built only when every device failed, so a healthy fetch does not allocate.
  std::optional<Error> last;
  for (std::size_t i = 0; i < paths_.size(); ++i) {
    values_[i].value.reset();
    auto text = read_small_file(paths_[i], buffer_);
    if (!text) {
      vanished = vanished || text.error().code == ErrorCode::kUnsupported;
      if (ok == 0) last = text.error();
      continue;
    }
    auto t = parse_w1_slave(*text);
    if (!t) {
      if (ok == 0) last = make_error(ErrorCode::kInvalidArgument, paths_[i] + ": " + t.error().message);
      continue;
    }
    values_[i].value = *t;
    ++ok;
  }
  if (vanished) discovered_ = false;  // a probe was unplugged or replaced: look again next time
  if (ok == 0) {
    if (!last) return make_error(ErrorCode::kUnavailable, root_ + ": no DS18B20 devices");
    if (last->code == ErrorCode::kUnsupported) last->code = ErrorCode::kUnavailable;  // had devices once
    return *last;
  }
  return Status::Ok();
}

}  // namespace edgemon::board
