// SQLite history: the schema, version by version (PRAGMA user_version), and the migration that
// converts v5 samples to blocks. See sqlite_store_impl.h.
#include "sqlite_store_impl.h"

#include <iterator>
#include <string>
#include <vector>

#include "edgemon/common/log.h"

namespace edgemon::gateway::sqlite {

// Each entry moves the schema from version i to i + 1. Never edit a released entry; append.
constexpr const char* kMigrations[] = {
    R"sql(
    CREATE TABLE nodes (
      id INTEGER PRIMARY KEY,
      grp TEXT NOT NULL,
      node TEXT NOT NULL,
      UNIQUE (grp, node)
    );
    CREATE TABLE series (
      id INTEGER PRIMARY KEY,
      node_id INTEGER NOT NULL REFERENCES nodes(id),
      metric TEXT NOT NULL,
      unit TEXT NOT NULL,
      UNIQUE (node_id, metric)
    );
    CREATE TABLE samples (
      series_id INTEGER NOT NULL REFERENCES series(id),
      ts_ms INTEGER NOT NULL,
      value REAL,
      PRIMARY KEY (series_id, ts_ms)
    ) WITHOUT ROWID;
    )sql",
    R"sql(
    CREATE TABLE events (
      id INTEGER PRIMARY KEY,
      at_ms INTEGER NOT NULL,
      subject TEXT NOT NULL,
      rule TEXT NOT NULL,
      type TEXT NOT NULL,
      from_state TEXT NOT NULL,
      to_state TEXT NOT NULL,
      reason TEXT NOT NULL,
      severity TEXT NOT NULL,
      suppressed INTEGER NOT NULL
    );
    CREATE INDEX events_at ON events(at_ms);
    CREATE TABLE incidents (
      id INTEGER PRIMARY KEY,
      subject TEXT NOT NULL,
      rule TEXT NOT NULL,
      type TEXT NOT NULL,
      severity TEXT NOT NULL,
      start_ms INTEGER NOT NULL,
      end_ms INTEGER,
      UNIQUE (subject, rule, start_ms)
    );
    )sql",
    // v3: rollups, uptime, daily reports, alert state. Rollup rows: min/max NULL when the bucket
    // holds only samples without a value; sum/count over valued samples, nulls counts the others;
    // dist is the latency histogram (see Histogram in sqlite_store_impl.h) for "ms" series, NULL otherwise.
    // Samples already stored by v2 are marked dirty, so the first maintain() rolls them up.
    R"sql(
    CREATE TABLE rollups_1m (
      series_id INTEGER NOT NULL,
      ts_ms INTEGER NOT NULL,
      min REAL,
      max REAL,
      sum REAL NOT NULL,
      count INTEGER NOT NULL,
      nulls INTEGER NOT NULL,
      dist BLOB,
      PRIMARY KEY (series_id, ts_ms)
    ) WITHOUT ROWID;
    CREATE TABLE rollups_1h (
      series_id INTEGER NOT NULL,
      ts_ms INTEGER NOT NULL,
      min REAL,
      max REAL,
      sum REAL NOT NULL,
      count INTEGER NOT NULL,
      nulls INTEGER NOT NULL,
      dist BLOB,
      PRIMARY KEY (series_id, ts_ms)
    ) WITHOUT ROWID;
    CREATE TABLE rollup_dirty (
      series_id INTEGER NOT NULL,
      minute_ms INTEGER NOT NULL,
      PRIMARY KEY (series_id, minute_ms)
    ) WITHOUT ROWID;
    CREATE INDEX rollup_dirty_minute ON rollup_dirty(minute_ms);
    INSERT OR IGNORE INTO rollup_dirty(series_id, minute_ms)
      SELECT DISTINCT series_id, ts_ms - (ts_ms % 60000) FROM samples;
    CREATE TABLE uptime (
      subject TEXT NOT NULL,
      hour_ms INTEGER NOT NULL,
      good INTEGER NOT NULL,
      total INTEGER NOT NULL,
      PRIMARY KEY (subject, hour_ms)
    );
    CREATE INDEX uptime_hour ON uptime(hour_ms);
    CREATE TABLE daily_reports (
      day TEXT NOT NULL,
      subject TEXT NOT NULL,
      uptime_pct REAL NOT NULL,
      good INTEGER NOT NULL,
      total INTEGER NOT NULL,
      avg_rtt_ms REAL,
      loss_pct REAL,
      incidents INTEGER NOT NULL,
      downtime_ms INTEGER NOT NULL,
      PRIMARY KEY (day, subject)
    );
    CREATE TABLE report_dirty (day_ms INTEGER PRIMARY KEY);
    CREATE TABLE alert_state (
      id INTEGER PRIMARY KEY CHECK (id = 1),
      blob BLOB NOT NULL,
      updated_ms INTEGER NOT NULL
    );
    CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
    CREATE INDEX incidents_end ON incidents(end_ms);
    )sql",
    // v4: configuration the API manages for a node (its ping targets), re-sent to the node over
    // Sparkplug NCMD until it reports that version.
    R"sql(
    CREATE TABLE node_config (
      node TEXT PRIMARY KEY,
      config TEXT NOT NULL,
      version TEXT NOT NULL,
      updated_ms INTEGER NOT NULL
    ) WITHOUT ROWID;
    )sql",
    // v5: alert rules added through the API (the [[rules]] keys as a JSON object).
    R"sql(
    CREATE TABLE api_rules (
      name TEXT PRIMARY KEY,
      body TEXT NOT NULL,
      updated_ms INTEGER NOT NULL
    ) WITHOUT ROWID;
    )sql",
    // v6: raw samples in blocks, one per (node, sample time) (see the top of sqlite_store_impl.h); dirty
    // minutes per node. The samples of v5 are converted by convert_samples_to_blocks() in the same
    // transaction, then `samples` is dropped.
    R"sql(
    CREATE TABLE sample_blocks (
      node_id INTEGER NOT NULL,
      ts_ms INTEGER NOT NULL,
      seq INTEGER NOT NULL,
      data BLOB NOT NULL,
      PRIMARY KEY (node_id, ts_ms, seq)
    ) WITHOUT ROWID;
    CREATE TABLE block_dirty (
      node_id INTEGER NOT NULL,
      minute_ms INTEGER NOT NULL,
      PRIMARY KEY (node_id, minute_ms)
    ) WITHOUT ROWID;
    CREATE INDEX block_dirty_minute ON block_dirty(minute_ms);
    INSERT OR IGNORE INTO block_dirty(node_id, minute_ms)
      SELECT DISTINCT r.node_id, d.minute_ms FROM rollup_dirty d JOIN series r ON r.id = d.series_id;
    DROP TABLE rollup_dirty;
    )sql",
    // v7: each node's sample accounting (gateway/core/completeness.h), kept across restarts.
    R"sql(
    CREATE TABLE sample_progress (
      node TEXT PRIMARY KEY,
      high INTEGER,
      received INTEGER NOT NULL,
      duplicates INTEGER NOT NULL,
      missing INTEGER NOT NULL,
      late INTEGER NOT NULL,
      resets INTEGER NOT NULL,
      losses INTEGER NOT NULL,
      dropped INTEGER,
      damaged INTEGER,
      updated_ms INTEGER NOT NULL
    ) WITHOUT ROWID;
    )sql",
};
constexpr int kBlocksVersion = 6;

