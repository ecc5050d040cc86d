#include "edgemon/gateway/api/history_api.h"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "edgemon/gateway/api/body_reader.h"
#include "edgemon/gateway/api/json_writer.h"

namespace edgemon::gateway {
namespace {

constexpr std::int64_t kHourMs = 3600 * 1000;
constexpr std::int64_t kDayMs = 24 * kHourMs;

// A time in ms since the epoch within the range the API accepts.
bool parse_time(const std::string& text, std::int64_t& out) {
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, out);
  return ec == std::errc() && ptr == end && out >= kMinTimeMs && out <= kMaxTimeMs;
}

const char* name_of(Resolution r) {
  switch (r) {
    case Resolution::kRaw: return "raw";
    case Resolution::kMinute: return "minute";
    case Resolution::kHour: return "hour";
  }
  return "raw";
}

}  // namespace

Result<HistoryQuery> parse_history_query(const QueryParams& params, std::int64_t now_ms) {
  HistoryQuery q;
  const auto get = [&params](const char* key) -> const std::string* {
    const auto it = params.find(key);
    return it == params.end() || it->second.empty() ? nullptr : &it->second;
  };
  const std::string* node = get("node");
  if (node == nullptr) return make_error(ErrorCode::kInvalidArgument, "node: required, as <group>/<node>");
  const auto slash = node->find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == node->size()) {
    return make_error(ErrorCode::kInvalidArgument, "node: must be <group>/<node>");
  }
  q.group = node->substr(0, slash);
  q.node = node->substr(slash + 1);
  const std::string* metric = get("metric");
  if (metric == nullptr) return make_error(ErrorCode::kInvalidArgument, "metric: required");
  q.metric = *metric;

  const std::string allowed = " (1970-01-01 .. 2199-12-31)";
  q.to_ms = std::clamp(now_ms, kMinTimeMs, kMaxTimeMs);
  if (const std::string* to = get("to"); to != nullptr && !parse_time(*to, q.to_ms)) {
    return make_error(ErrorCode::kInvalidArgument, "to: must be milliseconds since the epoch" + allowed);
  }
  q.from_ms = std::max(kMinTimeMs, q.to_ms - kDayMs);
  if (const std::string* from = get("from"); from != nullptr && !parse_time(*from, q.from_ms)) {
    return make_error(ErrorCode::kInvalidArgument, "from: must be milliseconds since the epoch" + allowed);
  }
  if (q.from_ms > q.to_ms) return make_error(ErrorCode::kInvalidArgument, "from: must not be after to");
  const std::int64_t range = q.to_ms - q.from_ms;

  if (const std::string* step = get("step")) {
    std::int64_t s = 0;
    const char* end = step->data() + step->size();
    const auto [ptr, ec] = std::from_chars(step->data(), end, s);
    if (ec != std::errc() || ptr != end || s < 0) {
      return make_error(ErrorCode::kInvalidArgument, "step: must be seconds >= 0");
    }
    q.resolution = s < 60 ? Resolution::kRaw : s < 3600 ? Resolution::kMinute : Resolution::kHour;
  } else {
    q.resolution = range <= kHourMs ? Resolution::kRaw : range <= 7 * kDayMs ? Resolution::kMinute : Resolution::kHour;
  }
  const std::int64_t bucket = q.resolution == Resolution::kMinute ? 60'000 : q.resolution == Resolution::kHour ? kHourMs : 0;
  if (bucket > 0 && range / bucket >= static_cast<std::int64_t>(kMaxHistoryPoints)) {
    return make_error(ErrorCode::kInvalidArgument, "step: more than " + std::to_string(kMaxHistoryPoints) +
                                                       " points in this range; raise step or narrow from/to");
  }
  return q;
}

Result<std::string> history_json(Store& store, const HistoryQuery& q) {
  auto rows = store.rollups(q.group, q.node, q.metric, q.resolution, q.from_ms, q.to_ms, kMaxHistoryPoints + 1);
  if (!rows) return rows.error();
  const bool truncated = rows->size() > kMaxHistoryPoints;
  if (truncated) rows->resize(kMaxHistoryPoints);
  bool has_quantiles = false;
  for (const Rollup& r : *rows) has_quantiles = has_quantiles || r.quantiles.size() == 5;

  static constexpr const char* kQuantileNames[] = {"p10", "p25", "p50", "p75", "p90"};
  const std::int64_t step = q.resolution == Resolution::kMinute ? 60 : q.resolution == Resolution::kHour ? 3600 : 0;
  JsonWriter w;
  w.begin_object()
      .member("node", q.group + "/" + q.node)
      .member("metric", q.metric)
      .member("from", q.from_ms)
      .member("to", q.to_ms)
      .member("resolution", name_of(q.resolution))
      .member("step", step)
      .member("truncated", truncated)
      .key("columns")
      .begin_array()
      .value("time")
      .value("avg")
      .value("min")
      .value("max")
      .value("count");
  if (has_quantiles) {
    for (const char* name : kQuantileNames) w.value(name);
  }
  w.end_array().key("data").begin_array();
  // Columns: uPlot's x axis in seconds, then one array per column. Empty buckets are null.
  const auto column = [&](auto value_of) {
    w.begin_array();
    for (const Rollup& r : *rows) value_of(r);
    w.end_array();
  };
  column([&](const Rollup& r) { w.value(static_cast<double>(r.ts_ms) / 1000.0); });
  column([&](const Rollup& r) { r.count == 0 ? w.null() : w.value(r.avg); });
  column([&](const Rollup& r) { r.count == 0 ? w.null() : w.value(r.min); });
  column([&](const Rollup& r) { r.count == 0 ? w.null() : w.value(r.max); });
  column([&](const Rollup& r) { w.value(r.count); });
  if (has_quantiles) {
    for (std::size_t i = 0; i < 5; ++i) {
      column([&](const Rollup& r) { r.quantiles.size() == 5 ? w.value(r.quantiles[i]) : w.null(); });
    }
  }
  w.end_array().end_object();
  return w.take();
}

}  // namespace edgemon::gateway
