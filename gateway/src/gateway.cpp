#include "edgemon/gateway/gateway.h"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <cerrno>

#include <filesystem>

#include "edgemon/common/log.h"
#include "edgemon/common/sparkplug_codec.h"
#include "edgemon/common/version.h"
#include "edgemon/gateway/api/json_writer.h"
#include "edgemon/gateway/api/node_json.h"
#include "edgemon/gateway/api/rules_resource.h"

namespace edgemon::gateway {
namespace {

constexpr const char* kLog = "gateway";
constexpr auto kTickInterval = std::chrono::milliseconds(250);
// How often due node frames go out (LiveFeed's Spreading: each flush sends its share of the fleet).
constexpr auto kLiveFlushInterval = std::chrono::milliseconds(10);
constexpr std::size_t kIngestBatch = 32;  // messages taken from the queue at a time
// The longest an io-thread step (ingest, live flush) runs before it yields to other handlers.
constexpr auto kStepBudget = std::chrono::milliseconds(4);

// The gateway's own alert: history writes failing (disk full, I/O error). Fed with one sample of
// gateway/storage_ok a second; the subject is the pseudo node "_gateway/<host_id>".
rules::RuleSet with_builtin_rules(rules::RuleSet set, const std::string& gateway_node) {
  rules::Rule storage;
  storage.name = "_gateway_storage";
  storage.kind = rules::RuleKind::kFailure;
  storage.op = rules::Op::kEqual;  // a failed sample: value == 0 (as rules_config sets it)
  storage.threshold = 0;
  storage.metric = std::string(kStorageMetric);
  storage.nodes = {gateway_node};
  storage.type = "STORAGE_FAILED";
  storage.severity = rules::Severity::kCritical;
  storage.samples = 1;
  storage.recovery_samples = 1;
  storage.cooldown = std::chrono::milliseconds(0);
  set.rules.push_back(std::move(storage));
  set.rules.push_back(data_loss_rule());
  return set;
}

std::string gateway_node_of(const GatewayConfig& c) { return "_gateway/" + c.host_id; }

IngestConfig ingest_config(const GatewayConfig& c) {
  IngestConfig ic;
  ic.limits = c.limits;
  ic.gateway_node = gateway_node_of(c);
  return ic;
}

AggregatorConfig aggregator_config(const GatewayConfig& c) {
  AggregatorConfig ac;
  ac.max_nodes = c.limits.max_nodes;
  ac.max_targets_total = c.limits.max_targets_total;
  return ac;
}

std::string state_payload(bool online, std::int64_t ts_ms) {
  JsonWriter w;
  w.begin_object().member("online", online).member("timestamp", ts_ms).end_object();
  return w.take();
}

}  // namespace

Gateway::Gateway(GatewayConfig config, const Clock& clock)
    : config_(std::move(config)),
      clock_(clock),
      fleet_(FleetLimits{config_.limits.max_metrics_per_node, config_.limits.max_metrics_total}),
      aggregator_(aggregator_config(config_)),
      evaluator_(with_builtin_rules(config_.rules, gateway_node_of(config_))),
      alerts_(evaluator_),
      ingest_(ingest_config(config_), fleet_, aggregator_, completeness_, evaluator_, targets_),
      hub_([this](NodeView view) { return nodes_json(fleet_, aggregator_, view); },
           [this](std::string_view key) -> std::optional<std::string> {
             const NodeState* node = fleet_.find(key);
             if (node == nullptr) return std::nullopt;
             return node_json(*node, aggregator_);
           },
           std::to_string(to_unix_ms(clock.wall())), clock),
      ingress_(config_.ingress_queue_messages, config_.ingress_queue_bytes) {}

Gateway::~Gateway() {
  ingress_.close();
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
  reader_ = std::make_unique<StoreReader>(std::move(*reader));
  StoreWriterOptions wo;
  wo.max_delay = config_.commit_interval;
  writer_ = std::make_unique<StoreWriter>(std::move(*store), wo, clock_);
  writer_->on_status([this](bool ok, const std::string& error) {
    asio::post(io_, [this, ok, error] {
      if (ok) {
        log::info(kLog, "history writes resumed");
      } else {
        log::error(kLog, "history writes failing: kept in memory and retried", {{"error", error}});
      }
      Outbox out;
      ingest_.storage_status(ok, Instant::of(clock_), out);
      apply(std::move(out));
    });
  });
  if (Status s = writer_->start(); !s) return s;

  LiveConfig lc;
  lc.flush_every = kLiveFlushInterval;
  lc.republish = config_.republish;
  lc.gateway_version = kVersion;
  live_ = std::make_unique<LiveFeed>(lc, fleet_, aggregator_, evaluator_, hub_, clock_,
                                     [this](const MqttMessage& m, int qos) {
                                       if (!mqtt_ || !mqtt_->connected()) return false;
                                       if (Status s = mqtt_->publish(m.topic, m.payload, qos, /*retain=*/true); !s) {
                                         log::debug(kLog, "republish failed", {{"topic", m.topic}, {"error", s.error().message}});
                                         return false;
                                       }
                                       return true;
                                     });

  api_ = std::make_unique<ApiContext>(ApiContext{clock_, fleet_, aggregator_, completeness_, evaluator_, alerts_, targets_, ingest_,
                                                 *reader_, config_.sla_pct,
                                                 [this](Outbox&& out) { apply(std::move(out)); },
                                                 [this] { return status(); }});
  add_api_routes(router_, *api_);

  const bool tls = !config_.tls_cert_file.empty();
  auto auth = AuthService::open(config_.auth, config_.state_dir, clock_, tls);
  if (!auth) return auth.error();
  auth_ = std::move(*auth);
  http_ = std::make_unique<HttpServer>(io_,
                                       HttpOptions{config_.http_bind, static_cast<std::uint16_t>(config_.http_port),
                                                   config_.web_root, config_.tls_cert_file, config_.tls_key_file},
                                       router_, hub_, *auth_);
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
    return MqttWill{state_topic(), state_payload(false, to_unix_ms(clock_.wall())), 1, true};
  });
  mqtt_->on_connected([this] {
    // A broker without persistence lost the retained readable state: publish it all again.
    asio::post(io_, [this] {
      live_->broker_reconnected();
      Outbox out;
      ingest_.broker_back(Instant::of(clock_), out);
      apply(std::move(out));
    });
    if (Status s = mqtt_->publish(state_topic(), state_payload(true, to_unix_ms(clock_.wall())), 1, true); !s) {
      log::warn(kLog, "cannot publish STATE", {{"error", s.error().message}});
    }
  });
  mqtt_->on_disconnected([this] {
    // Deaf, not down: the fleet's status is unknown until the gateway hears it again.
    asio::post(io_, [this] {
      Outbox out;
      ingest_.broker_lost(Instant::of(clock_), out);
      apply(std::move(out));
    });
  });
  mqtt_->on_message([this](MqttIncoming&& msg) {
    if (ingress_.push(std::move(msg))) asio::post(io_, [this] { drain_ingress(); });
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
  schedule_live_flush();

  log::info(kLog, "started", {{"version", kVersion}, {"http", std::string(tls ? "https://" : "http://") + config_.http_bind + ":" + std::to_string(http_port_)},
                              {"broker", mqtt_->server_uri()}, {"web_root", config_.web_root}});
  return Status::Ok();
}

void Gateway::restore(Store& store) {
  const WallTime now = clock_.wall();
  restore_failures_ += restore_api_rules(store, alerts_, now);  // first: the alert state may hold their alerts
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
  if (auto progress = store.sample_progress(); !progress) {
    ++restore_failures_;
    log::error(kLog, "cannot read sample accounting; it starts afresh", {{"error", progress.error().message}});
  } else {
    completeness_.restore(*progress);
  }
  if (auto configs = store.node_configs(); !configs) {
    ++restore_failures_;
    log::error(kLog, "cannot read managed node configuration", {{"error", configs.error().message}});
  } else if (const std::size_t bad = targets_.restore(*configs); bad > 0) {
    restore_failures_ += bad;
    log::error(kLog, "managed node configuration unreadable; ignored", {{"rows", bad}});
  }
}

void Gateway::drain_ingress() {
  // Small batches within a time budget: one post and one store submit per step, and other
  // handlers (an urgent frame, an HTTP answer) wait at most about kStepBudget behind it.
  const Instant now = Instant::of(clock_);
  Outbox out;
  std::size_t left = 0;
  std::size_t done = 0;
  do {
    left = ingress_.take(batch_, kIngestBatch);
    for (const MqttIncoming& m : batch_) ingest_.message(m.topic, m.payload, now, out);
    done += batch_.size();
  } while (left > 0 && clock_.mono() - now.mono < kStepBudget);
  if (done > 0) {
    apply(std::move(out));
    watch_step("ingest", now.mono, done);
  }
  if (left > 0) asio::post(io_, [this] { drain_ingress(); });
}

void Gateway::flush_live() {
  const MonoTime started = clock_.mono();
  const bool more = live_->flush(kStepBudget);
  watch_step("live flush", started, 0);
  if (more) asio::post(io_, [this] { flush_live(); });
}

void Gateway::watch_step(const char* what, MonoTime started, std::size_t items) {
  // ESPHome's guard: an io-thread step longer than this delays every WebSocket frame and HTTP
  // answer behind it; say which one, at most once a second.
  constexpr auto kSlow = std::chrono::milliseconds(50);
  const MonoTime now = clock_.mono();
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(now - started);
  if (took < kSlow) return;
  ++slow_steps_;
  if (now - last_slow_log_ < std::chrono::seconds(1)) return;
  last_slow_log_ = now;
  log::warn(kLog, "io thread step took long", {{"step", what}, {"ms", took.count()}, {"items", items}});
}

void Gateway::schedule_tick() {
  tick_timer_.expires_after(kTickInterval);
  tick_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    tick();
    schedule_tick();
  });
}

