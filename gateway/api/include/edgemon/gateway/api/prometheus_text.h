// Prometheus text exposition format 0.0.4 (`text/plain; version=0.0.4; charset=utf-8`): a small
// writer, and the gateway's /metrics rendered from a plain input struct.
//
// PrometheusText takes untrusted strings (node ids, target names come from devices) and never
// emits text a scraper would reject:
//   - metric names must match [a-zA-Z_:][a-zA-Z0-9_:]*, label names [a-zA-Z_][a-zA-Z0-9_]* and
//     must not start with "__" (reserved); a counter's name must end in "_total". A family or
//     sample that breaks a rule is refused (never emitted) and counted in dropped().
//   - label values: invalid UTF-8 is replaced by U+FFFD (one per maximal invalid subpart), then
//     backslash, double quote and newline are escaped as \\ \" \n. HELP text: the same UTF-8
//     repair, then backslash and newline escaped as \\ \n.
//   - values: shortest round-trip decimal ("1", "0.25", "1.5e-07"); NaN, +Inf, -Inf as "NaN",
//     "+Inf", "-Inf".
//   - each family's HELP and TYPE lines appear once, followed by all of its samples, in the order
//     families were first declared; a family that got no sample is left out entirely. Declaring
//     a family again (same name and type) selects it again, so callers may interleave families;
//     the samples are still written contiguously.
//   - within a family a label set appears at most once: a later sample whose label set (compared
//     after UTF-8 repair, in any label order) equals an earlier one's is dropped, the first wins.
//     (Two distinct device strings can collide after U+FFFD repair.)
// Labels are written in the order given.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace edgemon::gateway {

inline constexpr std::string_view kPrometheusContentType =
    "text/plain; version=0.0.4; charset=utf-8";

enum class PromType : std::uint8_t { kGauge, kCounter };

struct PromLabel {
  std::string_view name;
  std::string_view value;
};

bool valid_prom_metric_name(std::string_view name);  // [a-zA-Z_:][a-zA-Z0-9_:]*
bool valid_prom_label_name(std::string_view name);   // [a-zA-Z_][a-zA-Z0-9_]*, not "__"-prefixed
// `s` with every maximal invalid UTF-8 subpart (and encoded surrogates, overlongs, > U+10FFFF)
// replaced by U+FFFD.
std::string repair_utf8(std::string_view s);
// 0.0.4 escaping, after repair_utf8().
std::string prom_escape_label_value(std::string_view s);
std::string prom_escape_help(std::string_view s);
std::string prom_format_value(double v);

class PrometheusText {
 public:
  PrometheusText();
  ~PrometheusText();
  PrometheusText(PrometheusText&&) noexcept;
  PrometheusText& operator=(PrometheusText&&) noexcept;

  // Selects the family that following sample() calls add to, declaring it on first use (help and
  // type are fixed then; a later call's help is ignored). Returns false, and drops the samples
  // until the next successful family(), when the name is invalid, a counter's name does not end
  // in "_total", or the name was declared before with the other type.
  bool family(std::string_view name, std::string_view help, PromType type);

  // Adds a sample to the selected family. Returns false (sample dropped, counted) when there is
  // no selected family, a label name is invalid or repeated, or the label set is a duplicate.
  bool sample(std::span<const PromLabel> labels, double value);
  bool sample(std::initializer_list<PromLabel> labels, double value) {
    return sample(std::span<const PromLabel>(labels.begin(), labels.size()), value);
  }
  bool sample(double value) { return sample(std::span<const PromLabel>{}, value); }

  // The exposition text (ends with a newline unless empty); the writer is empty afterwards.
  std::string take();

  std::size_t dropped() const;  // samples refused since construction (including by family())

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// What /metrics shows, gathered by the gateway on its io thread. Plain data so it can be built in
// tests without a gateway.
struct GatewayMetricsInput {
  std::string version;
  bool mqtt_connected = false;
  std::uint64_t messages_accepted = 0;
  std::map<std::string, std::uint64_t> rejected_by_reason;
  std::uint64_t duplicates = 0;
  std::uint64_t sequence_gaps = 0;
  std::uint64_t rebirth_requests = 0;
  std::uint64_t notifications = 0;
  std::uint64_t restore_failures = 0;
  std::size_t ws_clients = 0;
  // WsHub::stats()
  std::uint64_t ws_frames_sent = 0;
  std::uint64_t ws_coalesced = 0;
  std::uint64_t ws_resyncs = 0;
  std::uint64_t ws_dropped = 0;
  std::uint64_t ws_revoked = 0;
  std::uint64_t ws_resumes = 0;
  std::size_t alerts_active = 0;
  std::size_t rules = 0;
  std::uint64_t dropped_subjects = 0;  // Aggregator::dropped_subjects()

  // StoreWriterStats
  bool storage_ok = true;
  std::uint64_t committed_rows = 0;
  std::uint64_t committed_batches = 0;
  std::uint64_t pending_rows = 0;
  std::uint64_t dropped_rows = 0;
  std::uint64_t write_failures = 0;
  std::uint64_t maintenance_runs = 0;
  std::uint64_t maintenance_failures = 0;

  // Aggregator::fleet_summary() (only "counts" is read), and Aggregator::node_summary() of each
  // node (null entries are skipped). Fields of the wrong type are treated as missing.
  nlohmann::json fleet_summary;
  std::vector<nlohmann::json> node_summaries;
};

// Families (prefix edgemon_; G gauge, C counter; ratios 0..1, times in seconds):
//   build_info{version} G =1 · mqtt_connected G · messages_accepted_total C ·
//   messages_rejected_total{reason} C · messages_duplicate_total C · sequence_gaps_total C ·
//   rebirth_requests_total C · notifications_total C · restore_failures_total C ·
//   websocket_clients G · websocket_frames_sent_total C · websocket_frames_coalesced_total C ·
//   websocket_resyncs_total C · websocket_clients_dropped_total C · websocket_clients_revoked_total C ·
//   websocket_resumes_total C · alerts_active G · rules G · aggregator_dropped_subjects_total C ·
//   storage_ok G · storage_committed_rows_total C · storage_committed_batches_total C ·
//   storage_pending_rows G · storage_dropped_rows_total C · storage_write_failures_total C ·
//   storage_maintenance_runs_total C · storage_maintenance_failures_total C ·
//   nodes{status} G (all four statuses, 0 when none)
// Per node, labels {group,node} (from "key" = "<group>/<node>", split at the first '/'):
//   node_up G (1 HEALTHY or DEGRADED, 0 DOWN, absent while UNKNOWN) ·
//   node_status{status} G one-hot over UNKNOWN/HEALTHY/DEGRADED/DOWN ·
//   node_last_seen_timestamp_seconds G · node_uptime_ratio{window=1h|24h|7d|30d} G ·
//   node_cpu_usage_ratio{stat=avg_5m|max_5m} G · node_messages_per_minute G
// Per target, labels {group,node,family,target}:
//   target_active G (0 once retired; a retired target shows only active and uptime) ·
//   target_up G · target_state G (the agent's code: 0 unknown, 1 up, 2 degraded, 3 down) ·
//   target_loss_ratio G · target_rtt_seconds{stat=avg|min|max} G ·
//   target_last_seen_timestamp_seconds G · target_uptime_ratio{window} G
// A value the summary has as null is left out (no sample), never written as 0 or NaN.
std::string render_gateway_metrics(const GatewayMetricsInput& in);

}  // namespace edgemon::gateway
