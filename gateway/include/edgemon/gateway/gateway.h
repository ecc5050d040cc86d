// Gateway: MQTT ingest -> decode/validate -> fleet state -> history (SQLite) -> WebSocket fan-out.
// Paho delivers on its own thread; every message is posted to the one io thread, which owns all
// state, so nothing here needs a lock.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "edgemon/common/clock.h"
#include "edgemon/common/mqtt_client.h"
#include "edgemon/gateway/asio_prelude.h"
#include "edgemon/gateway/fleet_state.h"
#include "edgemon/gateway/gateway_config.h"
#include "edgemon/gateway/http_server.h"
#include "edgemon/gateway/store.h"
#include "edgemon/gateway/ws_hub.h"
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
  // Feeds the rules evaluator from one applied message.
  void evaluate(const Topic& topic, const TelemetryMessage& msg, const ApplyResult& r, bool went_offline);
  // 1 Hz: absence and `for` durations; stores events and incidents; hands notifications on.
  void tick_rules();
  void schedule_tick();
  // Hands one rules notification to the notifier (one notice per alert in the group).
  void deliver(const rules::Notification& n);
  std::string alerts_json() const;
  std::string events_json(std::size_t limit, std::size_t offset);
  std::string incidents_json(std::size_t limit, std::size_t offset);
  std::string health_json() const;
  std::string state_topic() const;

  GatewayConfig config_;
  const Clock& clock_;
  asio::io_context io_{1};
  std::unique_ptr<Store> store_;
  FleetState fleet_;
  WsHub hub_;
  std::unique_ptr<HttpServer> http_;
  std::unique_ptr<MqttClient> mqtt_;
  rules::Evaluator evaluator_;
  asio::steady_timer rules_timer_{io_};
  std::uint64_t notifications_ = 0;
  std::unique_ptr<notify::Dispatcher> notifier_;
  std::uint16_t http_port_ = 0;

  std::uint64_t accepted_ = 0;
  std::uint64_t store_failures_ = 0;
  std::uint64_t duplicates_ = 0;
  std::uint64_t gaps_ = 0;
  std::uint64_t rebirth_requests_ = 0;
  std::map<std::string, std::int64_t> last_rebirth_ms_;
  std::map<std::string, std::uint64_t> rejected_;  // reason -> count
  std::int64_t last_reject_log_ms_ = 0;
};

}  // namespace edgemon::gateway
