// FleetState: the latest known state of every node, fed by decoded telemetry. Single-threaded
// (lives on the gateway's io thread). Produces the JSON the WebSocket feed and REST API send.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "edgemon/common/telemetry.h"

namespace edgemon::gateway {

struct NodeState {
  std::string group;
  std::string id;
  bool online = false;
  std::int64_t last_seen_ms = 0;
  std::uint64_t bd_seq = 0;
  bool birth_seen = false;  // false: joined mid-session, bd_seq unknown
  std::vector<Metric> metrics;                    // in first-seen order
  std::unordered_map<std::string, std::size_t> index;  // name -> position in metrics
};

class FleetState {
 public:
  // Applies one message for `topic`; returns the node it changed.
  const NodeState& apply(const Topic& topic, const TelemetryMessage& msg, std::int64_t received_ms);

  const NodeState* find(const std::string& group, const std::string& id) const;
  std::size_t size() const { return nodes_.size(); }

  nlohmann::json node_json(const NodeState& node) const;
  nlohmann::json nodes_json() const;

 private:
  std::map<std::string, NodeState> nodes_;  // key "<group>/<id>", sorted for stable output
};

}  // namespace edgemon::gateway
