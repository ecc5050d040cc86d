// LiveFeed: what a changed node or a change of the alerts becomes for people watching — a
// WebSocket frame (WsHub) and the readable MQTT state (mqtt_republish.h). It is subscribed to the
// pipeline's "node changed" and "alerts changed" (Ingest's Outbox) and never reaches back into it.
//
// Coalescing: a node's metrics go out at most once per `node_interval` (flush(), called every
// `flush_every`); an urgent change (online/offline, status) goes out at once. When nobody watches
// (no WebSocket client within the resume grace, republish off) nothing is built at all.
//
// Spreading: one flush sends at most its share of the fleet (nodes x flush_every / node_interval,
// with a quarter to spare); due nodes beyond it wait for the next flush. Nodes that came due
// together (all born at the gateway's start, or back after a broker outage) thereby drift apart
// instead of going out as one burst a second, a burst every client's queue must drain before an
// urgent frame behind it (1,000 nodes x 10 clients: 10,000 frames, ~150 ms of the io thread).
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
  std::chrono::milliseconds flush_every{50};  // how often the owner calls flush()
};

// Publishes one retained MQTT message at `qos`; false when it could not (not connected).
using RetainedPublisher = std::function<bool(const MqttMessage& message, int qos)>;

class LiveFeed {
 public:
  LiveFeed(LiveConfig config, const FleetState& fleet, const Aggregator& aggregator, const rules::Evaluator& evaluator,
           WsHub& hub, const Clock& clock, RetainedPublisher publish);

  void node_changed(const NodeChange& change);
  void alerts_changed();
  // Sends the coalesced node updates that are due, for about `budget` at most (at least one), and
  // no more than this flush's share (Spreading). Returns true when due updates within the share
  // are left: call again soon (after other work had its turn).
  bool flush(std::chrono::nanoseconds budget = std::chrono::hours(1));
  // Nodes one flush may send (Spreading).
  std::size_t flush_share() const;
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
  std::size_t share_left_ = 0;  // of the current flush's share (a flush may span several calls)
  bool flushing_ = false;       // a flush returned true: the next call continues it
  std::map<std::string, bool> published_online_;          // readable MQTT: availability sent
  std::map<std::string, std::string> published_discovery_;
};

}  // namespace edgemon::gateway
