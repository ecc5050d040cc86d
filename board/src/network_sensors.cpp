#include "edgemon/board/network_sensors.h"

#include "edgemon/board/file_reader.h"

namespace edgemon::board {
namespace {

Error bad(const std::string& path, std::string_view what) {
  return make_error(ErrorCode::kInvalidArgument, path + ": " + std::string(what));
}

}  // namespace

NetIoSensor::NetIoSensor(std::string_view root, const Clock& clock, std::shared_ptr<const BootEpoch> epoch)
    : path_(join_root(root, "proc/net/dev")),
      rates_("net",
             {{"rx_bytes_per_s", "B/s", 1.0},
              {"tx_bytes_per_s", "B/s", 1.0},
              {"rx_packets_per_s", "1/s", 1.0},
              {"tx_packets_per_s", "1/s", 1.0},
              {"rx_errors_per_s", "1/s", 1.0},
              {"tx_errors_per_s", "1/s", 1.0},
              {"rx_dropped_per_s", "1/s", 1.0},
              {"tx_dropped_per_s", "1/s", 1.0}},
             clock, std::move(epoch)),
      buffer_(8 * 1024) {}

Status NetIoSensor::fetch() {
  auto text = read_file_growing(path_, buffer_);
  if (!text) return text.error();
  return ingest(*text);
}

Status NetIoSensor::ingest(std::string_view text) {
  rates_.begin();
  LineScanner lines(text);
  std::string_view line;
  std::size_t interfaces = 0;
  bool header = false;
  while (lines.next(line)) {
    const std::size_t colon = line.find(':');
    if (line.find('|') != std::string_view::npos) {
      header = true;
      continue;
    }
    if (trim(line).empty()) continue;
    if (colon == std::string_view::npos) {
      rates_.end();
      return bad(path_, "malformed line");
    }
    const std::string_view name = trim(line.substr(0, colon));
    std::string_view rest = line.substr(colon + 1);
    std::array<std::uint64_t, 16> f{};
    for (std::uint64_t& v : f) {
      if (!parse_u64(next_field(rest), v)) {
        rates_.end();
        return bad(path_, "malformed counters");
      }
    }
    if (name.empty()) {
      rates_.end();
      return bad(path_, "empty interface name");
    }
    ++interfaces;
    if (name == "lo") continue;
    // Receive: bytes packets errs drop fifo frame compressed multicast; transmit: bytes packets
    // errs drop fifo colls carrier compressed.
    const std::array<std::uint64_t, 8> counters = {f[0], f[8], f[1], f[9], f[2], f[10], f[3], f[11]};
    rates_.update(name, counters);
  }
  rates_.end();
  if (!header || interfaces == 0) return bad(path_, "no interfaces");
  return Status::Ok();
}

// ---- WifiSensor ----

WifiSensor::WifiSensor(std::string_view root) : path_(join_root(root, "proc/net/wireless")) {}

Status WifiSensor::fetch() {
  auto text = read_small_file(path_, buffer_);
  if (!text) return text.error();
  return ingest(*text);
}

Status WifiSensor::ingest(std::string_view text) {
  //  Inter-| sta-|   Quality        |   Discarded packets               | Missed | WE
  //   face | tus | link level noise |  nwid  crypt   frag  retry   misc | beacon | 22
  //   wlan0: 0000   70.  -39.  -256        0      0      0      0      9        0
  for (auto& v : values_) v.value.reset();
  LineScanner lines(text);
  std::string_view line;
  std::size_t found = 0;
  bool header = false;
  while (lines.next(line)) {
    if (line.find('|') != std::string_view::npos) {
      header = true;
      continue;
    }
    if (trim(line).empty()) continue;
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) return bad(path_, "malformed line");
    const std::string_view name = trim(line.substr(0, colon));
    std::string_view rest = line.substr(colon + 1);
    std::uint32_t status = 0;
    if (!parse_hex_u32(next_field(rest), status)) return bad(path_, "bad status field");
    double q[3] = {};
    for (double& v : q) {
      std::string_view field = next_field(rest);
      if (!field.empty() && field.back() == '.') field.remove_suffix(1);  // "updated" marker
      if (!parse_double(field, v)) return bad(path_, "bad quality field");
    }
    if (name.empty()) return bad(path_, "empty interface name");
    std::size_t index = 0;
    while (index < interfaces_.size() && interfaces_[index] != name) ++index;
    if (index == interfaces_.size()) {
      interfaces_.emplace_back(name);
      const std::string base = "wifi/" + sanitize_name(name) + "/";
      values_.push_back(SensorValue{base + "link_quality", "", {}});
      values_.push_back(SensorValue{base + "link_percent", "%", {}});
      values_.push_back(SensorValue{base + "signal_dbm", "dBm", {}});
      values_.push_back(SensorValue{base + "noise_dbm", "dBm", {}});
    }
    SensorValue* out = values_.data() + index * 4;
    out[0].value = q[0];
    out[1].value = q[0] < 0 ? 0.0 : (q[0] > 70 ? 100.0 : q[0] / 70.0 * 100.0);
    // Older drivers report level/noise as unsigned 8-bit (e.g. 217 == -39 dBm).
    const auto dbm = [](double v) { return v > 0 && v <= 255 ? v - 256 : v; };
    out[2].value = dbm(q[1]);
    if (q[2] != -256 && q[2] != 0) out[3].value = dbm(q[2]);
    ++found;
  }
  if (!header) return bad(path_, "no header");
  if (found == 0) return make_error(ErrorCode::kUnsupported, path_ + ": no wireless interface");
  return Status::Ok();
}

}  // namespace edgemon::board
