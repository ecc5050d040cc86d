// Store: durable history behind an interface, so a PostgreSQL implementation can follow the
// SQLite one. One Store object is used from one thread; a second thread (the HTTP server) opens
// its own reader (SqliteOptions::read_only).
//
// What is kept:
//   - raw samples per series (group, node, metric), short retention;
//   - rollups per series at minute and hour resolution: min/max/avg/count, and for "ms" series a
//     mergeable latency histogram from which p10..p90 are derived (SmokePing-style charts);
//   - alert events and incidents, the rules evaluator's state blob;
//   - uptime counters per subject and hour, and daily reports built from them.
// Rollups and reports are derived data: write() records what it touched, maintain() (called by the
// StoreWriter thread) brings the derived tables up to date and applies retention.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "edgemon/common/result.h"
#include "edgemon/common/telemetry.h"
#include "edgemon/gateway/store/uptime_delta.h"  // UptimeDelta, shared with the Aggregator

namespace edgemon::gateway {

struct SeriesPoint {
  std::int64_t ts_ms = 0;
  std::optional<double> value;
};

// A state transition of an alert rule: {subject, from, to, at, reason}.
struct StoredEvent {
  std::int64_t at_ms = 0;
  std::string subject;   // "<group>/<node>" or "<group>/<node>/<metric>"
  std::string rule;
  std::string type;      // e.g. HIGH_CPU, NODE_DOWN
  std::string from;
  std::string to;
  std::string reason;
  std::string severity;
  bool suppressed = false;  // inside a silence or maintenance window: recorded, not notified
};

struct StoredIncident {
  std::string subject;
  std::string rule;
  std::string type;
  std::string severity;
  std::int64_t start_ms = 0;
  std::optional<std::int64_t> end_ms;  // open while empty
};

// The metric names (and units) of one node, as the ingest pipeline knows them: shared by every
// batch of samples until the node's set of names changes (a birth, a new name), so the store
// resolves a node's series once per set instead of once per sample.
struct SeriesName {
  std::string metric;
  std::string unit;
};
using SeriesNames = std::vector<SeriesName>;

// One sample in the compact form: an index into the node's SeriesNames.
struct SampleValue {
  std::uint32_t series = 0;
  bool has_value = false;
  double value = 0;
  std::int64_t ts_ms = 0;
  std::optional<double> opt() const { return has_value ? std::optional<double>(value) : std::nullopt; }
};

// One node's samples, each with its own timestamp: `values` against `names` (the pipeline's
// form), and/or `metrics` with their names (single writes, tests).
struct NodeSamples {
  NodeSamples() = default;
  NodeSamples(std::string g, std::string n, std::vector<Metric> m = {})
      : group(std::move(g)), node(std::move(n)), metrics(std::move(m)) {}

  std::string group;
  std::string node;
  std::vector<Metric> metrics;
  std::shared_ptr<const SeriesNames> names;
  std::vector<SampleValue> values;

  std::size_t size() const { return metrics.size() + values.size(); }
};

// Everything one write() commits in one transaction.
// Configuration the API manages for one node (upserted whole).
struct NodeConfig {
  std::string node;  // "<group>/<node>"
  // The wanted ping targets; nullopt when a stored row could not be read (node_configs()).
  std::optional<std::vector<std::string>> ping_hosts;
  std::string version;  // what the node reports as agent/config/version once it applied it
  std::int64_t updated_ms = 0;
};

// An alert rule added through the API (the [[rules]] keys as JSON), or its removal.
struct StoredRule {
  std::string name;
  std::string body;  // JSON object; empty with `removed`
  std::int64_t updated_ms = 0;
  bool removed = false;
};

// A node's sample accounting (gateway/core/completeness.h), kept so it survives a restart.
struct SampleProgress {
  std::string node;  // "<group>/<node>"
  std::optional<std::uint64_t> high;  // highest agent/sample_seq received (none: nothing since a reset)
  std::uint64_t received = 0;
  std::uint64_t duplicates = 0;
  std::uint64_t missing = 0;
  std::uint64_t late = 0;
  std::uint64_t resets = 0;
  std::uint64_t losses = 0;
  std::optional<std::uint64_t> dropped;  // the agent's buffer counters at `high`
  std::optional<std::uint64_t> damaged;
  std::int64_t updated_ms = 0;
};

struct WriteBatch {
  std::vector<NodeSamples> samples;
  std::vector<StoredEvent> events;
  std::vector<StoredIncident> incidents;   // upserts, as upsert_incident()
  std::vector<UptimeDelta> uptime;         // good/total ADDED to the stored (subject, hour) row
  std::optional<std::string> alert_state;  // opaque blob; replaces the stored one
  std::vector<NodeConfig> node_configs;    // upserts by node
  std::vector<StoredRule> rules;           // upserts or removals by name, in order
  std::vector<SampleProgress> progress;    // upserts by node

