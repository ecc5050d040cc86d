#include "edgemon/gateway/api/prometheus_text.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <optional>
#include <unordered_map>
#include <unordered_set>
#include <utility>

namespace edgemon::gateway {

namespace {

bool is_alpha_(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

}  // namespace

bool valid_prom_metric_name(std::string_view name) {
  if (name.empty() || !(is_alpha_(name[0]) || name[0] == ':')) return false;
  return std::all_of(name.begin() + 1, name.end(),
                     [](char c) { return is_alpha_(c) || is_digit(c) || c == ':'; });
}

bool valid_prom_label_name(std::string_view name) {
  if (name.empty() || !is_alpha_(name[0]) || name.starts_with("__")) return false;
  return std::all_of(name.begin() + 1, name.end(),
                     [](char c) { return is_alpha_(c) || is_digit(c); });
}

std::string repair_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  const auto byte = [&s](std::size_t i) { return static_cast<unsigned char>(s[i]); };
  std::size_t i = 0;
  while (i < s.size()) {
    const unsigned char b0 = byte(i);
    if (b0 < 0x80) {
      out += static_cast<char>(b0);
      ++i;
      continue;
    }
    // Length and the allowed range of the second byte (excludes overlongs, surrogates and
    // code points above U+10FFFF), per Unicode table 3-7.
    std::size_t len = 0;
    unsigned char lo = 0x80, hi = 0xBF;
    if (b0 >= 0xC2 && b0 <= 0xDF) {
      len = 2;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
      len = 3;
      if (b0 == 0xE0) lo = 0xA0;
      if (b0 == 0xED) hi = 0x9F;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
      len = 4;
      if (b0 == 0xF0) lo = 0x90;
      if (b0 == 0xF4) hi = 0x8F;
    }
    std::size_t good = 1;  // bytes of a well-formed prefix
    if (len > 0) {
      while (good < len && i + good < s.size()) {
        const unsigned char b = byte(i + good);
        const bool ok = good == 1 ? (b >= lo && b <= hi) : (b >= 0x80 && b <= 0xBF);
        if (!ok) break;
        ++good;
      }
    }
    if (len > 0 && good == len) {
      out.append(s.substr(i, len));
    } else {
      out += kReplacement;  // one U+FFFD per maximal invalid subpart
    }
    i += good;
  }
  return out;
}

namespace {
// The exposition format's escapes: backslash and newline everywhere, the double quote only inside
// label values (HELP text keeps it as is).
std::string prom_escape(std::string_view s, bool quote) {
  const std::string repaired = repair_utf8(s);
  std::string out;
  out.reserve(repaired.size() + 8);
  for (const char c : repaired) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && quote) {
      out += "\\\"";
    } else {
      out += c;
    }
  }
  return out;
}
}  // namespace

std::string prom_escape_label_value(std::string_view s) { return prom_escape(s, true); }

std::string prom_escape_help(std::string_view s) { return prom_escape(s, false); }

std::string prom_format_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  std::array<char, 32> buf{};
  // Whole numbers as integers ("1700000000", not the shorter "1.7e+09"); the rest shortest.
  constexpr double kExactInt = 9007199254740992.0;  // 2^53
  const auto [end, ec] =
      (v == std::trunc(v) && std::fabs(v) < kExactInt)
          ? std::to_chars(buf.data(), buf.data() + buf.size(), static_cast<std::int64_t>(v))
          : std::to_chars(buf.data(), buf.data() + buf.size(), v);
  if (ec != std::errc{}) return "NaN";  // cannot happen: 32 bytes hold any shortest double
  return std::string(buf.data(), end);
}

// ---------------------------------------------------------------------------------------------

struct PrometheusText::Impl {
  struct Family {
    std::string name;
    std::string help;  // escaped
    PromType type = PromType::kGauge;
    std::string body;
    std::unordered_set<std::string> label_sets;  // canonical: sorted `name="escaped",...`
  };
  std::vector<Family> families;
  std::unordered_map<std::string, std::size_t> index;
  std::optional<std::size_t> current;
  std::size_t dropped = 0;
};

PrometheusText::PrometheusText() : impl_(std::make_unique<Impl>()) {}
PrometheusText::~PrometheusText() = default;
PrometheusText::PrometheusText(PrometheusText&&) noexcept = default;
PrometheusText& PrometheusText::operator=(PrometheusText&&) noexcept = default;

