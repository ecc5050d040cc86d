#include "edgemon/sim/fleet_sim.h"

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <random>
#include <thread>

#include <MQTTAsync.h>
#include <nlohmann/json.hpp>

#include "edgemon/common/clock.h"
#include "edgemon/common/log.h"
#include "edgemon/firmware/node_telemetry.h"

namespace edgemon::sim {
namespace {

constexpr const char* kLog = "sim";
constexpr const char* kRebirthMetric = "Node Control/Rebirth";
constexpr std::chrono::milliseconds kMinBackoff{500};

std::chrono::nanoseconds to_ns(double seconds) {
  return std::chrono::nanoseconds(static_cast<std::int64_t>(std::llround(seconds * 1e9)));
}

std::int64_t wall_ms() { return to_unix_ms(WallClock::now()); }

// The agent's choice: percentages and latencies fit a Sparkplug Float, the rest stays Double.
MetricType wire_type(std::string_view unit) {
  return unit == "%" || unit == "ms" ? MetricType::kFloat : MetricType::kDouble;
}

constexpr const char* kDefaultScenario = R"(
seed = 1
[cpu]
baseline = 22.0
noise = 4.0
[memory]
baseline = 48.0
noise = 0.8
[latency_ms]
baseline = 85.0
noise = 12.0
min = 1.0
max = 5000.0
[error_rate]
baseline = 0.4
noise = 0.2
)";

}  // namespace

board::sim::Scenario default_scenario() {
  auto sc = board::sim::parse_scenario(kDefaultScenario, "built-in scenario");
  return sc ? *sc : board::sim::Scenario{};
}

// One virtual edge node. Paho's threads only touch the atomics; everything else belongs to the
// driver thread. The session uses Paho's C async API directly: Paho C++ 1.2 cannot send a
// DISCONNECT reason code, and the heartbeat loss needs 0x04 "disconnect with will message".
struct FleetSimulator::Node {
  enum class Link { kIdle, kConnecting, kUp, kClosing };

  Node() = default;
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;
  ~Node() {
    if (client != nullptr) MQTTAsync_destroy(&client);
  }

  int index = 0;
  std::string id;
  std::string birth_topic, data_topic, death_topic, cmd_topic, state_topic;
  bool wait_for_host = false;
  MQTTAsync client = nullptr;

  // Set by Paho's threads.
  std::atomic<bool> ev_connected{false};
  std::atomic<bool> ev_failed{false};
  std::atomic<bool> ev_lost{false};
  std::atomic<bool> host_online{false};
  std::atomic<bool> rebirth{false};
  std::atomic<std::uint64_t> rejected_commands{0};

  // Driver thread only.
  Link link = Link::kIdle;
  MonoTime closing_deadline{};
  MonoTime next_attempt{};
  std::chrono::milliseconds backoff = kMinBackoff;
  std::uint64_t bd_seq = 0;  // of the current (or last) session; the first session is 1, as the agent's
  int seq = 0;
  bool born = false;
  bool need_birth = false;
  bool heartbeat_down = false;
  board::sim::Scenario scenario;
  ManualClock vclock;
  std::unique_ptr<board::sim::SimulatedBoard> board;  // created at the first sample
  MonoTime next_sample{};
  std::vector<Metric> last;  // the last sample's metrics
  firmware::NodeTelemetry telemetry{firmware::ReportPolicy{}};

  bool connected() const { return client != nullptr && MQTTAsync_isConnected(client) != 0; }

