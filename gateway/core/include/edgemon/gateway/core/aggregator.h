// Aggregator: per node and per probe target, rolling windows, uptime % over 1 h / 24 h / 7 d / 30 d,
// node status (UNKNOWN / HEALTHY / DEGRADED / DOWN) and last seen.
//
// Single-threaded (lives on the gateway's io thread), no I/O, no JSON, and time is passed into
// every mutating call (`now_ms`, wall time in ms since the epoch); const queries use the latest
// time any call has passed in. Memory per subject is fixed (about 7.3 KB per target, 7 KB per
// node) and the number of subjects is capped (AggregatorConfig).
//
// Clock steps: wall time is what buckets are named by, but staleness, target retirement and the
// ms-online accounting are intervals. When the wall clock steps (NTP on a board without an RTC),
// the caller reports it with clock_stepped(delta): every remembered time is moved by the step, so
// no interval is stretched or frozen by it (core/instant.h, ClockSteps, detects steps).
//
// Subjects: a node is "<group>/<node>"; a target is "<group>/<node>/<family>/<target>" for every
// probe family of the telemetry contract ("ping/10.0.0.1/up" -> family ping, target "10.0.0.1").
//
// Uptime: node = ms online / ms observed (observed from the first message, NBIRTH or NDEATH this
// process saw; a node that is stale counts as offline); target = rounds whose "<family>/<t>/up"
// was 1 / rounds seen. Kept in a ring of 60 one-minute buckets (the 1 h window) and 720 one-hour
// buckets (24 h, 7 d, 30 d). A percentage is null (nullopt) when nothing was counted.
//
// Rounds: each accepted *live* message is one sample of the node's whole state ("not sent =
// unchanged", as the rules evaluator reads it), so it counts one round for every active target of
// the node with the target's current values. Each *historical* message (replayed from the agent's
// buffer) counts one round per target in the hour (and minute) of its own timestamp, if that is
// still inside the window, carrying the target's last replayed `up` forward; it changes no
// current value. A target not mentioned in any live message for `target_retire_ms` is inactive:
// it counts no rounds and does not degrade its node (its history stays).
//
// Call order per message: node_online() before observe() for an NBIRTH; observe() for NBIRTH and
// NDATA that FleetState accepted (not for duplicates); node_offline() only for an NDEATH that
// FleetState applied (not the late will of an older session); tick() about once a second.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "edgemon/common/metric_key.h"
#include "edgemon/common/telemetry.h"
#include "edgemon/gateway/store/uptime_delta.h"

namespace edgemon::gateway {

struct AggregatorConfig {
  // A node not heard from for this long is DOWN even without an NDEATH. 0: automatic,
  // stale_factor x the node's observed sample interval (the median of its last 8 live gaps), at
  // least min_stale_after_ms; until an interval is known, assumed_interval_ms stands in.
  std::int64_t stale_after_ms = 0;
  double stale_factor = 3.0;
  std::int64_t min_stale_after_ms = 10'000;
  std::int64_t assumed_interval_ms = 20'000;  // -> 60 s before the first gap is measured
  std::int64_t target_retire_ms = 300'000;    // agents resend every metric each keyframe (60 s)
  std::size_t max_nodes = 5'000;              // events for further nodes are ignored (counted)
  std::size_t max_targets_per_node = 64;      // further targets are ignored (counted)
  std::size_t max_targets_total = 20'000;     // ~7.3 KB each: 146 MB at the cap
};

enum class NodeStatus : std::uint8_t { kUnknown, kHealthy, kDegraded, kDown };
const char* to_string(NodeStatus s);  // "UNKNOWN", "HEALTHY", "DEGRADED", "DOWN"

struct NodeStatusInfo {
  NodeStatus status = NodeStatus::kUnknown;
  std::string reason;  // "offline since 2025-01-01T00:00:00Z", "target 10.0.0.1 down", "2 alerts firing"
};

struct StatusChange {
  std::string node_key;
  NodeStatus from = NodeStatus::kUnknown;
  NodeStatus to = NodeStatus::kUnknown;
  std::int64_t at_ms = 0;  // a stale node: the moment it became stale (last seen + stale_after)
  std::string reason;
};

enum class UptimeWindow : std::uint8_t { k1h, k24h, k7d, k30d };

struct UptimeCounts {
  std::uint64_t good = 0;
  std::uint64_t total = 0;
};

// Uptime percentages (0..100) over 1 h, 24 h, 7 d, 30 d; nullopt when nothing was counted.
struct UptimePct {
  std::optional<double> h1, h24, d7, d30;
};

// One sample of an accepted message, with its parsed name (FleetState's slot key).
struct Observation {
  const MetricKey* key = nullptr;
  std::optional<double> value;
  std::int64_t ts_ms = 0;
};

struct TargetSummary {
  std::string key;     // "<group>/<node>/<family>/<target>"
  Family family = Family::kPing;
  std::string target;
  bool active = false;  // reported within target_retire_ms
  std::optional<double> state, up;
  std::optional<double> loss_pct;  // over the rolling window
  std::optional<double> rtt_avg, rtt_min, rtt_max;
  std::size_t rounds = 0;
  std::optional<std::int64_t> last_seen, last_up;
  UptimePct uptime;
};

struct NodeSummary {
  std::string key;
  NodeStatus status = NodeStatus::kUnknown;
  std::string status_reason;
  std::optional<std::int64_t> last_seen;
  UptimePct uptime;
  std::optional<double> rate_per_min;  // messages over the last 5 minutes
  std::optional<double> cpu_avg_5m, cpu_max_5m;
  std::vector<TargetSummary> targets;  // sorted by "<family>/<target>"
};

inline constexpr std::size_t kNodeStatuses = 4;  // indexable by static_cast<size_t>(NodeStatus)

struct FleetEntry {
  std::string key;
  NodeStatus status = NodeStatus::kUnknown;
  std::string status_reason;
  std::optional<std::int64_t> last_seen;
};

struct FleetSummary {
  std::array<std::size_t, kNodeStatuses> counts{};  // by NodeStatus
  std::vector<FleetEntry> nodes;                    // sorted by key
};

class Aggregator {
 public:
  static constexpr std::size_t kWindowRounds = 60;  // rolling window of a target
  static constexpr std::size_t kMinuteBuckets = 60;
  static constexpr std::size_t kHourBuckets = 720;  // 30 days

