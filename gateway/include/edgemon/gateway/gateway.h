// Gateway: MQTT ingest -> decode/validate -> fleet state -> aggregation + alert rules -> history
// (SQLite, on the StoreWriter's thread) -> WebSocket fan-out.
// Paho delivers on its own thread; every message is posted to the one io thread, which owns all
// state, so nothing here needs a lock. The io thread never waits for SQLite: writes are queued to
// the StoreWriter, reads for the API use a separate read-only connection (WAL readers do not block
// the writer).
//
// Durability of alerts: after every rules tick that changed alert state, the evaluator's snapshot
// is queued with the tick's events and incidents; its notifications are handed to the notifier only
// once that batch is committed. After a crash the snapshot is restored before the first message,
// so a firing alert is neither lost nor announced twice (docs/rules.md, "Persistence").
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "edgemon/common/clock.h"
#include "edgemon/common/mqtt_client.h"
#include "edgemon/gateway/core/aggregator.h"
#include "edgemon/gateway/http/auth_service.h"
#include "edgemon/gateway/asio_prelude.h"
#include "edgemon/gateway/core/fleet_state.h"
#include "edgemon/gateway/gateway_config.h"
#include "edgemon/gateway/http/http_server.h"
#include "edgemon/gateway/store/store.h"
#include "edgemon/gateway/store/store_writer.h"
#include "edgemon/gateway/live/ws_hub.h"
#include "edgemon/notify/dispatcher.h"
#include "edgemon/rules/evaluator.h"

namespace edgemon::gateway {

class Gateway {
 public:
  Gateway(GatewayConfig config, const Clock& clock);
  ~Gateway();
  Gateway(const Gateway&) = delete;
  Gateway& operator=(const Gateway&) = delete;

  // Opens the store, binds HTTP, starts MQTT. Errors from each step name what failed.
  Status start();
  // Runs the io loop until SIGINT/SIGTERM. Returns the exit code.
  int run();
  std::uint16_t http_port() const { return http_port_; }

 private:
  void ingest(const MqttIncoming& msg);
  void reject(const std::string& reason, const std::string& topic);
  void request_rebirth(const Topic& topic, std::int64_t now_ms);
  // Feeds the rules evaluator from one applied message of `kind`, sent at `sent_ms`; `live`: it
  // carried at least one non-historical metric.
  void evaluate(const NodeState& node, MessageKind kind, std::int64_t sent_ms, bool live, bool went_offline);
  // Every 250 ms: rules (absence, `for` durations), aggregation, storage health; queues events,
  // incidents, uptime and the alert snapshot; hands notifications on once they are durable; sends
  // coalesced node updates to WebSocket clients.
  void tick_rules();
  void schedule_tick();
  // Restores alert state and uptime windows from the store (before the first message).
  void restore(Store& store);
  // The node's JSON for the API and the WebSocket: FleetState's view plus status and uptime.
  nlohmann::json node_view(const NodeState& node) const;
  std::string nodes_json() const;
  // Queues a node for the WebSocket: at once when `urgent` (online/status change), otherwise at
  // most once a second per node.
  void node_changed(const NodeState& node, bool urgent);
  void flush_node_updates(std::int64_t now_ms);
  // Alert transitions (into `batch`; the alerts frame) and node status changes (their node frames)
  // go out at once: from ingest for what a message changed, from the tick for what time changed.
  // Returns whether the status of `skip_key` changed; its frame is left to the caller.
  bool publish_changes(WriteBatch& batch, const std::string* skip_key = nullptr);
  // One node update out: to WebSocket clients, and as readable JSON on MQTT (mqtt_republish.h).
  void send_node(const NodeState& node);
  void storage_status(bool ok, const std::string& error);
  // Hands one rules notification to the notifier (one notice per alert in the group).
  void deliver(const rules::Notification& n);
  std::string alerts_json() const;
  std::string events_json(std::size_t limit, std::size_t offset);
  std::string incidents_json(std::size_t limit, std::size_t offset);
  std::string health_json() const;
  std::string metrics_text() const;  // Prometheus text exposition (prometheus_text.h)
  std::string state_topic() const;
  // /api/nodes/<group>/<node>: GET the node. /api/nodes/<group>/<node>/targets[/<host>]: GET the reported and managed targets, POST
  // {"host"} adds one, DELETE removes one (gateway_targets.cpp; managed_targets.h).
  ApiReply targets_api(const std::string& method, std::string_view path, const std::string& body);
  // GET /api/targets: every node's probe targets with their latest values (gateway_targets.cpp).
  ApiReply targets_list() const;
  // /api/silences[/<id>]: list, add (admin), remove (admin) runtime silences (gateway_silences.cpp).
  ApiReply silences_api(const std::string& method, std::string_view path, const std::string& body,
                        const std::string& user);
  // /api/rules[/<name>]: list and read every rule; add, replace, remove (admin) the rules kept in
  // the store, which the evaluator swaps in at once (gateway_rules.cpp).
  ApiReply rules_api(const std::string& method, std::string_view path, const std::string& body,
                     const std::string& user);
  // Adds the rules kept in the store to the configured ones (restore(), before the alert state).
  void restore_rules(Store& store);
  // Sends `key`'s managed targets to the node (NCMD) if it is online and reports another version.
  void push_targets_if_needed(const NodeState& node);

