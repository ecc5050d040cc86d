#include "edgemon/gateway/api/node_json.h"

namespace edgemon::gateway {
namespace {

void write_metric_value(JsonWriter& w, const MetricSlot& m) {
  if (m.type == MetricType::kString) {
    w.value(m.text);
  } else {
    w.value(m.value);
  }
}

}  // namespace

bool card_metric(const MetricKey& key) {
  if (key.family() == Family::kPing) return key.leaf() == Leaf::kRtt || key.leaf() == Leaf::kUp;
  return key.name() == "cpu/total" || key.name() == "agent/name";
}

void write_uptime(JsonWriter& w, const UptimePct& u) {
  w.begin_object().member("1h", u.h1).member("24h", u.h24).member("7d", u.d7).member("30d", u.d30).end_object();
}

void write_target_summary(JsonWriter& w, const TargetSummary& t) {
  w.begin_object()
      .member("key", t.key)
      .member("family", to_string(t.family))
      .member("target", t.target)
      .member("active", t.active)
      .member("state", t.state)
      .member("up", t.up)
      .member("loss_pct", t.loss_pct)
      .member("rtt_avg", t.rtt_avg)
      .member("rtt_min", t.rtt_min)
      .member("rtt_max", t.rtt_max)
      .member("rounds", static_cast<std::uint64_t>(t.rounds))
      .member("last_seen", t.last_seen)
      .member("last_up", t.last_up)
      .key("uptime");
  write_uptime(w, t.uptime);
  w.end_object();
}

void write_node(JsonWriter& w, const NodeState& node, const NodeSummary* summary, bool values, NodeView view) {
  const bool card = view == NodeView::kCard;
  w.begin_object().member("group", node.group).member("id", node.id);
  if (card) w.member("view", "card");
  w.member("online", node.online).member("last_seen", node.last_seen_ms).key("metrics").begin_array();
  for (const MetricSlot& m : node.metrics) {
    if (card && !card_metric(m.key)) continue;
    w.begin_object().member("name", m.key.name()).member("unit", m.unit).member("ts", m.ts_ms).member("stale", m.stale);
    w.key("value");
    write_metric_value(w, m);
    w.end_object();
  }
  w.end_array();
  if (summary != nullptr) {
    w.member("key", summary->key)
        .member("status", to_string(summary->status))
        .member("status_reason", summary->status_reason)
        .key("uptime");
    write_uptime(w, summary->uptime);
    w.member("rate_per_min", summary->rate_per_min)
        .key("cpu")
        .begin_object()
        .member("avg_5m", summary->cpu_avg_5m)
        .member("max_5m", summary->cpu_max_5m)
        .end_object();
    if (!card) {
      w.key("targets").begin_array();
      for (const TargetSummary& t : summary->targets) write_target_summary(w, t);
      w.end_array();
    }
  }
  if (values) {
    w.key("values").begin_object();
    for (const MetricSlot& m : node.metrics) {
      w.key(m.key.name());
      write_metric_value(w, m);
    }
    w.end_object();
  }
  w.end_object();
}

std::string node_json(const NodeState& node, const NodeSummary* summary, NodeView view) {
  JsonWriter w;
  write_node(w, node, summary, false, view);
  return w.take();
}

std::string node_json(const NodeState& node, const Aggregator& aggregator, NodeView view) {
  const std::optional<NodeSummary> summary = aggregator.node_summary(node.key);
  return node_json(node, summary ? &*summary : nullptr, view);
}

std::string nodes_json(const FleetState& fleet, const Aggregator& aggregator, NodeView view) {
  JsonWriter w;
  w.begin_array();
  for (const auto& [key, node] : fleet.nodes()) {
    const std::optional<NodeSummary> summary = aggregator.node_summary(key);
    write_node(w, node, summary ? &*summary : nullptr, false, view);
  }
  w.end_array();
  return w.take();
}

std::string fleet_json(const FleetSummary& fleet) {
  JsonWriter w;
  w.begin_object().key("counts").begin_object();
  // Alphabetical, as the API always listed them.
  for (const NodeStatus s : {NodeStatus::kDegraded, NodeStatus::kDown, NodeStatus::kHealthy, NodeStatus::kUnknown}) {
    w.member(to_string(s), static_cast<std::uint64_t>(fleet.counts[static_cast<std::size_t>(s)]));
  }
  w.end_object().key("nodes").begin_array();
  for (const FleetEntry& e : fleet.nodes) {
    w.begin_object()
        .member("key", e.key)
        .member("status", to_string(e.status))
        .member("status_reason", e.status_reason)
        .member("last_seen", e.last_seen)
        .end_object();
  }
  w.end_array().end_object();
  return w.take();
}

}  // namespace edgemon::gateway
