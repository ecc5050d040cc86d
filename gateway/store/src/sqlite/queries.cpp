// SQLite history: the reads (raw series, rollups, events, incidents, alert state, node configs,
// rules, uptime, daily reports). See sqlite_store_impl.h.
#include "sqlite_store_impl.h"

#include <nlohmann/json.hpp>

namespace edgemon::gateway::sqlite {

std::optional<std::vector<std::string>> ping_hosts_from_json(const std::string& text) {
  const auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("ping_hosts") || !j["ping_hosts"].is_array()) return std::nullopt;
  std::vector<std::string> out;
  for (const auto& h : j["ping_hosts"]) {
    if (!h.is_string()) return std::nullopt;
    out.push_back(h.get<std::string>());
  }
  return out;
}

// Calls each(ts_ms, value) for `series` in node `node_id`'s blocks of [from, to], oldest first,
// one value per time (the latest block's). Stops early when each returns false.
template <typename F>
Status SqliteStore::series_values(std::int64_t node_id, std::int64_t series, std::int64_t from, std::int64_t to, F&& each) {
  Query q(stmt("SELECT ts_ms, data FROM sample_blocks WHERE node_id = ? AND ts_ms BETWEEN ? AND ? ORDER BY ts_ms, seq"));
  if (!q) return error("prepare raw");
  q.bind(1, node_id).bind(2, from).bind(3, to);
  int rc = 0;
  bool have = false;
  std::int64_t at = 0;
  std::optional<double> value;
  while ((rc = q.step()) == SQLITE_ROW) {
    const std::int64_t ts = q.i64(0);
    if (have && ts != at) {
      if (!each(at, value)) return Status::Ok();
      have = false;
    }
    (void)for_each_block_entry(q.blob_view(1), [&](std::int64_t id, std::optional<double> v) {
      if (id != series) return;
      have = true;
      at = ts;
      value = v;
    });
  }
  if (rc != SQLITE_DONE) return error("raw");
  if (have) each(at, value);
  return Status::Ok();
}

// (series id, node id) of a series, if it exists.
Result<std::optional<std::pair<std::int64_t, std::int64_t>>> SqliteStore::find_series(const std::string& group,
                                                                                      const std::string& node,
                                                                                      const std::string& metric) {
  using Found = std::optional<std::pair<std::int64_t, std::int64_t>>;
  Query q(stmt(kSeriesIdSql));
  if (!q) return error("prepare series lookup").error();
  q.bind(1, group).bind(2, node).bind(3, metric);
  const int rc = q.step();
  if (rc == SQLITE_ROW) return Found(std::pair(q.i64(0), q.i64(1)));
  if (rc != SQLITE_DONE) return error("series lookup").error();
  return Found();
}

Result<std::vector<SeriesPoint>> SqliteStore::query(const std::string& group, const std::string& node, const std::string& metric,
                                                    std::int64_t from_ms, std::int64_t to_ms, std::size_t limit) {
  std::vector<SeriesPoint> out;
  auto ids = find_series(group, node, metric);
  if (!ids) return ids.error();
  if (!*ids || limit == 0) return out;
  Status s = series_values((*ids)->second, (*ids)->first, from_ms, to_ms, [&](std::int64_t ts, std::optional<double> v) {
    out.push_back(SeriesPoint{ts, v});
    return out.size() < limit;
  });
  if (!s) return s.error();
  return out;
}

