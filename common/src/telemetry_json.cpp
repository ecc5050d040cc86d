#include "edgemon/common/telemetry_json.h"

#include <cmath>

#include <nlohmann/json.hpp>

namespace edgemon {
namespace {

using nlohmann::json;

bool valid_id_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-' || c == '.';
}

Error invalid(std::string reason) { return make_error(ErrorCode::kInvalidArgument, std::move(reason)); }

// Metric names: printable ASCII, no control characters; '/' separates levels.
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

Result<std::int64_t> read_ms(const json& j, const char* what) {
  if (!j.is_number_integer() && !j.is_number_unsigned()) return invalid(std::string(what) + " must be an integer");
  if (j.is_number_unsigned()) {
    const auto u = j.get<std::uint64_t>();
    if (u > static_cast<std::uint64_t>(INT64_MAX)) return invalid(std::string(what) + " out of range");
    return static_cast<std::int64_t>(u);
  }
  const auto v = j.get<std::int64_t>();
  if (v < 0) return invalid(std::string(what) + " must not be negative");
  return v;
}

}  // namespace

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
  std::string_view parts[5];
  std::size_t n = 0;
  while (n < 5) {
    const std::size_t slash = topic.find('/');
    parts[n++] = topic.substr(0, slash);
    if (slash == std::string_view::npos) break;
    topic.remove_prefix(slash + 1);
    if (n == 4) return invalid("topic has more than 4 levels");
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

std::string encode_json(const TelemetryMessage& msg) {
  json metrics = json::array();
  for (const Metric& m : msg.metrics) {
    json jm = {{"name", m.name}, {"unit", m.unit}, {"timestamp", m.ts_ms}};
    if (m.value && std::isfinite(*m.value)) {
      jm["value"] = *m.value;
    } else {
      jm["value"] = nullptr;
    }
    metrics.push_back(std::move(jm));
  }
  json j = {{"timestamp", msg.timestamp_ms}, {"seq", msg.seq}, {"metrics", std::move(metrics)}};
  if (msg.kind == MessageKind::kBirth || msg.kind == MessageKind::kDeath) j["bdSeq"] = msg.bd_seq;
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<TelemetryMessage> decode_json(std::string_view payload, MessageKind kind) {
  if (payload.size() > kMaxPayloadBytes) return invalid("payload too large");
  // Depth is bounded by the shape check below, but nlohmann's recursive parser must not see
  // arbitrarily deep nesting first: reject more than 8 levels with a linear pre-scan.
  int depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : payload) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > 8) return invalid("JSON nested too deeply");
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  const json j = json::parse(payload.begin(), payload.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return invalid("not JSON");
  if (!j.is_object()) return invalid("payload is not a JSON object");

  TelemetryMessage msg;
  msg.kind = kind;
  if (const auto it = j.find("timestamp"); it != j.end()) {
    auto ts = read_ms(*it, "timestamp");
    if (!ts) return ts.error();
    msg.timestamp_ms = *ts;
  } else {
    return invalid("missing timestamp");
  }
  if (const auto it = j.find("seq"); it != j.end()) {
    if (!it->is_number_unsigned() && !it->is_number_integer()) return invalid("seq must be an integer");
    const auto s = it->get<std::int64_t>();
    if (s < 0 || s > 255) return invalid("seq must be 0..255");
    msg.seq = static_cast<std::uint64_t>(s);
  }
  if (const auto it = j.find("bdSeq"); it != j.end()) {
    auto b = read_ms(*it, "bdSeq");
    if (!b) return b.error();
    msg.bd_seq = static_cast<std::uint64_t>(*b);
  }
  const auto mit = j.find("metrics");
  if (mit == j.end()) {
    if (kind == MessageKind::kDeath) return msg;
    return invalid("missing metrics");
  }
  if (!mit->is_array()) return invalid("metrics must be an array");
  if (mit->size() > kMaxMetrics) return invalid("too many metrics");
  msg.metrics.reserve(mit->size());
  std::size_t index = 0;
  for (const json& jm : *mit) {
    const std::string at = "metrics[" + std::to_string(index++) + "]";
    if (!jm.is_object()) return invalid(at + " is not an object");
    Metric m;
    const auto name = jm.find("name");
    if (name == jm.end() || !name->is_string()) return invalid(at + ".name missing or not a string");
    m.name = name->get<std::string>();
    if (!valid_metric_name(m.name)) return invalid(at + ".name invalid");
    if (const auto unit = jm.find("unit"); unit != jm.end()) {
      if (!unit->is_string()) return invalid(at + ".unit not a string");
      m.unit = unit->get<std::string>();
      if (!valid_unit(m.unit)) return invalid(at + ".unit invalid");
    }
    if (const auto value = jm.find("value"); value != jm.end() && !value->is_null()) {
      if (value->is_boolean()) {
        m.value = value->get<bool>() ? 1.0 : 0.0;
      } else if (value->is_number()) {
        const double v = value->get<double>();
        if (!std::isfinite(v)) return invalid(at + ".value not finite");
        m.value = v;
      } else {
        return invalid(at + ".value not a number");
      }
    }
    if (const auto ts = jm.find("timestamp"); ts != jm.end()) {
      auto t = read_ms(*ts, "metric timestamp");
      if (!t) return t.error();
      m.ts_ms = *t;
    } else {
      m.ts_ms = msg.timestamp_ms;
    }
    msg.metrics.push_back(std::move(m));
  }
  return msg;
}

}  // namespace edgemon
