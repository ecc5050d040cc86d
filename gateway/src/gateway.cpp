#include "edgemon/gateway/gateway.h"

#include <systemd/sd-daemon.h>

#include <filesystem>

#include <nlohmann/json.hpp>

#include "edgemon/common/log.h"
#include "edgemon/common/sparkplug_codec.h"
#include "edgemon/common/version.h"

namespace edgemon::gateway {
namespace {
constexpr const char* kLog = "gateway";
}

Gateway::Gateway(GatewayConfig config, const Clock& clock)
    : config_(std::move(config)),
      clock_(clock),
      hub_([this] { return fleet_.nodes_json().dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); }),
      evaluator_(config_.rules) {}

Gateway::~Gateway() {
  if (mqtt_) mqtt_->stop();
}

std::string Gateway::state_topic() const { return std::string(kTopicNamespace) + "/STATE/" + config_.host_id; }

Status Gateway::start() {
  std::error_code fs_error;
  const std::string db_path = database_path(config_);
  std::filesystem::create_directories(std::filesystem::path(db_path).parent_path(), fs_error);
  if (fs_error) {
    return make_error(ErrorCode::kIo, "cannot create state directory for " + db_path + ": " + fs_error.message());
  }
  auto store = open_sqlite_store(db_path);
  if (!store) return store.error();
  store_ = std::move(*store);
  log::info(kLog, "history open", {{"sqlite", db_path}, {"schema_version", store_->schema_version()}});

  HttpApi api;
  api.health = [this] { return health_json(); };
  api.nodes = [this] { return fleet_.nodes_json().dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); };
  api.alerts = [this] { return alerts_json(); };
  api.events = [this](std::size_t limit, std::size_t offset) { return events_json(limit, offset); };
  api.incidents = [this](std::size_t limit, std::size_t offset) { return incidents_json(limit, offset); };
  http_ = std::make_unique<HttpServer>(io_, HttpOptions{config_.http_bind, static_cast<std::uint16_t>(config_.http_port), config_.web_root},
                                       std::move(api), hub_);
  auto port = http_->start();
  if (!port) return port.error();
  http_port_ = *port;

  MqttOptions mo;
  mo.host = config_.broker_host;
  mo.port = config_.broker_port;
  mo.client_id = "edgemon-gateway-" + config_.host_id;
  mo.username = config_.username;
  mo.password = config_.password;
  mo.max_backoff = std::chrono::milliseconds(static_cast<std::int64_t>(config_.reconnect_max_s * 1000));
  mqtt_ = std::make_unique<MqttClient>(mo);
  mqtt_->subscribe(std::string(kTopicNamespace) + "/+/NBIRTH/+", 1);
  mqtt_->subscribe(std::string(kTopicNamespace) + "/+/NDATA/+", 1);
  mqtt_->subscribe(std::string(kTopicNamespace) + "/+/NDEATH/+", 1);
  // Sparkplug primary host: retained STATE, with an offline will.
  mqtt_->will_provider([this]() -> std::optional<MqttWill> {
    const nlohmann::json off = {{"online", false}, {"timestamp", to_unix_ms(clock_.wall())}};
    return MqttWill{state_topic(), off.dump(), 1, true};
  });
  mqtt_->on_connected([this] {
    const nlohmann::json on = {{"online", true}, {"timestamp", to_unix_ms(clock_.wall())}};
    if (Status s = mqtt_->publish(state_topic(), on.dump(), 1, true); !s) {
      log::warn(kLog, "cannot publish STATE", {{"error", s.error().message}});
    }
  });
  mqtt_->on_message([this](MqttIncoming&& msg) {
    asio::post(io_, [this, m = std::move(msg)] { ingest(m); });
  });
  if (Status s = mqtt_->start(); !s) return s;

  // Notifications leave on their own threads: a slow webhook never holds up ingest.
  notifier_ = std::make_unique<notify::Dispatcher>(
      notify::make_channels(config_.notify,
                            [this](const std::string& t, const std::string& p, int q, bool r) {
                              return mqtt_->publish(t, p, q, r);
                            }),
      config_.notify.dispatch);
  if (Status s = notifier_->start(); !s) return s;
  schedule_tick();

  log::info(kLog, "started", {{"version", kVersion}, {"http", config_.http_bind + ":" + std::to_string(http_port_)},
                              {"broker", mqtt_->server_uri()}, {"web_root", config_.web_root}});
  return Status::Ok();
}

void Gateway::reject(const std::string& reason, const std::string& topic) {
  const std::uint64_t n = ++rejected_[reason];
  const std::int64_t now = to_unix_ms(clock_.wall());
  if (now - last_reject_log_ms_ >= 1000) {  // at most one line per second
    last_reject_log_ms_ = now;
    log::warn(kLog, "message rejected", {{"reason", reason}, {"topic", topic}, {"count", n}});
  }
}