bool PrometheusText::family(std::string_view name, std::string_view help, PromType type) {
  Impl& I = *impl_;
  I.current.reset();
  if (!valid_prom_metric_name(name)) return false;
  if (type == PromType::kCounter && !name.ends_with("_total")) return false;
  const std::string key(name);
  if (const auto it = I.index.find(key); it != I.index.end()) {
    if (I.families[it->second].type != type) return false;
    I.current = it->second;
    return true;
  }
  I.index.emplace(key, I.families.size());
  I.current = I.families.size();
  I.families.push_back({key, prom_escape_help(help), type, {}, {}});
  return true;
}

bool PrometheusText::sample(std::span<const PromLabel> labels, double value) {
  Impl& I = *impl_;
  if (!I.current) {
    ++I.dropped;
    return false;
  }
  Impl::Family& f = I.families[*I.current];
  std::vector<std::pair<std::string_view, std::string>> escaped;
  escaped.reserve(labels.size());
  for (const PromLabel& l : labels) {
    const bool repeated = std::any_of(escaped.begin(), escaped.end(),
                                      [&l](const auto& e) { return e.first == l.name; });
    if (!valid_prom_label_name(l.name) || repeated) {
      ++I.dropped;
      return false;
    }
    escaped.emplace_back(l.name, prom_escape_label_value(l.value));
  }
  std::string rendered;
  for (const auto& [n, v] : escaped) {
    rendered += rendered.empty() ? "{" : ",";
    rendered.append(n).append("=\"").append(v).append("\"");
  }
  if (!rendered.empty()) rendered += '}';

  std::sort(escaped.begin(), escaped.end());
  std::string canonical;
  for (const auto& [n, v] : escaped) canonical.append(n).append("=\"").append(v).append("\",");
  if (!f.label_sets.insert(std::move(canonical)).second) {
    ++I.dropped;
    return false;
  }
  f.body.append(f.name).append(rendered).append(" ").append(prom_format_value(value)).append("\n");
  return true;
}

std::string PrometheusText::take() {
  Impl& I = *impl_;
  std::string out;
  for (const Impl::Family& f : I.families) {
    if (f.body.empty()) continue;
    out.append("# HELP ").append(f.name).append(" ").append(f.help).append("\n");
    out.append("# TYPE ").append(f.name).append(f.type == PromType::kCounter ? " counter\n"
                                                                             : " gauge\n");
    out.append(f.body);
  }
  const std::size_t dropped = I.dropped;
  I = Impl{};
  I.dropped = dropped;
  return out;
}

std::size_t PrometheusText::dropped() const {
  return impl_->dropped;
}

// ---------------------------------------------------------------------------------------------

