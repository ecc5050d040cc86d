#include "edgemon/gateway/api/status.h"

#include <array>
#include <string_view>
#include <vector>

#include "edgemon/gateway/api/json_writer.h"
#include "edgemon/gateway/api/prometheus_text.h"

namespace edgemon::gateway {
namespace {

using S = GatewayStatus;
using Get = std::uint64_t (*)(const S&);
constexpr PromType G = PromType::kGauge;
constexpr PromType C = PromType::kCounter;

// One field of the status: where it appears in /api/health (section "" = top level; empty key =
// not there) and in /metrics (empty name = not there).
struct StatusField {
  std::string_view section;
  std::string_view key;
  std::string_view prom;
  std::string_view help;
  PromType type;
  bool boolean;
  Get get;
};

// The order is /metrics' family order; /api/health groups by section.
constexpr std::array kStatusFields = {
    StatusField{"", "mqtt_connected", "edgemon_mqtt_connected", "1 while the gateway is connected to the MQTT broker.", G, true,
                [](const S& s) -> std::uint64_t { return s.mqtt_connected; }},
    StatusField{"", "messages_accepted", "edgemon_messages_accepted_total", "Sparkplug messages accepted.", C, false,
                [](const S& s) { return s.ingest.accepted; }},
    StatusField{"", "messages_rejected", "", "", C, false, [](const S& s) { return s.ingest.rejected_total(); }},
    StatusField{"", "duplicates", "edgemon_messages_duplicate_total", "Duplicate messages ignored (QoS 1 redelivery).", C,
                false, [](const S& s) { return s.ingest.duplicates; }},
    StatusField{"", "sequence_gaps", "edgemon_sequence_gaps_total", "Sparkplug sequence number gaps seen.", C, false,
                [](const S& s) { return s.ingest.gaps; }},
    StatusField{"", "rebirth_requests", "edgemon_rebirth_requests_total", "Rebirth requests sent to nodes.", C, false,
                [](const S& s) { return s.ingest.rebirth_requests; }},
    StatusField{"", "notifications", "edgemon_notifications_total", "Alert notifications dispatched.", C, false,
                [](const S& s) { return s.ingest.notifications; }},
    StatusField{"", "restore_failures", "edgemon_restore_failures_total", "State that could not be restored at start.", C,
                false, [](const S& s) { return s.restore_failures; }},
    StatusField{"", "ws_clients", "edgemon_websocket_clients", "Connected WebSocket clients.", G, false,
                [](const S& s) { return s.ws.clients; }},
    StatusField{"ws", "clients", "", "", G, false, [](const S& s) { return s.ws.clients; }},
    StatusField{"ws", "frames_sent", "edgemon_websocket_frames_sent_total", "Frames written to WebSocket clients.", C, false,
                [](const S& s) { return s.ws.frames_sent; }},
    StatusField{"ws", "frames_coalesced", "edgemon_websocket_frames_coalesced_total",
                "Queued WebSocket frames replaced by a newer one for the same node (slow client).", C, false,
                [](const S& s) { return s.ws.coalesced; }},
    StatusField{"ws", "resyncs", "edgemon_websocket_resyncs_total",
                "WebSocket client queues replaced by a snapshot after overflowing.", C, false,
                [](const S& s) { return s.ws.resyncs; }},
    StatusField{"ws", "clients_dropped", "edgemon_websocket_clients_dropped_total",
                "WebSocket clients dropped for overflowing again before their resync went out.", C, false,
                [](const S& s) { return s.ws.dropped; }},
    StatusField{"ws", "clients_revoked", "edgemon_websocket_clients_revoked_total",
                "WebSocket clients closed because their credentials were revoked.", C, false,
                [](const S& s) { return s.ws.revoked; }},
    StatusField{"ws", "resumes", "edgemon_websocket_resumes_total",
                "WebSocket reconnects resumed from the history instead of a snapshot.", C, false,
                [](const S& s) { return s.ws.resumes; }},
    StatusField{"ws", "watches", "edgemon_websocket_watches_total",
                "Watch messages applied (a client asking for nodes in full).", C, false,
                [](const S& s) { return s.ws.watches; }},
    StatusField{"ws", "bad_messages", "edgemon_websocket_bad_messages_total",
                "WebSocket client messages refused with an error frame.", C, false,
                [](const S& s) { return s.ws.bad_messages; }},
    StatusField{"", "alerts_active", "edgemon_alerts_active", "Alerts currently firing.", G, false,
                [](const S& s) { return s.alerts_active; }},
    StatusField{"", "rules", "edgemon_rules", "Alert rules configured.", G, false, [](const S& s) { return s.rules; }},
    StatusField{"", "dropped_subjects", "edgemon_aggregator_dropped_subjects_total",
                "Nodes and targets ignored because the aggregator's caps were reached.", C, false,
                [](const S& s) { return s.dropped_subjects; }},
    StatusField{"", "store_failures", "", "", C, false, [](const S& s) { return s.storage.write_failures; }},
    StatusField{"storage", "ok", "edgemon_storage_ok", "1 while history writes succeed.", G, true,
                [](const S& s) -> std::uint64_t { return s.storage.storage_ok; }},
    StatusField{"storage", "committed_rows", "edgemon_storage_committed_rows_total", "History rows committed to SQLite.", C,
                false, [](const S& s) { return s.storage.committed_rows; }},
    StatusField{"storage", "committed_batches", "edgemon_storage_committed_batches_total", "History batches committed.", C,
                false, [](const S& s) { return s.storage.committed_batches; }},
    StatusField{"storage", "pending_rows", "edgemon_storage_pending_rows", "History rows queued or being written.", G, false,
                [](const S& s) { return s.storage.pending_rows; }},
    StatusField{"storage", "dropped_rows", "edgemon_storage_dropped_rows_total",
                "History rows dropped (queue full or shutdown).", C, false, [](const S& s) { return s.storage.dropped_rows; }},
    StatusField{"storage", "write_failures", "edgemon_storage_write_failures_total",
                "Failed history writes (each retry counts).", C, false, [](const S& s) { return s.storage.write_failures; }},
    StatusField{"storage", "maintenance_runs", "edgemon_storage_maintenance_runs_total",
                "History maintenance runs (rollups, retention).", C, false,
                [](const S& s) { return s.storage.maintenance_runs; }},
    StatusField{"storage", "maintenance_failures", "edgemon_storage_maintenance_failures_total",
                "Failed history maintenance runs.", C, false, [](const S& s) { return s.storage.maintenance_failures; }},
    StatusField{"limits", "metrics", "edgemon_metrics", "Metrics the gateway holds over every node.", G, false,
                [](const S& s) { return s.metrics; }},
    StatusField{"limits", "metrics_refused_node_cap", "edgemon_metrics_refused_node_cap_total",
                "Metric names refused because their node reached limits.max_metrics_per_node.", C, false,
                [](const S& s) { return s.ingest.metrics_refused_node_cap; }},
    StatusField{"limits", "metrics_refused_fleet_cap", "edgemon_metrics_refused_fleet_cap_total",
                "Metric names refused because the fleet reached limits.max_metrics_total.", C, false,
                [](const S& s) { return s.ingest.metrics_refused_fleet_cap; }},
    StatusField{"ingress", "queued", "edgemon_ingress_queued_messages", "MQTT messages received and not yet ingested.", G,
                false, [](const S& s) { return s.ingress.queued; }},
    StatusField{"ingress", "max_queued", "", "", G, false, [](const S& s) { return s.ingress.max_queued; }},
    StatusField{"ingress", "backpressure_waits", "edgemon_ingress_backpressure_waits_total",
                "Times the MQTT receive thread waited because the ingest queue was full.", C, false,
                [](const S& s) { return s.ingress.backpressure_waits; }},
    StatusField{"history", "queries", "edgemon_history_queries_total", "History queries answered by the reader thread.", C,
                false, [](const S& s) { return s.history_queries; }},
    StatusField{"history", "refused_busy", "edgemon_history_queries_refused_total",
                "History queries refused (503) because too many were waiting.", C, false,
                [](const S& s) { return s.history_refused; }},
    StatusField{"io", "slow_steps", "edgemon_io_slow_steps_total",
                "Steps of the io thread that took over 50 ms (each delays the WebSocket frames and HTTP answers behind it).",
                C, false, [](const S& s) { return s.io_slow_steps; }},
    StatusField{"", "clock_steps", "edgemon_clock_steps_total", "Steps of the wall clock the gateway detected.", C, false,
                [](const S& s) { return s.ingest.clock_steps; }},
    StatusField{"samples", "nodes", "edgemon_samples_tracked_nodes", "Nodes whose samples are accounted for (agent/sample_seq).",
                G, false, [](const S& s) -> std::uint64_t { return s.samples.nodes; }},
    StatusField{"samples", "received", "edgemon_samples_received_total", "Numbered samples received, each once.", C, false,
                [](const S& s) { return s.samples.received; }},
    StatusField{"samples", "duplicates", "edgemon_samples_duplicate_total",
                "Numbered samples received again (replays) and not stored again.", C, false,
                [](const S& s) { return s.samples.duplicates; }},
    StatusField{"samples", "missing", "edgemon_samples_missing_total",
                "Numbered samples that never arrived (holes in agent/sample_seq; DATA_LOSS events).", C, false,
                [](const S& s) { return s.samples.missing; }},
    StatusField{"samples", "losses", "edgemon_samples_losses_total", "Holes in agent/sample_seq seen (DATA_LOSS events).", C,
                false, [](const S& s) { return s.samples.losses; }},
    StatusField{"samples", "late", "edgemon_samples_late_total", "Samples that arrived after their hole was reported.", C,
                false, [](const S& s) { return s.samples.late; }},
    StatusField{"samples", "resets", "edgemon_samples_numbering_resets_total",
                "Times a node's sample numbering started over (agent state wiped).", C, false,
                [](const S& s) { return s.samples.resets; }},
};

constexpr std::array<NodeStatus, 4> kStatusOrder = {NodeStatus::kUnknown, NodeStatus::kHealthy, NodeStatus::kDegraded,
                                                    NodeStatus::kDown};

}  // namespace

std::string health_json(const GatewayStatus& s) {
  JsonWriter w;
  w.begin_object().member("status", "ok").member("version", s.version).member("nodes", s.nodes);
  // Sections in the order they first appear in the table.
  std::vector<std::string_view> sections;
  for (const StatusField& f : kStatusFields) {
    if (f.key.empty()) continue;
    bool seen = false;
    for (std::string_view x : sections) seen = seen || x == f.section;
    if (!seen) sections.push_back(f.section);
  }
  for (const std::string_view section : sections) {
    if (!section.empty()) w.key(section).begin_object();
    for (const StatusField& f : kStatusFields) {
      if (f.key.empty() || f.section != section) continue;
      w.key(f.key);
      if (f.boolean) {
        w.value(f.get(s) != 0);
      } else {
        w.value(f.get(s));
      }
    }
    if (section == "storage") w.member("last_error", s.storage.last_error);
    if (!section.empty()) w.end_object();
  }
  w.key("rejected_by_reason").begin_object();
  for (const auto& [reason, n] : s.ingest.rejected) w.member(reason, n);
  w.end_object();
  w.key("fleet").begin_object();
  for (const NodeStatus st : {NodeStatus::kDegraded, NodeStatus::kDown, NodeStatus::kHealthy, NodeStatus::kUnknown}) {
    w.member(to_string(st), static_cast<std::uint64_t>(s.fleet[static_cast<std::size_t>(st)]));
  }
  w.end_object();
  w.member("schema_version", s.schema_version);
  w.end_object();
  return w.take();
}

namespace {

struct Desc {
  std::string_view name;
  std::string_view help;
  PromType type;
};

constexpr Desc kBuildInfo{"edgemon_build_info", "Always 1; the gateway's version as a label.", G};
constexpr Desc kRejected{"edgemon_messages_rejected_total", "Messages rejected, by reason.", C};
constexpr Desc kNodes{"edgemon_nodes", "Nodes by status.", G};
constexpr Desc kNodeUp{"edgemon_node_up",
                       "1 when the node is online (HEALTHY or DEGRADED), 0 when DOWN; absent while UNKNOWN.", G};
constexpr Desc kNodeStatus{"edgemon_node_status", "1 for the node's current status, 0 for the others.", G};
constexpr Desc kNodeLastSeen{"edgemon_node_last_seen_timestamp_seconds", "Unix time the node was last heard from.", G};
constexpr Desc kNodeUptime{"edgemon_node_uptime_ratio", "Share of the window the node was online (0..1).", G};
constexpr Desc kNodeCpu{"edgemon_node_cpu_usage_ratio", "Node CPU use over the last 5 minutes (0..1).", G};
constexpr Desc kNodeRate{"edgemon_node_messages_per_minute", "Messages per minute from the node over the last 5 minutes.", G};
constexpr Desc kTargetActive{"edgemon_target_active",
                             "1 while the target is reported by its agent, 0 once retired (not reported for a while).", G};
constexpr Desc kTargetUp{"edgemon_target_up", "1 when the target's last round was up, 0 when down.", G};
constexpr Desc kTargetState{"edgemon_target_state",
                            "The agent's debounced target health: 0 unknown, 1 up, 2 degraded, 3 down.", G};
constexpr Desc kTargetLoss{"edgemon_target_loss_ratio", "Packet loss over the target's recent rounds (0..1).", G};
constexpr Desc kTargetRtt{"edgemon_target_rtt_seconds", "Round-trip time over the target's recent rounds.", G};
constexpr Desc kTargetLastSeen{"edgemon_target_last_seen_timestamp_seconds", "Unix time of the target's last report.", G};
constexpr Desc kTargetUptime{"edgemon_target_uptime_ratio", "Share of the window's rounds the target was up (0..1).", G};

class Writer {
 public:
  void put(const Desc& d, std::initializer_list<PromLabel> labels, double value) {
    if (out_.family(d.name, d.help, d.type)) out_.sample(labels, value);
  }
  void put(const Desc& d, std::span<const PromLabel> labels, double value) {
    if (out_.family(d.name, d.help, d.type)) out_.sample(labels, value);
  }
  void put(std::string_view name, std::string_view help, PromType type, double value) {
    if (out_.family(name, help, type)) out_.sample(value);
  }
  void declare(const Desc& d) { out_.family(d.name, d.help, d.type); }
  std::string take() { return out_.take(); }

