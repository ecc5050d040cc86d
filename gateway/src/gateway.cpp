#include "edgemon/gateway/gateway.h"

#include <systemd/sd-daemon.h>

#include <filesystem>

#include <nlohmann/json.hpp>

#include "edgemon/common/log.h"
#include "edgemon/common/sparkplug_codec.h"
#include "edgemon/common/version.h"
#include "edgemon/gateway/api/history_api.h"
#include "edgemon/gateway/core/managed_targets.h"
#include "edgemon/gateway/api/prometheus_text.h"
#include "edgemon/gateway/api/reports_api.h"

namespace edgemon::gateway {
namespace {
constexpr const char* kLog = "gateway";
constexpr const char* kStorageMetric = "gateway/storage_ok";

std::string dump(const nlohmann::json& j) { return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); }

// The gateway's own alert: history writes failing (disk full, I/O error). Fed with one sample of
// gateway/storage_ok a second; the subject is the pseudo node "_gateway/<host_id>".
rules::RuleSet with_builtin_rules(rules::RuleSet set, const std::string& gateway_node) {
  rules::Rule storage;
  storage.name = "_gateway_storage";
  storage.kind = rules::RuleKind::kFailure;
  storage.op = rules::Op::kEqual;  // a failed sample: value == 0 (as rules_config sets it)
  storage.threshold = 0;
  storage.metric = kStorageMetric;
  storage.nodes = {gateway_node};
  storage.type = "STORAGE_FAILED";
  storage.severity = rules::Severity::kCritical;
  storage.samples = 1;
  storage.recovery_samples = 1;
  storage.cooldown = std::chrono::milliseconds(0);
  set.rules.push_back(std::move(storage));
  return set;
}
}  // namespace

Gateway::Gateway(GatewayConfig config, const Clock& clock)
    : config_(std::move(config)),
      clock_(clock),
      hub_([this] { return nodes_json(); }, std::to_string(to_unix_ms(clock.wall()))),
      evaluator_(with_builtin_rules(config_.rules, "_gateway/" + config_.host_id)),
      gateway_node_("_gateway/" + config_.host_id) {}

Gateway::~Gateway() {
  if (mqtt_) mqtt_->stop();
  if (writer_) writer_->stop();
}

std::string Gateway::state_topic() const { return std::string(kTopicNamespace) + "/STATE/" + config_.host_id; }

