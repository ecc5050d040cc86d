// Untrusted MQTT payloads through the Sparkplug B decoder (every message kind): reject or decode,
// never crash; what decodes re-encodes to something that decodes to the same metrics.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "edgemon/common/sparkplug_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view payload(reinterpret_cast<const char*>(data), size);
  for (auto kind : {edgemon::MessageKind::kBirth, edgemon::MessageKind::kData, edgemon::MessageKind::kDeath,
                    edgemon::MessageKind::kCommand}) {
    auto msg = edgemon::decode_sparkplug(payload, kind);
    if (!msg) continue;
    auto again = edgemon::decode_sparkplug(edgemon::encode_sparkplug(*msg), kind);
    if (!again || again->metrics.size() != msg->metrics.size() || again->bd_seq != msg->bd_seq) std::abort();
    for (std::size_t i = 0; i < msg->metrics.size(); ++i) {
      if (again->metrics[i].value != msg->metrics[i].value || again->metrics[i].text != msg->metrics[i].text) std::abort();
    }
  }
  (void)edgemon::decode(payload, edgemon::MessageKind::kData);
  return 0;
}