namespace {

struct Desc {
  std::string_view name;
  std::string_view help;
  PromType type;
};

constexpr PromType G = PromType::kGauge;
constexpr PromType C = PromType::kCounter;

constexpr Desc kBuildInfo{"edgemon_build_info", "Always 1; the gateway's version as a label.", G};
constexpr Desc kMqttConnected{"edgemon_mqtt_connected",
                              "1 while the gateway is connected to the MQTT broker.", G};
constexpr Desc kAccepted{"edgemon_messages_accepted_total", "Sparkplug messages accepted.", C};
constexpr Desc kRejected{"edgemon_messages_rejected_total", "Messages rejected, by reason.", C};
constexpr Desc kDuplicates{"edgemon_messages_duplicate_total",
                           "Duplicate messages ignored (QoS 1 redelivery).", C};
constexpr Desc kGaps{"edgemon_sequence_gaps_total", "Sparkplug sequence number gaps seen.", C};
constexpr Desc kRebirths{"edgemon_rebirth_requests_total", "Rebirth requests sent to nodes.", C};
constexpr Desc kNotifications{"edgemon_notifications_total", "Alert notifications dispatched.", C};
constexpr Desc kRestoreFailures{"edgemon_restore_failures_total",
                                "State that could not be restored at start.", C};
constexpr Desc kWsClients{"edgemon_websocket_clients", "Connected WebSocket clients.", G};
constexpr Desc kWsFramesSent{"edgemon_websocket_frames_sent_total", "Frames written to WebSocket clients.", C};
constexpr Desc kWsCoalesced{"edgemon_websocket_frames_coalesced_total",
                            "Queued WebSocket frames replaced by a newer one for the same node (slow client).", C};
constexpr Desc kWsResyncs{"edgemon_websocket_resyncs_total",
                          "WebSocket client queues replaced by a snapshot after overflowing.", C};
constexpr Desc kWsDropped{"edgemon_websocket_clients_dropped_total",
                          "WebSocket clients dropped for overflowing again before their resync went out.", C};
constexpr Desc kWsRevoked{"edgemon_websocket_clients_revoked_total",
                          "WebSocket clients closed because their credentials were revoked.", C};
constexpr Desc kWsResumes{"edgemon_websocket_resumes_total",
                          "WebSocket reconnects resumed from the history instead of a snapshot.", C};
constexpr Desc kAlertsActive{"edgemon_alerts_active", "Alerts currently firing.", G};
constexpr Desc kRules{"edgemon_rules", "Alert rules configured.", G};
constexpr Desc kDroppedSubjects{
    "edgemon_aggregator_dropped_subjects_total",
    "Nodes and targets ignored because the aggregator's caps were reached.", C};
constexpr Desc kStorageOk{"edgemon_storage_ok", "1 while history writes succeed.", G};
constexpr Desc kCommittedRows{"edgemon_storage_committed_rows_total",
                              "History rows committed to SQLite.", C};
constexpr Desc kCommittedBatches{"edgemon_storage_committed_batches_total",
                                 "History batches committed.", C};
constexpr Desc kPendingRows{"edgemon_storage_pending_rows", "History rows queued or being written.",
                            G};
constexpr Desc kDroppedRows{"edgemon_storage_dropped_rows_total",
                            "History rows dropped (queue full or shutdown).", C};
constexpr Desc kWriteFailures{"edgemon_storage_write_failures_total",
                              "Failed history writes (each retry counts).", C};
constexpr Desc kMaintRuns{"edgemon_storage_maintenance_runs_total",
                          "History maintenance runs (rollups, retention).", C};
constexpr Desc kMaintFailures{"edgemon_storage_maintenance_failures_total",
                              "Failed history maintenance runs.", C};
constexpr Desc kNodes{"edgemon_nodes", "Nodes by status.", G};

constexpr Desc kNodeUp{
    "edgemon_node_up",
    "1 when the node is online (HEALTHY or DEGRADED), 0 when DOWN; absent while UNKNOWN.", G};
constexpr Desc kNodeStatus{"edgemon_node_status",
                           "1 for the node's current status, 0 for the others.", G};
constexpr Desc kNodeLastSeen{"edgemon_node_last_seen_timestamp_seconds",
                             "Unix time the node was last heard from.", G};
constexpr Desc kNodeUptime{"edgemon_node_uptime_ratio",
                           "Share of the window the node was online (0..1).", G};
constexpr Desc kNodeCpu{"edgemon_node_cpu_usage_ratio",
                        "Node CPU use over the last 5 minutes (0..1).", G};
constexpr Desc kNodeRate{"edgemon_node_messages_per_minute",
                         "Messages per minute from the node over the last 5 minutes.", G};

constexpr Desc kTargetActive{
    "edgemon_target_active",
    "1 while the target is reported by its agent, 0 once retired (not reported for a while).", G};
constexpr Desc kTargetUp{"edgemon_target_up", "1 when the target's last round was up, 0 when down.",
                         G};
constexpr Desc kTargetState{
    "edgemon_target_state",
    "The agent's debounced target health: 0 unknown, 1 up, 2 degraded, 3 down.", G};
constexpr Desc kTargetLoss{"edgemon_target_loss_ratio",
                           "Packet loss over the target's recent rounds (0..1).", G};
constexpr Desc kTargetRtt{"edgemon_target_rtt_seconds",
                          "Round-trip time over the target's recent rounds.", G};
constexpr Desc kTargetLastSeen{"edgemon_target_last_seen_timestamp_seconds",
                               "Unix time of the target's last report.", G};
constexpr Desc kTargetUptime{"edgemon_target_uptime_ratio",
                             "Share of the window's rounds the target was up (0..1).", G};

constexpr std::array<std::string_view, 4> kStatuses = {"UNKNOWN", "HEALTHY", "DEGRADED", "DOWN"};
constexpr std::array<std::string_view, 4> kWindows = {"1h", "24h", "7d", "30d"};

using Json = nlohmann::json;

const Json* field(const Json& o, const char* key) {
  if (!o.is_object()) return nullptr;
  const auto it = o.find(key);
  return it == o.end() ? nullptr : &*it;
}

std::optional<double> number(const Json& o, const char* key) {
  const Json* v = field(o, key);
  if (v == nullptr || !v->is_number()) return std::nullopt;
  return v->get<double>();
}

std::string text(const Json& o, const char* key) {
  const Json* v = field(o, key);
  return v != nullptr && v->is_string() ? v->get<std::string>() : std::string();
}

class Writer {
 public:
  void put(const Desc& d, std::initializer_list<PromLabel> labels, double value) {
    if (out_.family(d.name, d.help, d.type)) out_.sample(labels, value);
  }
  void put(const Desc& d, std::span<const PromLabel> labels, double value) {
    if (out_.family(d.name, d.help, d.type)) out_.sample(labels, value);
  }
  void put(const Desc& d, double value) { put(d, std::span<const PromLabel>{}, value); }
  void put(const Desc& d, std::uint64_t value) { put(d, {}, static_cast<double>(value)); }
  void put(const Desc& d, bool value) { put(d, {}, value ? 1.0 : 0.0); }
  // Declares the family even when it gets no sample now (keeps the family order stable).
  void declare(const Desc& d) { out_.family(d.name, d.help, d.type); }
  std::string take() { return out_.take(); }