 private:
  PrometheusText out_;
};

void put_uptime(Writer& w, const Desc& d, const UptimePct& u, std::vector<PromLabel> labels) {
  labels.push_back({"window", ""});
  const std::array<std::pair<std::string_view, const std::optional<double>*>, 4> windows = {
      {{"1h", &u.h1}, {"24h", &u.h24}, {"7d", &u.d7}, {"30d", &u.d30}}};
  for (const auto& [window, pct] : windows) {
    if (!*pct) continue;
    labels.back().value = window;
    w.put(d, std::span<const PromLabel>(labels), **pct / 100.0);
  }
}

void put_target(Writer& w, std::string_view group, std::string_view node, const TargetSummary& t) {
  const std::vector<PromLabel> labels = {{"group", group}, {"node", node}, {"family", to_string(t.family)}, {"target", t.target}};
  const std::span<const PromLabel> ls(labels);
  w.put(kTargetActive, ls, t.active ? 1.0 : 0.0);
  if (t.active) {
    if (t.up) w.put(kTargetUp, ls, *t.up);
    if (t.state) w.put(kTargetState, ls, *t.state);
    if (t.loss_pct) w.put(kTargetLoss, ls, *t.loss_pct / 100.0);
    std::vector<PromLabel> rtt_labels = labels;
    rtt_labels.push_back({"stat", ""});
    const std::array<std::pair<std::string_view, const std::optional<double>*>, 3> rtts = {
        {{"avg", &t.rtt_avg}, {"min", &t.rtt_min}, {"max", &t.rtt_max}}};
    for (const auto& [stat, ms] : rtts) {
      if (!*ms) continue;
      rtt_labels.back().value = stat;
      w.put(kTargetRtt, std::span<const PromLabel>(rtt_labels), **ms / 1000.0);
    }
  }
  if (t.last_seen) w.put(kTargetLastSeen, ls, static_cast<double>(*t.last_seen) / 1000.0);
  put_uptime(w, kTargetUptime, t.uptime, labels);
}

void put_node(Writer& w, const NodeSummary& n) {
  const std::size_t slash = n.key.find('/');
  const std::string_view key = n.key;
  const std::string_view group = slash == std::string::npos ? std::string_view() : key.substr(0, slash);
  const std::string_view node = slash == std::string::npos ? key : key.substr(slash + 1);
  const std::array<PromLabel, 2> labels = {{{"group", group}, {"node", node}}};
  const std::span<const PromLabel> ls(labels);
  if (n.status == NodeStatus::kHealthy || n.status == NodeStatus::kDegraded) w.put(kNodeUp, ls, 1.0);
  if (n.status == NodeStatus::kDown) w.put(kNodeUp, ls, 0.0);
  for (const NodeStatus s : kStatusOrder) {
    w.put(kNodeStatus, {{"group", group}, {"node", node}, {"status", to_string(s)}}, n.status == s ? 1.0 : 0.0);
  }
  if (n.last_seen) w.put(kNodeLastSeen, ls, static_cast<double>(*n.last_seen) / 1000.0);
  put_uptime(w, kNodeUptime, n.uptime, {labels.begin(), labels.end()});
  if (n.cpu_avg_5m) w.put(kNodeCpu, {{"group", group}, {"node", node}, {"stat", "avg_5m"}}, *n.cpu_avg_5m / 100.0);
  if (n.cpu_max_5m) w.put(kNodeCpu, {{"group", group}, {"node", node}, {"stat", "max_5m"}}, *n.cpu_max_5m / 100.0);
  if (n.rate_per_min) w.put(kNodeRate, ls, *n.rate_per_min);
  for (const TargetSummary& t : n.targets) put_target(w, group, node, t);
}

}  // namespace

std::string metrics_text(const GatewayStatus& s, std::span<const NodeSummary> nodes) {
  Writer w;
  w.put(kBuildInfo, {{"version", s.version}}, 1.0);
  for (const StatusField& f : kStatusFields) {
    if (f.prom.empty()) continue;
    w.put(f.prom, f.help, f.type, static_cast<double>(f.get(s)));
    if (f.prom == "edgemon_messages_accepted_total") {  // the rejections follow the acceptances
      for (const auto& [reason, n] : s.ingest.rejected) w.put(kRejected, {{"reason", reason}}, static_cast<double>(n));
    }
  }
  for (const NodeStatus st : kStatusOrder) {
    w.put(kNodes, {{"status", to_string(st)}}, static_cast<double>(s.fleet[static_cast<std::size_t>(st)]));
  }
  // Per-node families in a fixed order, whichever node first has a value for each.
  for (const Desc* d : {&kNodeUp, &kNodeStatus, &kNodeLastSeen, &kNodeUptime, &kNodeCpu, &kNodeRate, &kTargetActive,
                        &kTargetUp, &kTargetState, &kTargetLoss, &kTargetRtt, &kTargetLastSeen, &kTargetUptime}) {
    w.declare(*d);
  }
  for (const NodeSummary& n : nodes) put_node(w, n);
  return w.take();
}

}  // namespace edgemon::gateway
