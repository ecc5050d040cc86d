// SQLite history: minute rollups of dirty (node, minute)s from raw blocks, hour rollups from
// minute rows. See sqlite_store_impl.h.
#include "sqlite_store_impl.h"

#include <map>
#include <set>
#include <unordered_map>

#include "edgemon/common/log.h"

namespace edgemon::gateway::sqlite {

// One transaction: discard dirty minutes below the retention watermarks, then recompute closed
// dirty (node, minute)s, oldest first, until about maintenance_chunk series-minutes are done,
// and their hours, and unmark them. "Closed": the minute ended at least kRollupGraceMs before
// now. Late samples for any older minute simply re-mark it, so it is recomputed here as well.
Status SqliteStore::roll_up_chunk(std::int64_t now_ms, MaintenanceReport& report) {
  auto raw_wm = meta("raw_pruned_ms");
  if (!raw_wm) return raw_wm.error();
  auto minute_wm = meta("minute_pruned_ms");
  if (!minute_wm) return minute_wm.error();
  // A minute below raw_wm lost raw samples; one whose hour is below minute_wm lost minute rows.
  std::int64_t floor_ok = *raw_wm;
  if (*minute_wm != kNoTime) floor_ok = std::max(floor_ok, ceil_to(*minute_wm, kHourMs));
  if (floor_ok != kNoTime) {
    Query q(stmt("DELETE FROM block_dirty WHERE minute_ms < ?"));
    if (!q) return error("prepare discard");
    q.bind(1, floor_ok);
    if (q.step() != SQLITE_DONE) return error("discard late buckets");
    const auto n = static_cast<std::size_t>(sqlite3_changes(db_));
    report.late_buckets_discarded += n;
    if (n > 0) marked_.clear();
    if (n > 0) log::warn(kLog, "late samples older than raw retention not rolled up", {{"buckets", n}});
  }

  std::vector<std::pair<std::int64_t, std::int64_t>> minutes;  // (node, minute)
  {
    Query q(stmt("SELECT node_id, minute_ms FROM block_dirty WHERE minute_ms <= ? ORDER BY minute_ms LIMIT ?"));
    if (!q) return error("prepare dirty scan");
    q.bind(1, now_ms - kMinuteMs - kRollupGraceMs).bind(2, static_cast<std::int64_t>(options_.maintenance_chunk + 1));
    int rc = 0;
    while ((rc = q.step()) == SQLITE_ROW) minutes.emplace_back(q.i64(0), q.i64(1));
    if (rc != SQLITE_DONE) return error("dirty scan");
  }
  std::set<std::pair<std::int64_t, std::int64_t>> hours;  // (series, hour)
  std::size_t series_minutes = 0;
  std::size_t done = 0;
  for (const auto& [node, minute] : minutes) {
    if (series_minutes >= options_.maintenance_chunk) break;
    auto rolled = roll_up_node_minute(node, minute, hours);
    if (!rolled) return rolled.error();
    series_minutes += *rolled;
    ++done;
    Query q(stmt("DELETE FROM block_dirty WHERE node_id = ? AND minute_ms = ?"));
    if (!q) return error("prepare undirty");
    q.bind(1, node).bind(2, minute);
    if (q.step() != SQLITE_DONE) return error("unmark dirty");
    if (const auto m = marked_.find(node); m != marked_.end() && m->second == minute) marked_.erase(m);
  }
  if (done < minutes.size()) report.more = true;
  for (const auto& [id, hour] : hours) {
    if (Status s = roll_up_hour(id, hour); !s) return s;
  }
  report.minutes_rolled_up += series_minutes;
  report.hours_rolled_up += hours.size();
  return Status::Ok();
}

Result<bool> SqliteStore::series_is_ms(std::int64_t id) {
  if (const auto it = series_ms_.find(id); it != series_ms_.end()) return it->second;
  Query q(stmt("SELECT unit FROM series WHERE id = ?"));
  if (!q) return error("prepare unit").error();
  q.bind(1, id);
  const int rc = q.step();
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return error("unit").error();
  const bool ms = rc == SQLITE_ROW && q.text(0) == "ms";
  series_ms_.emplace(id, ms);
  return ms;
}

// Every series of one node in one minute, from its blocks: one rollups_1m row each. Adds the
// (series, hour)s to recompute to `hours`. Returns how many series-minutes it wrote.
Result<std::size_t> SqliteStore::roll_up_node_minute(std::int64_t node, std::int64_t minute,
                                                     std::set<std::pair<std::int64_t, std::int64_t>>& hours) {
  std::map<std::int64_t, Aggregate> buckets;  // series -> its minute
  std::unordered_map<std::int64_t, std::optional<double>> at_ts;  // the latest value per series at one time
  const auto flush = [&]() -> Status {
    for (const auto& [id, v] : at_ts) {
      auto it = buckets.find(id);
      if (it == buckets.end()) it = buckets.emplace(id, Aggregate{}).first;
      if (!v) {
        ++it->second.nulls;
        continue;
      }
      auto ms = series_is_ms(id);
      if (!ms) return ms.error();
      it->second.add_value(*v, *ms);
    }
    at_ts.clear();
    return Status::Ok();
  };
  {
    Query q(stmt("SELECT ts_ms, data FROM sample_blocks WHERE node_id = ? AND ts_ms >= ? AND ts_ms < ? ORDER BY ts_ms, seq"));
    if (!q) return error("prepare minute").error();
    q.bind(1, node).bind(2, minute).bind(3, minute + kMinuteMs);
    int rc = 0;
    std::int64_t current = kNoTime;
    while ((rc = q.step()) == SQLITE_ROW) {
      const std::int64_t ts = q.i64(0);
      if (ts != current) {
        if (Status s = flush(); !s) return s.error();
        current = ts;
      }
      if (!for_each_block_entry(q.blob_view(1), [&](std::int64_t id, std::optional<double> v) { at_ts[id] = v; })) {
        log::warn(kLog, "malformed sample block skipped", {{"node_id", node}, {"ts_ms", ts}});
      }
    }
    if (rc != SQLITE_DONE) return error("read minute").error();
    if (Status s = flush(); !s) return s.error();
  }
  for (const auto& [id, a] : buckets) {
    if (Status s = store_bucket("REPLACE INTO rollups_1m(series_id, ts_ms, min, max, sum, count, nulls, dist) "
                                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                                "DELETE FROM rollups_1m WHERE series_id = ? AND ts_ms = ?", id, minute, a);
        !s) {
      return s.error();
    }
    hours.emplace(id, floor_to(minute, kHourMs));
  }
  return buckets.size();
}

Status SqliteStore::roll_up_hour(std::int64_t id, std::int64_t hour) {
  Aggregate a;
  {
    Query q(stmt("SELECT min, max, sum, count, nulls, dist FROM rollups_1m WHERE series_id = ? AND ts_ms >= ? AND ts_ms < ?"));
    if (!q) return error("prepare hour");
    q.bind(1, id).bind(2, hour).bind(3, hour + kHourMs);
    int rc = 0;
    while ((rc = q.step()) == SQLITE_ROW) {
      const std::uint64_t count = q.u64(3);
      if (count > 0) {
        a.min = std::min(a.min, q.real(0));
        a.max = std::max(a.max, q.real(1));
        a.sum += q.real(2);
        a.count += count;
      }
      a.nulls += q.u64(4);
      if (!q.null(5)) {
        const auto blob = q.blob_view(5);
        if (a.dist.merge(blob.data(), blob.size())) a.has_dist = true;
      }
    }
    if (rc != SQLITE_DONE) return error("read hour");
  }
  return store_bucket(
      "REPLACE INTO rollups_1h(series_id, ts_ms, min, max, sum, count, nulls, dist) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
      "DELETE FROM rollups_1h WHERE series_id = ? AND ts_ms = ?", id, hour, a);
}

Status SqliteStore::store_bucket(const char* replace_sql, const char* delete_sql, std::int64_t id, std::int64_t ts,
                                 const Aggregate& a) {
  if (a.empty()) {  // every sample of the bucket is gone: so is the bucket
    Query q(stmt(delete_sql));
    if (!q) return error("prepare bucket delete");
    q.bind(1, id).bind(2, ts);
    if (q.step() != SQLITE_DONE) return error("delete bucket");
    return Status::Ok();
  }
  Query q(stmt(replace_sql));
  if (!q) return error("prepare bucket");
  q.bind(1, id).bind(2, ts);
  if (a.count > 0) {
    q.bind(3, std::optional<double>(a.min)).bind(4, std::optional<double>(a.max));
  } else {
    q.bind_null(3).bind_null(4);
  }
  q.bind(5, std::optional<double>(a.sum)).bind(6, a.count).bind(7, a.nulls);
  if (a.has_dist && !a.dist.empty()) {
    q.bind_blob(8, a.dist.encode());
  } else {
    q.bind_null(8);
  }
  if (q.step() != SQLITE_DONE) return error("store bucket");
  return Status::Ok();
}

}  // namespace edgemon::gateway::sqlite