  GatewayConfig config_;
  const Clock& clock_;
  asio::io_context io_{1};
  std::unique_ptr<StoreWriter> writer_;  // owns the write connection
  std::unique_ptr<Store> reader_;        // read-only connection for the API
  FleetState fleet_;
  Aggregator aggregator_;
  WsHub hub_;
  std::unique_ptr<AuthService> auth_;  // before http_: the server holds a reference
  std::unique_ptr<HttpServer> http_;
  std::unique_ptr<MqttClient> mqtt_;
  rules::Evaluator evaluator_;
  asio::steady_timer rules_timer_{io_};
  std::uint64_t notifications_ = 0;
  std::unique_ptr<notify::Dispatcher> notifier_;
  std::uint16_t http_port_ = 0;

  std::string gateway_node_;       // "_gateway/<host_id>": subject of the gateway's own alerts
  bool storage_ok_ = true;
  std::string storage_error_;
  std::int64_t last_uptime_flush_ms_ = 0;
  std::int64_t last_storage_sample_ms_ = 0;
  std::uint64_t restore_failures_ = 0;
  struct ManagedTargets {
    std::vector<std::string> hosts;
    std::string version;
    std::int64_t updated_ms = 0;
  };
  std::set<std::string, std::less<>> config_rule_names_;  // from gateway.toml (and built in): read-only
  std::map<std::string, std::int64_t, std::less<>> api_rule_updated_ms_;  // rules added through the API
  std::map<std::string, ManagedTargets> managed_;  // node key -> targets set through the API
  std::map<std::string, std::size_t> alerts_per_node_;  // fed to the aggregator's status
  // WebSocket coalescing: node key -> last sent (ms); nodes with unsent changes.
  std::map<std::string, std::int64_t> last_node_sent_ms_;
  std::set<std::string> pending_nodes_;
  // Readable MQTT: what was last published per node (availability, discovery payload).
  std::map<std::string, bool> published_online_;
  std::map<std::string, std::string> published_discovery_;

  std::uint64_t accepted_ = 0;
  std::uint64_t duplicates_ = 0;
  std::uint64_t gaps_ = 0;
  std::uint64_t rebirth_requests_ = 0;
  std::map<std::string, std::int64_t> last_rebirth_ms_;
  std::map<std::string, std::uint64_t> rejected_;  // reason -> count
  std::int64_t last_reject_log_ms_ = 0;
};

}  // namespace edgemon::gateway
