#include "edgemon/common/telemetry.h"

#include "edgemon/common/sparkplug_codec.h"
#include "edgemon/common/telemetry_json.h"

namespace edgemon {
namespace {

bool valid_id_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-' || c == '.';
}

Error invalid(std::string reason) { return make_error(ErrorCode::kInvalidArgument, std::move(reason)); }

}  // namespace

bool metric_type_from_sparkplug(std::uint32_t datatype, MetricType& out) {
  switch (datatype) {
    case 1: case 2: case 3: case 4: out = MetricType::kInt64; return true;     // Int8..Int64
    case 5: case 6: case 7: case 8: out = MetricType::kUInt64; return true;    // UInt8..UInt64
    case 9: out = MetricType::kFloat; return true;
    case 10: out = MetricType::kDouble; return true;
    case 11: out = MetricType::kBoolean; return true;
    case 12: case 14: out = MetricType::kString; return true;                  // String, Text
    default: return false;
  }
}

bool parse_encoding(std::string_view text, Encoding& out) {
  if (text == "sparkplug") { out = Encoding::kSparkplug; return true; }
  if (text == "json") { out = Encoding::kJson; return true; }
  return false;
}

bool valid_metric_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxMetricNameBytes) return false;
  for (char c : name) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f) return false;
  }
  return true;
}

bool valid_unit(std::string_view unit) {
  if (unit.size() > kMaxUnitBytes) return false;
  for (char c : unit) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return false;
  }
  return true;
}

const char* to_topic_word(MessageKind kind) {
  switch (kind) {
    case MessageKind::kBirth: return "NBIRTH";
    case MessageKind::kData: return "NDATA";
    case MessageKind::kDeath: return "NDEATH";
    case MessageKind::kCommand: return "NCMD";
  }
  return "NDATA";
}

bool valid_id(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    if (!valid_id_char(c)) return false;
  }
  return true;
}

std::string format_topic(std::string_view group, MessageKind kind, std::string_view node) {
  std::string t(kTopicNamespace);
  t += '/';
  t += group;
  t += '/';
  t += to_topic_word(kind);
  t += '/';
  t += node;
  return t;
}

Result<Topic> parse_topic(std::string_view topic) {
  std::string_view parts[4];
  std::size_t n = 0;
  for (;;) {
    const std::size_t slash = topic.find('/');
    if (n == 4) return invalid("topic has more than 4 levels");
    parts[n++] = topic.substr(0, slash);
    if (slash == std::string_view::npos) break;
    topic.remove_prefix(slash + 1);
  }
  if (n != 4) return invalid("topic must be spBv1.0/<group>/<type>/<node>");
  if (parts[0] != kTopicNamespace) return invalid("topic namespace is not spBv1.0");
  Topic t;
  if (!valid_id(parts[1])) return invalid("invalid group id in topic");
  if (!valid_id(parts[3])) return invalid("invalid node id in topic");
  if (parts[2] == "NBIRTH") {
    t.kind = MessageKind::kBirth;
  } else if (parts[2] == "NDATA") {
    t.kind = MessageKind::kData;
  } else if (parts[2] == "NDEATH") {
    t.kind = MessageKind::kDeath;
  } else if (parts[2] == "NCMD") {
    t.kind = MessageKind::kCommand;
  } else {
    return invalid("unknown message type in topic");
  }
  t.group = parts[1];
  t.node = parts[3];
  return t;
}

std::string encode(Encoding encoding, const TelemetryMessage& msg) {
  return encoding == Encoding::kJson ? encode_json(msg) : encode_sparkplug(msg);
}

Result<TelemetryMessage> decode(std::string_view payload, MessageKind kind) {
  if (payload.size() > kMaxPayloadBytes) return invalid("payload too large");
  std::size_t i = 0;
  while (i < payload.size() && (payload[i] == ' ' || payload[i] == '\n' || payload[i] == '\r' || payload[i] == '\t')) ++i;
  // '{' (0x7b) would be protobuf field 15 with the deprecated group wire type, which Sparkplug's
  // Payload never uses at top level: a payload starting with it is JSON.
  if (i < payload.size() && payload[i] == '{') return decode_json(payload, kind);
  return decode_sparkplug(payload, kind);
}

}  // namespace edgemon
