// SQLite history: retention, in bounded chunks, capped by what rollups still need; the
// watermarks of what was cut. See sqlite_store_impl.h.
#include "sqlite_store_impl.h"

#include <algorithm>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace edgemon::gateway::sqlite {

Status SqliteStore::apply_retention(std::int64_t now_ms, MaintenanceReport& report) {
  std::optional<std::int64_t> oldest_dirty;
  {
    Query q(stmt("SELECT min(minute_ms) FROM block_dirty"));
    if (!q) return error("prepare oldest dirty");
    if (q.step() != SQLITE_ROW) return error("oldest dirty");
    if (!q.null(0)) oldest_dirty = q.i64(0);
  }
  auto capped = [&](std::chrono::milliseconds keep, std::int64_t step) {
    std::int64_t cut = now_ms - keep.count();
    if (oldest_dirty) cut = std::min(cut, floor_to(*oldest_dirty, step));
    return cut;
  };
  const std::int64_t raw_cut = capped(options_.raw_retention, kMinuteMs);
  const std::int64_t minute_cut = capped(options_.minute_retention, kHourMs);
  const std::int64_t hour_cut = capped(options_.hour_retention, kHourMs);
  if (Status s = prune_series_table(raw_table_, raw_pass_, raw_cut, options_.raw_retention, "raw_pruned_ms",
                                    report.samples_deleted, report);
      !s) {
    return s;
  }
  if (Status s = prune_series_table(minute_table_, minute_pass_, minute_cut, options_.minute_retention,
                                    "minute_pruned_ms", report.minute_rows_deleted, report);
      !s) {
    return s;
  }
  if (Status s = prune_series_table(hour_table_, hour_pass_, hour_cut, options_.hour_retention, nullptr,
                                    report.hour_rows_deleted, report);
      !s) {
    return s;
  }
  const std::int64_t uptime_cut = now_ms - options_.hour_retention.count();
  const std::int64_t event_cut = now_ms - options_.event_retention.count();
  struct Chunked {
    const char* sql;
    std::int64_t cut;
    std::size_t* deleted;
  };
  // daily_reports.day is text: a day is dropped once all of it is older than the cut-off.
  const std::string report_cut = utc_day(uptime_cut);
  const Chunked plain[] = {
      {"DELETE FROM uptime WHERE rowid IN (SELECT rowid FROM uptime WHERE hour_ms < ? ORDER BY hour_ms LIMIT ?)",
       uptime_cut, &report.uptime_rows_deleted},
      {"DELETE FROM events WHERE id IN (SELECT id FROM events WHERE at_ms < ? ORDER BY at_ms LIMIT ?)", event_cut,
       &report.events_deleted},
      {"DELETE FROM incidents WHERE id IN (SELECT id FROM incidents WHERE end_ms < ? ORDER BY end_ms LIMIT ?)",
       event_cut, &report.incidents_deleted},
  };
  for (const Chunked& c : plain) {
    Status s = transaction([&]() -> Status {
      Query q(stmt(c.sql));
      if (!q) return error("prepare retention");
      q.bind(1, c.cut).bind(2, static_cast<std::int64_t>(options_.maintenance_chunk));
      if (q.step() != SQLITE_DONE) return error("retention");
      const auto n = static_cast<std::size_t>(sqlite3_changes(db_));
      *c.deleted += n;
      if (n >= options_.maintenance_chunk) report.more = true;
      return Status::Ok();
    });
    if (!s) return s;
  }
  return transaction([&]() -> Status {
    Query q(stmt("DELETE FROM daily_reports WHERE rowid IN (SELECT rowid FROM daily_reports WHERE day < ? LIMIT ?)"));
    if (!q) return error("prepare report retention");
    q.bind(1, report_cut).bind(2, static_cast<std::int64_t>(options_.maintenance_chunk));
    if (q.step() != SQLITE_DONE) return error("report retention");
    const auto n = static_cast<std::size_t>(sqlite3_changes(db_));
    report.reports_deleted += n;
    if (n >= options_.maintenance_chunk) report.more = true;
    return Status::Ok();
  });
}