Status SqliteStore::init() {
  sqlite3_busy_timeout(db_, 2000);
  const int target = static_cast<int>(std::size(kMigrations));
  int version = 0;
  {
    Query q(stmt("PRAGMA user_version"));
    if (q && q.step() == SQLITE_ROW) version = static_cast<int>(q.i64(0));
  }
  if (version > target) {
    return make_error(ErrorCode::kInvalidArgument, "database schema version " + std::to_string(version) +
                                                       " is newer than this gateway (" + std::to_string(target) + ")");
  }
  if (options_.read_only) {
    if (version != target) {
      return make_error(ErrorCode::kInvalidArgument, "database schema version " + std::to_string(version) +
                                                         " is not this gateway's (" + std::to_string(target) +
                                                         "); a reader needs the writer to have migrated it");
    }
    version_ = target;
    return Status::Ok();
  }
  if (Status s = exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; PRAGMA cache_size=-32768; PRAGMA wal_autocheckpoint=8192;"); !s) return s;
  for (int v = version; v < target; ++v) {
    if (Status s = exec("BEGIN;"); !s) return s;
    Status s = exec(kMigrations[v]);
    if (s && v + 1 == kBlocksVersion) s = convert_samples_to_blocks();
    if (s) s = exec(("PRAGMA user_version=" + std::to_string(v + 1) + "; COMMIT;").c_str());
    if (!s) {
      (void)exec("ROLLBACK;");
      return s;
    }
    log::info(kLog, "schema migrated", {{"to_version", v + 1}});
  }
  {
    Query q(stmt("SELECT max(seq) FROM sample_blocks"));
    if (!q || q.step() != SQLITE_ROW) return error("read the last block");
    if (!q.null(0)) next_seq_ = q.i64(0) + 1;
  }
  version_ = target;
  return Status::Ok();
}

// v5 -> v6: every (series, ts) row of `samples` into blocks per (node, ts), then drop `samples`.
Status SqliteStore::convert_samples_to_blocks() {
  std::vector<Block> blocks;
  {
    Query q(stmt("SELECT r.node_id, s.ts_ms, s.series_id, s.value FROM samples s JOIN series r ON r.id = s.series_id "
                 "ORDER BY r.node_id, s.ts_ms"));
    if (!q) return error("prepare sample conversion");
    int rc = 0;
    while ((rc = q.step()) == SQLITE_ROW) {
      const std::int64_t node = q.i64(0);
      const std::int64_t ts = q.i64(1);
      if (blocks.empty() || blocks.back().node_id != node || blocks.back().ts_ms != ts) {
        blocks.push_back(Block{node, ts, next_seq_++, {}});
      }
      append_block_entry(blocks.back().data, q.i64(2), q.opt_real(3));
    }
    if (rc != SQLITE_DONE) return error("read samples for conversion");
  }
  for (const Block& b : blocks) {
    Query q(stmt("INSERT INTO sample_blocks(node_id, ts_ms, seq, data) VALUES (?, ?, ?, ?)"));
    if (!q) return error("prepare block");
    q.bind(1, b.node_id).bind(2, b.ts_ms).bind(3, b.seq).bind_blob(4, b.data);
    if (q.step() != SQLITE_DONE) return error("convert samples");
  }
  statements_.clear();  // statements on `samples` must not outlive it
  if (Status s = exec("DROP TABLE samples;"); !s) return s;
  log::info(kLog, "raw samples converted to blocks", {{"blocks", blocks.size()}});
  return Status::Ok();
}

}  // namespace edgemon::gateway::sqlite