Status Gateway::start() {
  std::error_code fs_error;
  const std::string db_path = database_path(config_);
  std::filesystem::create_directories(std::filesystem::path(db_path).parent_path(), fs_error);
  if (fs_error) {
    return make_error(ErrorCode::kIo, "cannot create state directory for " + db_path + ": " + fs_error.message());
  }
  auto store = open_sqlite_store(db_path, config_.storage);
  if (!store) return store.error();
  log::info(kLog, "history open", {{"sqlite", db_path}, {"schema_version", (*store)->schema_version()}});
  restore(**store);
  SqliteOptions reader_options = config_.storage;
  reader_options.read_only = true;
  auto reader = open_sqlite_store(db_path, reader_options);
  if (!reader) return reader.error();
  reader_ = std::move(*reader);
  writer_ = std::make_unique<StoreWriter>(std::move(*store), StoreWriterOptions{}, clock_);
  writer_->on_status([this](bool ok, const std::string& error) {
    asio::post(io_, [this, ok, error] { storage_status(ok, error); });
  });
  if (Status s = writer_->start(); !s) return s;

  HttpApi api;
  api.health = [this] { return health_json(); };
  api.nodes = [this] { return nodes_json(); };
  api.fleet = [this] { return dump(aggregator_.fleet_summary()); };
  api.targets = [this] { return targets_list(); };
  api.history = [this](const QueryParams& params) {
    auto query = parse_history_query(params, to_unix_ms(clock_.wall()));
    if (!query) return error_reply(400, query.error().message);
    auto body = history_json(*reader_, *query);
    if (!body) return error_reply(500, body.error().message);
    return json_reply(200, *body);
  };
  api.metrics = [this] {
    ApiReply reply;
    reply.body = metrics_text();
    reply.content_type = std::string(kPrometheusContentType);
    return reply;
  };
  api.reports = [this](const QueryParams& params) {
    auto query = parse_report_query(params, to_unix_ms(clock_.wall()), config_.sla_pct);
    if (!query) return error_reply(400, query.error().message);
    auto rows = reader_->daily_reports(query->from_day, query->to_day);
    if (!rows) return error_reply(500, rows.error().message);
    if (query->csv) {
      return ApiReply{200, reports_csv(*rows, *query), "text/csv; charset=utf-8",
                      "edgemon-reports-" + query->from_day + "-" + query->to_day + ".csv", {}};
    }
    return json_reply(200, reports_json(*rows, *query));
  };
  api.node_resource = [this](const std::string& method, std::string_view path, const std::string& body) {
    return targets_api(method, path, body);
  };
  api.silences = [this](const std::string& method, std::string_view path, const std::string& body,
                        const std::string& user) { return silences_api(method, path, body, user); };
  api.rules = [this](const std::string& method, std::string_view path, const std::string& body,
                     const std::string& user) { return rules_api(method, path, body, user); };
  api.alerts = [this] { return alerts_json(); };
  api.events = [this](std::size_t limit, std::size_t offset) { return events_json(limit, offset); };
  api.incidents = [this](std::size_t limit, std::size_t offset) { return incidents_json(limit, offset); };
  const bool tls = !config_.tls_cert_file.empty();
  auto auth = AuthService::open(config_.auth, config_.state_dir, clock_, tls);
  if (!auth) return auth.error();
  auth_ = std::move(*auth);
  http_ = std::make_unique<HttpServer>(io_,
                                       HttpOptions{config_.http_bind, static_cast<std::uint16_t>(config_.http_port),
                                                   config_.web_root, config_.tls_cert_file, config_.tls_key_file},
                                       std::move(api), hub_, *auth_);
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
    // A broker without persistence lost the retained readable state: publish it all again.
    asio::post(io_, [this] {
      published_online_.clear();
      published_discovery_.clear();
    });
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

  log::info(kLog, "started", {{"version", kVersion}, {"http", std::string(tls ? "https://" : "http://") + config_.http_bind + ":" + std::to_string(http_port_)},
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
  const MessageKind kind = decoded->kind;
  const std::int64_t sent_ms = decoded->timestamp_ms;
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
  const std::string& key = r.node->key;
  const bool went_offline = r.was_online && !r.node->online;
  if (kind == MessageKind::kBirth) aggregator_.node_online(key, now_ms);
  if (went_offline) aggregator_.node_offline(key, now_ms);
  bool live = false;
  for (const Metric& m : r.accepted) live = live || !m.historical;
  if (!r.accepted.empty()) {
    aggregator_.observe(key, r.accepted, live, now_ms);
    WriteBatch batch;
    batch.samples.push_back(NodeSamples{topic->group, topic->node, std::move(r.accepted)});
    writer_->submit(std::move(batch));
  }
  evaluate(*r.node, kind, sent_ms, live, went_offline);
  if (kind == MessageKind::kBirth) push_targets_if_needed(*r.node);
  // Status and alert changes this message caused go out now, not at the next tick.
  WriteBatch changes;
  const bool status_changed = publish_changes(changes, &key);
  if (!changes.events.empty() || !changes.incidents.empty()) writer_->submit(std::move(changes));
  node_changed(*r.node, r.was_online != r.node->online || status_changed);
}

void Gateway::node_changed(const NodeState& node, bool urgent) {
  if (!hub_.wants_frames() && !config_.republish.enabled) {  // nobody watching: no JSON at all
    hub_.skipped();
    return;
  }
  const std::string& key = node.key;
  if (!urgent) {
    pending_nodes_.insert(key);
    return;
  }
  pending_nodes_.erase(key);
  last_node_sent_ms_[key] = to_unix_ms(clock_.wall());
  send_node(node);
}

void Gateway::send_node(const NodeState& node) {
  const nlohmann::json view = node_view(node);
  if (hub_.wants_frames()) hub_.broadcast_node(node.key, dump(view));
  else hub_.skipped();
  const RepublishConfig& rc = config_.republish;
  if (!rc.enabled || !mqtt_ || !mqtt_->connected()) return;
  const auto publish = [this](const MqttMessage& m, int qos) {
    if (Status s = mqtt_->publish(m.topic, m.payload, qos, /*retain=*/true); !s) {
      log::debug(kLog, "republish failed", {{"topic", m.topic}, {"error", s.error().message}});
      return false;
    }
    return true;
  };
  publish(state_message(rc, view), 0);
  const auto online = published_online_.find(node.key);
  if (online == published_online_.end() || online->second != node.online) {
    if (publish(availability_message(rc, view), 1)) published_online_[node.key] = node.online;
  }
  if (rc.homeassistant) {
    if (auto discovery = discovery_message(rc, view, kVersion)) {
      std::string& last = published_discovery_[node.key];
      if (last != discovery->payload && publish(*discovery, 1)) last = discovery->payload;
    }
  }
}

void Gateway::flush_node_updates(std::int64_t now_ms) {
  for (auto it = pending_nodes_.begin(); it != pending_nodes_.end();) {
    std::int64_t& last = last_node_sent_ms_[*it];
    if (now_ms - last < 1000) {  // metrics: at most one update a second per node
      ++it;
      continue;
    }
    const auto slash = it->find('/');
    if (const NodeState* node = fleet_.find(it->substr(0, slash), it->substr(slash + 1))) {
      last = now_ms;
      send_node(*node);
    }
    it = pending_nodes_.erase(it);
  }
}

nlohmann::json Gateway::node_view(const NodeState& node) const {
  nlohmann::json j = fleet_.node_json(node);
  const nlohmann::json summary = aggregator_.node_summary(node.key);
  if (summary.is_object()) {
    for (const auto& [k, v] : summary.items()) {
      if (k != "last_seen") j[k] = v;
    }
  }
  return j;
}

std::string Gateway::nodes_json() const {
  nlohmann::json out = nlohmann::json::array();
  for (const nlohmann::json& n : fleet_.nodes_json()) {
    const NodeState* node = fleet_.find(n.value("group", ""), n.value("id", ""));
    out.push_back(node != nullptr ? node_view(*node) : n);
  }
  return dump(out);
}

void Gateway::restore(Store& store) {
  const WallTime now = clock_.wall();
  restore_rules(store);  // first: the alert state may hold alerts of API rules
  if (auto state = store.alert_state(); !state) {
    ++restore_failures_;
    log::error(kLog, "cannot read alert state", {{"error", state.error().message}});
  } else if (*state) {
    if (Status s = evaluator_.restore_json(**state, now); !s) {
      ++restore_failures_;
      log::error(kLog, "alert state not restored, starting empty", {{"error", s.error().message}});
    } else {
      log::info(kLog, "alert state restored", {{"active_alerts", evaluator_.active_alerts().size()},
                                               {"open_incidents", evaluator_.open_incidents().size()}});
    }
  }
  const std::int64_t now_ms = to_unix_ms(now);
  constexpr std::int64_t k30d = 30LL * 24 * 3600 * 1000;
  if (auto rows = store.uptime_since(now_ms - k30d - 3600 * 1000); !rows) {
    ++restore_failures_;
    log::error(kLog, "cannot read uptime history", {{"error", rows.error().message}});
  } else {
    aggregator_.seed(*rows, now_ms);
  }
  if (auto configs = store.node_configs(); !configs) {
    ++restore_failures_;
    log::error(kLog, "cannot read managed node configuration", {{"error", configs.error().message}});
  } else {
    for (const NodeConfig& c : *configs) {
      auto hosts = parse_managed_targets(c.config);
      if (!hosts) {
        ++restore_failures_;
        log::error(kLog, "managed node configuration unreadable; ignored", {{"node", c.node}});
        continue;
      }
      managed_[c.node] = ManagedTargets{std::move(*hosts), c.version, c.updated_ms};
    }
  }
}

void Gateway::storage_status(bool ok, const std::string& error) {
  storage_ok_ = ok;
  storage_error_ = error;
  if (ok) {
    log::info(kLog, "history writes resumed");
  } else {
    log::error(kLog, "history writes failing: kept in memory and retried", {{"error", error}});
  }
  // The alert follows at once, not at the next once-a-second sample.
  evaluator_.observe(gateway_node_, kStorageMetric, ok ? 1.0 : 0.0, clock_.wall());
  last_storage_sample_ms_ = to_unix_ms(clock_.wall());
}

void Gateway::evaluate(const NodeState& node, MessageKind kind, std::int64_t sent_ms, bool live, bool went_offline) {
  const std::string& key = node.key;
  const WallTime now = clock_.wall();
  switch (kind) {
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
  if (!live) return;  // replayed samples describe the past; rules judge the present
  std::vector<rules::Sample> samples;
  samples.reserve(node.metrics.size());
  for (const Metric& m : node.metrics) {
    if (!m.value) continue;
    samples.push_back(rules::Sample{m.name, *m.value, WallTime(std::chrono::milliseconds(sent_ms))});
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
  const WallTime now = clock_.wall();
  const std::int64_t now_ms = to_unix_ms(now);
  if (now_ms - last_storage_sample_ms_ >= 1000) {
    last_storage_sample_ms_ = now_ms;
    evaluator_.observe(gateway_node_, kStorageMetric, storage_ok_ ? 1.0 : 0.0, now);
  }
  evaluator_.tick(now);
  aggregator_.tick(now_ms);
  WriteBatch batch;
  publish_changes(batch);
  if (now_ms - last_uptime_flush_ms_ >= 5000) {
    last_uptime_flush_ms_ = now_ms;
    batch.uptime = aggregator_.take_uptime_deltas();
  }
  if (evaluator_.dirty()) batch.alert_state = evaluator_.snapshot_json();
  writer_->submit(std::move(batch));

  auto notifications = evaluator_.take_notifications();
  if (!notifications.empty()) {
    notifications_ += notifications.size();
    if (storage_ok_) {
      // Announce only what is durable: after a crash the restored state must not announce it again.
      writer_->after_commit([this, ns = std::move(notifications)]() mutable {
        asio::post(io_, [this, ns = std::move(ns)] {
          for (const rules::Notification& n : ns) deliver(n);
        });
      });
    } else {
      // Storage is failing (that may be the very alert): waiting for a commit could take forever.
      for (const rules::Notification& n : notifications) deliver(n);
    }
  }
  flush_node_updates(now_ms);
}

bool Gateway::publish_changes(WriteBatch& batch, const std::string* skip_key) {
  bool alerts_changed = false;
  for (const rules::Event& e : evaluator_.take_events()) {
    alerts_changed = true;
    StoredEvent stored{to_unix_ms(e.at), e.subject, e.rule, e.type, rules::to_string(e.from), rules::to_string(e.to),
                       e.reason, rules::to_string(e.severity), e.suppressed};
    log::info(kLog, "alert state", {{"subject", e.subject}, {"rule", e.rule}, {"from", stored.from},
                                    {"to", stored.to}, {"reason", e.reason}, {"suppressed", e.suppressed}});
    batch.events.push_back(std::move(stored));
  }
  for (const rules::Incident& i : evaluator_.take_incident_updates()) {
    StoredIncident stored{i.subject, i.rule, i.type, rules::to_string(i.severity), to_unix_ms(i.start), std::nullopt};
    if (i.end) stored.end_ms = to_unix_ms(*i.end);
    batch.incidents.push_back(std::move(stored));
  }
  if (alerts_changed) {
    // Firing warning-or-worse alerts make a node DEGRADED.
    std::map<std::string, std::size_t> counts;
    for (const rules::Alert& a : evaluator_.active_alerts()) {
      if (a.severity != rules::Severity::kInfo) ++counts[a.node];
    }
    for (const auto& [node, n] : alerts_per_node_) {
      if (!counts.contains(node)) aggregator_.set_alerts(node, 0);
    }
    for (const auto& [node, n] : counts) aggregator_.set_alerts(node, n);
    alerts_per_node_ = std::move(counts);
  }
  bool skipped = false;
  for (const StatusChange& c : aggregator_.take_status_changes()) {
    log::info(kLog, "node status", {{"node", c.node_key}, {"from", to_string(c.from)}, {"to", to_string(c.to)},
                                    {"reason", c.reason}});
    if (skip_key != nullptr && c.node_key == *skip_key) {
      skipped = true;
      continue;
    }
    const auto slash = c.node_key.find('/');
    if (const NodeState* node = fleet_.find(c.node_key.substr(0, slash), c.node_key.substr(slash + 1))) {
      node_changed(*node, true);
    }
  }
  if (alerts_changed) {
    if (hub_.wants_frames()) hub_.broadcast("alerts", alerts_json());
    else hub_.skipped();
  }
  return skipped;
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
  const WallTime now = clock_.wall();
  for (const rules::Alert& a : evaluator_.active_alerts()) {
    nlohmann::json j = {{"subject", a.subject}, {"rule", a.rule},        {"type", a.type},
                        {"node", a.node},       {"metric", a.metric},    {"severity", rules::to_string(a.severity)},
                        {"since", to_unix_ms(a.since)}, {"reason", a.reason},
                        {"suppressed", evaluator_.suppressed(a.labels, now)}};  // silence or maintenance now
    if (a.value) j["value"] = *a.value;
    out.push_back(std::move(j));
  }
  return out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string Gateway::events_json(std::size_t limit, std::size_t offset) {
  auto events = reader_->events(limit, offset);
  nlohmann::json out = nlohmann::json::array();
  if (!events) return out.dump();
  for (const StoredEvent& e : *events) {
    out.push_back({{"at", e.at_ms}, {"subject", e.subject}, {"rule", e.rule}, {"type", e.type}, {"from", e.from},
                   {"to", e.to}, {"reason", e.reason}, {"severity", e.severity}, {"suppressed", e.suppressed}});
  }
  return out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string Gateway::incidents_json(std::size_t limit, std::size_t offset) {
  auto incidents = reader_->incidents(limit, offset);
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
  const StoreWriterStats stats = writer_ ? writer_->stats() : StoreWriterStats{};
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
      {"ws", {{"clients", hub_.clients()}, {"frames_sent", hub_.stats().frames_sent},
              {"frames_coalesced", hub_.stats().coalesced}, {"resyncs", hub_.stats().resyncs},
              {"clients_dropped", hub_.stats().dropped}, {"clients_revoked", hub_.stats().revoked},
              {"resumes", hub_.stats().resumes}}},
      {"messages_accepted", accepted_},
      {"messages_rejected", rejected_total},
      {"rejected_by_reason", by_reason},
      {"store_failures", stats.write_failures},
      {"storage", {{"ok", stats.storage_ok}, {"committed_rows", stats.committed_rows},
                   {"committed_batches", stats.committed_batches}, {"pending_rows", stats.pending_rows},
                   {"dropped_rows", stats.dropped_rows}, {"write_failures", stats.write_failures},
                   {"maintenance_runs", stats.maintenance_runs}, {"maintenance_failures", stats.maintenance_failures},
                   {"last_error", stats.last_error}}},
      {"restore_failures", restore_failures_},
      {"fleet", aggregator_.fleet_summary()["counts"]},
      {"duplicates", duplicates_},
      {"sequence_gaps", gaps_},
      {"rebirth_requests", rebirth_requests_},
      {"alerts_active", evaluator_.active_alerts().size()},
      {"rules", config_.rules.rules.size()},
      {"notifications", notifications_},
      {"schema_version", reader_ ? reader_->schema_version() : 0},
  };
  return j.dump();
}

std::string Gateway::metrics_text() const {
  const StoreWriterStats stats = writer_ ? writer_->stats() : StoreWriterStats{};
  GatewayMetricsInput in;
  in.version = kVersion;
  in.mqtt_connected = mqtt_ && mqtt_->connected();
  in.messages_accepted = accepted_;
  in.rejected_by_reason = rejected_;
  in.duplicates = duplicates_;
  in.sequence_gaps = gaps_;
  in.rebirth_requests = rebirth_requests_;
  in.notifications = notifications_;
  in.restore_failures = restore_failures_;
  in.ws_clients = hub_.clients();
  const WsStats& ws = hub_.stats();
  in.ws_frames_sent = ws.frames_sent;
  in.ws_coalesced = ws.coalesced;
  in.ws_resyncs = ws.resyncs;
  in.ws_dropped = ws.dropped;
  in.ws_revoked = ws.revoked;
  in.ws_resumes = ws.resumes;
  in.alerts_active = evaluator_.active_alerts().size();
  in.rules = config_.rules.rules.size();
  in.dropped_subjects = aggregator_.dropped_subjects();
  in.storage_ok = stats.storage_ok;
  in.committed_rows = stats.committed_rows;
  in.committed_batches = stats.committed_batches;
  in.pending_rows = stats.pending_rows;
  in.dropped_rows = stats.dropped_rows;
  in.write_failures = stats.write_failures;
  in.maintenance_runs = stats.maintenance_runs;
  in.maintenance_failures = stats.maintenance_failures;
  in.fleet_summary = aggregator_.fleet_summary();
  if (const auto nodes = in.fleet_summary.find("nodes"); nodes != in.fleet_summary.end() && nodes->is_array()) {
    in.node_summaries.reserve(nodes->size());
    for (const nlohmann::json& n : *nodes) in.node_summaries.push_back(aggregator_.node_summary(n.value("key", "")));
  }
  return render_gateway_metrics(in);
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
    // What is left for history: the last uptime counts and alert state, then the writer drains.
    WriteBatch last;
    last.uptime = aggregator_.take_uptime_deltas();
    if (evaluator_.dirty()) last.alert_state = evaluator_.snapshot_json();
    writer_->submit(std::move(last));
    writer_->stop(std::chrono::seconds(3));
    io_.stop();
  });
  sd_notify(0, "READY=1");
  io_.run();
  log::info(kLog, "stopped", {{"messages_accepted", accepted_}});
  return 0;
}

}  // namespace edgemon::gateway