 private:
  PrometheusText out_;
};

void put_uptime(Writer& w, const Desc& d, const Json& uptime, std::vector<PromLabel> labels) {
  labels.push_back({"window", ""});
  for (const std::string_view window : kWindows) {
    const std::optional<double> pct = number(uptime, std::string(window).c_str());
    if (!pct) continue;
    labels.back().value = window;
    w.put(d, std::span<const PromLabel>(labels), *pct / 100.0);
  }
}

void put_target(Writer& w, std::string_view group, std::string_view node, const Json& t) {
  const std::string family = text(t, "family");
  const std::string target = text(t, "target");
  const std::vector<PromLabel> labels = {
      {"group", group}, {"node", node}, {"family", family}, {"target", target}};
  const std::span<const PromLabel> ls(labels);
  const Json* active = field(t, "active");
  const bool is_active = active == nullptr || !active->is_boolean() || active->get<bool>();
  w.put(kTargetActive, ls, is_active ? 1.0 : 0.0);
  if (is_active) {
    if (const auto up = number(t, "up")) w.put(kTargetUp, ls, *up);
    if (const auto state = number(t, "state")) w.put(kTargetState, ls, *state);
    if (const auto loss = number(t, "loss_pct")) w.put(kTargetLoss, ls, *loss / 100.0);
    std::vector<PromLabel> rtt_labels = labels;
    rtt_labels.push_back({"stat", ""});
    constexpr std::array<std::pair<const char*, std::string_view>, 3> kRtt = {
        {{"rtt_avg", "avg"}, {"rtt_min", "min"}, {"rtt_max", "max"}}};
    for (const auto& [key, stat] : kRtt) {
      const auto ms = number(t, key);
      if (!ms) continue;
      rtt_labels.back().value = stat;
      w.put(kTargetRtt, std::span<const PromLabel>(rtt_labels), *ms / 1000.0);
    }
  }
  if (const auto seen = number(t, "last_seen")) w.put(kTargetLastSeen, ls, *seen / 1000.0);
  if (const Json* uptime = field(t, "uptime")) put_uptime(w, kTargetUptime, *uptime, labels);
}

void put_node(Writer& w, const Json& n) {
  const std::string key = text(n, "key");
  if (key.empty()) return;
  const std::size_t slash = key.find('/');
  const std::string_view group =
      slash == std::string::npos ? std::string_view() : std::string_view(key).substr(0, slash);
  const std::string_view node =
      slash == std::string::npos ? std::string_view(key) : std::string_view(key).substr(slash + 1);
  const std::initializer_list<PromLabel> labels = {{"group", group}, {"node", node}};
  const std::span<const PromLabel> ls(labels.begin(), labels.size());

  const std::string status = text(n, "status");
  if (status == "HEALTHY" || status == "DEGRADED") w.put(kNodeUp, ls, 1.0);
  if (status == "DOWN") w.put(kNodeUp, ls, 0.0);
  for (const std::string_view s : kStatuses) {
    w.put(kNodeStatus, {{"group", group}, {"node", node}, {"status", s}}, status == s ? 1.0 : 0.0);
  }
  if (const auto seen = number(n, "last_seen")) w.put(kNodeLastSeen, ls, *seen / 1000.0);
  if (const Json* uptime = field(n, "uptime"))
    put_uptime(w, kNodeUptime, *uptime, {labels.begin(), labels.end()});
  if (const Json* cpu = field(n, "cpu")) {
    if (const auto avg = number(*cpu, "avg_5m"))
      w.put(kNodeCpu, {{"group", group}, {"node", node}, {"stat", "avg_5m"}}, *avg / 100.0);
    if (const auto max = number(*cpu, "max_5m"))
      w.put(kNodeCpu, {{"group", group}, {"node", node}, {"stat", "max_5m"}}, *max / 100.0);
  }
  if (const auto rate = number(n, "rate_per_min")) w.put(kNodeRate, ls, *rate);
  if (const Json* targets = field(n, "targets"); targets != nullptr && targets->is_array()) {
    for (const Json& t : *targets) {
      if (t.is_object()) put_target(w, group, node, t);
    }
  }
}

}  // namespace