void Gateway::ingest(const MqttIncoming& msg) {
  auto topic = parse_topic(msg.topic);
  if (!topic) return reject(topic.error().message, msg.topic);
  if (topic->kind == MessageKind::kCommand) return;  // our own commands echoed back
  auto decoded = decode(msg.payload, topic->kind);
  if (!decoded) return reject(decoded.error().message, msg.topic);
  const std::int64_t now_ms = to_unix_ms(clock_.wall());
  const NodeState* before = fleet_.find(topic->group, topic->node);
  const bool was_online = before != nullptr && before->online;
  const TelemetryMessage msg_copy = *decoded;
  ApplyResult r = fleet_.apply(*topic, std::move(*decoded), now_ms);
  if (r.duplicate) {
    ++duplicates_;
    return;
  }
  ++accepted_;
  if (r.gap) {
    ++gaps_;
    log::warn(kLog, "sequence gap", {{"node", topic->node}, {"group", topic->group}, {"gaps", r.node->gaps}});
  }
  if (r.needs_rebirth) request_rebirth(*topic, now_ms);
  if (!r.accepted.empty()) {
    if (Status s = store_->append(topic->group, topic->node, r.accepted); !s) {
      ++store_failures_;
      log::error(kLog, "history write failed", {{"node", topic->node}, {"error", s.error().message},
                                                {"failures", store_failures_}});
    }
  }
  evaluate(*topic, msg_copy, r, was_online && !r.node->online);
  hub_.broadcast_node(fleet_.node_json(*r.node).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

void Gateway::evaluate(const Topic& topic, const TelemetryMessage& msg, const ApplyResult& r, bool went_offline) {
  const std::string key = topic.group + "/" + topic.node;
  const WallTime now = clock_.wall();
  switch (msg.kind) {
    case MessageKind::kBirth:
      evaluator_.node_online(key, now);
      break;
    case MessageKind::kDeath:
      if (went_offline) evaluator_.node_offline(key, now);
      return;
    default:
      break;
  }
  // Report by exception means "not sent = unchanged": each live message is one sample of the
  // node's whole current state, so count-based rules (N failed rounds) see every round.
  bool live = false;
  for (const Metric& m : r.accepted) live = live || !m.historical;
  if (!live) return;  // replayed samples describe the past; rules judge the present
  const std::int64_t ts = msg.timestamp_ms;
  std::vector<rules::Sample> samples;
  samples.reserve(r.node->metrics.size());
  for (const Metric& m : r.node->metrics) {
    if (!m.value) continue;
    samples.push_back(rules::Sample{m.name, *m.value, WallTime(std::chrono::milliseconds(ts))});
  }
  if (!samples.empty()) evaluator_.observe_batch(key, samples);
}

void Gateway::schedule_tick() {
  rules_timer_.expires_after(std::chrono::milliseconds(250));
  rules_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    tick_rules();
    schedule_tick();
  });
}

void Gateway::tick_rules() {
  evaluator_.tick(clock_.wall());
  for (const rules::Event& e : evaluator_.take_events()) {
    StoredEvent stored{to_unix_ms(e.at), e.subject, e.rule, e.type, rules::to_string(e.from), rules::to_string(e.to),
                       e.reason, rules::to_string(e.severity), e.suppressed};
    log::info(kLog, "alert state", {{"subject", e.subject}, {"rule", e.rule}, {"from", stored.from},
                                    {"to", stored.to}, {"reason", e.reason}, {"suppressed", e.suppressed}});
    if (Status s = store_->append_event(stored); !s) {
      ++store_failures_;
      log::error(kLog, "event write failed", {{"error", s.error().message}});
    }
  }
  for (const rules::Incident& i : evaluator_.take_incident_updates()) {
    StoredIncident stored{i.subject, i.rule, i.type, rules::to_string(i.severity), to_unix_ms(i.start), std::nullopt};
    if (i.end) stored.end_ms = to_unix_ms(*i.end);
    if (Status s = store_->upsert_incident(stored); !s) {
      ++store_failures_;
      log::error(kLog, "incident write failed", {{"error", s.error().message}});
    }
  }
  auto notifications = evaluator_.take_notifications();
  if (!notifications.empty()) {
    for (const rules::Notification& n : notifications) {
      ++notifications_;
      deliver(n);
    }
    hub_.broadcast("alerts", alerts_json());
  }
}

void Gateway::deliver(const rules::Notification& n) {
  if (!notifier_ || notifier_->channel_count() == 0) return;
  for (const rules::Alert& a : n.alerts) {
    notify::Notification out;
    out.alert = a.type;
    const auto slash = a.node.find('/');
    out.node = slash == std::string::npos ? a.node : a.node.substr(slash + 1);  // "<group>/<node>" key
    out.subject = a.metric.empty() ? out.node : out.node + "/" + a.metric;
    out.severity = a.severity == rules::Severity::kCritical  ? notify::Severity::kCritical
                   : a.severity == rules::Severity::kWarning ? notify::Severity::kWarning
                                                             : notify::Severity::kInfo;
    out.state = n.kind == rules::NotificationKind::kResolved ? notify::AlertState::kResolved : notify::AlertState::kFiring;
    out.started_at = a.since;
    out.resolved_at = a.resolved_at;
    out.summary = a.reason;
    out.labels = {a.labels.begin(), a.labels.end()};
    out.labels["rule"] = a.rule;
    if (n.kind == rules::NotificationKind::kRepeat) out.labels["repeat"] = "true";
    if (Status s = notifier_->submit(std::move(out)); !s) {
      log::warn(kLog, "notification not queued", {{"alert", a.type}, {"error", s.error().message}});
    }
  }
}

