#include "edgemon/gateway/fleet_state.h"

namespace edgemon::gateway {

const NodeState& FleetState::apply(const Topic& topic, const TelemetryMessage& msg, std::int64_t received_ms) {
  NodeState& node = nodes_[topic.group + "/" + topic.node];
  if (node.id.empty()) {
    node.group = topic.group;
    node.id = topic.node;
  }
  node.last_seen_ms = received_ms;
  switch (msg.kind) {
    case MessageKind::kBirth:
      node.online = true;
      node.bd_seq = msg.bd_seq;
      node.birth_seen = true;
      break;
    case MessageKind::kData:
      node.online = true;
      break;
    case MessageKind::kDeath:
      // A will from an older session must not take down the current one. Without a birth we
      // cannot tell, and a death is the safer reading.
      if (!node.birth_seen || msg.bd_seq == node.bd_seq) node.online = false;
      return node;
    case MessageKind::kCommand:
      return node;
  }
  for (const Metric& m : msg.metrics) {
    const auto it = node.index.find(m.name);
    if (it == node.index.end()) {
      node.index.emplace(m.name, node.metrics.size());
      node.metrics.push_back(m);
    } else {
      node.metrics[it->second] = m;
    }
  }
  return node;
}

const NodeState* FleetState::find(const std::string& group, const std::string& id) const {
  const auto it = nodes_.find(group + "/" + id);
  return it == nodes_.end() ? nullptr : &it->second;
}

nlohmann::json FleetState::node_json(const NodeState& node) const {
  nlohmann::json metrics = nlohmann::json::array();
  for (const Metric& m : node.metrics) {
    nlohmann::json jm = {{"name", m.name}, {"unit", m.unit}, {"ts", m.ts_ms}};
    if (m.value) {
      jm["value"] = *m.value;
    } else {
      jm["value"] = nullptr;
    }
    metrics.push_back(std::move(jm));
  }
  return {{"group", node.group}, {"id", node.id}, {"online", node.online},
          {"last_seen", node.last_seen_ms}, {"metrics", std::move(metrics)}};
}

nlohmann::json FleetState::nodes_json() const {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& [key, node] : nodes_) out.push_back(node_json(node));
  return out;
}

}  // namespace edgemon::gateway
