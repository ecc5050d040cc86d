// Network I/O rates per interface and Wi-Fi link quality.
#pragma once

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "edgemon/board/counter_rates.h"
#include "edgemon/board/sensor.h"

namespace edgemon::board {

// Per interface in <root>/proc/net/dev except "lo": "net/<if>/rx_bytes_per_s",
// "tx_bytes_per_s", "rx_packets_per_s", "tx_packets_per_s", "rx_errors_per_s",
// "tx_errors_per_s", "rx_dropped_per_s", "tx_dropped_per_s". 32-bit counter wrap (armhf kernels)
// is handled; a reboot (BootEpoch) or a reset counter gives one empty round, never a negative rate.
class NetIoSensor final : public Sensor {
 public:
  NetIoSensor(std::string_view root, const Clock& clock, std::shared_ptr<const BootEpoch> epoch);
  std::string_view id() const override { return "net_io"; }
  Status fetch() override;
  std::span<const SensorValue> values() const override { return rates_.values(); }
  Status ingest(std::string_view proc_net_dev);

 private:
  std::string path_;
  CounterRates rates_;
  std::vector<char> buffer_;
};

// Per wireless interface in <root>/proc/net/wireless: "wifi/<if>/link_quality" (the driver's
// link value, 0..70 on the Pi's brcmfmac), "wifi/<if>/link_percent" (link / 70 * 100),
// "wifi/<if>/signal_dbm", "wifi/<if>/noise_dbm" (empty when the driver reports none, -256).
// A board without Wi-Fi has the file with only its two header lines: fetch() returns
// kUnsupported for that, as it does for a missing file.
class WifiSensor final : public Sensor {
 public:
  explicit WifiSensor(std::string_view root = "/");
  std::string_view id() const override { return "wifi"; }
  Status fetch() override;
  std::span<const SensorValue> values() const override { return values_; }
  Status ingest(std::string_view proc_net_wireless);

 private:
  std::string path_;
  std::vector<std::string> interfaces_;
  std::vector<SensorValue> values_;  // 4 per interface
  std::array<char, 4096> buffer_{};
};

}  // namespace edgemon::board
