// The node document, written from the typed state (FleetState's node + the Aggregator's summary).
// One writer for GET /api/nodes, GET /api/nodes/<group>/<node>, WebSocket "node" frames and the
// readable MQTT state topic:
//   {"group","id","online","last_seen","metrics":[{"name","unit","ts","stale","value"}],
//    "key","status","status_reason","uptime":{"1h","24h","7d","30d"},"rate_per_min",
//    "cpu":{"avg_5m","max_5m"},"targets":[target...]}
// The summary's members are present when the aggregator knows the node. A target:
//   {"key","family","target","active","state","up","loss_pct","rtt_avg","rtt_min","rtt_max",
//    "rounds","last_seen","last_up","uptime":{...}}
// Missing values are null.
//
// The card view (NodeView::kCard, WebSocket clients on the fleet overview: docs/protocol.md,
// "Views") is the same document with "view":"card", only the metrics a node card shows
// (card_metric()) and no "targets": about a tenth of a real agent's full document.
#pragma once

#include <string>

#include "edgemon/gateway/api/json_writer.h"
#include "edgemon/gateway/core/aggregator.h"
#include "edgemon/gateway/core/fleet_state.h"

namespace edgemon::gateway {

enum class NodeView : std::uint8_t { kFull, kCard };

// The metrics a node card on the overview shows: the display name, total CPU, and each ping
// target's round-trip time and round result.
bool card_metric(const MetricKey& key);

// `values`: also a flat "values" object name -> value (the readable MQTT state).
void write_node(JsonWriter& w, const NodeState& node, const NodeSummary* summary, bool values = false,
                NodeView view = NodeView::kFull);
std::string node_json(const NodeState& node, const NodeSummary* summary, NodeView view = NodeView::kFull);
// The same with the aggregator's summary of the node, when it has one.
std::string node_json(const NodeState& node, const Aggregator& aggregator, NodeView view = NodeView::kFull);
// Every node, sorted by key: the array of /api/nodes and of the WebSocket snapshot.
std::string nodes_json(const FleetState& fleet, const Aggregator& aggregator, NodeView view = NodeView::kFull);
void write_uptime(JsonWriter& w, const UptimePct& u);
void write_target_summary(JsonWriter& w, const TargetSummary& t);
// {"counts":{"DEGRADED","DOWN","HEALTHY","UNKNOWN"},"nodes":[{"key","status","status_reason","last_seen"}]}
std::string fleet_json(const FleetSummary& fleet);

}  // namespace edgemon::gateway
