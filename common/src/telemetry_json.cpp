#include "edgemon/common/telemetry_json.h"

#include <cmath>

#include <nlohmann/json.hpp>

namespace edgemon {
namespace {

using nlohmann::json;

Error invalid(std::string reason) { return make_error(ErrorCode::kInvalidArgument, std::move(reason)); }

const char* type_name(MetricType t) {
  switch (t) {
    case MetricType::kInt64: return "Int64";
    case MetricType::kUInt64: return "UInt64";
    case MetricType::kFloat: return "Float";
    case MetricType::kDouble: return "Double";
    case MetricType::kBoolean: return "Boolean";
    case MetricType::kString: return "String";
  }
  return "Double";
}

bool type_from_name(const std::string& s, MetricType& out) {
  for (MetricType t : {MetricType::kInt64, MetricType::kUInt64, MetricType::kFloat, MetricType::kDouble, MetricType::kBoolean,
                       MetricType::kString}) {
    if (s == type_name(t)) {
      out = t;
      return true;
    }
  }
  return false;
}

Result<std::uint64_t> read_uint(const json& j, const char* what) {
  if (j.is_number_unsigned()) return j.get<std::uint64_t>();
  if (j.is_number_integer()) {
    const auto v = j.get<std::int64_t>();
    if (v < 0) return invalid(std::string(what) + " must not be negative");
    return static_cast<std::uint64_t>(v);
  }
  return invalid(std::string(what) + " must be an integer");
}

Result<std::int64_t> read_ms(const json& j, const char* what) {
  auto v = read_uint(j, what);
  if (!v) return v.error();
  if (*v > static_cast<std::uint64_t>(INT64_MAX)) return invalid(std::string(what) + " out of range");
  return static_cast<std::int64_t>(*v);
}

// nlohmann's parser recurses per nesting level: bound the depth with a linear pre-scan first.
bool nesting_within(std::string_view payload, int limit) {
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
      if (++depth > limit) return false;
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return true;
}

}  // namespace

std::string encode_json(const TelemetryMessage& msg) {
  json metrics = json::array();
  for (const Metric& m : msg.metrics) {
    json jm = {{"name", m.name}, {"timestamp", m.ts_ms}};
    if (!m.unit.empty()) jm["unit"] = m.unit;
    if (m.alias) jm["alias"] = *m.alias;
    if (m.type != MetricType::kDouble) jm["type"] = type_name(m.type);
    if (m.historical) jm["historical"] = true;
    if (m.type == MetricType::kString) {
      jm["value"] = m.text;
    } else if (m.value && std::isfinite(*m.value)) {
      jm["value"] = *m.value;
    } else {
      jm["value"] = nullptr;
    }
    metrics.push_back(std::move(jm));
  }
  json j = {{"timestamp", msg.timestamp_ms}, {"metrics", std::move(metrics)}};
  if (msg.kind != MessageKind::kDeath) j["seq"] = msg.seq;
  if (msg.kind == MessageKind::kBirth || msg.kind == MessageKind::kDeath) j["bdSeq"] = msg.bd_seq;
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<TelemetryMessage> decode_json(std::string_view payload, MessageKind kind) {
  if (payload.size() > kMaxPayloadBytes) return invalid("payload too large");
  if (!nesting_within(payload, 8)) return invalid("JSON nested too deeply");
  const json j = json::parse(payload.begin(), payload.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return invalid("not JSON");
  if (!j.is_object()) return invalid("payload is not a JSON object");

  TelemetryMessage msg;
  msg.kind = kind;
  const auto ts = j.find("timestamp");
  if (ts == j.end()) return invalid("missing timestamp");
  auto t = read_ms(*ts, "timestamp");
  if (!t) return t.error();
  msg.timestamp_ms = *t;
  if (const auto it = j.find("seq"); it != j.end()) {
    auto s = read_uint(*it, "seq");
    if (!s) return s.error();
    if (*s > 255) return invalid("seq must be 0..255");
    msg.seq = *s;
  } else if (kind == MessageKind::kBirth || kind == MessageKind::kData) {
    return invalid("missing seq");
  }
  if (const auto it = j.find("bdSeq"); it != j.end()) {
    auto b = read_uint(*it, "bdSeq");
    if (!b) return b.error();
    msg.bd_seq = *b;
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
    if (const auto name = jm.find("name"); name != jm.end()) {
      if (!name->is_string()) return invalid(at + ".name not a string");
      m.name = name->get<std::string>();
      if (!valid_metric_name(m.name)) return invalid(at + ".name invalid");
    }
    if (const auto alias = jm.find("alias"); alias != jm.end()) {
      auto a = read_uint(*alias, "alias");
      if (!a) return a.error();
      m.alias = *a;
    }
    if (m.name.empty() && !m.alias) return invalid(at + " has neither name nor alias");
    if (const auto unit = jm.find("unit"); unit != jm.end()) {
      if (!unit->is_string()) return invalid(at + ".unit not a string");
      m.unit = unit->get<std::string>();
      if (!valid_unit(m.unit)) return invalid(at + ".unit invalid");
    }
    if (const auto type = jm.find("type"); type != jm.end()) {
      if (!type->is_string() || !type_from_name(type->get<std::string>(), m.type)) return invalid(at + ".type unknown");
    }
    if (const auto hist = jm.find("historical"); hist != jm.end()) {
      if (!hist->is_boolean()) return invalid(at + ".historical not a boolean");
      m.historical = hist->get<bool>();
    }
    if (const auto value = jm.find("value"); value != jm.end() && !value->is_null()) {
      if (m.type == MetricType::kString) {
        if (!value->is_string()) return invalid(at + ".value not a string");
        m.text = value->get<std::string>();
        if (m.text.size() > kMaxTextBytes) return invalid(at + ".value too long");
      } else if (value->is_boolean()) {
        m.value = value->get<bool>() ? 1.0 : 0.0;
      } else if (value->is_number()) {
        const double v = value->get<double>();
        if (!std::isfinite(v)) return invalid(at + ".value not finite");
        m.value = v;
      } else {
        return invalid(at + ".value not a number");
      }
    }
    if (const auto mts = jm.find("timestamp"); mts != jm.end()) {
      auto mt = read_ms(*mts, "metric timestamp");
      if (!mt) return mt.error();
      m.ts_ms = *mt;
    } else {
      m.ts_ms = msg.timestamp_ms;
    }
    msg.metrics.push_back(std::move(m));
  }
  return msg;
}

}  // namespace edgemon
