#include "edgemon/gateway/core/ingest.h"

#include <algorithm>

#include "edgemon/common/log.h"

namespace edgemon::gateway {
namespace {

constexpr const char* kLog = "ingest";
constexpr std::string_view kOtherReason = "other";

StoredEvent stored_event(const rules::Event& e) {
  return StoredEvent{to_unix_ms(e.at), e.subject, e.rule, e.type, rules::to_string(e.from), rules::to_string(e.to),
                     e.reason, rules::to_string(e.severity), e.suppressed};
}

StoredIncident stored_incident(const rules::Incident& i) {
  StoredIncident s{i.subject, i.rule, i.type, rules::to_string(i.severity), to_unix_ms(i.start), std::nullopt};
  if (i.end) s.end_ms = to_unix_ms(*i.end);
  return s;
}

}  // namespace

std::uint64_t IngestStats::rejected_total() const {
  std::uint64_t n = 0;
  for (const auto& [reason, count] : rejected) n += count;
  return n;
}

Ingest::Ingest(IngestConfig config, FleetState& fleet, Aggregator& aggregator, Completeness& completeness,
               rules::Evaluator& evaluator, const ManagedTargets& managed)
    : config_(std::move(config)),
      fleet_(fleet),
      aggregator_(aggregator),
      completeness_(completeness),
      evaluator_(evaluator),
      managed_(managed) {}

void Ingest::reject(std::string_view reason, std::string_view topic, const Instant& now) {
  auto it = stats_.rejected.find(reason);
  if (it == stats_.rejected.end()) {
    if (stats_.rejected.size() >= IngestStats::kMaxReasons - 1) reason = kOtherReason;  // room for "other"
    it = stats_.rejected.try_emplace(std::string(reason), 0).first;
  }
  const std::uint64_t n = ++it->second;
  if (!reject_logged_ || now.mono - last_reject_log_ >= config_.reject_log) {  // at most one line a second
    reject_logged_ = true;
    last_reject_log_ = now.mono;
    log::warn(kLog, "message rejected", {{"reason", std::string(reason)}, {"topic", std::string(topic)}, {"count", n}});
  }
}

void Ingest::warn_limited(const char* what, std::string_view topic, const Instant& now, std::uint64_t count) {
  if (reject_logged_ && now.mono - last_reject_log_ < config_.reject_log) return;
  reject_logged_ = true;
  last_reject_log_ = now.mono;
  log::warn(kLog, what, {{"topic", std::string(topic)}, {"count", count}});
}

bool Ingest::admit(const Topic& topic, const Instant& now, std::string_view raw_topic) {
  if (fleet_.find(topic.group, topic.node) != nullptr) return true;
  const IngestLimits& l = config_.limits;
  // Nothing is remembered for a refused node: the bookkeeping is bounded by the admitted nodes.
  const auto account = groups_of_account_.find(topic.node);
  if (account != groups_of_account_.end() && account->second.size() >= l.max_groups_per_account) {
    reject(kRejectGroupsPerAccount, raw_topic, now);
    return false;
  }
  const auto group = nodes_per_group_.find(topic.group);
  if (group == nodes_per_group_.end() && nodes_per_group_.size() >= l.max_groups) {
    reject(kRejectGroups, raw_topic, now);
    return false;
  }
  if (group != nodes_per_group_.end() && group->second >= l.max_nodes_per_group) {
    reject(kRejectNodesPerGroup, raw_topic, now);
    return false;
  }
  if (fleet_.size() >= l.max_nodes) {
    reject(kRejectNodes, raw_topic, now);
    return false;
  }
  groups_of_account_[topic.node].push_back(topic.group);
  ++nodes_per_group_[topic.group];
  return true;
}

void Ingest::observe_clock(const Instant& now) {
  const std::chrono::milliseconds step = clock_steps_.observe(now);
  if (step.count() == 0) return;
  ++stats_.clock_steps;
  log::warn(kLog, "wall clock stepped; intervals keep their length", {{"step_ms", step.count()}});
  aggregator_.clock_stepped(step.count());
  evaluator_.clock_stepped(step);
}

void Ingest::message(std::string_view raw_topic, std::string_view payload, const Instant& now, Outbox& out) {
  observe_clock(now);
  auto topic = parse_topic(raw_topic);
  if (!topic) return reject(topic.error().message, raw_topic, now);
  if (topic->kind == MessageKind::kCommand) return;  // our own commands echoed back
  if (payload.size() > config_.limits.max_message_bytes) return reject(kRejectTooLarge, raw_topic, now);
  auto decoded = decode(payload, topic->kind);
  if (!decoded) return reject(decoded.error().message, raw_topic, now);
  if (!admit(*topic, now, raw_topic)) return;

  const std::int64_t now_ms = now.wall_ms();
  const MessageKind kind = decoded->kind;
  // A replay of a sample already received (the agent's confirm window) changes nothing but the
  // Sparkplug seq: its metrics are not applied, stored or evaluated (completeness.h).
  std::optional<std::uint64_t> replayed;
  if (kind == MessageKind::kData) {
    const auto s = fleet_.sample_seq_in(*topic, *decoded);
    if (s && completeness_.received(key_.assign(topic->group).append("/").append(topic->node), *s)) {
      replayed = s;
      decoded->metrics.clear();
    }
  }
  ApplyResult r = fleet_.apply(*topic, std::move(*decoded), now_ms);
  if (r.duplicate) {
    ++stats_.duplicates;
    return;
  }
  ++stats_.accepted;
  NodeState& node = *r.node;
  if (r.refused_metrics > 0) {
    std::uint64_t& n = r.fleet_cap ? stats_.metrics_refused_fleet_cap : stats_.metrics_refused_node_cap;
    n += r.refused_metrics;
    warn_limited(r.fleet_cap ? "metrics refused: limits.max_metrics_total reached"
                             : "metrics refused: limits.max_metrics_per_node reached",
                 raw_topic, now, n);
  }
  if (r.gap) {
    ++stats_.gaps;
    log::warn(kLog, "sequence gap", {{"node", topic->node}, {"group", topic->group}, {"gaps", node.gaps}});
  }
  if (r.needs_rebirth) request_rebirth(*topic, node.key, now, out);
  if (replayed) {
    (void)completeness_.sample(node.key, *replayed, std::nullopt, std::nullopt, false, now_ms);  // counts it
    ++stats_.sample_duplicates;
    return;
  }
  if (node.seq_slot != NodeState::kNoSlot && !account(node, kind, r, now, out)) {
    ++stats_.sample_duplicates;
    return;
  }

  if (kind == MessageKind::kBirth) aggregator_.node_online(node.key, now_ms);
  if (r.went_offline) aggregator_.node_offline(node.key, now_ms);
  if (!r.accepted.empty()) {
    observations_.clear();
    // History gets the values against the node's shared names: no name is copied per sample.
    NodeSamples rows(node.group, node.id);
    rows.names = node.names;
    rows.values.reserve(r.accepted.size());
    const bool birth = kind == MessageKind::kBirth;
    for (const AcceptedSample& a : r.accepted) {
      const MetricSlot& slot = node.metrics[a.slot];
      observations_.push_back(Observation{&slot.key, a.value, a.ts_ms});
      // A birth's agent/sample_seq is the last number assigned, not a sample: history keeps the
      // numbers of the samples received, each once (completeness.h).
      if (birth && a.slot == node.seq_slot) continue;
      rows.values.push_back(SampleValue{a.slot, a.value.has_value(), a.value.value_or(0.0), a.ts_ms});
    }
    aggregator_.observe(node.key, observations_, r.live, now_ms);
    out.store.samples.push_back(std::move(rows));
  }
  evaluate(node, kind, r, now);
  if (kind == MessageKind::kBirth) {
    if (auto cmd = managed_.push_if_needed(node, now_ms)) out.commands.push_back(std::move(*cmd));
  }
  // Status and alert changes this message caused go out now, not at the next tick.
  const bool status_changed = drain_alerts(out, &node.key);
  out.nodes.push_back(NodeChange{&node, r.was_online != node.online || status_changed});
}

void Ingest::evaluate(NodeState& node, MessageKind kind, const ApplyResult& r, const Instant& now) {
  switch (kind) {
    case MessageKind::kBirth:
      evaluator_.node_online(node.key, now.wall);
      break;
    case MessageKind::kDeath:
      if (r.went_offline) evaluator_.node_offline(node.key, now.wall);
      return;
    default:
      break;
  }
  // Report by exception means "not sent = unchanged": each live message is one sample of the
  // node's whole current state, so count-based rules (N failed rounds) see every round. Replayed
  // samples describe the past; rules judge the present. Samples are timed by arrival (the
  // gateway's clock), so a device's clock never stretches a `for` duration or an absence.
  if (!r.live) return;
  // Only the metrics a rule can use (asked once per metric and rule set); node-level absence
  // needs to see one sample of the node, whichever.
  samples_.clear();
  const std::uint64_t generation = evaluator_.rules_generation();
  const MetricSlot* any = nullptr;
  for (MetricSlot& m : node.metrics) {
    if (!m.value) continue;
    if (any == nullptr) any = &m;
    if (m.rules_generation != generation) {
      m.rules_generation = generation;
      m.rules_want = evaluator_.wants_sample(node.key, m.key.name());
    }
    if (m.rules_want) samples_.push_back(rules::Sample{m.key.name(), *m.value, now.wall});
  }
  if (samples_.empty() && any != nullptr && evaluator_.has_node_absence_rules()) {
    samples_.push_back(rules::Sample{any->key.name(), *any->value, now.wall});
  }
  if (!samples_.empty()) evaluator_.observe_batch(node.key, samples_);
}

bool Ingest::account(const NodeState& node, MessageKind kind, const ApplyResult& r, const Instant& now, Outbox& out) {
  if (kind == MessageKind::kBirth) {
    completeness_.birth(node.key, node.count_at(node.seq_slot));
    return true;
  }
  if (kind != MessageKind::kData) return true;
  const AcceptedSample* seq = nullptr;
  for (const AcceptedSample& a : r.accepted) {
    if (a.slot == node.seq_slot) seq = &a;
  }
  if (seq == nullptr || !seq->value || !(*seq->value >= 0) || *seq->value > 9007199254740992.0) return true;
  // The agent's counters as the gateway knows them now (its birth has the latest): they explain
  // the holes that settle (completeness.h).
  const Completeness::Verdict v =
      completeness_.sample(node.key, static_cast<std::uint64_t>(*seq->value), node.count_at(node.dropped_slot),
                           node.count_at(node.damaged_slot), r.live, now.wall_ms());
  if (v == Completeness::Verdict::kDuplicate) return false;
  report_losses(now, out);
  return true;
}

void Ingest::report_losses(const Instant& now, Outbox& out) {
  for (const DataLoss& loss : completeness_.take_losses()) {
    out.store.events.push_back(StoredEvent{loss.at_ms, loss.node, std::string(kDataLossRule),
                                           std::string(kDataLossType), "", "loss", loss.describe(), "warning", false});
    out.alerts_changed = true;
    evaluator_.observe(loss.node, kMissingMetric,
                       static_cast<double>(completeness_.missing_within(loss.node, now.wall_ms())), now.wall);
  }
}

void Ingest::request_rebirth(const Topic& topic, const std::string& key, const Instant& now, Outbox& out) {
  // At most one request per node per rebirth_throttle: a node that keeps losing messages is not flooded.
  const auto [it, fresh] = last_rebirth_.try_emplace(key, now.mono);
  if (!fresh) {
    if (now.mono - it->second < config_.rebirth_throttle) return;
    it->second = now.mono;
  }
  ++stats_.rebirth_requests;
  out.rebirths.push_back(topic);
}

bool Ingest::drain_alerts(Outbox& out, const std::string* skip_key) {
  bool alerts_changed = false;
  for (const rules::Event& e : evaluator_.take_events()) {
    alerts_changed = true;
    log::info(kLog, "alert state", {{"subject", e.subject}, {"rule", e.rule}, {"from", rules::to_string(e.from)},
                                    {"to", rules::to_string(e.to)}, {"reason", e.reason}, {"suppressed", e.suppressed}});
    out.store.events.push_back(stored_event(e));
  }
  for (const rules::Incident& i : evaluator_.take_incident_updates()) out.store.incidents.push_back(stored_incident(i));
  if (alerts_changed) {
    // Firing warning-or-worse alerts make a node DEGRADED.
    std::map<std::string, std::size_t, std::less<>> counts;
    for (const rules::Alert& a : evaluator_.active_alerts()) {
      if (a.severity != rules::Severity::kInfo) ++counts[a.node];
    }
    for (const auto& [node, n] : alerts_per_node_) {
      if (!counts.contains(node)) aggregator_.set_alerts(node, 0);
    }
    for (const auto& [node, n] : counts) aggregator_.set_alerts(node, n);
    alerts_per_node_ = std::move(counts);
    out.alerts_changed = true;
  }
  bool skipped = false;
  for (const StatusChange& c : aggregator_.take_status_changes()) {
    log::info(kLog, "node status", {{"node", c.node_key}, {"from", to_string(c.from)}, {"to", to_string(c.to)},
                                    {"reason", c.reason}});
    if (skip_key != nullptr && c.node_key == *skip_key) {
      skipped = true;
      continue;
    }
    if (const NodeState* n = fleet_.find(std::string_view(c.node_key))) out.nodes.push_back(NodeChange{n, true});
  }
  return skipped;
}

void Ingest::collect_alert_changes(Outbox& out) {
  drain_alerts(out, nullptr);
  if (evaluator_.dirty()) out.store.alert_state = evaluator_.snapshot_json();
}

void Ingest::tick(const Instant& now, Outbox& out) {
  observe_clock(now);
  if (!ticked_ || now.mono - last_storage_sample_ >= config_.storage_sample) {
    last_storage_sample_ = now.mono;
    evaluator_.observe(config_.gateway_node, kStorageMetric, storage_ok_ ? 1.0 : 0.0, now.wall);
  }
  if (!ticked_) last_uptime_flush_ = now.mono;
  ticked_ = true;
  evaluator_.tick(now.wall);
  aggregator_.tick(now.wall_ms());
  drain_alerts(out, nullptr);
  // Holes that waited too long for a live sample are reported; a node's data-loss alert ends when
  // its losses are older than the loss window.
  completeness_.settle(now.wall_ms());
  report_losses(now, out);
  for (const std::string& node : completeness_.take_expired(now.wall_ms())) evaluator_.observe(node, kMissingMetric, 0.0, now.wall);
  if (now.mono - last_uptime_flush_ >= config_.uptime_flush) {
    last_uptime_flush_ = now.mono;
    out.store.uptime = aggregator_.take_uptime_deltas();
    out.store.progress = completeness_.take_progress(now.wall_ms());
  }
  if (evaluator_.dirty()) out.store.alert_state = evaluator_.snapshot_json();
  auto notifications = evaluator_.take_notifications();
  if (!notifications.empty()) {
    stats_.notifications += notifications.size();
    out.deliver_now = !storage_ok_;
    for (rules::Notification& n : notifications) out.notifications.push_back(std::move(n));
  }
}

void Ingest::storage_status(bool ok, const Instant& now, Outbox& out) {
  storage_ok_ = ok;
  // The alert follows at once, not at the next once-a-second sample.
  evaluator_.observe(config_.gateway_node, kStorageMetric, ok ? 1.0 : 0.0, now.wall);
  last_storage_sample_ = now.mono;
  drain_alerts(out, nullptr);
}

void Ingest::broker_lost(const Instant& now, Outbox& out) {
  if (aggregator_.deaf()) return;
  log::warn(kLog, "broker lost: every node is UNKNOWN until the gateway hears the fleet again");
  evaluator_.broker_lost(now.wall, config_.gateway_node);
  aggregator_.broker_lost(now.wall_ms());
  drain_alerts(out, nullptr);
}

void Ingest::broker_back(const Instant& now, Outbox& out) {
  if (!aggregator_.deaf()) return;
  log::info(kLog, "broker back: node status follows the fleet again");
  evaluator_.broker_back(now.wall);
  aggregator_.broker_back(now.wall_ms());
  drain_alerts(out, nullptr);
}

void Ingest::final_state(const Instant& now, Outbox& out) {
  out.store.uptime = aggregator_.take_uptime_deltas();
  out.store.progress = completeness_.take_progress(now.wall_ms());
  if (evaluator_.dirty()) out.store.alert_state = evaluator_.snapshot_json();
}

}  // namespace edgemon::gateway
