#include "edgemon/gateway/core/fleet_state.h"

namespace edgemon::gateway {

const MetricSlot* NodeState::find(std::string_view name) const {
  const auto it = index.find(std::string(name));
  return it == index.end() ? nullptr : &metrics[it->second];
}

std::optional<std::uint64_t> NodeState::count_at(std::uint32_t slot) const {
  if (slot >= metrics.size() || !metrics[slot].value) return std::nullopt;
  const double v = *metrics[slot].value;
  // Sparkplug carries these as UInt64; a double holds them exactly up to 2^53.
  if (!(v >= 0) || v > 9007199254740992.0) return std::nullopt;
  return static_cast<std::uint64_t>(v);
}

std::string_view NodeState::text(std::string_view name) const {
  const MetricSlot* slot = find(name);
  return slot == nullptr ? std::string_view() : std::string_view(slot->text);
}

ApplyResult FleetState::apply(const Topic& topic, TelemetryMessage&& msg, std::int64_t received_ms) {
  key_.assign(topic.group).append("/").append(topic.node);  // reused: no allocation per message
  auto slot = nodes_.find(key_);
  if (slot == nodes_.end()) {
    slot = nodes_.emplace(key_, NodeState{}).first;
    slot->second.group = topic.group;
    slot->second.id = topic.node;
    slot->second.key = key_;
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
        for (MetricSlot& m : node.metrics) m.stale = true;
        r.went_offline = r.was_online;
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
      metric_count_ -= node.metrics.size();
      node.metrics.clear();
      node.index.clear();
      node.aliases.clear();
      node.seq_slot = node.dropped_slot = node.damaged_slot = NodeState::kNoSlot;
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

  const bool birth = msg.kind == MessageKind::kBirth;
  const std::size_t known = birth ? 0 : node.metrics.size();  // slots `names` already has
  r.accepted.reserve(msg.metrics.size());
  for (Metric& m : msg.metrics) {
    std::uint32_t pos = 0;
    if (m.name.empty()) {
      const std::uint32_t found = m.alias ? node.aliases.find(*m.alias) : AliasTable::kNone;
      if (found == AliasTable::kNone) {
        ++r.unknown_aliases;
        r.needs_rebirth = true;
        continue;
      }
      if (found == NodeState::kRefusedSlot) continue;  // refused at birth, counted there
      pos = found;
    } else {
      const auto it = node.index.find(m.name);
      if (it == node.index.end()) {
        const bool fleet_full = metric_count_ >= limits_.max_metrics_total;
        if (fleet_full || node.metrics.size() >= limits_.max_metrics_per_node) {
          ++r.refused_metrics;
          r.fleet_cap = r.fleet_cap || fleet_full;
          ++node.metrics_refused;
          if (birth && m.alias) node.aliases.set(*m.alias, NodeState::kRefusedSlot, msg.metrics.size());
          continue;
        }
        pos = static_cast<std::uint32_t>(node.metrics.size());
        MetricSlot fresh;
        fresh.unit = m.unit;
        fresh.type = m.type;
        fresh.key = MetricKey(m.name);  // the one parse of this name for this node
        if (fresh.key.family() == Family::kAgent) {
          switch (fresh.key.leaf()) {
            case Leaf::kSampleSeq: node.seq_slot = pos; break;
            case Leaf::kBufferDropped: node.dropped_slot = pos; break;
            case Leaf::kBufferDamaged: node.damaged_slot = pos; break;
            default: break;
          }
        }
        node.index.emplace(std::move(m.name), pos);
        node.metrics.push_back(std::move(fresh));
        ++metric_count_;
      } else {
        pos = it->second;
      }
      if (birth && m.alias) node.aliases.set(*m.alias, pos, msg.metrics.size());
    }
    MetricSlot& current = node.metrics[pos];
    if (birth) {
      current.type = m.type;
      if (!m.unit.empty()) current.unit = std::move(m.unit);
    } else if (!m.unit.empty() && current.unit.empty()) {
      current.unit = std::move(m.unit);
    }
    // A replayed (historical) sample must not overwrite a live value of the same age or newer: an
    // agent's NBIRTH can share its millisecond with the last buffered sample, and the birth is the
    // current state (the sample reports its buffer's drop count from before its own append).
    if (!(m.historical && m.ts_ms <= current.ts_ms)) {
      current.value = m.value;
      current.ts_ms = m.ts_ms;
      if (current.type == MetricType::kString) current.text = std::move(m.text);
      current.stale = false;
    }
    r.live = r.live || !m.historical;
    r.accepted.push_back(AcceptedSample{pos, m.value, m.ts_ms, m.historical});
  }
  if (birth || node.metrics.size() != known || node.names == nullptr) {
    auto names = std::make_shared<SeriesNames>();
    names->reserve(node.metrics.size());
    for (const MetricSlot& m : node.metrics) names->push_back(SeriesName{m.key.name(), m.unit});
    node.names = std::move(names);
  }
  return r;
}

std::optional<std::uint64_t> FleetState::sample_seq_in(const Topic& topic, const TelemetryMessage& msg) const {
  const NodeState* node = find(topic.group, topic.node);
  if (node == nullptr || node->seq_slot == NodeState::kNoSlot || !node->birth_seen) return std::nullopt;
  for (const Metric& m : msg.metrics) {
    const bool is_seq = m.name.empty() ? (m.alias && node->aliases.find(*m.alias) == node->seq_slot)
                                       : m.name == node->metrics[node->seq_slot].key.name();
    if (!is_seq) continue;
    if (!m.value || !(*m.value >= 0) || *m.value > 9007199254740992.0) return std::nullopt;
    return static_cast<std::uint64_t>(*m.value);
  }
  return std::nullopt;
}

const NodeState* FleetState::find(std::string_view group, std::string_view id) const {
  std::string key;
  key.reserve(group.size() + 1 + id.size());
  key.append(group).append("/").append(id);
  return find(std::string_view(key));
}

const NodeState* FleetState::find(std::string_view key) const {
  const auto it = nodes_.find(key);
  return it == nodes_.end() ? nullptr : &it->second;
}

}  // namespace edgemon::gateway