Result<std::vector<Rollup>> SqliteStore::rollups(const std::string& group, const std::string& node, const std::string& metric,
                                                 Resolution resolution, std::int64_t from_ms, std::int64_t to_ms,
                                                 std::size_t limit) {
  std::vector<Rollup> out;
  if (resolution == Resolution::kRaw) {
    auto raw = query(group, node, metric, from_ms, to_ms, limit);
    if (!raw) return raw.error();
    out.reserve(raw->size());
    for (const SeriesPoint& p : *raw) out.push_back(p.value ? bucket_of_one(p.ts_ms, *p.value) : null_bucket(p.ts_ms));
    return out;
  }
  auto id = find_series(group, node, metric);
  if (!id) return id.error();
  if (!*id) return out;
  const std::int64_t series = (*id)->first;
  Query q(stmt(resolution == Resolution::kMinute
                   ? "SELECT ts_ms, min, max, sum, count, nulls, dist FROM rollups_1m "
                     "WHERE series_id = ? AND ts_ms BETWEEN ? AND ? ORDER BY ts_ms LIMIT ?"
                   : "SELECT ts_ms, min, max, sum, count, nulls, dist FROM rollups_1h "
                     "WHERE series_id = ? AND ts_ms BETWEEN ? AND ? ORDER BY ts_ms LIMIT ?"));
  if (!q) return error("prepare rollups").error();
  q.bind(1, series).bind(2, from_ms).bind(3, to_ms).bind(4, clamp_limit(limit));
  int rc = 0;
  while ((rc = q.step()) == SQLITE_ROW) {
    Rollup r = null_bucket(q.i64(0));
    r.count = q.u64(4);
    r.nulls = q.u64(5);
    if (r.count > 0) {
      r.min = q.real(1);
      r.max = q.real(2);
      r.avg = q.real(3) / static_cast<double>(r.count);
      if (!q.null(6)) {
        Histogram h;
        const auto blob = q.blob_view(6);
        if (h.merge(blob.data(), blob.size())) r.quantiles = h.quantiles(kQuantiles, r.min, r.max);
      }
    }
    out.push_back(std::move(r));
  }
  if (rc != SQLITE_DONE) return error("rollups").error();
  return out;
}

Result<std::vector<StoredEvent>> SqliteStore::events(std::size_t limit, std::size_t offset) {
  Query q(stmt("SELECT at_ms, subject, rule, type, from_state, to_state, reason, severity, suppressed FROM events "
               "ORDER BY id DESC LIMIT ? OFFSET ?"));
  if (!q) return error("prepare events").error();
  q.bind(1, clamp_limit(limit)).bind(2, clamp_limit(offset));
  std::vector<StoredEvent> out;
  int rc = 0;
  while ((rc = q.step()) == SQLITE_ROW) {
    StoredEvent e;
    e.at_ms = q.i64(0);
    std::string* texts[] = {&e.subject, &e.rule, &e.type, &e.from, &e.to, &e.reason, &e.severity};
    for (int i = 0; i < 7; ++i) *texts[i] = q.text(i + 1);
    e.suppressed = q.i64(8) != 0;
    out.push_back(std::move(e));
  }
  if (rc != SQLITE_DONE) return error("events").error();
  return out;
}

Result<std::vector<StoredIncident>> SqliteStore::incidents(std::size_t limit, std::size_t offset) {
  Query q(stmt("SELECT subject, rule, type, severity, start_ms, end_ms FROM incidents "
               "ORDER BY start_ms DESC, id DESC LIMIT ? OFFSET ?"));
  if (!q) return error("prepare incidents").error();
  q.bind(1, clamp_limit(limit)).bind(2, clamp_limit(offset));
  std::vector<StoredIncident> out;
  int rc = 0;
  while ((rc = q.step()) == SQLITE_ROW) {
    StoredIncident i;
    i.subject = q.text(0);
    i.rule = q.text(1);
    i.type = q.text(2);
    i.severity = q.text(3);
    i.start_ms = q.i64(4);
    if (!q.null(5)) i.end_ms = q.i64(5);
    out.push_back(std::move(i));
  }
  if (rc != SQLITE_DONE) return error("incidents").error();
  return out;
}

Result<std::optional<std::string>> SqliteStore::alert_state() {
  Query q(stmt("SELECT blob FROM alert_state WHERE id = 1"));
  if (!q) return error("prepare alert state").error();
  const int rc = q.step();
  if (rc == SQLITE_ROW) return std::optional<std::string>(q.blob(0));
  if (rc != SQLITE_DONE) return error("alert state").error();
  return std::optional<std::string>();
}

