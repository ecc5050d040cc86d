#include "edgemon/gateway/api/history_api.h"

#include <charconv>
#include <cmath>

namespace edgemon::gateway {
namespace {

constexpr std::int64_t kHourMs = 3600 * 1000;
constexpr std::int64_t kDayMs = 24 * kHourMs;

bool parse_int(const std::string& text, std::int64_t& out) {
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, out);
  return ec == std::errc() && ptr == end;
}

nlohmann::json number_or_null(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }

const char* name_of(Resolution r) {
  switch (r) {
    case Resolution::kRaw: return "raw";
    case Resolution::kMinute: return "minute";
    case Resolution::kHour: return "hour";
  }
  return "raw";
}

}  // namespace

Result<HistoryQuery> parse_history_query(const std::map<std::string, std::string>& params, std::int64_t now_ms) {
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

  q.to_ms = now_ms;
  if (const std::string* to = get("to"); to != nullptr && !parse_int(*to, q.to_ms)) {
    return make_error(ErrorCode::kInvalidArgument, "to: must be milliseconds since the epoch");
  }
  q.from_ms = q.to_ms - kDayMs;
  if (const std::string* from = get("from"); from != nullptr && !parse_int(*from, q.from_ms)) {
    return make_error(ErrorCode::kInvalidArgument, "from: must be milliseconds since the epoch");
  }
  if (q.from_ms > q.to_ms) return make_error(ErrorCode::kInvalidArgument, "from: must not be after to");
  const std::int64_t range = q.to_ms - q.from_ms;

  if (const std::string* step = get("step")) {
    std::int64_t s = 0;
    if (!parse_int(*step, s) || s < 0) return make_error(ErrorCode::kInvalidArgument, "step: must be seconds >= 0");
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

Result<nlohmann::json> history_json(Store& store, const HistoryQuery& q) {
  auto rows = store.rollups(q.group, q.node, q.metric, q.resolution, q.from_ms, q.to_ms, kMaxHistoryPoints + 1);
  if (!rows) return rows.error();
  const bool truncated = rows->size() > kMaxHistoryPoints;
  if (truncated) rows->resize(kMaxHistoryPoints);
  bool has_quantiles = false;
  for (const Rollup& r : *rows) has_quantiles = has_quantiles || r.quantiles.size() == 5;

  nlohmann::json time = nlohmann::json::array();
  nlohmann::json avg = nlohmann::json::array();
  nlohmann::json min = nlohmann::json::array();
  nlohmann::json max = nlohmann::json::array();
  nlohmann::json count = nlohmann::json::array();
  std::vector<nlohmann::json> quantiles(has_quantiles ? 5 : 0, nlohmann::json::array());
  for (const Rollup& r : *rows) {
    time.push_back(static_cast<double>(r.ts_ms) / 1000.0);  // uPlot's x axis: seconds
    const bool empty = r.count == 0;
    avg.push_back(empty ? nlohmann::json(nullptr) : number_or_null(r.avg));
    min.push_back(empty ? nlohmann::json(nullptr) : number_or_null(r.min));
    max.push_back(empty ? nlohmann::json(nullptr) : number_or_null(r.max));
    count.push_back(r.count);
    for (std::size_t i = 0; i < quantiles.size(); ++i) {
      quantiles[i].push_back(r.quantiles.size() == 5 ? number_or_null(r.quantiles[i]) : nlohmann::json(nullptr));
    }
  }
  nlohmann::json columns = {"time", "avg", "min", "max", "count"};
  nlohmann::json data = nlohmann::json::array({std::move(time), std::move(avg), std::move(min), std::move(max), std::move(count)});
  static constexpr const char* kQuantileNames[] = {"p10", "p25", "p50", "p75", "p90"};
  for (std::size_t i = 0; i < quantiles.size(); ++i) {
    columns.push_back(kQuantileNames[i]);
    data.push_back(std::move(quantiles[i]));
  }
  const std::int64_t step = q.resolution == Resolution::kMinute ? 60 : q.resolution == Resolution::kHour ? 3600 : 0;
  return nlohmann::json{{"node", q.group + "/" + q.node}, {"metric", q.metric}, {"from", q.from_ms}, {"to", q.to_ms},
                        {"resolution", name_of(q.resolution)}, {"step", step}, {"truncated", truncated},
                        {"columns", std::move(columns)}, {"data", std::move(data)}};
}

}  // namespace edgemon::gateway
