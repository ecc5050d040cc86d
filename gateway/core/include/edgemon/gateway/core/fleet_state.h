// FleetState: the latest known state of every node, fed by decoded Sparkplug messages.
// Single-threaded (lives on the gateway's io thread). Produces the JSON the WebSocket feed and
// the REST API send.
//
// Sparkplug bookkeeping per node: the alias table from the last NBIRTH (NDATA carries aliases
// only), the expected next `seq` (a jump is a gap: the caller asks the node for a rebirth), and
// the last `seq` (the same seq again is a QoS 1 redelivery and is ignored, not counted twice).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "edgemon/common/telemetry.h"

namespace edgemon::gateway {

struct NodeState {
  std::string group;
  std::string id;
  std::string key;  // "<group>/<id>": the node's key for the aggregator, the rules and the API
  bool online = false;
  std::int64_t last_seen_ms = 0;
  std::uint64_t bd_seq = 0;
  bool birth_seen = false;                 // false: joined mid-session, aliases unknown
  std::optional<std::uint64_t> last_seq;   // seq of the last accepted NBIRTH/NDATA
  std::uint64_t gaps = 0;
  std::uint64_t duplicates = 0;
  std::vector<Metric> metrics;                          // in first-seen order, names resolved
  // Parallel to `metrics`: the value is from a session that has ended (Sparkplug: an NDEATH makes
  // every metric of the node stale until the next NBIRTH or NDATA sets it again).
  std::vector<bool> stale;
  std::unordered_map<std::string, std::size_t> index;   // name -> position in metrics
  std::unordered_map<std::uint64_t, std::size_t> aliases;  // alias -> position in metrics
};

struct ApplyResult {
  NodeState* node = nullptr;
  bool was_online = false;       // node->online before this message
  bool duplicate = false;        // redelivery: nothing applied
  bool gap = false;              // seq jumped: some message was lost
  bool needs_rebirth = false;    // gap, data without a birth, or an unknown alias
  std::size_t unknown_aliases = 0;
  std::vector<Metric> accepted;  // the message's metrics with names resolved (for history)
};

class FleetState {
 public:
  ApplyResult apply(const Topic& topic, TelemetryMessage msg, std::int64_t received_ms);

  const NodeState* find(const std::string& group, const std::string& id) const;
  std::size_t size() const { return nodes_.size(); }
  const std::map<std::string, NodeState>& nodes() const { return nodes_; }  // by key

  nlohmann::json node_json(const NodeState& node) const;
  nlohmann::json nodes_json() const;

 private:
  std::map<std::string, NodeState> nodes_;  // key "<group>/<id>", sorted for stable output
};

}  // namespace edgemon::gateway
