// SQLite history: daily reports of the days marked dirty by uptime deltas and incidents. See
// sqlite_store_impl.h.
#include "sqlite_store_impl.h"

#include <cmath>
#include <string>
#include <string_view>
#include <vector>

namespace edgemon::gateway::sqlite {

// Builds (or rebuilds) the reports of complete UTC days marked in report_dirty by uptime deltas
// or incidents, oldest first, at most about maintenance_chunk subjects per call. A day waits
// while it still has dirty minutes, so its rtt/loss come from final hour rollups. Late uptime
// deltas or incidents re-mark a day, and it is rebuilt whole; late samples alone do not.
Status SqliteStore::build_reports(std::int64_t now_ms, MaintenanceReport& report) {
  std::vector<std::int64_t> days;
  {
    Query q(stmt("SELECT day_ms FROM report_dirty WHERE day_ms <= ? ORDER BY day_ms LIMIT 64"));
    if (!q) return error("prepare report days");
    q.bind(1, now_ms - kDayMs);
    int rc = 0;
    while ((rc = q.step()) == SQLITE_ROW) days.push_back(q.i64(0));
    if (rc != SQLITE_DONE) return error("report days");
  }
  std::size_t subjects = 0;
  for (const std::int64_t day : days) {
    if (subjects >= options_.maintenance_chunk) {
      report.more = true;
      break;
    }
    {
      Query q(stmt("SELECT 1 FROM block_dirty WHERE minute_ms >= ? AND minute_ms < ? LIMIT 1"));
      if (!q) return error("prepare pending check");
      q.bind(1, day).bind(2, day + kDayMs);
      const int rc = q.step();
      if (rc == SQLITE_ROW) continue;  // rollups of that day still pending: next call
      if (rc != SQLITE_DONE) return error("pending check");
    }
    auto built = build_day(day);
    if (!built) return built.error();
    subjects += *built;
    report.reports_built += *built;
    Query q(stmt("DELETE FROM report_dirty WHERE day_ms = ?"));
    if (!q) return error("prepare report undirty");
    q.bind(1, day);
    if (q.step() != SQLITE_DONE) return error("report undirty");
  }
  return Status::Ok();
}

// Subject "g/n" is a node: good/total are milliseconds, downtime = total - good. Any other
// subject is ratio-based (probe rounds): downtime = (total - good) / total of a day; one of the
// form "g/n/<family>/<target>" also gets avg rtt and loss from node g/n's series
// "<family>/<target>/rtt" and "<family>/<target>/loss" (hour rollups). Subjects with total 0
// get no report. Incidents: on the subject itself or anything below it ("g/n/..."), open at
// some point of the day.
Result<std::size_t> SqliteStore::build_day(std::int64_t day) {
  const std::string day_text = utc_day(day);
  {
    Query q(stmt("DELETE FROM daily_reports WHERE day = ?"));
    if (!q) return error("prepare report delete").error();
    q.bind(1, day_text);
    if (q.step() != SQLITE_DONE) return error("report delete").error();
  }
  struct Row {
    std::string subject;
    std::uint64_t good, total;
  };
  std::vector<Row> rows;
  {
    Query q(stmt("SELECT subject, sum(good), sum(total) FROM uptime WHERE hour_ms >= ? AND hour_ms < ? "
                 "GROUP BY subject ORDER BY subject"));
    if (!q) return error("prepare day uptime").error();
    q.bind(1, day).bind(2, day + kDayMs);
    int rc = 0;
    while ((rc = q.step()) == SQLITE_ROW) rows.push_back(Row{q.text(0), q.u64(1), q.u64(2)});
    if (rc != SQLITE_DONE) return error("day uptime").error();
  }
  std::size_t built = 0;
  for (const Row& row : rows) {
    if (row.total == 0) continue;
    DailyReport r;
    r.day = day_text;
    r.subject = row.subject;
    r.good = std::min(row.good, row.total);
    r.total = row.total;
    r.uptime_pct = 100.0 * static_cast<double>(r.good) / static_cast<double>(r.total);
    std::vector<std::string_view> parts;
    for (std::size_t at = 0;;) {
      const std::size_t slash = row.subject.find('/', at);
      parts.push_back(std::string_view(row.subject).substr(at, slash == std::string::npos ? slash : slash - at));
      if (slash == std::string::npos) break;
      at = slash + 1;
    }
    if (parts.size() == 2) {
      r.downtime_ms = static_cast<std::int64_t>(r.total - r.good);
    } else {
      r.downtime_ms = std::llround(static_cast<double>(r.total - r.good) / static_cast<double>(r.total) *
                                   static_cast<double>(kDayMs));
    }
    if (parts.size() >= 4) {
      const std::string group(parts[0]), node(parts[1]);
      const std::string probe = row.subject.substr(group.size() + node.size() + 2);  // "<family>/<target>"
      auto rtt = day_average(group, node, probe + "/rtt", day);
      if (!rtt) return rtt.error();
      r.avg_rtt_ms = *rtt;
      auto loss = day_average(group, node, probe + "/loss", day);
      if (!loss) return loss.error();
      r.loss_pct = *loss;
    }
    {
      Query q(stmt("SELECT count(*) FROM incidents WHERE (subject = ?1 OR (subject >= ?1 || '/' AND subject < ?1 || '0')) "
                   "AND start_ms < ?3 AND (end_ms IS NULL OR end_ms > ?2)"));
      if (!q) return error("prepare day incidents").error();
      q.bind(1, r.subject).bind(2, day).bind(3, day + kDayMs);
      if (q.step() != SQLITE_ROW) return error("day incidents").error();
      r.incidents = q.u64(0);
    }
    Query q(stmt("INSERT INTO daily_reports(day, subject, uptime_pct, good, total, avg_rtt_ms, loss_pct, incidents, "
                 "downtime_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"));
    if (!q) return error("prepare report").error();
    q.bind(1, r.day).bind(2, r.subject).bind(3, std::optional<double>(r.uptime_pct)).bind(4, r.good).bind(5, r.total);
    q.bind(6, r.avg_rtt_ms).bind(7, r.loss_pct).bind(8, r.incidents).bind(9, r.downtime_ms);
    if (q.step() != SQLITE_DONE) return error("insert report").error();
    ++built;
  }
  return built;
}

// Average of a series' valued samples over [day, day + 1 day) from its hour rollups.
Result<std::optional<double>> SqliteStore::day_average(const std::string& group, const std::string& node,
                                                       const std::string& metric, std::int64_t day) {
  auto id = find_series(group, node, metric);
  if (!id) return id.error();
  if (!*id) return std::optional<double>();
  Query q(stmt("SELECT sum(sum), sum(count) FROM rollups_1h WHERE series_id = ? AND ts_ms >= ? AND ts_ms < ?"));
  if (!q) return error("prepare day average").error();
  q.bind(1, (*id)->first).bind(2, day).bind(3, day + kDayMs);
  if (q.step() != SQLITE_ROW) return error("day average").error();
  if (q.null(1) || q.i64(1) == 0) return std::optional<double>();
  return std::optional<double>(q.real(0) / q.real(1));
}

}  // namespace edgemon::gateway::sqlite
