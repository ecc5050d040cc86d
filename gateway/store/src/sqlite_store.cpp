// SQLite history: WAL mode, versioned migrations (PRAGMA user_version), one transaction per write.
//
// Raw samples are stored in blocks (schema v6): one row per (node, sample time) holding the values
// of every series of the node sampled at that instant (a message is typically one block). One
// B-tree insert per message instead of one per metric: the real agent sends about a hundred
// metrics a message, and per-metric rows made SQLite the gateway's bottleneck (ADR 0007). Two
// blocks of the same (node, time) are both kept; for a series in both, the later one (higher seq)
// wins, as INSERT OR REPLACE of a (series, time) row did before.
//
// Derived data and crash safety. Rollups and daily reports are pure functions of stored rows:
//   - write() records every (node, minute) it touched in block_dirty, and every UTC day its
//     uptime deltas and incidents touched in report_dirty, in the same transaction as the data;
//   - maintain() recomputes a bounded chunk of closed dirty minutes from raw blocks (REPLACE of
//     every series of the node in that minute), the hours they belong to from minute rows, and
//     deletes those dirty rows, in one transaction.
// A kill -9 anywhere leaves either the old derived rows and the dirty marks, or the new ones
// without them; the next maintain() finishes the job.
//
// Retention never cuts raw samples or minute rows that a pending dirty minute still needs: the
// cut-offs are capped at the oldest dirty minute (its hour, for minute rows). The cut-offs applied
// so far are recorded in `meta` (raw_pruned_ms, minute_pruned_ms); a dirty minute that arrives
// below them (an agent replaying samples older than raw retention) is discarded, because
// recomputing it from what is left would replace a complete rollup with a partial one.
#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "edgemon/common/log.h"
#include "edgemon/gateway/store/store.h"

namespace edgemon::gateway {
namespace {

// node_config.config: {"ping_hosts":[...]} (schema v4).
std::string ping_hosts_json(const std::vector<std::string>& hosts) { return nlohmann::json{{"ping_hosts", hosts}}.dump(); }
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

constexpr const char* kLog = "store";
constexpr std::int64_t kMinuteMs = 60'000;
constexpr std::int64_t kHourMs = 3'600'000;
constexpr std::int64_t kDayMs = 86'400'000;
// A minute is rolled up once it ended this long ago, so samples of the same round that arrive a
// little late still land before the first computation (later ones re-mark it dirty).
constexpr std::int64_t kRollupGraceMs = 5'000;
constexpr std::int64_t kNoTime = std::numeric_limits<std::int64_t>::min();

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
    // dist is the latency histogram (see Histogram below) for "ms" series, NULL otherwise.
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
    // v6: raw samples in blocks, one per (node, sample time) (see the top of this file); dirty
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
};
constexpr int kBlocksVersion = 6;

std::int64_t floor_to(std::int64_t t, std::int64_t step) {
  std::int64_t q = t / step;
  if (t % step != 0 && t < 0) --q;
  return q * step;
}

std::int64_t ceil_to(std::int64_t t, std::int64_t step) {
  const std::int64_t f = floor_to(t, step);
  return f == t ? t : f + step;
}

// "YYYY-MM-DD" of the UTC day containing `ms`.
std::string utc_day(std::int64_t ms) {
  const std::chrono::sys_days d{std::chrono::days{floor_to(ms, kDayMs) / kDayMs}};
  const std::chrono::year_month_day ymd{d};
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()));
  return buf;
}

// Latency histogram: sparse log buckets with ratio 2^(1/4). Bucket 0 holds values below 0.01 ms
// (and zero); bucket i >= 1 holds [0.01 * 2^((i-1)/4), 0.01 * 2^(i/4)) ms, capped at 255 (~10^17
// ms). A quantile is reported as the geometric middle of its bucket, within 2^(1/8) - 1 = 9.1% of
// any value in it, then clamped to the bucket row's [min, max]. Histograms merge by adding counts,
// so hour rows are exact merges of minute rows.
// Encoding (BLOB): a format byte (1), then for each non-empty bucket in ascending order its index
// (one byte) and its count (LEB128). A minute of 12 pings is typically 5-15 bytes.
class Histogram {
 public:
  static constexpr double kLowestMs = 0.01;
  static constexpr int kBucketsPerOctave = 4;
  static constexpr std::size_t kBuckets = 256;
  static constexpr unsigned char kFormat = 1;

