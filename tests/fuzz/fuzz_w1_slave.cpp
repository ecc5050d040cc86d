// Arbitrary w1_slave contents: accepted temperatures must be within the DS18B20's range.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "edgemon/board/w1_sensors.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto r = edgemon::board::parse_w1_slave(text);
  if (r.ok() && (*r < -55.0 || *r > 125.0)) std::abort();
  return 0;
}