std::string Gateway::alerts_json() const {
  nlohmann::json out = nlohmann::json::array();
  for (const rules::Alert& a : evaluator_.active_alerts()) {
    nlohmann::json j = {{"subject", a.subject}, {"rule", a.rule},        {"type", a.type},
                        {"node", a.node},       {"metric", a.metric},    {"severity", rules::to_string(a.severity)},
                        {"since", to_unix_ms(a.since)}, {"reason", a.reason}};
    if (a.value) j["value"] = *a.value;
    out.push_back(std::move(j));
  }
  return out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string Gateway::events_json(std::size_t limit, std::size_t offset) {
  auto events = store_->events(limit, offset);
  nlohmann::json out = nlohmann::json::array();
  if (!events) return out.dump();
  for (const StoredEvent& e : *events) {
    out.push_back({{"at", e.at_ms}, {"subject", e.subject}, {"rule", e.rule}, {"type", e.type}, {"from", e.from},
                   {"to", e.to}, {"reason", e.reason}, {"severity", e.severity}, {"suppressed", e.suppressed}});
  }
  return out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string Gateway::incidents_json(std::size_t limit, std::size_t offset) {
  auto incidents = store_->incidents(limit, offset);
  nlohmann::json out = nlohmann::json::array();
  if (!incidents) return out.dump();
  const std::int64_t now = to_unix_ms(clock_.wall());
  for (const StoredIncident& i : *incidents) {
    nlohmann::json j = {{"subject", i.subject}, {"rule", i.rule}, {"type", i.type}, {"severity", i.severity},
                        {"start", i.start_ms}, {"end", nullptr}, {"duration_ms", now - i.start_ms}};
    if (i.end_ms) {
      j["end"] = *i.end_ms;
      j["duration_ms"] = *i.end_ms - i.start_ms;
    }
    out.push_back(std::move(j));
  }
  return out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void Gateway::request_rebirth(const Topic& topic, std::int64_t now_ms) {
  // At most one request per node per 5 s: a node that keeps losing messages is not flooded.
  std::int64_t& last = last_rebirth_ms_[topic.group + "/" + topic.node];
  if (now_ms - last < 5000) return;
  last = now_ms;
  TelemetryMessage cmd;
  cmd.kind = MessageKind::kCommand;
  cmd.timestamp_ms = now_ms;
  cmd.metrics.push_back(make_metric("Node Control/Rebirth", "", 1.0, now_ms, MetricType::kBoolean));
  Status s = mqtt_->publish(format_topic(topic.group, MessageKind::kCommand, topic.node), encode_sparkplug(cmd), 1, false);
  ++rebirth_requests_;
  log::info(kLog, "rebirth requested", {{"node", topic.node}, {"group", topic.group}, {"sent", s.ok()}});
}

std::string Gateway::health_json() const {
  std::uint64_t rejected_total = 0;
  nlohmann::json by_reason = nlohmann::json::object();
  for (const auto& [reason, n] : rejected_) {
    rejected_total += n;
    by_reason[reason] = n;
  }
  const nlohmann::json j = {
      {"status", "ok"},
      {"version", kVersion},
      {"mqtt_connected", mqtt_ && mqtt_->connected()},
      {"nodes", fleet_.size()},
      {"ws_clients", hub_.clients()},
      {"messages_accepted", accepted_},
      {"messages_rejected", rejected_total},
      {"rejected_by_reason", by_reason},
      {"store_failures", store_failures_},
      {"duplicates", duplicates_},
      {"sequence_gaps", gaps_},
      {"rebirth_requests", rebirth_requests_},
      {"alerts_active", evaluator_.active_alerts().size()},
      {"rules", config_.rules.rules.size()},
      {"notifications", notifications_},
      {"schema_version", store_ ? store_->schema_version() : 0},
  };
  return j.dump();
}

int Gateway::run() {
  asio::signal_set signals(io_, SIGINT, SIGTERM);
  signals.async_wait([this](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    log::info(kLog, "stopping", {{"signal", sig}});
    sd_notify(0, "STOPPING=1");
    http_->stop();
    rules_timer_.cancel();
    if (notifier_) notifier_->stop(std::chrono::seconds(3));
    // Leave STATE offline behind us: a clean disconnect does not fire the will.
    const nlohmann::json off = {{"online", false}, {"timestamp", to_unix_ms(clock_.wall())}};
    (void)mqtt_->publish_and_wait(state_topic(), off.dump(), 1, true, std::chrono::milliseconds(1000));
    mqtt_->stop();
    io_.stop();
  });
  sd_notify(0, "READY=1");
  io_.run();
  log::info(kLog, "stopped", {{"messages_accepted", accepted_}});
  return 0;
}

}  // namespace edgemon::gateway