  static std::size_t bucket_of(double v) {
    if (!(v >= kLowestMs)) return 0;  // also NaN
    const double i = 1 + std::floor(std::log2(v / kLowestMs) * kBucketsPerOctave);
    return i >= static_cast<double>(kBuckets - 1) ? kBuckets - 1 : static_cast<std::size_t>(i);
  }
  static double middle_of(std::size_t bucket) {
    if (bucket == 0) return kLowestMs / 2;
    return kLowestMs * std::exp2((static_cast<double>(bucket) - 0.5) / kBucketsPerOctave);
  }

  void add(double v) { add_count(bucket_of(v), 1); }
  bool empty() const { return total_ == 0; }

  std::string encode() const {
    std::string out(1, static_cast<char>(kFormat));
    for (std::size_t i = 0; i < kBuckets; ++i) {
      if (counts_[i] == 0) continue;
      out.push_back(static_cast<char>(i));
      std::uint64_t c = counts_[i];
      do {
        unsigned char byte = c & 0x7f;
        c >>= 7;
        if (c != 0) byte |= 0x80;
        out.push_back(static_cast<char>(byte));
      } while (c != 0);
    }
    return out;
  }

  // Adds an encoded histogram's counts. Returns false (and adds nothing more) on a malformed one.
  bool merge(const unsigned char* p, std::size_t n) {
    if (n == 0 || p[0] != kFormat) return false;
    std::size_t at = 1;
    while (at < n) {
      const std::size_t bucket = p[at++];
      std::uint64_t c = 0;
      int shift = 0;
      for (;;) {
        if (at >= n || shift > 63) return false;
        const unsigned char byte = p[at++];
        c |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
        shift += 7;
        if ((byte & 0x80) == 0) break;
      }
      add_count(bucket, c);
    }
    return true;
  }

  // Nearest-rank quantiles (each q in (0, 1], ascending), clamped to [lo, hi].
  std::vector<double> quantiles(std::span<const double> qs, double lo, double hi) const {
    std::vector<double> out;
    if (total_ == 0) return out;
    std::uint64_t seen = 0;
    std::size_t bucket = 0;
    for (const double q : qs) {
      const auto rank = std::max<std::uint64_t>(1, static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(total_))));
      while (bucket < kBuckets && seen + counts_[bucket] < rank) seen += counts_[bucket++];
      const double v = middle_of(std::min(bucket, kBuckets - 1));
      out.push_back(std::clamp(v, lo, std::max(lo, hi)));
    }
    return out;
  }

 private:
  void add_count(std::size_t bucket, std::uint64_t c) {
    counts_[bucket] += c;
    total_ += c;
  }
  std::array<std::uint64_t, kBuckets> counts_{};
  std::uint64_t total_ = 0;
};

constexpr std::array<double, 5> kQuantiles = {0.10, 0.25, 0.50, 0.75, 0.90};

// Aggregate of one bucket. Samples without a value count in `nulls` only.
struct Aggregate {
  double min = std::numeric_limits<double>::infinity();
  double max = -std::numeric_limits<double>::infinity();
  double sum = 0;
  std::uint64_t count = 0;
  std::uint64_t nulls = 0;
  Histogram dist;
  bool has_dist = false;

  void add_value(double v, bool with_dist) {
    min = std::min(min, v);
    max = std::max(max, v);
    sum += v;
    ++count;
    if (with_dist) {
      dist.add(v);
      has_dist = true;
    }
  }
  bool empty() const { return count == 0 && nulls == 0; }
};

// A block's data: for each value, the series id (LEB128), a tag byte (0: no value, 1: a value)
// and, after tag 1, the value as an IEEE-754 double, 8 bytes little-endian.
void append_block_entry(std::string& out, std::int64_t series_id, std::optional<double> value) {
  auto id = static_cast<std::uint64_t>(series_id);
  do {
    unsigned char byte = id & 0x7f;
    id >>= 7;
    if (id != 0) byte |= 0x80;
    out.push_back(static_cast<char>(byte));
  } while (id != 0);
  if (!value) {
    out.push_back('\0');
    return;
  }
  out.push_back('\1');
  std::uint64_t bits = 0;
  std::memcpy(&bits, &*value, sizeof bits);
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((bits >> (8 * i)) & 0xff));
}

