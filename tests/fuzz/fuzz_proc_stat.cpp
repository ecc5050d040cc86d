// Arbitrary /proc/stat contents: the CPU reader must reject or report 0..100 %, never crash.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "edgemon/board/cpu_usage_sensor.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  edgemon::board::CpuUsageSensor sensor("/nonexistent");
  (void)sensor.ingest(text);
  (void)sensor.ingest(text.substr(0, size / 2));
  (void)sensor.ingest(text);
  for (const auto& v : sensor.values()) {
    if (v.value && (*v.value < 0.0 || *v.value > 100.0)) std::abort();
  }
  return 0;
}
