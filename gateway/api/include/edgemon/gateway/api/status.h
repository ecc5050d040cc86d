// The gateway's own status, gathered once per request into a plain struct, and written two ways
// from ONE table of fields: GET /api/health (JSON) and GET /metrics (Prometheus text 0.0.4, checked
// by promtool). A counter is added in one place (kStatusFields in status.cpp) and appears in both.
//
// /metrics also has per-node and per-target families from the typed summaries:
//   node_up G (1 HEALTHY or DEGRADED, 0 DOWN, absent while UNKNOWN) ·
//   node_status{status} G one-hot over UNKNOWN/HEALTHY/DEGRADED/DOWN ·
//   node_last_seen_timestamp_seconds G · node_uptime_ratio{window=1h|24h|7d|30d} G ·
//   node_cpu_usage_ratio{stat=avg_5m|max_5m} G · node_messages_per_minute G
// Per target, labels {group,node,family,target}:
//   target_active G (0 once retired; a retired target shows only active and uptime) ·
//   target_up G · target_state G · target_loss_ratio G · target_rtt_seconds{stat=avg|min|max} G ·
//   target_last_seen_timestamp_seconds G · target_uptime_ratio{window} G
// A value that is missing is left out (no sample), never written as 0 or NaN.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <span>
#include <string>

#include "edgemon/gateway/core/aggregator.h"
#include "edgemon/gateway/core/completeness.h"
#include "edgemon/gateway/core/ingest.h"
#include "edgemon/gateway/store/store_writer.h"

namespace edgemon::gateway {

struct WsStatus {
  std::uint64_t clients = 0;
  std::uint64_t frames_sent = 0;
  std::uint64_t coalesced = 0;
  std::uint64_t resyncs = 0;
  std::uint64_t dropped = 0;
  std::uint64_t revoked = 0;
  std::uint64_t resumes = 0;
  std::uint64_t watches = 0;
  std::uint64_t bad_messages = 0;
};

struct IngressStatus {
  std::uint64_t queued = 0;           // messages received, not yet ingested
  std::uint64_t max_queued = 0;       // the bound (backpressure beyond it)
  std::uint64_t backpressure_waits = 0;  // times the MQTT thread waited for room
};

struct GatewayStatus {
  std::string version;
  bool mqtt_connected = false;
  std::uint64_t nodes = 0;
  IngestStats ingest;
  Completeness::Totals samples;  // agent/sample_seq accounting over every node
  std::uint64_t restore_failures = 0;
  std::uint64_t alerts_active = 0;
  std::uint64_t rules = 0;
  std::uint64_t dropped_subjects = 0;  // Aggregator::dropped_subjects()
  std::uint64_t metrics = 0;           // metric slots over every node
  WsStatus ws;
  StoreWriterStats storage;
  IngressStatus ingress;
  std::uint64_t history_queries = 0;
  std::uint64_t history_refused = 0;
  std::uint64_t io_slow_steps = 0;  // io-thread steps over 50 ms (Gateway::watch_step)
  int schema_version = 0;
  std::array<std::size_t, kNodeStatuses> fleet{};  // counts by NodeStatus
};

// GET /api/health.
std::string health_json(const GatewayStatus& s);
// GET /metrics: the table's families, then the per-node families of `nodes` (summaries of every
// node the aggregator knows, sorted by key).
std::string metrics_text(const GatewayStatus& s, std::span<const NodeSummary> nodes);

}  // namespace edgemon::gateway