// Deletes rows older than `cut` from a (series_id, ts_ms) table, series by series along the
// primary key, at most maintenance_chunk rows in one transaction, resuming where the previous
// call stopped. A full pass is skipped while the cut-off moved by less than a thousandth of the
// retention (at least a minute) since the last complete one: visiting every series costs a few
// microseconds each, nothing worth paying every maintenance tick.
Status SqliteStore::prune_series_table(const SeriesTable& table, PrunePass& pass, std::int64_t cut,
                                       std::chrono::milliseconds retention, const char* watermark, std::size_t& deleted,
                                       MaintenanceReport& report) {
  const std::int64_t step = std::max<std::int64_t>(kMinuteMs, retention.count() / 1000);
  if (pass.next_series == 0 && pass.last_complete_cut != kNoTime && cut - pass.last_complete_cut < step) {
    return Status::Ok();
  }
  PrunePass next = pass;
  std::size_t removed = 0;
  Status s = transaction([&]() -> Status {
    removed = 0;
    next = pass;
    // The cut-off may move while a pass is under way; series visited early were cut at less.
    next.pass_cut = next.next_series == 0 ? cut : std::min(next.pass_cut, cut);
    if (watermark != nullptr) {
      // Recorded before the rows go: whatever is below it may be incomplete from now on.
      Query q(stmt("INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = max(value, excluded.value)"));
      if (!q) return error("prepare watermark");
      q.bind(1, watermark).bind(2, cut);
      if (q.step() != SQLITE_DONE) return error("watermark");
    }
    std::vector<std::int64_t> ids;
    {
      Query q(stmt(table.ids_sql.c_str()));
      if (!q) return error("prepare series scan");
      q.bind(1, next.next_series);
      int rc = 0;
      while ((rc = q.step()) == SQLITE_ROW) ids.push_back(q.i64(0));
      if (rc != SQLITE_DONE) return error("series scan");
    }
    std::size_t budget = options_.maintenance_chunk;
    for (const std::int64_t id : ids) {
      std::int64_t upto = cut;
      bool limited = false;
      {
        Query q(stmt(table.bound_sql.c_str()));
        if (!q) return error("prepare retention bound");
        q.bind(1, id).bind(2, cut).bind(3, static_cast<std::int64_t>(budget));
        const int rc = q.step();
        if (rc == SQLITE_ROW) {
          upto = q.i64(0);
          limited = true;
        } else if (rc != SQLITE_DONE) {
          return error("retention bound");
        }
      }
      Query q(stmt(table.delete_sql.c_str()));
      if (!q) return error("prepare retention delete");
      q.bind(1, id).bind(2, upto);
      if (q.step() != SQLITE_DONE) return error(std::string("retention ") + table.name);
      const auto n = static_cast<std::size_t>(sqlite3_changes(db_));
      removed += n;
      budget -= std::min(budget, n);
      if (limited || budget == 0) {
        next.next_series = limited ? id : id + 1;  // a limited series still has old rows
        return Status::Ok();
      }
    }
    next.next_series = 0;
    next.last_complete_cut = next.pass_cut;
    return Status::Ok();
  });
  if (!s) return s;
  pass = next;
  deleted += removed;
  if (pass.next_series != 0) report.more = true;
  return Status::Ok();
}

Result<std::int64_t> SqliteStore::meta(const char* key) {
  Query q(stmt("SELECT value FROM meta WHERE key = ?"));
  if (!q) return error("prepare meta").error();
  q.bind(1, key);
  const int rc = q.step();
  if (rc == SQLITE_ROW) return q.i64(0);
  if (rc != SQLITE_DONE) return error("meta").error();
  return kNoTime;
}

}  // namespace edgemon::gateway::sqlite