  // Sample metrics + events + incidents + uptime deltas + node configs + rules + progress rows
  // (+1 for alert_state).
  std::size_t rows() const {
    std::size_t n = events.size() + incidents.size() + uptime.size() + node_configs.size() + rules.size() +
                    progress.size() + (alert_state ? 1 : 0);
    for (const NodeSamples& s : samples) n += s.size();
    return n;
  }
  bool empty() const { return rows() == 0; }
};

enum class Resolution { kRaw, kMinute, kHour };

// One bucket of a series. Samples without a value (e.g. rtt when nothing answered) are not part
// of min/max/avg/count/quantiles; they are counted in `nulls`. When count == 0 (only nulls),
// min/max/avg are NaN (the API writes NaN as null).
struct Rollup {
  std::int64_t ts_ms = 0;  // bucket start
  double min = 0;
  double max = 0;
  double avg = 0;
  std::uint64_t count = 0;
  std::uint64_t nulls = 0;
  // p10, p25, p50, p75, p90 from the latency histogram (within ~9% of the true value, clamped to
  // [min, max]); empty when the series has no distribution (unit is not "ms") or count == 0.
  std::vector<double> quantiles;
};

// What one maintain() call did.
struct MaintenanceReport {
  std::size_t minutes_rolled_up = 0;      // minute rows recomputed from raw samples
  std::size_t hours_rolled_up = 0;        // hour rows recomputed from minute rows
  std::size_t late_buckets_discarded = 0; // dirty minutes whose raw data retention had already cut
  std::size_t samples_deleted = 0;
  std::size_t minute_rows_deleted = 0;
  std::size_t hour_rows_deleted = 0;
  std::size_t uptime_rows_deleted = 0;
  std::size_t events_deleted = 0;
  std::size_t incidents_deleted = 0;
  std::size_t reports_deleted = 0;
  std::size_t reports_built = 0;          // (day, subject) rows written
  bool more = false;                      // a per-call bound was hit: call again soon
};

// Availability and latency of one subject on one UTC day.
struct DailyReport {
  std::string day;      // YYYY-MM-DD, UTC
  std::string subject;
  double uptime_pct = 0;  // 100 * good / total
  std::uint64_t good = 0;
  std::uint64_t total = 0;
  std::optional<double> avg_rtt_ms;  // targets only: from the "<family>/<target>/rtt" hour rollups
  std::optional<double> loss_pct;    // targets only: average of "<family>/<target>/loss"
  std::uint64_t incidents = 0;       // incidents on this subject or below it overlapping the day
  std::int64_t downtime_ms = 0;      // node: total - good; target: (total - good) / total * 1 day
};

class Store {
 public:
  virtual ~Store() = default;

  // Every write below is one transaction: all or nothing. Errors: kResourceExhausted (disk full),
  // kIo (other storage failure), kPermissionDenied (a read-only store).
  virtual Status write(const WriteBatch& batch) = 0;
  // Single-item forms of write(), kept for callers that write one thing at a time.
  virtual Status append(const std::string& group, const std::string& node, std::span<const Metric> metrics) = 0;
  virtual Status append_event(const StoredEvent& event) = 0;
  // Inserts or closes the incident identified by (subject, rule, start).
  virtual Status upsert_incident(const StoredIncident& incident) = 0;

