// JSON encoding of TelemetryMessage (the debug encoding; Sparkplug B protobuf is the default).
// Shape:
//   {"timestamp":1763700000123,"seq":4,"bdSeq":0,
//    "metrics":[{"name":"cpu/total","alias":1,"unit":"%","type":"Double","value":12.5,
//                "timestamp":1763700000120,"historical":true}]}
// "alias", "type" (default Double), "historical" (default false) are optional; String metrics
// carry their value as a JSON string.
#pragma once

#include <string>
#include <string_view>

#include "edgemon/common/telemetry.h"

namespace edgemon {

std::string encode_json(const TelemetryMessage& msg);

// Decodes and validates `payload` (exactly its bytes). `kind` comes from the topic.
// Errors: kInvalidArgument with a short reason ("not JSON", "metrics[3].name too long", ...).
Result<TelemetryMessage> decode_json(std::string_view payload, MessageKind kind);

}  // namespace edgemon
