// History queries for the API: one series between two times at a resolution chosen from `step`,
// answered in the columnar shape uPlot draws directly ([[times], [values], ...]).
//
//   GET /api/history?node=<group>/<node>&metric=<name>&from=<ms>&to=<ms>&step=<s>
//
// step < 60 s: raw samples; 60 s .. < 1 h: 1-minute rollups; >= 1 h: 1-hour rollups. Without
// `step` the range decides: up to 1 h raw, up to 7 days minutes, beyond hours. `from` defaults to
// 24 h before `to`, `to` to now. At most kMaxPoints points (raw answers are cut there and say so).
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "edgemon/common/result.h"
#include "edgemon/gateway/api/http_api.h"
#include "edgemon/gateway/store/store.h"

namespace edgemon::gateway {

struct HistoryQuery {
  std::string group;
  std::string node;
  std::string metric;
  std::int64_t from_ms = 0;
  std::int64_t to_ms = 0;
  Resolution resolution = Resolution::kMinute;
};

inline constexpr std::size_t kMaxHistoryPoints = 20000;

// Errors: kInvalidArgument naming the parameter. Times must lie in 1970..9999 (ms since the epoch).
Result<HistoryQuery> parse_history_query(const QueryParams& params, std::int64_t now_ms);

// {"node","metric","from","to","resolution":"raw|minute|hour","step":s,"truncated":bool,
//  "columns":["time","avg","min","max","count",("p10","p25","p50","p75","p90")],
//  "data":[[unix seconds...],[avg...],[min...],[max...],[count...],(quantile columns)]}
// Empty buckets are null. Quantile columns are present when the series has a distribution (ms).
// Runs on the history reader's thread (store/store_reader.h). Errors: the store's.
Result<std::string> history_json(Store& store, const HistoryQuery& query);

}  // namespace edgemon::gateway