  // Paho callbacks (C linkage-compatible static functions; context is the Node).
  static void on_connected(void* ctx, char* /*cause*/) {
    auto* n = static_cast<Node*>(ctx);
    MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
    (void)MQTTAsync_subscribe(n->client, n->cmd_topic.c_str(), 1, &ro);
    if (n->wait_for_host) {
      MQTTAsync_responseOptions ro2 = MQTTAsync_responseOptions_initializer;
      (void)MQTTAsync_subscribe(n->client, n->state_topic.c_str(), 1, &ro2);
    }
    n->ev_connected.store(true);
  }
  static void on_connect_failure(void* ctx, MQTTAsync_failureData5* /*response*/) {
    static_cast<Node*>(ctx)->ev_failed.store(true);
  }
  static void on_lost(void* ctx, char* /*cause*/) { static_cast<Node*>(ctx)->ev_lost.store(true); }
  static int on_message(void* ctx, char* topic_name, int topic_len, MQTTAsync_message* msg) {
    auto* n = static_cast<Node*>(ctx);
    const std::string topic = topic_len > 0 ? std::string(topic_name, static_cast<std::size_t>(topic_len))
                                            : std::string(topic_name);
    const std::string payload(static_cast<const char*>(msg->payload), static_cast<std::size_t>(msg->payloadlen));
    MQTTAsync_freeMessage(&msg);
    MQTTAsync_free(topic_name);
    n->handle_message(topic, payload);
    return 1;
  }
  void handle_message(const std::string& topic, const std::string& payload) {
    if (topic == state_topic) {
      const auto j = nlohmann::json::parse(payload, nullptr, false);
      if (j.is_object() && j.contains("online") && j["online"].is_boolean()) {
        host_online.store(j["online"].get<bool>());
      } else {
        rejected_commands.fetch_add(1);
      }
      return;
    }
    auto cmd = decode(payload, MessageKind::kCommand);
    if (!cmd) {
      rejected_commands.fetch_add(1);
      return;
    }
    for (const Metric& m : cmd->metrics) {
      if (m.name == kRebirthMetric && m.value && *m.value != 0.0) rebirth.store(true);
    }
  }

  // QoS 1 publish; returns Paho's token (>= 0) or -1.
  int send(const std::string& topic, const std::string& payload) {
    if (!connected()) return -1;
    MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
    const int rc = MQTTAsync_send(client, topic.c_str(), static_cast<int>(payload.size()), payload.data(), 1, 0, &ro);
    return rc == MQTTASYNC_SUCCESS ? ro.token : -1;
  }
};

FleetSimulator::FleetSimulator(SimOptions options) : options_(std::move(options)) {}

FleetSimulator::~FleetSimulator() = default;

std::string FleetSimulator::node_id(const SimOptions& options, int index) {
  int width = 3;
  for (int n = std::max(options.nodes - 1, 0); n >= 1000; n /= 10) ++width;
  char digits[32];
  std::snprintf(digits, sizeof digits, "%0*d", width, index);
  return options.prefix + digits;
}

