// The alert rule model: what a rule watches, when it fires and recovers, who is told and when not.
// Plain values, built by rules_config.h from the gateway TOML (or by hand in tests) and consumed by
// the Evaluator (evaluator.h). Reference: docs/rules.md.
//
// Naming: a *subject* is what an alert is about: "<node>" for node rules (node_down, absence
// without a metric) and "<node>/<metric>" for metric rules, e.g. "pi-07/ping/10.0.0.1/up".
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "edgemon/common/clock.h"

namespace edgemon::rules {

using Duration = std::chrono::milliseconds;

enum class Severity : std::uint8_t { kInfo, kWarning, kCritical };
const char* to_string(Severity s);
bool parse_severity(std::string_view text, Severity& out);

enum class RuleKind : std::uint8_t {
  kThreshold,  // value <op> threshold, for a duration or N consecutive samples; recovery threshold
  kFailure,    // probe up/ok metric: N consecutive failed samples (value == 0) -> fire, M ok -> recover
  kErrorRate,  // % of failed samples (value == 0) over the last `window` samples
  kAbsence,    // no sample (of `metric`, or of anything from the node) for `for_duration`
  kNodeDown,   // NDEATH / node offline (for `for_duration`, default at once); NBIRTH recovers
};
const char* to_string(RuleKind k);

enum class Op : std::uint8_t { kGreater, kGreaterEqual, kLess, kLessEqual, kEqual, kNotEqual };
const char* to_string(Op op);
bool parse_op(std::string_view text, Op& out);
bool compare(Op op, double value, double threshold);
// The opposite test used for recovery: for '>' a value recovers when it is below the recovery
// threshold, for '<' when above, for '==' when '!=' and back.
bool recovered(Op op, double value, double recovery);

struct Rule {
  std::string name;                 // unique, [A-Za-z0-9_.-]
  RuleKind kind = RuleKind::kThreshold;
  std::string metric;               // glob: '*' matches within one '/' segment ("ping/*/rtt")
  std::vector<std::string> nodes;   // node globs ('*' matches anything); empty: every node
  std::string type;                 // alert type: HIGH_CPU, DEGRADED, SERVICE_DOWN, NODE_DOWN...
  Severity severity = Severity::kWarning;

  // kThreshold / kErrorRate
  Op op = Op::kGreater;
  double threshold = 0;
  std::optional<double> recovery;   // hysteresis; unset: the threshold itself
  // kThreshold: fire after `samples` consecutive bad samples, or (if set) once bad for `for_duration`.
  // kFailure: samples = failure threshold. kAbsence / kNodeDown: for_duration.
  std::uint32_t samples = 1;
  std::optional<Duration> for_duration;
  std::uint32_t recovery_samples = 1;  // consecutive good samples to recover (kFailure: success threshold)
  // kErrorRate: the sample window, and the fewest samples before it may fire.
  std::uint32_t window = 10;
  std::uint32_t min_samples = 10;

  // Notification policy; unset: the AlertingSettings defaults.
  std::optional<Duration> repeat_interval;
  std::optional<Duration> cooldown;
};

// Alert labels used by silences, maintenance windows and grouping.
// Keys: rule, type, severity, node, subject, metric, target.
using Labels = std::map<std::string, std::string, std::less<>>;

// label -> glob ('*' matches anything). Every matcher must match; a missing label matches "".
using Matchers = std::map<std::string, std::string, std::less<>>;
bool matches(const Matchers& matchers, const Labels& labels);

struct Silence {
  std::uint64_t id = 0;       // assigned by the Evaluator when 0
  Matchers matchers;
  std::optional<WallTime> starts;  // unset: now
  WallTime until{};
  std::string comment;
  bool active_at(WallTime t) const { return (!starts || t >= *starts) && t < until; }
};

// A weekly window, e.g. days {sat, sun} 02:00-04:00. `end` <= `start` crosses midnight (the window
// opened on a listed day ends the next day). Times are at a fixed UTC offset (no DST rules).
struct MaintenanceWindow {
  std::string name;
  std::uint8_t days_mask = 0x7f;  // bit 0 = Sunday ... bit 6 = Saturday
  std::int32_t start_minute = 0;  // minute of the day, 0..1439
  std::int32_t end_minute = 0;
  std::int32_t utc_offset_minutes = 0;
  Matchers matchers;              // empty: everything
  bool active_at(WallTime t) const;
};

struct AlertingSettings {
  Duration repeat_interval = std::chrono::hours(4);
  Duration cooldown = std::chrono::minutes(5);
  std::vector<std::string> group_by{"rule", "node"};
  // Connectivity awareness: a node's uplink is down when the node is offline or the latest sample
  // of "ping/<uplink target>/up" is 0. While it is down, alerts about the node's other targets are
  // not raised (they stay pending).
  std::string uplink_target;                          // default for every node; "" = none
  std::map<std::string, std::string, std::less<>> uplink_targets;  // node -> target overrides
};

struct RuleSet {
  AlertingSettings settings;
  std::vector<Rule> rules;
  std::vector<Silence> silences;
  std::vector<MaintenanceWindow> maintenance;
};

// '*' matches any run of characters except '/' when `segmented`, any characters otherwise.
bool glob_match(std::string_view pattern, std::string_view text, bool segmented);

// The probe target named by a metric, "" if none: "ping/10.0.0.1/rtt" -> "10.0.0.1". The probe
// families and the split are the telemetry contract's (edgemon/common/metric_key.h).
std::string_view target_of(std::string_view metric);

}  // namespace edgemon::rules