void Gateway::schedule_live_flush() {
  live_timer_.expires_after(kLiveFlushInterval);
  live_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    flush_live();
    schedule_live_flush();
  });
}

void Gateway::tick() {
  const Instant now = Instant::of(clock_);
  Outbox out;
  ingest_.tick(now, out);
  apply(std::move(out));
  watch_step("tick", now.mono, 0);
}

void Gateway::apply(Outbox&& out) {
  if (!out.store.empty()) writer_->submit(std::move(out.store));
  for (const Topic& t : out.rebirths) {
    TelemetryMessage cmd;
    cmd.kind = MessageKind::kCommand;
    cmd.timestamp_ms = to_unix_ms(clock_.wall());
    cmd.metrics.push_back(make_metric("Node Control/Rebirth", "", 1.0, cmd.timestamp_ms, MetricType::kBoolean));
    publish_command(t.group, t.node, cmd);
    log::info(kLog, "rebirth requested", {{"node", t.node}, {"group", t.group}});
  }
  for (const NodeCommand& c : out.commands) {
    publish_command(c.group, c.node, c.message);
    log::info(kLog, "configuration sent to node", {{"node", c.group + "/" + c.node}});
  }
  for (const NodeChange& c : out.nodes) live_->node_changed(c);
  if (out.alerts_changed) live_->alerts_changed();
  if (out.notifications.empty()) return;
  if (out.deliver_now || !ingest_.storage_ok()) {
    // Storage is failing (that may be the very alert): waiting for a commit could take forever.
    for (const rules::Notification& n : out.notifications) deliver(n);
    return;
  }
  // Announce only what is durable: after a crash the restored state must not announce it again.
  writer_->after_commit([this, ns = std::move(out.notifications)]() mutable {
    asio::post(io_, [this, ns = std::move(ns)] {
      for (const rules::Notification& n : ns) deliver(n);
    });
  });
}

