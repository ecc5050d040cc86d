// Untrusted MQTT payloads through the gateway's JSON decoder: must reject or decode, never crash,
// and whatever decodes must re-encode and decode to the same metrics.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "edgemon/common/telemetry_json.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view payload(reinterpret_cast<const char*>(data), size);
  auto msg = edgemon::decode_json(payload, edgemon::MessageKind::kData);
  if (!msg) return 0;
  auto again = edgemon::decode_json(edgemon::encode_json(*msg), edgemon::MessageKind::kData);
  if (!again || again->metrics.size() != msg->metrics.size()) std::abort();
  for (std::size_t i = 0; i < msg->metrics.size(); ++i) {
    if (again->metrics[i].name != msg->metrics[i].name || again->metrics[i].value != msg->metrics[i].value) std::abort();
  }
  (void)edgemon::parse_topic(payload);
  return 0;
}