  explicit Aggregator(AggregatorConfig config = {});
  ~Aggregator();
  Aggregator(const Aggregator&) = delete;
  Aggregator& operator=(const Aggregator&) = delete;
  Aggregator(Aggregator&&) noexcept;
  Aggregator& operator=(Aggregator&&) noexcept;

  // An accepted NBIRTH/NDATA of `node_key` ("<group>/<node>"), metric names resolved. Any message
  // marks the node online and heard from; only live ones change current values and windows.
  void observe(const std::string& node_key, std::span<const Observation> metrics, bool live, std::int64_t now_ms);
  void node_online(const std::string& node_key, std::int64_t now_ms);   // NBIRTH
  void node_offline(const std::string& node_key, std::int64_t now_ms);  // NDEATH (applied)
  // Advances time: node ms accounting, stale detection. About once a second.
  void tick(std::int64_t now_ms);
  // The wall clock stepped by `delta_ms` (new - old): moves every remembered time by it.
  void clock_stepped(std::int64_t delta_ms);
  // The gateway lost the broker at `now_ms`: it hears nothing, so every node is UNKNOWN
  // ("gateway disconnected from the broker since …") and nothing goes stale or accrues uptime
  // until broker_back(), which moves each node's remembered times forward by the deaf interval:
  // that time counts neither as uptime nor as downtime nor as silence.
  void broker_lost(std::int64_t now_ms);
  void broker_back(std::int64_t now_ms);
  bool deaf() const;
  // The evaluator's count of firing alerts of severity warning or worse for the node; > 0 makes
  // an online node DEGRADED. Ignored for a node the aggregator does not know.
  void set_alerts(const std::string& node_key, std::size_t firing_warning_or_worse);

  // Good/total per (subject, hour) accumulated since the last call, for the store (which adds
  // them to what it has). Order: node by node (the node, then its targets), each subject's hours
  // ascending. At most one row per (subject, hour).
  std::vector<UptimeDelta> take_uptime_deltas();
  // Fills the hour ring (and, for the current and previous hour, the minute ring spread evenly)
  // from stored rows; rows outside the 30-day window or of unknown subject shape are skipped.
  // Call once at start, before the first message. Seeded nodes are UNKNOWN until they speak;
  // one never heard from within its stale_after becomes DOWN ("not heard from since ...").
  void seed(std::span<const UptimeDelta> rows, std::int64_t now_ms);

  // Status transitions (including UNKNOWN -> first status) since the last call, oldest first.
  std::vector<StatusChange> take_status_changes();

  NodeStatusInfo status(std::string_view node_key) const;  // unknown key: UNKNOWN, "no message yet"
  std::optional<double> uptime_pct(const std::string& subject, UptimeWindow w) const;  // percent 0..100
  UptimeCounts uptime_counts(const std::string& subject, UptimeWindow w) const;

  // The node's status, uptime, rates and targets; nothing for an unknown node.
  std::optional<NodeSummary> node_summary(std::string_view node_key) const;
  // Counts per status and every node's status, sorted by key.
  FleetSummary fleet_summary() const;
  std::array<std::size_t, kNodeStatuses> status_counts() const;

  std::size_t node_count() const;
  std::size_t target_count() const;
  std::uint64_t dropped_subjects() const;  // nodes/targets refused by the caps
  std::size_t memory_bytes() const;        // approximate heap use of all subjects

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace edgemon::gateway
