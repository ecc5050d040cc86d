// Gateway: the wiring. It owns the rooms and connects them; it decides nothing itself.
//
//   MQTT (Paho thread) -> IngressQueue (bounded) -> io thread:
//     core   Ingest::message / tick -> Outbox          (decode, caps, fleet state, aggregation, rules)
//     apply  Outbox.store -> StoreWriter thread        (batched SQLite transactions)
//            Outbox.rebirths/commands -> MQTT NCMD
//            Outbox.nodes/alerts_changed -> LiveFeed   (WebSocket frames, readable MQTT)
//            Outbox.notifications -> notifier         (once the alert state is committed)
//   HTTP (io thread) -> AuthService (its thread) -> Router -> resources (api/)
//            history queries -> StoreReader thread
//
// Every stage's time comes from one Clock; intervals use its monotonic reading (docs/architecture.md).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "edgemon/common/clock.h"
#include "edgemon/common/mqtt_client.h"
#include "edgemon/gateway/api/api_context.h"
#include "edgemon/gateway/api/router.h"
#include "edgemon/gateway/asio_prelude.h"
#include "edgemon/gateway/core/aggregator.h"
#include "edgemon/gateway/core/alert_control.h"
#include "edgemon/gateway/core/fleet_state.h"
#include "edgemon/gateway/core/ingest.h"
#include "edgemon/gateway/core/managed_targets.h"
#include "edgemon/gateway/gateway_config.h"
#include "edgemon/gateway/http/auth_service.h"
#include "edgemon/gateway/http/http_server.h"
#include "edgemon/gateway/ingress_queue.h"
#include "edgemon/gateway/live/live_feed.h"
#include "edgemon/gateway/live/ws_hub.h"
#include "edgemon/gateway/store/store_reader.h"
#include "edgemon/gateway/store/store_writer.h"
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
  // Restores alert rules, alert state, uptime windows and managed targets (before the first message).
  void restore(Store& store);
  void drain_ingress();  // io thread: queued MQTT messages through the pipeline, a budget at a time
  void flush_live();     // io thread: due coalesced node frames, a budget at a time
  void schedule_tick();
  void schedule_live_flush();
  void tick();
  void apply(Outbox&& out);  // carries out a stage's effects
  // Logs (at most once a second) and counts an io-thread step that took 50 ms or more.
  void watch_step(const char* what, MonoTime started, std::size_t items);
  void deliver(const rules::Notification& n);
  void publish_command(const std::string& group, const std::string& node, const TelemetryMessage& cmd);
  GatewayStatus status() const;
  std::string state_topic() const;
  void shutdown(int signal);

  GatewayConfig config_;
  const Clock& clock_;
  asio::io_context io_{1};

  // core: the typed state and the pipeline over it
  FleetState fleet_;
  Aggregator aggregator_;
  Completeness completeness_;
  rules::Evaluator evaluator_;
  AlertControl alerts_;
  ManagedTargets targets_;
  Ingest ingest_;

  // store
  std::unique_ptr<StoreWriter> writer_;
  std::unique_ptr<StoreReader> reader_;

  // live
  WsHub hub_;
  std::unique_ptr<LiveFeed> live_;

  // api + http
  Router router_;
  std::unique_ptr<ApiContext> api_;
  std::unique_ptr<AuthService> auth_;  // before http_: the server holds a reference
  std::unique_ptr<HttpServer> http_;

  // edges
  std::unique_ptr<MqttClient> mqtt_;
  IngressQueue ingress_;
  std::vector<MqttIncoming> batch_;
  std::unique_ptr<notify::Dispatcher> notifier_;
  asio::steady_timer tick_timer_{io_};
  asio::steady_timer live_timer_{io_};
  std::uint64_t restore_failures_ = 0;
  std::uint64_t slow_steps_ = 0;
  MonoTime last_slow_log_{};
  std::uint16_t http_port_ = 0;
};

}  // namespace edgemon::gateway
