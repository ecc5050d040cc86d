#include "edgemon/gateway/core/fleet_state.h"

namespace edgemon::gateway {

ApplyResult FleetState::apply(const Topic& topic, TelemetryMessage msg, std::int64_t received_ms) {
  std::string key = topic.group + "/" + topic.node;
  auto slot = nodes_.find(key);
  if (slot == nodes_.end()) {
    slot = nodes_.emplace(key, NodeState{}).first;
    slot->second.group = topic.group;
    slot->second.id = topic.node;
    slot->second.key = std::move(key);
  }
  NodeState& node = slot->second;
  ApplyResult r;
  r.node = &node;
  r.was_online = node.online;
  node.last_seen_ms = received_ms;

  switch (msg.kind) {
    case MessageKind::kDeath:
      // A will from an older session must not take down the current one. Without a birth we
      // cannot tell, and a death is the safer reading.
      if (!node.birth_seen || msg.bd_seq == node.bd_seq) {
        node.online = false;
        node.birth_seen = false;
        node.last_seq.reset();
        node.stale.assign(node.metrics.size(), true);
      }
      return r;
    case MessageKind::kCommand:
      return r;
    case MessageKind::kBirth:
      node.online = true;
      node.bd_seq = msg.bd_seq;
      node.birth_seen = true;
      // Sparkplug: a birth declares the node's whole metric set; what it leaves out (a ping
      // target removed by a new configuration) is gone.
      node.metrics.clear();
      node.stale.clear();
      node.index.clear();
      node.aliases.clear();
      node.last_seq = msg.seq;
      break;
    case MessageKind::kData:
      if (node.last_seq && msg.seq == *node.last_seq) {
        ++node.duplicates;
        r.duplicate = true;
        return r;
      }
      if (node.last_seq && msg.seq != (*node.last_seq + 1) % 256) {
        ++node.gaps;
        r.gap = true;
        r.needs_rebirth = true;
      }
      if (!node.birth_seen) r.needs_rebirth = true;
      node.last_seq = msg.seq;
      node.online = true;
      break;
  }

  for (Metric& m : msg.metrics) {
    std::size_t pos = 0;
    if (m.name.empty()) {
      const auto it = m.alias ? node.aliases.find(*m.alias) : node.aliases.end();
      if (it == node.aliases.end()) {
        ++r.unknown_aliases;
        r.needs_rebirth = true;
        continue;
      }
      pos = it->second;
      m.name = node.metrics[pos].name;
      if (m.unit.empty()) m.unit = node.metrics[pos].unit;
      if (msg.kind != MessageKind::kBirth) m.type = node.metrics[pos].type;
    } else {
      const auto it = node.index.find(m.name);
      if (it == node.index.end()) {
        pos = node.metrics.size();
        node.index.emplace(m.name, pos);
        node.metrics.push_back(m);
        node.stale.push_back(false);
      } else {
        pos = it->second;
        if (m.unit.empty() && msg.kind != MessageKind::kBirth) m.unit = node.metrics[pos].unit;
      }
      if (msg.kind == MessageKind::kBirth && m.alias) node.aliases[*m.alias] = pos;
    }
    Metric& current = node.metrics[pos];
    // A replayed (historical) sample must not overwrite a live value of the same age or newer: an
    // agent's NBIRTH can share its millisecond with the last buffered sample, and the birth is the
    // current state (the sample reports its buffer's drop count from before its own append).
    if (!(m.historical && m.ts_ms <= current.ts_ms)) {
      current = m;
      node.stale[pos] = false;
    }
    r.accepted.push_back(std::move(m));
  }
  return r;
}

const NodeState* FleetState::find(const std::string& group, const std::string& id) const {
  const auto it = nodes_.find(group + "/" + id);
  return it == nodes_.end() ? nullptr : &it->second;
}

nlohmann::json FleetState::node_json(const NodeState& node) const {
  nlohmann::json metrics = nlohmann::json::array();
  for (std::size_t i = 0; i < node.metrics.size(); ++i) {
    const Metric& m = node.metrics[i];
    nlohmann::json jm = {{"name", m.name}, {"unit", m.unit}, {"ts", m.ts_ms}, {"stale", node.stale[i]}};
    if (m.type == MetricType::kString) {
      jm["value"] = m.text;
    } else if (m.value) {
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
