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
//
// The implementation, one job a file, in gateway/store/src/sqlite/ (this header is private to the
// store library):
//   - sqlite_store_impl.h  this comment; SqliteStore and the helpers its files share;
//   - sqlite_store.cpp     open_sqlite_store(), maintain(), the plumbing (transactions, statements);
//   - migrations.cpp       the schema, version by version (init()), v5 samples converted to blocks;
//   - writes.cpp           write(): blocks, events, incidents, uptime, state; node and series ids;
//   - queries.cpp          the reads: raw series, rollups, events, incidents, state, reports;
//   - rollups.cpp          minute and hour rollups of the dirty minutes;
//   - retention.cpp        retention, chunked, capped by what is still dirty;
//   - reports.cpp          daily reports of the dirty days.
#pragma once

#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "edgemon/gateway/store/store.h"

namespace edgemon::gateway::sqlite {

// node_config.config: {"ping_hosts":[...]} (schema v4). Written in writes.cpp, read in queries.cpp.
std::string ping_hosts_json(const std::vector<std::string>& hosts);
std::optional<std::vector<std::string>> ping_hosts_from_json(const std::string& text);

inline constexpr const char* kLog = "store";
inline constexpr std::int64_t kMinuteMs = 60'000;
inline constexpr std::int64_t kHourMs = 3'600'000;
inline constexpr std::int64_t kDayMs = 86'400'000;
// A minute is rolled up once it ended this long ago, so samples of the same round that arrive a
// little late still land before the first computation (later ones re-mark it dirty).
inline constexpr std::int64_t kRollupGraceMs = 5'000;
inline constexpr std::int64_t kNoTime = std::numeric_limits<std::int64_t>::min();

inline std::int64_t floor_to(std::int64_t t, std::int64_t step) {
  std::int64_t q = t / step;
  if (t % step != 0 && t < 0) --q;
  return q * step;
}

inline std::int64_t ceil_to(std::int64_t t, std::int64_t step) {
  const std::int64_t f = floor_to(t, step);
  return f == t ? t : f + step;
}

// "YYYY-MM-DD" of the UTC day containing `ms`.
inline std::string utc_day(std::int64_t ms) {
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

inline constexpr std::array<double, 5> kQuantiles = {0.10, 0.25, 0.50, 0.75, 0.90};

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
inline void append_block_entry(std::string& out, std::int64_t series_id, std::optional<double> value) {
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
inline constexpr const char* kSeriesIdSql =
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
  SqliteStore(sqlite3* db, const SqliteOptions& options);
  ~SqliteStore() override;

  Status init();  // migrations.cpp

  // ---- writes (writes.cpp) -----------------------------------------------------------------

  Status write(const WriteBatch& batch) override;
  Status append(const std::string& group, const std::string& node, std::span<const Metric> metrics) override;
  Status append_event(const StoredEvent& event) override;
  Status upsert_incident(const StoredIncident& incident) override;

  // ---- queries (queries.cpp) ---------------------------------------------------------------

  Result<std::vector<SeriesPoint>> query(const std::string& group, const std::string& node, const std::string& metric,
                                         std::int64_t from_ms, std::int64_t to_ms, std::size_t limit) override;
  Result<std::vector<Rollup>> rollups(const std::string& group, const std::string& node, const std::string& metric,
                                      Resolution resolution, std::int64_t from_ms, std::int64_t to_ms,
                                      std::size_t limit) override;
  Result<std::vector<StoredEvent>> events(std::size_t limit, std::size_t offset) override;
  Result<std::vector<StoredIncident>> incidents(std::size_t limit, std::size_t offset) override;
  Result<std::optional<std::string>> alert_state() override;
  Result<std::vector<NodeConfig>> node_configs() override;
  Result<std::vector<StoredRule>> rules() override;
  Result<std::vector<SampleProgress>> sample_progress() override;
  Result<std::vector<UptimeDelta>> uptime_since(std::int64_t since_ms) override;
  Result<std::vector<DailyReport>> daily_reports(std::string_view from_day, std::string_view to_day) override;

  // ---- maintenance (sqlite_store.cpp) ------------------------------------------------------

  Result<MaintenanceReport> maintain(std::int64_t now_ms) override;

  int schema_version() const override { return version_; }

 private:
  struct Block {
    std::int64_t node_id = 0;
    std::int64_t ts_ms = 0;
    std::int64_t seq = 0;
    std::string data;
  };

  // Ids of a node's row and its series rows, created on first use. Cached per node so the hot path
  // looks a metric up by its name without building a key, and, for the pipeline's compact samples,
  // by the node's current SeriesNames (one pointer comparison per batch of a node).
  struct NodeIds {
    std::int64_t id = 0;
    std::unordered_map<std::string, std::int64_t> series;
    std::shared_ptr<const SeriesNames> names;  // the last set of names seen...
    std::vector<std::int64_t> name_ids;        // ...and its series ids, index by index
  };

  // ---- migrations (migrations.cpp) ---------------------------------------------------------

  Status convert_samples_to_blocks();

  // ---- write path (writes.cpp) -------------------------------------------------------------

  Status write_rows(const WriteBatch& batch);
  Status write_blocks(const std::vector<NodeSamples>& samples);
  Result<NodeIds*> node_ids(const std::string& group, const std::string& node);
  Result<std::int64_t> series_id(NodeIds& node, const std::string& metric, const std::string& unit);
  Result<const std::vector<std::int64_t>*> series_ids(NodeIds& node, const std::shared_ptr<const SeriesNames>& names);

  // ---- read path (queries.cpp) -------------------------------------------------------------

  template <typename F>
  Status series_values(std::int64_t node_id, std::int64_t series, std::int64_t from, std::int64_t to, F&& each);
  Result<std::optional<std::pair<std::int64_t, std::int64_t>>> find_series(const std::string& group,
                                                                           const std::string& node,
                                                                           const std::string& metric);
  static std::int64_t clamp_limit(std::size_t n);
  static Rollup null_bucket(std::int64_t ts);
  static Rollup bucket_of_one(std::int64_t ts, double v);

  // ---- rollups (rollups.cpp) ---------------------------------------------------------------

  Status roll_up_chunk(std::int64_t now_ms, MaintenanceReport& report);
  Result<bool> series_is_ms(std::int64_t id);
  Result<std::size_t> roll_up_node_minute(std::int64_t node, std::int64_t minute,
                                          std::set<std::pair<std::int64_t, std::int64_t>>& hours);
  Status roll_up_hour(std::int64_t id, std::int64_t hour);
  Status store_bucket(const char* replace_sql, const char* delete_sql, std::int64_t id, std::int64_t ts,
                      const Aggregate& a);

  // ---- retention (retention.cpp) -----------------------------------------------------------

  Status apply_retention(std::int64_t now_ms, MaintenanceReport& report);
  Status prune_series_table(const SeriesTable& table, PrunePass& pass, std::int64_t cut,
                            std::chrono::milliseconds retention, const char* watermark, std::size_t& deleted,
                            MaintenanceReport& report);
  Result<std::int64_t> meta(const char* key);

  // ---- daily reports (reports.cpp) ---------------------------------------------------------

  Status build_reports(std::int64_t now_ms, MaintenanceReport& report);
  Result<std::size_t> build_day(std::int64_t day);
  Result<std::optional<double>> day_average(const std::string& group, const std::string& node,
                                            const std::string& metric, std::int64_t day);

  // ---- plumbing (sqlite_store.cpp; transaction() below) ------------------------------------

  template <typename Body>
  Status transaction(Body&& body);
  sqlite3_stmt* stmt(const char* sql);
  Status exec(const char* sql);
  Status error(const std::string& what) const;
  static Status read_only_error();

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

template <typename Body>
Status SqliteStore::transaction(Body&& body) {
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

}  // namespace edgemon::gateway::sqlite