  // Raw samples of one series in [from_ms, to_ms], oldest first, at most `limit`.
  virtual Result<std::vector<SeriesPoint>> query(const std::string& group, const std::string& node,
                                                 const std::string& metric, std::int64_t from_ms,
                                                 std::int64_t to_ms, std::size_t limit) = 0;
  // Buckets of one series whose start is in [from_ms, to_ms], oldest first, at most `limit`.
  // kRaw returns one bucket per sample (min = max = avg, count 1; a sample without a value is a
  // bucket with count 0 and nulls 1), never quantiles.
  // Minute/hour buckets appear once maintain() has rolled them up.
  virtual Result<std::vector<Rollup>> rollups(const std::string& group, const std::string& node,
                                              const std::string& metric, Resolution resolution,
                                              std::int64_t from_ms, std::int64_t to_ms, std::size_t limit) = 0;
  // Newest first, at most `limit`, skipping `offset`.
  virtual Result<std::vector<StoredEvent>> events(std::size_t limit, std::size_t offset) = 0;
  virtual Result<std::vector<StoredIncident>> incidents(std::size_t limit, std::size_t offset) = 0;
  // The last alert_state written, or nullopt if none ever was.
  virtual Result<std::optional<std::string>> alert_state() = 0;
  // Every managed node configuration, by node.
  virtual Result<std::vector<NodeConfig>> node_configs() = 0;
  // Every rule added through the API, by name.
  virtual Result<std::vector<StoredRule>> rules() = 0;
  // Every node's sample accounting, by node.
  virtual Result<std::vector<SampleProgress>> sample_progress() = 0;
  // Uptime rows with hour_ms >= since_ms, ordered by (subject, hour_ms): seeds in-memory uptime
  // windows at start.
  virtual Result<std::vector<UptimeDelta>> uptime_since(std::int64_t since_ms) = 0;
  // Reports for days in [from_day, to_day] (YYYY-MM-DD, inclusive), ordered by (day, subject).
  virtual Result<std::vector<DailyReport>> daily_reports(std::string_view from_day, std::string_view to_day) = 0;

  // Brings derived data up to date and applies retention, as of wall time `now_ms`: rolls up
  // closed minutes (and the hours they belong to), deletes what retention says is old, builds
  // daily reports for complete UTC days. Bounded work per call, each step in its own short
  // transaction; `more` says a bound was hit. Safe to interrupt at any point (kill -9): pending
  // work is recorded in the database and picked up by the next call. Errors as write().
  virtual Result<MaintenanceReport> maintain(std::int64_t now_ms) = 0;

  virtual int schema_version() const = 0;
};

struct SqliteOptions {
  std::chrono::milliseconds raw_retention = std::chrono::days(7);
  std::chrono::milliseconds minute_retention = std::chrono::days(35);
  std::chrono::milliseconds hour_retention = std::chrono::days(400);       // also uptime and daily reports
  std::chrono::milliseconds event_retention = std::chrono::days(400);      // events and closed incidents
  // A reader for queries on another thread: opened SQLITE_OPEN_READONLY, runs no migrations and
  // requires the database to exist at this gateway's schema version; writes fail.
  bool read_only = false;
  // Upper bound of buckets (rollups) or rows (retention, reports) per maintain() step and
  // transaction, so one call never holds the write lock for long.
  std::size_t maintenance_chunk = 5000;
};

// Opens (creating if needed) the SQLite database at `path` in WAL mode and runs migrations.
// Errors: kIo naming the path and SQLite's message; kInvalidArgument when the database's schema is
// newer than this gateway (or, read-only, not at this gateway's version).
Result<std::unique_ptr<Store>> open_sqlite_store(const std::string& path, const SqliteOptions& options);
Result<std::unique_ptr<Store>> open_sqlite_store(const std::string& path);

}  // namespace edgemon::gateway