Result<std::vector<NodeConfig>> SqliteStore::node_configs() {
  Query q(stmt("SELECT node, config, version, updated_ms FROM node_config ORDER BY node"));
  if (!q) return error("prepare node config").error();
  std::vector<NodeConfig> out;
  int rc = 0;
  while ((rc = q.step()) == SQLITE_ROW) out.push_back(NodeConfig{q.text(0), ping_hosts_from_json(q.text(1)), q.text(2), q.i64(3)});
  if (rc != SQLITE_DONE) return error("node config").error();
  return out;
}

Result<std::vector<StoredRule>> SqliteStore::rules() {
  Query q(stmt("SELECT name, body, updated_ms FROM api_rules ORDER BY name"));
  if (!q) return error("prepare rules").error();
  std::vector<StoredRule> out;
  int rc = 0;
  while ((rc = q.step()) == SQLITE_ROW) out.push_back(StoredRule{q.text(0), q.text(1), q.i64(2), false});
  if (rc != SQLITE_DONE) return error("rules").error();
  return out;
}

Result<std::vector<SampleProgress>> SqliteStore::sample_progress() {
  Query q(stmt("SELECT node, high, received, duplicates, missing, late, resets, losses, dropped, damaged, updated_ms "
               "FROM sample_progress ORDER BY node"));
  if (!q) return error("prepare sample progress").error();
  std::vector<SampleProgress> out;
  int rc = 0;
  while ((rc = q.step()) == SQLITE_ROW) {
    SampleProgress p;
    p.node = q.text(0);
    if (!q.null(1)) p.high = q.u64(1);
    p.received = q.u64(2);
    p.duplicates = q.u64(3);
    p.missing = q.u64(4);
    p.late = q.u64(5);
    p.resets = q.u64(6);
    p.losses = q.u64(7);
    if (!q.null(8)) p.dropped = q.u64(8);
    if (!q.null(9)) p.damaged = q.u64(9);
    p.updated_ms = q.i64(10);
    out.push_back(std::move(p));
  }
  if (rc != SQLITE_DONE) return error("sample progress").error();
  return out;
}

Result<std::vector<UptimeDelta>> SqliteStore::uptime_since(std::int64_t since_ms) {
  Query q(stmt("SELECT subject, hour_ms, good, total FROM uptime WHERE hour_ms >= ? ORDER BY subject, hour_ms"));
  if (!q) return error("prepare uptime").error();
  q.bind(1, since_ms);
  std::vector<UptimeDelta> out;
  int rc = 0;
  while ((rc = q.step()) == SQLITE_ROW) out.push_back(UptimeDelta{q.text(0), q.i64(1), q.u64(2), q.u64(3)});
  if (rc != SQLITE_DONE) return error("uptime").error();
  return out;
}

Result<std::vector<DailyReport>> SqliteStore::daily_reports(std::string_view from_day, std::string_view to_day) {
  Query q(stmt("SELECT day, subject, uptime_pct, good, total, avg_rtt_ms, loss_pct, incidents, downtime_ms "
               "FROM daily_reports WHERE day BETWEEN ? AND ? ORDER BY day, subject"));
  if (!q) return error("prepare daily reports").error();
  q.bind(1, from_day).bind(2, to_day);
  std::vector<DailyReport> out;
  int rc = 0;
  while ((rc = q.step()) == SQLITE_ROW) {
    out.push_back(DailyReport{q.text(0), q.text(1), q.real(2), q.u64(3), q.u64(4), q.opt_real(5), q.opt_real(6),
                              q.u64(7), q.i64(8)});
  }
  if (rc != SQLITE_DONE) return error("daily reports").error();
  return out;
}

std::int64_t SqliteStore::clamp_limit(std::size_t n) {
  return static_cast<std::int64_t>(
      std::min<std::uint64_t>(n, static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())));
}

Rollup SqliteStore::null_bucket(std::int64_t ts) {
  Rollup r;
  r.ts_ms = ts;
  r.min = r.max = r.avg = std::numeric_limits<double>::quiet_NaN();
  return r;
}

Rollup SqliteStore::bucket_of_one(std::int64_t ts, double v) {
  Rollup r;
  r.ts_ms = ts;
  r.min = r.max = r.avg = v;
  r.count = 1;
  return r;
}

}  // namespace edgemon::gateway::sqlite