// Calls each(series_id, value) for every entry; false (stopping there) on malformed data.
template <typename F>
bool for_each_block_entry(std::span<const unsigned char> data, F&& each) {
  std::size_t at = 0;
  while (at < data.size()) {
    std::uint64_t id = 0;
    int shift = 0;
    for (;;) {
      if (at >= data.size() || shift > 63) return false;
      const unsigned char byte = data[at++];
      id |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
      shift += 7;
      if ((byte & 0x80) == 0) break;
    }
    if (at >= data.size()) return false;
    const unsigned char tag = data[at++];
    std::optional<double> value;
    if (tag == 1) {
      if (data.size() - at < 8) return false;
      std::uint64_t bits = 0;
      for (int i = 0; i < 8; ++i) bits |= static_cast<std::uint64_t>(data[at + static_cast<std::size_t>(i)]) << (8 * i);
      at += 8;
      double v = 0;
      std::memcpy(&v, &bits, sizeof v);
      value = v;
    } else if (tag != 0) {
      return false;
    }
    each(static_cast<std::int64_t>(id), value);
  }
  return true;
}

class Statement {
 public:
  Statement(sqlite3* db, const char* sql) { sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr); }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  sqlite3_stmt* get() const { return stmt_; }
  explicit operator bool() const { return stmt_ != nullptr; }

 private:
  sqlite3_stmt* stmt_ = nullptr;
};

// A cached prepared statement in use: bound, stepped, and reset when it goes out of scope (an
// un-reset SELECT would keep its read snapshot open).
class Query {
 public:
  explicit Query(sqlite3_stmt* st) : st_(st) {}
  ~Query() {
    if (st_ != nullptr) {
      sqlite3_reset(st_);
      sqlite3_clear_bindings(st_);
    }
  }
  Query(const Query&) = delete;
  Query& operator=(const Query&) = delete;
  explicit operator bool() const { return st_ != nullptr; }