void Gateway::publish_command(const std::string& group, const std::string& node, const TelemetryMessage& cmd) {
  if (!mqtt_) return;
  if (Status s = mqtt_->publish(format_topic(group, MessageKind::kCommand, node), encode_sparkplug(cmd), 1, false); !s) {
    log::warn(kLog, "cannot send a command to a node; sent again when it is needed",
              {{"node", group + "/" + node}, {"error", s.error().message}});
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

GatewayStatus Gateway::status() const {
  GatewayStatus s;
  s.version = kVersion;
  s.mqtt_connected = mqtt_ && mqtt_->connected();
  s.nodes = fleet_.size();
  s.ingest = ingest_.stats();
  s.samples = completeness_.totals();
  s.restore_failures = restore_failures_;
  s.alerts_active = evaluator_.active_alerts().size();
  s.rules = evaluator_.rule_set().rules.size();
  s.dropped_subjects = aggregator_.dropped_subjects();
  s.metrics = fleet_.metric_count();
  const WsStats& ws = hub_.stats();
  s.ws = WsStatus{hub_.clients(), ws.frames_sent, ws.coalesced, ws.resyncs, ws.dropped, ws.revoked, ws.resumes, ws.watches, ws.bad_messages};
  if (writer_) s.storage = writer_->stats();
  s.ingress = IngressStatus{ingress_.size(), ingress_.max_messages(), ingress_.waits()};
  if (reader_) {
    s.history_queries = reader_->served();
    s.history_refused = reader_->refused();
    s.schema_version = reader_->schema_version();
  }
  s.io_slow_steps = slow_steps_;
  s.fleet = aggregator_.status_counts();
  return s;
}

void Gateway::shutdown(int signal) {
  log::info(kLog, "stopping", {{"signal", signal}});
  sd_notify(0, "STOPPING=1");
  http_->stop();
  tick_timer_.cancel();
  live_timer_.cancel();
  if (notifier_) notifier_->stop(std::chrono::seconds(3));
  // Paho's receive thread may wait for room in the queue: let it go before waiting on the broker.
  ingress_.close();
  // Leave STATE offline behind us: a clean disconnect does not fire the will.
  (void)mqtt_->publish_and_wait(state_topic(), state_payload(false, to_unix_ms(clock_.wall())), 1, true,
                                std::chrono::milliseconds(1000));
  mqtt_->stop();
  // What is left for history: what is still queued, the last uptime counts and alert state.
  Outbox out;
  const Instant now = Instant::of(clock_);
  for (;;) {
    const std::size_t left = ingress_.take(batch_, kIngestBatch);
    for (const MqttIncoming& m : batch_) ingest_.message(m.topic, m.payload, now, out);
    if (left == 0) break;
  }
  ingest_.final_state(Instant::of(clock_), out);
  writer_->submit(std::move(out.store));
  writer_->stop(std::chrono::seconds(3));
  io_.stop();
}

int Gateway::run() {
  // The io thread relays live data; on a small board it must win the CPU over background work
  // (the history reader runs at nice 10). Threads started before keep their niceness.
  const auto tid = static_cast<id_t>(::syscall(SYS_gettid));
  errno = 0;
  const int current = ::getpriority(PRIO_PROCESS, tid);
  if (errno == 0 && current > config_.io_nice) {
    if (::setpriority(PRIO_PROCESS, tid, config_.io_nice) != 0) {
      log::info(kLog, "io thread keeps its priority (raising it needs CAP_SYS_NICE; the packaged unit sets Nice=)",
                {{"nice", current}, {"wanted", config_.io_nice}});
    }
  }
  asio::signal_set signals(io_, SIGINT, SIGTERM);
  signals.async_wait([this](const boost::system::error_code& ec, int sig) {
    if (!ec) shutdown(sig);
  });
  sd_notify(0, "READY=1");
  io_.run();
  log::info(kLog, "stopped", {{"messages_accepted", ingest_.stats().accepted}});
  return 0;
}

}  // namespace edgemon::gateway
