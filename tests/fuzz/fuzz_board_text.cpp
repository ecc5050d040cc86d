// Arbitrary bytes as every procfs/sysfs text the board readers parse: each must reject or give
// sane numbers, never crash, read out of bounds or report a negative rate.
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string_view>

#include "edgemon/board/disk_sensors.h"
#include "edgemon/board/network_sensors.h"
#include "edgemon/board/pi_sensors.h"
#include "edgemon/board/system_sensors.h"
#include "edgemon/common/clock.h"

namespace {

class NoStats final : public edgemon::board::FsStatSource {
 public:
  edgemon::Result<edgemon::board::FsUsage> stat(const std::string&) override {
    return edgemon::board::FsUsage{1000, 400, 300};
  }
};

void check_rates(const edgemon::board::Sensor& s) {
  for (const auto& v : s.values()) {
    if (v.value && !(*v.value >= 0.0)) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace edgemon::board;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  edgemon::ManualClock clock;
  static auto epoch = std::make_shared<BootEpoch>();
  MemorySensor mem("/nonexistent");
  (void)mem.ingest(text);
  for (const auto& v : mem.values()) {
    if (v.value && *v.value < 0.0) std::abort();
  }
  LoadAverageSensor load("/nonexistent");
  (void)load.ingest(text);
  UptimeSensor up("/nonexistent");
  (void)up.ingest(text);
  CpuCountSensor count("/nonexistent");
  (void)count.ingest(text);
  BootIdSensor boot("/nonexistent", epoch);
  (void)boot.ingest(text);
  WifiSensor wifi("/nonexistent");
  (void)wifi.ingest(text);
  ThrottleSensor throttle("/nonexistent");
  (void)throttle.ingest(text);
  DiskUsageSensor disk("/nonexistent", std::make_unique<NoStats>());
  (void)disk.ingest(text);
  NetIoSensor net("/nonexistent", clock, epoch);
  DiskIoSensor io("/nonexistent", clock, epoch);
  for (int round = 0; round < 3; ++round) {
    const std::string_view part = round == 1 ? text.substr(0, size / 2) : text;
    (void)net.ingest(part);
    (void)io.ingest(part);
    check_rates(net);
    check_rates(io);
    clock.advance(std::chrono::seconds(1));
  }
  return 0;
}