  Query& bind(int i, std::int64_t v) {
    sqlite3_bind_int64(st_, i, v);
    return *this;
  }
  Query& bind(int i, std::uint64_t v) { return bind(i, static_cast<std::int64_t>(v)); }
  Query& bind(int i, std::string_view v) {
    sqlite3_bind_text(st_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Query& bind(int i, const std::string& v) { return bind(i, std::string_view(v)); }
  Query& bind(int i, const char* v) { return bind(i, std::string_view(v)); }
  Query& bind(int i, std::optional<double> v) {
    if (v) {
      sqlite3_bind_double(st_, i, *v);
    } else {
      sqlite3_bind_null(st_, i);
    }
    return *this;
  }
  Query& bind_blob(int i, std::string_view v) {
    sqlite3_bind_blob(st_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Query& bind_null(int i) {
    sqlite3_bind_null(st_, i);
    return *this;
  }

  int step() { return sqlite3_step(st_); }
  bool null(int c) const { return sqlite3_column_type(st_, c) == SQLITE_NULL; }
  std::int64_t i64(int c) const { return sqlite3_column_int64(st_, c); }
  std::uint64_t u64(int c) const { return static_cast<std::uint64_t>(sqlite3_column_int64(st_, c)); }
  double real(int c) const { return sqlite3_column_double(st_, c); }
  std::optional<double> opt_real(int c) const { return null(c) ? std::nullopt : std::optional<double>(real(c)); }
  std::string text(int c) const {
    const unsigned char* t = sqlite3_column_text(st_, c);
    return t == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(t), static_cast<std::size_t>(sqlite3_column_bytes(st_, c)));
  }
  std::string blob(int c) const {
    const void* p = sqlite3_column_blob(st_, c);
    return p == nullptr ? std::string() : std::string(static_cast<const char*>(p), static_cast<std::size_t>(sqlite3_column_bytes(st_, c)));
  }
  std::span<const unsigned char> blob_view(int c) const {
    const void* p = sqlite3_column_blob(st_, c);
    const int n = sqlite3_column_bytes(st_, c);
    return {static_cast<const unsigned char*>(p), p == nullptr ? 0u : static_cast<std::size_t>(n)};
  }

 private:
  sqlite3_stmt* st_;
};

// SQL used in more than one place, or per table.
constexpr const char* kSeriesIdSql =
    "SELECT r.id, r.node_id FROM series r JOIN nodes n ON n.id = r.node_id WHERE n.grp = ? AND n.node = ? AND r.metric = ?";

// Retention statements of one WITHOUT ROWID (<key>, ts_ms, ...) table, pruned key by key: rollup
// tables by series, sample_blocks by node.
struct SeriesTable {
  const char* name;
  std::string ids_sql;     // the keys to visit, from a given one on
  std::string bound_sql;   // the ts of the (chunk+1)-th oldest row below the cut-off
  std::string delete_sql;  // delete one key's rows below a ts
  SeriesTable(const char* table, const char* key, const char* ids_table)
      : name(table),
        ids_sql(std::string("SELECT id FROM ") + ids_table + " WHERE id >= ? ORDER BY id"),
        bound_sql(std::string("SELECT ts_ms FROM ") + table + " WHERE " + key +
                  " = ? AND ts_ms < ? ORDER BY ts_ms LIMIT 1 OFFSET ?"),
        delete_sql(std::string("DELETE FROM ") + table + " WHERE " + key + " = ? AND ts_ms < ?") {}
};

// Where a pass of per-series retention over one table stands.
struct PrunePass {
  std::int64_t next_series = 0;              // resume at series id >= this; 0: no pass under way
  std::int64_t pass_cut = kNoTime;           // lowest cut-off used by the pass under way
  std::int64_t last_complete_cut = kNoTime;  // what every series is pruned to, after a whole pass
};

class SqliteStore final : public Store {
 public:
  SqliteStore(sqlite3* db, const SqliteOptions& options) : db_(db), options_(options) {
    options_.maintenance_chunk = std::max<std::size_t>(options_.maintenance_chunk, 1);
  }
  ~SqliteStore() override {
    statements_.clear();
    sqlite3_close(db_);
  }

  Status init() {
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

  // ---- writes ------------------------------------------------------------------------------

  Status write(const WriteBatch& batch) override {
    if (options_.read_only) return read_only_error();
    if (batch.empty()) return Status::Ok();
    return transaction([&] { return write_rows(batch); });
  }

  Status append(const std::string& group, const std::string& node, std::span<const Metric> metrics) override {
    WriteBatch b;
    b.samples.push_back({group, node, std::vector<Metric>(metrics.begin(), metrics.end())});
    return write(b);
  }

  Status append_event(const StoredEvent& event) override {
    WriteBatch b;
    b.events.push_back(event);
    return write(b);
  }

  Status upsert_incident(const StoredIncident& incident) override {
    WriteBatch b;
    b.incidents.push_back(incident);
    return write(b);
  }

  // ---- queries -----------------------------------------------------------------------------

  Result<std::vector<SeriesPoint>> query(const std::string& group, const std::string& node, const std::string& metric,
                                         std::int64_t from_ms, std::int64_t to_ms, std::size_t limit) override {
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

  Result<std::vector<Rollup>> rollups(const std::string& group, const std::string& node, const std::string& metric,
                                      Resolution resolution, std::int64_t from_ms, std::int64_t to_ms,
                                      std::size_t limit) override {
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

  Result<std::vector<StoredEvent>> events(std::size_t limit, std::size_t offset) override {
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

  Result<std::vector<StoredIncident>> incidents(std::size_t limit, std::size_t offset) override {
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

  Result<std::optional<std::string>> alert_state() override {
    Query q(stmt("SELECT blob FROM alert_state WHERE id = 1"));
    if (!q) return error("prepare alert state").error();
    const int rc = q.step();
    if (rc == SQLITE_ROW) return std::optional<std::string>(q.blob(0));
    if (rc != SQLITE_DONE) return error("alert state").error();
    return std::optional<std::string>();
  }

  Result<std::vector<NodeConfig>> node_configs() override {
    Query q(stmt("SELECT node, config, version, updated_ms FROM node_config ORDER BY node"));
    if (!q) return error("prepare node config").error();
    std::vector<NodeConfig> out;
    int rc = 0;
    while ((rc = q.step()) == SQLITE_ROW) out.push_back(NodeConfig{q.text(0), ping_hosts_from_json(q.text(1)), q.text(2), q.i64(3)});
    if (rc != SQLITE_DONE) return error("node config").error();
    return out;
  }

  Result<std::vector<StoredRule>> rules() override {
    Query q(stmt("SELECT name, body, updated_ms FROM api_rules ORDER BY name"));
    if (!q) return error("prepare rules").error();
    std::vector<StoredRule> out;
    int rc = 0;
    while ((rc = q.step()) == SQLITE_ROW) out.push_back(StoredRule{q.text(0), q.text(1), q.i64(2), false});
    if (rc != SQLITE_DONE) return error("rules").error();
    return out;
  }

  Result<std::vector<UptimeDelta>> uptime_since(std::int64_t since_ms) override {
    Query q(stmt("SELECT subject, hour_ms, good, total FROM uptime WHERE hour_ms >= ? ORDER BY subject, hour_ms"));
    if (!q) return error("prepare uptime").error();
    q.bind(1, since_ms);
    std::vector<UptimeDelta> out;
    int rc = 0;
    while ((rc = q.step()) == SQLITE_ROW) out.push_back(UptimeDelta{q.text(0), q.i64(1), q.u64(2), q.u64(3)});
    if (rc != SQLITE_DONE) return error("uptime").error();
    return out;
  }

  Result<std::vector<DailyReport>> daily_reports(std::string_view from_day, std::string_view to_day) override {
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

  // ---- maintenance -------------------------------------------------------------------------

  Result<MaintenanceReport> maintain(std::int64_t now_ms) override {
    if (options_.read_only) return read_only_error().error();
    MaintenanceReport report;
    // Rollups first: retention below is capped by what is still dirty.
    if (Status s = transaction([&] { return roll_up_chunk(now_ms, report); }); !s) return s.error();
    if (Status s = apply_retention(now_ms, report); !s) return s.error();
    if (Status s = transaction([&] { return build_reports(now_ms, report); }); !s) return s.error();
    return report;
  }

  int schema_version() const override { return version_; }

 private:
  // ---- write path --------------------------------------------------------------------------

  Status write_rows(const WriteBatch& batch) {
    std::set<std::int64_t> report_days;
    if (Status s = write_blocks(batch.samples); !s) return s;
    for (const StoredEvent& e : batch.events) {
      Query q(stmt("INSERT INTO events(at_ms, subject, rule, type, from_state, to_state, reason, severity, suppressed) "
                   "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"));
      if (!q) return error("prepare event");
      q.bind(1, e.at_ms).bind(2, e.subject).bind(3, e.rule).bind(4, e.type).bind(5, e.from).bind(6, e.to);
      q.bind(7, e.reason).bind(8, e.severity).bind(9, std::int64_t{e.suppressed ? 1 : 0});
      if (q.step() != SQLITE_DONE) return error("insert event");
    }
    for (const StoredIncident& i : batch.incidents) {
      Query q(stmt("INSERT INTO incidents(subject, rule, type, severity, start_ms, end_ms) VALUES (?, ?, ?, ?, ?, ?) "
                   "ON CONFLICT(subject, rule, start_ms) DO UPDATE SET end_ms = excluded.end_ms, severity = excluded.severity"));
      if (!q) return error("prepare incident");
      q.bind(1, i.subject).bind(2, i.rule).bind(3, i.type).bind(4, i.severity).bind(5, i.start_ms);
      if (i.end_ms) {
        q.bind(6, *i.end_ms);
      } else {
        q.bind_null(6);
      }
      if (q.step() != SQLITE_DONE) return error("upsert incident");
      // The incident counts of the days it starts and ends in may change.
      report_days.insert(floor_to(i.start_ms, kDayMs));
      if (i.end_ms) report_days.insert(floor_to(*i.end_ms, kDayMs));
    }
    for (const UptimeDelta& u : batch.uptime) {
      Query q(stmt("INSERT INTO uptime(subject, hour_ms, good, total) VALUES (?, ?, ?, ?) "
                   "ON CONFLICT(subject, hour_ms) DO UPDATE SET good = good + excluded.good, total = total + excluded.total"));
      if (!q) return error("prepare uptime");
      q.bind(1, u.subject).bind(2, u.hour_ms).bind(3, u.good).bind(4, u.total);
      if (q.step() != SQLITE_DONE) return error("upsert uptime");
      report_days.insert(floor_to(u.hour_ms, kDayMs));
    }
    for (const std::int64_t day : report_days) {
      Query q(stmt("INSERT OR IGNORE INTO report_dirty(day_ms) VALUES (?)"));
      if (!q) return error("prepare report dirty");
      q.bind(1, day);
      if (q.step() != SQLITE_DONE) return error("mark report dirty");
    }
    if (batch.alert_state) {
      // updated_ms is informational (when the gateway last saved its rules state), not a decision.
      const std::int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch()).count();
      Query q(stmt("INSERT INTO alert_state(id, blob, updated_ms) VALUES (1, ?, ?) "
                   "ON CONFLICT(id) DO UPDATE SET blob = excluded.blob, updated_ms = excluded.updated_ms"));
      if (!q) return error("prepare alert state");
      q.bind_blob(1, *batch.alert_state).bind(2, now);
      if (q.step() != SQLITE_DONE) return error("save alert state");
    }
    for (const NodeConfig& c : batch.node_configs) {
      // A configuration without hosts is one that could not be read back: never store it as an
      // empty list (that would leave the node without targets).
      if (!c.ping_hosts) {
        log::warn(kLog, "node configuration without hosts not stored", {{"node", c.node}});
        continue;
      }
      Query q(stmt("INSERT INTO node_config(node, config, version, updated_ms) VALUES (?, ?, ?, ?) "
                   "ON CONFLICT(node) DO UPDATE SET config = excluded.config, version = excluded.version, "
                   "updated_ms = excluded.updated_ms"));
      if (!q) return error("prepare node config");
      q.bind(1, c.node).bind(2, ping_hosts_json(*c.ping_hosts)).bind(3, c.version).bind(4, c.updated_ms);
      if (q.step() != SQLITE_DONE) return error("save node config");
    }
    for (const StoredRule& r : batch.rules) {
      Query q(stmt(r.removed ? "DELETE FROM api_rules WHERE name = ?"
                             : "INSERT INTO api_rules(name, body, updated_ms) VALUES (?, ?, ?) "
                               "ON CONFLICT(name) DO UPDATE SET body = excluded.body, updated_ms = excluded.updated_ms"));
      if (!q) return error("prepare rule");
      q.bind(1, r.name);
      if (!r.removed) q.bind(2, r.body).bind(3, r.updated_ms);
      if (q.step() != SQLITE_DONE) return error("save rule");
    }
    return Status::Ok();
  }

  struct Block {
    std::int64_t node_id = 0;
    std::int64_t ts_ms = 0;
    std::int64_t seq = 0;
    std::string data;
  };

  // One block per (node, sample time) of each NodeSamples; inserted in key order (a batch holds
  // blocks of many nodes: in key order each leaf page of sample_blocks is visited once). The seq
  // is assigned in submission order before sorting, so a later sample still wins.
  Status write_blocks(const std::vector<NodeSamples>& samples) {
    std::vector<Block> blocks;
    for (const NodeSamples& ns : samples) {
      if (ns.size() == 0) continue;
      auto node = node_ids(ns.group, ns.node);
      if (!node) return node.error();
      const std::size_t first = blocks.size();
      // A message's metrics nearly always share one time: look back over this message's blocks.
      const auto block_for = [&](std::int64_t ts) -> Block& {
        for (std::size_t i = blocks.size(); i > first; --i) {
          if (blocks[i - 1].ts_ms == ts) return blocks[i - 1];
        }
        blocks.push_back(Block{(*node)->id, ts, next_seq_++, {}});
        blocks.back().data.reserve(ns.size() * 12);
        return blocks.back();
      };
      for (const Metric& m : ns.metrics) {
        auto id = series_id(**node, m.name, m.unit);
        if (!id) return id.error();
        append_block_entry(block_for(m.ts_ms).data, *id, m.value);
      }
      if (!ns.values.empty()) {
        if (ns.names == nullptr) return make_error(ErrorCode::kInternal, "samples without their names");
        auto ids = series_ids(**node, ns.names);
        if (!ids) return ids.error();
        for (const SampleValue& v : ns.values) {
          if (v.series >= (*ids)->size()) return make_error(ErrorCode::kInternal, "sample of an unknown series");
          append_block_entry(block_for(v.ts_ms).data, (**ids)[v.series], v.opt());
        }
      }
    }
    std::sort(blocks.begin(), blocks.end(), [](const Block& a, const Block& b) {
      return std::tie(a.node_id, a.ts_ms, a.seq) < std::tie(b.node_id, b.ts_ms, b.seq);
    });
    for (const Block& b : blocks) {
      Query q(stmt("INSERT INTO sample_blocks(node_id, ts_ms, seq, data) VALUES (?, ?, ?, ?)"));
      if (!q) return error("prepare block");
      q.bind(1, b.node_id).bind(2, b.ts_ms).bind(3, b.seq).bind_blob(4, b.data);
      if (q.step() != SQLITE_DONE) return error("insert block");
      const std::int64_t minute = floor_to(b.ts_ms, kMinuteMs);
      const auto [marked, fresh] = marked_.try_emplace(b.node_id, kNoTime);
      if (!fresh && marked->second == minute) continue;  // already in block_dirty: nodes send several times a minute
      Query d(stmt("INSERT OR IGNORE INTO block_dirty(node_id, minute_ms) VALUES (?, ?)"));
      if (!d) return error("prepare dirty");
      d.bind(1, b.node_id).bind(2, minute);
      if (d.step() != SQLITE_DONE) return error("mark rollup dirty");
      marked->second = minute;
    }
    return Status::Ok();
  }

  // v5 -> v6: every (series, ts) row of `samples` into blocks per (node, ts), then drop `samples`.
  Status convert_samples_to_blocks() {
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

  // Calls each(ts_ms, value) for `series` in node `node_id`'s blocks of [from, to], oldest first,
  // one value per time (the latest block's). Stops early when each returns false.
  template <typename F>
  Status series_values(std::int64_t node_id, std::int64_t series, std::int64_t from, std::int64_t to, F&& each) {
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

  // Ids of a node's row and its series rows, created on first use. Cached per node so the hot path
  // looks a metric up by its name without building a key, and, for the pipeline's compact samples,
  // by the node's current SeriesNames (one pointer comparison per batch of a node).
  struct NodeIds {
    std::int64_t id = 0;
    std::unordered_map<std::string, std::int64_t> series;
    std::shared_ptr<const SeriesNames> names;  // the last set of names seen...
    std::vector<std::int64_t> name_ids;        // ...and its series ids, index by index
  };

  Result<NodeIds*> node_ids(const std::string& group, const std::string& node) {
    std::string key;
    key.reserve(group.size() + node.size() + 1);
    key.append(group).push_back('\x1f');
    key.append(node);
    if (const auto it = ids_.find(key); it != ids_.end()) return &it->second;
    Query q(stmt("INSERT INTO nodes(grp, node) VALUES (?, ?) ON CONFLICT(grp, node) DO UPDATE SET grp=grp RETURNING id"));
    if (!q) return error("prepare node").error();
    q.bind(1, group).bind(2, node);
    if (q.step() != SQLITE_ROW) return error("upsert node").error();
    NodeIds& ids = ids_[std::move(key)];
    ids.id = q.i64(0);
    return &ids;
  }

  Result<std::int64_t> series_id(NodeIds& node, const std::string& metric, const std::string& unit) {
    if (const auto it = node.series.find(metric); it != node.series.end()) return it->second;
    Query q(stmt("INSERT INTO series(node_id, metric, unit) VALUES (?, ?, ?) "
                 "ON CONFLICT(node_id, metric) DO UPDATE SET unit=excluded.unit RETURNING id"));
    if (!q) return error("prepare series").error();
    q.bind(1, node.id).bind(2, metric).bind(3, unit);
    if (q.step() != SQLITE_ROW) return error("upsert series").error();
    const std::int64_t id = q.i64(0);
    node.series.emplace(metric, id);
    series_ms_.erase(id);  // the unit may have changed
    return id;
  }

  Result<const std::vector<std::int64_t>*> series_ids(NodeIds& node, const std::shared_ptr<const SeriesNames>& names) {
    if (node.names != names) {
      std::vector<std::int64_t> ids;
      ids.reserve(names->size());
      for (const SeriesName& n : *names) {
        auto id = series_id(node, n.metric, n.unit);
        if (!id) return id.error();
        ids.push_back(*id);
      }
      node.names = names;
      node.name_ids = std::move(ids);
    }
    return &node.name_ids;
  }

  // (series id, node id) of a series, if it exists.
  Result<std::optional<std::pair<std::int64_t, std::int64_t>>> find_series(const std::string& group,
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

  // ---- rollups -----------------------------------------------------------------------------

  // One transaction: discard dirty minutes below the retention watermarks, then recompute closed
  // dirty (node, minute)s, oldest first, until about maintenance_chunk series-minutes are done,
  // and their hours, and unmark them. "Closed": the minute ended at least kRollupGraceMs before
  // now. Late samples for any older minute simply re-mark it, so it is recomputed here as well.
  Status roll_up_chunk(std::int64_t now_ms, MaintenanceReport& report) {
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

  Result<bool> series_is_ms(std::int64_t id) {
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
  Result<std::size_t> roll_up_node_minute(std::int64_t node, std::int64_t minute,
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

  Status roll_up_hour(std::int64_t id, std::int64_t hour) {
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

  Status store_bucket(const char* replace_sql, const char* delete_sql, std::int64_t id, std::int64_t ts,
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

  // ---- retention ---------------------------------------------------------------------------

  Status apply_retention(std::int64_t now_ms, MaintenanceReport& report) {
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
  Status prune_series_table(const SeriesTable& table, PrunePass& pass, std::int64_t cut,
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

  Result<std::int64_t> meta(const char* key) {
    Query q(stmt("SELECT value FROM meta WHERE key = ?"));
    if (!q) return error("prepare meta").error();
    q.bind(1, key);
    const int rc = q.step();
    if (rc == SQLITE_ROW) return q.i64(0);
    if (rc != SQLITE_DONE) return error("meta").error();
    return kNoTime;
  }

  // ---- daily reports -----------------------------------------------------------------------

  // Builds (or rebuilds) the reports of complete UTC days marked in report_dirty by uptime deltas
  // or incidents, oldest first, at most about maintenance_chunk subjects per call. A day waits
  // while it still has dirty minutes, so its rtt/loss come from final hour rollups. Late uptime
  // deltas or incidents re-mark a day, and it is rebuilt whole; late samples alone do not.
  Status build_reports(std::int64_t now_ms, MaintenanceReport& report) {
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
  Result<std::size_t> build_day(std::int64_t day) {
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
  Result<std::optional<double>> day_average(const std::string& group, const std::string& node,
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

  // ---- plumbing ----------------------------------------------------------------------------

  template <typename Body>
  Status transaction(Body&& body) {
    if (Status s = exec("BEGIN IMMEDIATE;"); !s) return s;
    Status result = body();
    if (result) result = exec("COMMIT;");
    if (!result) {
      (void)exec("ROLLBACK;");  // after SQLITE_FULL SQLite may have rolled back already
      ids_.clear();             // ids created in the rolled-back transaction are gone
      marked_.clear();          // so may be dirty marks (or, rolled back deletes brought some back)
    }
    return result;
  }

  // The cached prepared statement for `sql` (a string that outlives the store), or nullptr.
  sqlite3_stmt* stmt(const char* sql) {
    auto it = statements_.find(sql);
    if (it == statements_.end()) {
      auto st = std::make_unique<Statement>(db_, sql);
      if (!*st) return nullptr;
      it = statements_.emplace(sql, std::move(st)).first;
    }
    return it->second->get();
  }

  static std::int64_t clamp_limit(std::size_t n) {
    return static_cast<std::int64_t>(
        std::min<std::uint64_t>(n, static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())));
  }
  static Rollup null_bucket(std::int64_t ts) {
    Rollup r;
    r.ts_ms = ts;
    r.min = r.max = r.avg = std::numeric_limits<double>::quiet_NaN();
    return r;
  }
  static Rollup bucket_of_one(std::int64_t ts, double v) {
    Rollup r;
    r.ts_ms = ts;
    r.min = r.max = r.avg = v;
    r.count = 1;
    return r;
  }

  Status exec(const char* sql) {
    char* msg = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &msg) != SQLITE_OK) {
      Status s = error(msg != nullptr ? msg : "exec");
      sqlite3_free(msg);
      return s;
    }
    return Status::Ok();
  }

  Status error(const std::string& what) const {
    const int code = sqlite3_extended_errcode(db_);
    const ErrorCode ec = (code & 0xff) == SQLITE_FULL ? ErrorCode::kResourceExhausted : ErrorCode::kIo;
    return make_error(ec, "sqlite: " + what + ": " + sqlite3_errmsg(db_));
  }
  static Status read_only_error() {
    return make_error(ErrorCode::kPermissionDenied, "sqlite: this store was opened read-only");
  }

  sqlite3* db_;
  SqliteOptions options_;
  int version_ = 0;
  std::unordered_map<const char*, std::unique_ptr<Statement>> statements_;
  std::unordered_map<std::string, NodeIds> ids_;  // "group\x1fnode" -> ids known to exist
  // node id -> a minute known to be in block_dirty (committed); entries are only ever
  // forgotten early (which costs one INSERT OR IGNORE), never kept after the row is gone.
  std::unordered_map<std::int64_t, std::int64_t> marked_;
  const SeriesTable raw_table_{"sample_blocks", "node_id", "nodes"};
  const SeriesTable minute_table_{"rollups_1m", "series_id", "series"};
  const SeriesTable hour_table_{"rollups_1h", "series_id", "series"};
  std::int64_t next_seq_ = 1;                          // of the next block written
  std::unordered_map<std::int64_t, bool> series_ms_;   // series id -> its unit is "ms" (cache)
  PrunePass raw_pass_, minute_pass_, hour_pass_;
};

}  // namespace

Result<std::unique_ptr<Store>> open_sqlite_store(const std::string& path, const SqliteOptions& options) {
  sqlite3* db = nullptr;
  const int flags = (options.read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) |
                    SQLITE_OPEN_NOMUTEX;
  const int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = path + ": cannot open database: " + (db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
    sqlite3_close(db);
    return make_error(ErrorCode::kIo, msg);
  }
  auto store = std::make_unique<SqliteStore>(db, options);
  if (Status s = store->init(); !s) {
    return make_error(s.error().code, path + ": " + s.error().message);
  }
  return std::unique_ptr<Store>(std::move(store));
}

Result<std::unique_ptr<Store>> open_sqlite_store(const std::string& path) { return open_sqlite_store(path, SqliteOptions{}); }

}  // namespace edgemon::gateway