Result<SimStats> FleetSimulator::run(const std::atomic<bool>& stop) {
  const SimOptions& o = options_;
  if (!valid_id(o.group)) return make_error(ErrorCode::kInvalidArgument, "invalid group id '" + o.group + "'");
  if (o.nodes < 1) return make_error(ErrorCode::kInvalidArgument, "--nodes must be at least 1");
  if (o.interval_s <= 0) return make_error(ErrorCode::kInvalidArgument, "--interval must be positive");
  const bool v6 = o.host.find(':') != std::string::npos;
  const std::string uri = "tcp://" + (v6 ? "[" + o.host + "]" : o.host) + ":" + std::to_string(o.port);

  firmware::ReportPolicy policy;
  policy.default_deadband = o.deadband;
  policy.keyframe_every = std::chrono::duration_cast<std::chrono::milliseconds>(to_ns(o.keyframe_s));

  nodes_.clear();
  for (int i = 0; i < o.nodes; ++i) {
    auto n = std::make_unique<Node>();
    n->index = i;
    n->id = node_id(o, i);
    if (!valid_id(n->id)) return make_error(ErrorCode::kInvalidArgument, "invalid node id '" + n->id + "' (check --prefix)");
    n->birth_topic = format_topic(o.group, MessageKind::kBirth, n->id);
    n->data_topic = format_topic(o.group, MessageKind::kData, n->id);
    n->death_topic = format_topic(o.group, MessageKind::kDeath, n->id);
    n->cmd_topic = format_topic(o.group, MessageKind::kCommand, n->id);
    n->wait_for_host = !o.primary_host.empty();
    n->state_topic = n->wait_for_host ? std::string(kTopicNamespace) + "/STATE/" + o.primary_host : std::string();
    const auto it = o.node_scenarios.find(i);
    n->scenario = it != o.node_scenarios.end() ? it->second : o.scenario;
    n->scenario.seed = (o.seed ? *o.seed : n->scenario.seed) + static_cast<std::uint64_t>(i);
    n->telemetry.set_policy(policy);
    MQTTAsync_createOptions co = MQTTAsync_createOptions_initializer5;
    const std::string client_id = "edgemon-sim-" + o.group + "-" + n->id;
    int rc = MQTTAsync_createWithOptions(&n->client, uri.c_str(), client_id.c_str(), MQTTCLIENT_PERSISTENCE_NONE,
                                         nullptr, &co);
    if (rc == MQTTASYNC_SUCCESS) rc = MQTTAsync_setCallbacks(n->client, n.get(), &Node::on_lost, &Node::on_message, nullptr);
    if (rc == MQTTASYNC_SUCCESS) rc = MQTTAsync_setConnected(n->client, n.get(), &Node::on_connected);
    if (rc != MQTTASYNC_SUCCESS) {
      return make_error(ErrorCode::kInvalidArgument,
                        std::string("cannot create MQTT client: ") + MQTTAsync_strerror(rc));
    }
    nodes_.push_back(std::move(n));
  }

  SimStats stats;
  const auto interval = to_ns(o.interval_s);
  const MonoTime started = MonoClock::now();
  const MonoTime deadline = o.duration_s > 0 ? started + to_ns(o.duration_s) : MonoTime::max();
  std::minstd_rand rng(static_cast<std::uint32_t>(o.seed.value_or(o.scenario.seed)));
  log::info(kLog, "started", {{"nodes", o.nodes}, {"broker", uri}, {"group", o.group},
                              {"interval_s", o.interval_s},
                              {"primary_host", o.primary_host.empty() ? "-" : o.primary_host}});

  const auto publish = [&](Node& n, const std::string& topic, const std::string& payload) {
    if (n.send(topic, payload) < 0) {
      ++stats.publish_failures;
      return false;
    }
    stats.bytes += payload.size();
    return true;
  };
  const auto retry_later = [&](Node& n, MonoTime now) {
    std::uniform_real_distribution<double> jitter(0.75, 1.25);
    n.next_attempt = now + std::chrono::milliseconds(
                               static_cast<std::int64_t>(static_cast<double>(n.backoff.count()) * jitter(rng)));
    const auto cap = std::max(std::chrono::milliseconds(static_cast<std::int64_t>(o.reconnect_max_s * 1000)), kMinBackoff);
    n.backoff = std::min(n.backoff * 2, cap);
  };
  const auto connect = [&](Node& n) {
    // A new session gets the next bdSeq; its will and its NBIRTH carry the same number.
    ++n.bd_seq;
    TelemetryMessage death;
    death.kind = MessageKind::kDeath;
    death.timestamp_ms = wall_ms();
    death.bd_seq = n.bd_seq;
    const std::string will = encode(o.encoding, death);
    MQTTAsync_willOptions w = MQTTAsync_willOptions_initializer;
    w.topicName = n.death_topic.c_str();
    w.message = nullptr;
    w.payload.data = will.data();
    w.payload.len = static_cast<int>(will.size());
    w.qos = 1;
    w.retained = 0;
    MQTTAsync_connectOptions opts = MQTTAsync_connectOptions_initializer5;
    opts.keepAliveInterval = o.keepalive_s;
    opts.cleanstart = 1;
    opts.connectTimeout = 5;
    opts.automaticReconnect = 0;
    opts.will = &w;
    if (!o.username.empty()) opts.username = o.username.c_str();
    if (!o.password.empty()) {
      opts.binarypwd.data = o.password.data();
      opts.binarypwd.len = static_cast<int>(o.password.size());
    }
    opts.onFailure5 = &Node::on_connect_failure;
    opts.context = &n;
    n.host_online.store(!n.wait_for_host);
    n.link = Node::Link::kConnecting;
    const int rc = MQTTAsync_connect(n.client, &opts);
    if (rc != MQTTASYNC_SUCCESS) {
      log::debug(kLog, "connect failed", {{"node", n.id}, {"error", MQTTAsync_strerror(rc)}});
      n.link = Node::Link::kIdle;
      retry_later(n, MonoClock::now());
    }
  };
  const auto take_sample = [&](Node& n) {
    if (!n.board) n.board = std::make_unique<board::sim::SimulatedBoard>(n.scenario, n.vclock);
    (void)n.board->fetch();
    ++stats.samples;
    const std::int64_t now_ms = wall_ms();
    n.last.clear();
    for (const board::SensorValue& v : n.board->values()) {
      n.last.push_back(make_metric(v.name, v.unit, v.value, now_ms, wire_type(v.unit)));
    }
  };

  for (;;) {
    MonoTime now = MonoClock::now();
    if (stop.load() || now >= deadline) break;
    int connect_budget = o.connects_per_tick;
    MonoTime wake = std::min(deadline, now + std::chrono::milliseconds(20));
    for (auto& np : nodes_) {
      Node& n = *np;
      // Session events from Paho's threads.
      if (n.ev_failed.exchange(false) && n.link == Node::Link::kConnecting) {
        n.link = Node::Link::kIdle;
        retry_later(n, now);
      }
      if (n.ev_connected.exchange(false) && n.link == Node::Link::kConnecting) {
        n.link = Node::Link::kUp;
        n.backoff = kMinBackoff;
        ++stats.connects;
      }
      if (n.ev_lost.exchange(false) && n.link == Node::Link::kUp) {
        n.link = Node::Link::kIdle;
        n.born = false;
        ++stats.connection_losses;
        retry_later(n, now);
      }
      if (n.link == Node::Link::kClosing && (!n.connected() || now >= n.closing_deadline)) {
        n.link = Node::Link::kIdle;
      }
      if (n.rebirth.exchange(false)) {
        ++stats.rebirth_requests;
        n.need_birth = true;
      }
      const bool ready = n.link == Node::Link::kUp && n.host_online.load();
      if (!ready) n.born = false;

      // Sampling: the first sample when the node is first ready, then one per interval.
      bool sampled = false;
      if (!n.board && ready) {
        take_sample(n);
        n.next_sample = now + interval;
        sampled = true;
      } else if (n.board && now >= n.next_sample) {
        n.vclock.advance(interval);
        take_sample(n);
        n.next_sample += interval;
        if (n.next_sample <= now) n.next_sample = now + interval;  // fell behind: skip, don't burst
        sampled = true;
      }
      if (sampled) {
        if (!n.board->heartbeat_alive() && !n.heartbeat_down) {
          // The board "dies": end the session so that the broker publishes our will (NDEATH).
          n.heartbeat_down = true;
          n.born = false;
          if (n.link == Node::Link::kUp || n.link == Node::Link::kConnecting) {
            MQTTAsync_disconnectOptions d = MQTTAsync_disconnectOptions_initializer5;
            d.timeout = 1000;
            d.reasonCode = MQTTREASONCODE_DISCONNECT_WITH_WILL_MESSAGE;
            const int rc = MQTTAsync_disconnect(n.client, &d);
            if (rc == MQTTASYNC_SUCCESS) {
              n.link = Node::Link::kClosing;
              n.closing_deadline = now + std::chrono::seconds(2);
              ++stats.deaths_by_will;
            } else {
              log::warn(kLog, "disconnect failed", {{"node", n.id}, {"error", MQTTAsync_strerror(rc)}});
            }
          }
          log::info(kLog, "heartbeat lost: session ended with will", {{"node", n.id}, {"bdSeq", n.bd_seq}});
        } else if (n.board->heartbeat_alive() && n.heartbeat_down) {
          n.heartbeat_down = false;
          n.backoff = kMinBackoff;
          n.next_attempt = now;
          log::info(kLog, "heartbeat back: reconnecting", {{"node", n.id}});
        } else if (n.born) {
          firmware::NodeTelemetry::Data data = n.telemetry.make_data(n.last, wall_ms(), n.vclock.mono());
          if (data.needs_rebirth) n.need_birth = true;
          if (!data.message.metrics.empty() && !n.need_birth) {
            n.telemetry.assign_aliases(data.message.metrics);
            data.message.seq = static_cast<std::uint64_t>(n.seq);
            if (publish(n, n.data_topic, encode(o.encoding, data.message))) {
              ++stats.data;
              n.seq = (n.seq + 1) % 256;
            }
          }
        }
      }

      // Connect when idle, alive and due (a bounded number per turn: no connect storm).
      if (n.link == Node::Link::kIdle && !n.heartbeat_down && now >= n.next_attempt && connect_budget > 0) {
        --connect_budget;
        connect(n);
      }

      // Birth: once ready with a sample, after a rebirth request, or a new metric.
      if (ready && n.board && !n.heartbeat_down && (!n.born || n.need_birth)) {
        TelemetryMessage birth = n.telemetry.make_birth(n.last, wall_ms(), n.bd_seq, n.vclock.mono());
        birth.seq = 0;
        if (publish(n, n.birth_topic, encode(o.encoding, birth))) {
          ++stats.births;
          n.born = true;
          n.need_birth = false;
          n.seq = 1;
        }
      }
      if (n.board) wake = std::min(wake, n.next_sample);
      if (n.link == Node::Link::kIdle && !n.heartbeat_down) wake = std::min(wake, n.next_attempt);
    }
    if (connect_budget == 0) wake = now + std::chrono::milliseconds(5);
    std::this_thread::sleep_until(std::max(wake, now + std::chrono::milliseconds(1)));
  }

  // Clean stop: an explicit NDEATH per connected node (a clean disconnect suppresses the will).
  const MonoTime stop_started = MonoClock::now();
  stats.elapsed_s = std::chrono::duration<double>(stop_started - started).count();
  for (auto& np : nodes_) stats.nodes_born += np->born ? 1 : 0;
  std::vector<std::pair<Node*, int>> tokens;
  for (auto& np : nodes_) {
    Node& n = *np;
    if (n.link != Node::Link::kUp || !n.connected()) continue;
    TelemetryMessage death;
    death.kind = MessageKind::kDeath;
    death.timestamp_ms = wall_ms();
    death.bd_seq = n.bd_seq;
    const std::string payload = encode(o.encoding, death);
    const int token = n.send(n.death_topic, payload);
    if (token < 0) {
      ++stats.publish_failures;
      continue;
    }
    tokens.emplace_back(&n, token);
    ++stats.deaths_explicit;
    stats.bytes += payload.size();
  }
  const MonoTime ack_deadline = MonoClock::now() + std::chrono::seconds(5);
  for (const auto& [n, token] : tokens) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(ack_deadline - MonoClock::now());
    if (left.count() <= 0 ||
        MQTTAsync_waitForCompletion(n->client, token, static_cast<unsigned long>(left.count())) != MQTTASYNC_SUCCESS) {
      ++stats.publish_failures;
    }
  }
  for (auto& np : nodes_) {
    if (!np->connected()) continue;
    MQTTAsync_disconnectOptions d = MQTTAsync_disconnectOptions_initializer5;  // reason 0: no will
    d.timeout = 1000;
    (void)MQTTAsync_disconnect(np->client, &d);
  }
  const MonoTime disc_deadline = MonoClock::now() + std::chrono::seconds(3);
  for (auto& np : nodes_) {
    while (np->connected() && MonoClock::now() < disc_deadline) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  nodes_.clear();
  return stats;
}

std::string summary_line(const SimOptions& o, const SimStats& s) {
  const double t = s.elapsed_s > 0 ? s.elapsed_s : 1e-9;
  char line[512];
  std::snprintf(line, sizeof line,
                "edgemon-sim: %d nodes, %.1f s: %" PRIu64 " messages (%" PRIu64 " NBIRTH, %" PRIu64 " NDATA, %" PRIu64
                " NDEATH, %" PRIu64 " wills), %.1f msg/s, %.1f KiB/s, %" PRIu64 " samples, %" PRIu64
                " connects, %" PRIu64 " lost, %" PRIu64 " rebirth requests, %" PRIu64 " publish failures, %d born at stop",
                o.nodes, s.elapsed_s, s.messages(), s.births, s.data, s.deaths_explicit, s.deaths_by_will,
                static_cast<double>(s.messages()) / t, static_cast<double>(s.bytes) / 1024.0 / t, s.samples, s.connects,
                s.connection_losses, s.rebirth_requests, s.publish_failures, s.nodes_born);
  return line;
}

}  // namespace edgemon::sim