std::string render_gateway_metrics(const GatewayMetricsInput& in) {
  Writer w;
  w.put(kBuildInfo, {{"version", in.version}}, 1.0);
  w.put(kMqttConnected, in.mqtt_connected);
  w.put(kAccepted, in.messages_accepted);
  for (const auto& [reason, n] : in.rejected_by_reason)
    w.put(kRejected, {{"reason", reason}}, static_cast<double>(n));
  w.put(kDuplicates, in.duplicates);
  w.put(kGaps, in.sequence_gaps);
  w.put(kRebirths, in.rebirth_requests);
  w.put(kNotifications, in.notifications);
  w.put(kRestoreFailures, in.restore_failures);
  w.put(kWsClients, static_cast<std::uint64_t>(in.ws_clients));
  w.put(kWsFramesSent, in.ws_frames_sent);
  w.put(kWsCoalesced, in.ws_coalesced);
  w.put(kWsResyncs, in.ws_resyncs);
  w.put(kWsDropped, in.ws_dropped);
  w.put(kWsRevoked, in.ws_revoked);
  w.put(kWsResumes, in.ws_resumes);
  w.put(kAlertsActive, static_cast<std::uint64_t>(in.alerts_active));
  w.put(kRules, static_cast<std::uint64_t>(in.rules));
  w.put(kDroppedSubjects, in.dropped_subjects);

  w.put(kStorageOk, in.storage_ok);
  w.put(kCommittedRows, in.committed_rows);
  w.put(kCommittedBatches, in.committed_batches);
  w.put(kPendingRows, in.pending_rows);
  w.put(kDroppedRows, in.dropped_rows);
  w.put(kWriteFailures, in.write_failures);
  w.put(kMaintRuns, in.maintenance_runs);
  w.put(kMaintFailures, in.maintenance_failures);

  // Fleet counts: the aggregator's own, else counted from the node summaries.
  std::map<std::string_view, double> counts;
  for (const std::string_view s : kStatuses) counts[s] = 0;
  if (const Json* c = field(in.fleet_summary, "counts"); c != nullptr && c->is_object()) {
    for (const std::string_view s : kStatuses)
      counts[s] = number(*c, std::string(s).c_str()).value_or(0);
  } else {
    for (const Json& n : in.node_summaries) {
      const std::string s = text(n, "status");
      if (const auto it = counts.find(s); it != counts.end()) it->second += 1;
    }
  }
  for (const std::string_view s : kStatuses) w.put(kNodes, {{"status", s}}, counts[s]);

  // Per-node families in a fixed order, whichever node first has a value for each.
  for (const Desc* d :
       {&kNodeUp, &kNodeStatus, &kNodeLastSeen, &kNodeUptime, &kNodeCpu, &kNodeRate, &kTargetActive,
        &kTargetUp, &kTargetState, &kTargetLoss, &kTargetRtt, &kTargetLastSeen, &kTargetUptime}) {
    w.declare(*d);
  }
  for (const Json& n : in.node_summaries) {
    if (n.is_object()) put_node(w, n);
  }
  return w.take();
}

}  // namespace edgemon::gateway
