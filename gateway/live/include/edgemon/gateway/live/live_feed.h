// LiveFeed: what a changed node or a change of the alerts becomes for people watching — a
// WebSocket frame (WsHub) and the readable MQTT state (mqtt_republish.h). It is subscribed to the
// pipeline's "node changed" and "alerts changed" (Ingest's Outbox) and never reaches back into it.
//
// Coalescing: a node's metrics go out at most once per `node_interval` (flush(), called from the
// gateway's tick); an urgent change (online/offline, status) goes out at once. When nobody watches
// (no WebSocket client within the resume grace, republish off) nothing is built at all.
// Time: the monotonic clock only.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <unordered_map>

#include "edgemon/common/clock.h"
#include "edgemon/gateway/core/aggregator.h"
#include "edgemon/gateway/core/fleet_state.h"
#include "edgemon/gateway/core/ingest.h"
#include "edgemon/gateway/live/mqtt_republish.h"
#include "edgemon/gateway/live/ws_hub.h"
#include "edgemon/rules/evaluator.h"

namespace edgemon::gateway {

struct LiveConfig {
  RepublishConfig republish;
  std::string gateway_version;
  std::chrono::milliseconds node_interval{1000};
};

// Publishes one retained MQTT message at `qos`; false when it could not (not connected).
using RetainedPublisher = std::function<bool(const MqttMessage& message, int qos)>;

class LiveFeed {
 public:
  LiveFeed(LiveConfig config, const FleetState& fleet, const Aggregator& aggregator, const rules::Evaluator& evaluator,
           WsHub& hub, const Clock& clock, RetainedPublisher publish);

  void node_changed(const NodeChange& change);
  void alerts_changed();
  // Sends the coalesced node updates that are due, for about `budget` at most (at least one).
  // Returns true when due updates are left: call again soon (after other work had its turn).
  bool flush(std::chrono::nanoseconds budget = std::chrono::hours(1));
  // The broker lost its retained messages (it may not persist them): publish availability and
  // discovery again with the next update of each node.
  void broker_reconnected();

  std::size_t pending() const { return pending_.size(); }

 private:
  void send(const NodeState& node);

  LiveConfig config_;
  const FleetState& fleet_;
  const Aggregator& aggregator_;
  const rules::Evaluator& evaluator_;
  WsHub& hub_;
  const Clock& clock_;
  RetainedPublisher publish_;
  std::unordered_map<const NodeState*, MonoTime> last_sent_;  // node -> its last frame
  std::set<const NodeState*> pending_;                         // nodes with unsent changes
  std::map<std::string, bool> published_online_;          // readable MQTT: availability sent
  std::map<std::string, std::string> published_discovery_;
};

}  // namespace edgemon::gateway
