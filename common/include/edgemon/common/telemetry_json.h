// JSON encoding of TelemetryMessage (the skeleton's wire format; kept as the debug encoding once
// the Sparkplug B protobuf encoding exists). Shape:
//   {"timestamp":1763700000123,"seq":4,"bdSeq":0,
//    "metrics":[{"name":"cpu/total","unit":"%","value":12.5,"timestamp":1763700000120}]}
#pragma once

#include <string>
#include <string_view>

#include "edgemon/common/telemetry.h"

namespace edgemon {

inline constexpr std::size_t kMaxPayloadBytes = 256 * 1024;
inline constexpr std::size_t kMaxMetrics = 4096;
inline constexpr std::size_t kMaxMetricNameBytes = 200;
inline constexpr std::size_t kMaxUnitBytes = 16;

std::string encode_json(const TelemetryMessage& msg);

// Decodes and validates `payload` (exactly its bytes). `kind` comes from the topic.
// Errors: kInvalidArgument with a short reason ("not JSON", "metrics[3].name too long", ...).
Result<TelemetryMessage> decode_json(std::string_view payload, MessageKind kind);

}  // namespace edgemon
