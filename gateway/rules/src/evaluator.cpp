#include "edgemon/rules/evaluator.h"

#include <algorithm>
#include <sstream>

#include "edgemon/common/metric_key.h"

namespace edgemon::rules {
namespace {

// "<family>/<uplink>/up": the verdict of the node's uplink target (any probe family).
bool is_uplink_verdict(std::string_view metric, std::string_view uplink) {
  const MetricParts p = parse_metric_name(metric);
  return p.leaf == Leaf::kUp && p.target == uplink;
}

constexpr char kSep = '\x1f';

std::string format_value(double v) {
  std::ostringstream out;
  out << v;
  return out.str();
}

std::string format_duration(Duration d) {
  const auto ms = d.count();
  if (ms % 3'600'000 == 0 && ms != 0) return std::to_string(ms / 3'600'000) + "h";
  if (ms % 60'000 == 0 && ms != 0) return std::to_string(ms / 60'000) + "m";
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

Severity max_severity(Severity a, Severity b) { return static_cast<int>(a) >= static_cast<int>(b) ? a : b; }

}  // namespace

const char* to_string(AlertState s) {
  switch (s) {
    case AlertState::kOk: return "ok";
    case AlertState::kPending: return "pending";
    case AlertState::kFiring: return "firing";
  }
  return "?";
}

const char* to_string(NotificationKind k) {
  switch (k) {
    case NotificationKind::kFiring: return "firing";
    case NotificationKind::kRepeat: return "repeat";
    case NotificationKind::kResolved: return "resolved";
  }
  return "?";
}

Evaluator::Evaluator(RuleSet rules) : rules_(std::move(rules)) {
  index_rules();
  for (Silence& s : rules_.silences) {
    if (s.id == 0) s.id = next_silence_id_;
    next_silence_id_ = std::max(next_silence_id_, s.id + 1);
  }
}

void Evaluator::index_rules() {
  ++rules_generation_;
  node_absence_rules_.clear();
  node_down_rules_.clear();
  metric_rules_.clear();
  for (std::size_t i = 0; i < rules_.rules.size(); ++i) {
    const Rule& r = rules_.rules[i];
    if (r.kind == RuleKind::kAbsence && r.metric.empty()) node_absence_rules_.push_back(i);
    if (r.kind == RuleKind::kNodeDown) node_down_rules_.push_back(i);
  }
}

Evaluator::NodeInfo& Evaluator::node_info(std::string_view node) {
  auto it = nodes_.find(node);
  if (it == nodes_.end()) it = nodes_.emplace(std::string(node), NodeInfo{}).first;
  return it->second;
}

bool Evaluator::wants_sample(std::string_view node, std::string_view metric) {
  const std::string& uplink = uplink_of(node);
  return (!uplink.empty() && is_uplink_verdict(metric, uplink)) || !rules_for_metric(metric).empty();
}

const std::vector<std::size_t>& Evaluator::rules_for_metric(std::string_view metric) {
  // Cached per metric name: names are few (per node type) and samples many.
  auto it = metric_rules_.find(metric);
  if (it != metric_rules_.end()) return it->second;
  std::vector<std::size_t> found;
  for (std::size_t i = 0; i < rules_.rules.size(); ++i) {
    const Rule& r = rules_.rules[i];
    if (r.kind == RuleKind::kNodeDown || r.metric.empty()) continue;
    if (glob_match(r.metric, metric, true)) found.push_back(i);
  }
  return metric_rules_.emplace(std::string(metric), std::move(found)).first->second;
}

bool Evaluator::node_matches(const Rule& rule, std::string_view node) const {
  if (rule.nodes.empty()) return true;
  return std::any_of(rule.nodes.begin(), rule.nodes.end(),
                     [&](const std::string& p) { return glob_match(p, node, false); });
}

void Evaluator::build_instance_key(std::string& key, std::size_t rule_index, std::string_view node,
                                   std::string_view metric) {
  key.clear();
  key.append(node).push_back(kSep);
  key.append(std::to_string(rule_index)).push_back(kSep);
  key.append(metric);
}

std::string Evaluator::instance_key(std::size_t rule_index, std::string_view node, std::string_view metric) {
  std::string key;
  key.reserve(node.size() + metric.size() + 8);
  build_instance_key(key, rule_index, node, metric);
  return key;
}

std::string Evaluator::group_key(const Labels& labels) const {
  std::string group;
  for (const std::string& g : rules_.settings.group_by) {
    if (!group.empty()) group += ',';
    const auto l = labels.find(g);
    group += g + "=" + (l == labels.end() ? std::string() : l->second);
  }
  return group;
}

Evaluator::Instance* Evaluator::instance(std::size_t rule_index, std::string_view node, std::string_view metric) {
  // Looked up once per sample and rule: the key is built in a reused buffer, copied only for a new
  // instance.
  build_instance_key(key_buffer_, rule_index, node, metric);
  auto it = instances_.find(key_buffer_);
  if (it != instances_.end()) return &it->second;
  std::string key = key_buffer_;
  const Rule& rule = rules_.rules[rule_index];
  if (!node_matches(rule, node)) return nullptr;
  Instance inst;
  inst.rule_index = rule_index;
  inst.node = std::string(node);
  inst.metric = std::string(metric);
  inst.subject = metric.empty() ? inst.node : inst.node + "/" + inst.metric;
  if (rule.kind == RuleKind::kErrorRate) inst.window.assign(rule.window, 0);
  inst.group = group_key(make_alert(inst).labels);
  if (rule.kind == RuleKind::kAbsence) dirty_ = true;  // a newly seen series the snapshot keeps
  return &instances_.emplace(std::move(key), std::move(inst)).first->second;
}

const std::string& Evaluator::uplink_of(std::string_view node) const {
  const auto it = rules_.settings.uplink_targets.find(node);
  return it != rules_.settings.uplink_targets.end() ? it->second : rules_.settings.uplink_target;
}

bool Evaluator::uplink_down(std::string_view node) const {
  const auto it = nodes_.find(node);
  if (it == nodes_.end()) return false;
  return !it->second.online || (it->second.uplink_up.has_value() && !*it->second.uplink_up);
}

bool Evaluator::blocked_by_uplink(const Instance& inst) const {
  // Only alerts about the node's probe targets are held back; the uplink target's own alerts and
  // the node's local metrics (cpu, disk) are its own.
  const std::string_view target = target_of(inst.metric);
  if (target.empty() || target == uplink_of(inst.node)) return false;
  return uplink_down(inst.node);
}

Alert Evaluator::make_alert(const Instance& inst) const {
  const Rule& rule = rules_.rules[inst.rule_index];
  Alert a;
  a.subject = inst.subject;
  a.rule = rule.name;
  a.type = rule.type;
  a.node = inst.node;
  a.metric = inst.metric;
  a.severity = rule.severity;
  a.since = inst.firing_since;
  a.reason = inst.reason;
  a.value = inst.value;
  a.incident_id = inst.incident_id;
  a.labels = make_labels(rule.name, rule.type, rule.severity, inst.node, inst.subject, inst.metric);
  return a;
}

Labels Evaluator::make_labels(const std::string& rule, const std::string& type, Severity severity,
                              const std::string& node, const std::string& subject, const std::string& metric) {
  return {{"rule", rule},       {"type", type},         {"severity", to_string(severity)},
          {"node", node},       {"subject", subject},   {"metric", metric},
          {"target", std::string(target_of(metric))}};
}

bool Evaluator::suppressed(const Labels& labels, WallTime t) const {
  for (const Silence& s : rules_.silences) {
    if (s.active_at(t) && matches(s.matchers, labels)) return true;
  }
  for (const MaintenanceWindow& w : rules_.maintenance) {
    if (matches(w.matchers, labels) && w.active_at(t)) return true;
  }
  return false;
}

void Evaluator::transition(Instance& inst, AlertState to, WallTime at, std::string reason) {
  if (inst.state == to) return;
  const Rule& rule = rules_.rules[inst.rule_index];
  const AlertState from = inst.state;
  dirty_ = true;
  inst.state = to;
  inst.reason = reason;
  if (to == AlertState::kFiring) {
    inst.firing_since = at;
    inst.incident_id = next_incident_id_++;
    inst.notified = false;
    inst.good_run = 0;
    Incident inc{inst.incident_id, inst.subject, rule.name, rule.type, rule.severity, at, std::nullopt};
    open_incidents_.emplace(inc.id, inc);
    incident_updates_.push_back(std::move(inc));
  } else if (from == AlertState::kFiring) {
    auto it = open_incidents_.find(inst.incident_id);
    if (it != open_incidents_.end()) {
      it->second.end = at;
      incident_updates_.push_back(it->second);
      open_incidents_.erase(it);
    }
    if (inst.notified) {
      Alert a = make_alert(inst);
      a.resolved_at = at;
      inst.resolved_unsent = std::move(a);
    }
    inst.notified = false;
    inst.bad_run = 0;
  }
  Event e;
  e.subject = inst.subject;
  e.rule = rule.name;
  e.type = rule.type;
  e.from = from;
  e.to = to;
  e.at = at;
  e.reason = std::move(reason);
  e.severity = rule.severity;
  e.suppressed = suppressed(make_alert(inst).labels, at);
  events_.push_back(std::move(e));
}

void Evaluator::try_fire(Instance& inst, WallTime at, std::string reason) {
  if (blocked_by_uplink(inst)) {
    // Connectivity awareness: the node cannot reach its uplink, so its targets are not to blame.
    // Stay pending; the next sample after the uplink returns decides.
    if (!inst.held_by_uplink) {
      ++stats_.not_raised_uplink_down;
      dirty_ = true;
    }
    inst.held_by_uplink = true;
    transition(inst, AlertState::kPending, at, reason + " (not raised: uplink of " + inst.node + " is down)");
    return;
  }
  if (inst.held_by_uplink) dirty_ = true;
  inst.held_by_uplink = false;
  transition(inst, AlertState::kFiring, at, std::move(reason));
}

void Evaluator::apply_sample(Instance& inst, double value, WallTime ts) {
  const Rule& rule = rules_.rules[inst.rule_index];
  if (inst.last_ts && ts < *inst.last_ts) {
    ++stats_.out_of_order;
    return;
  }
  inst.last_ts = ts;
  inst.value = value;
  switch (rule.kind) {
    case RuleKind::kAbsence:
      if (inst.state != AlertState::kOk) transition(inst, AlertState::kOk, ts, "data again: " + inst.metric);
      return;
    case RuleKind::kNodeDown:
      return;
    case RuleKind::kErrorRate: {
      const std::uint8_t failed = value == 0 ? 1 : 0;
      const std::uint32_t count = std::min(++inst.bad_run, rule.window);
      inst.window_failures -= inst.window[inst.window_pos];
      inst.window_failures += failed;
      inst.window[inst.window_pos] = failed;
      inst.window_pos = (inst.window_pos + 1) % inst.window.size();
      if (count < rule.min_samples) return;
      const double rate = 100.0 * inst.window_failures / count;
      const std::string why = inst.metric + " error rate " + format_value(rate) + "% over " + std::to_string(count) +
                              " samples";
      if (inst.state != AlertState::kFiring) {
        if (rate > rule.threshold) try_fire(inst, ts, why + " > " + format_value(rule.threshold) + "%");
      } else if (rate <= rule.recovery.value_or(rule.threshold)) {
        transition(inst, AlertState::kOk, ts, why + " <= " + format_value(rule.recovery.value_or(rule.threshold)) + "%");
      }
      return;
    }
    case RuleKind::kThreshold:
    case RuleKind::kFailure:
      break;
  }
  const bool failure = rule.kind == RuleKind::kFailure;
  if (inst.state == AlertState::kFiring) {
    const double recovery = rule.recovery.value_or(rule.threshold);
    if (!recovered(rule.op, value, recovery)) {
      inst.good_run = 0;
      return;
    }
    if (++inst.good_run < rule.recovery_samples) return;
    inst.bad = false;
    transition(inst, AlertState::kOk, ts,
               failure ? inst.metric + " ok for " + std::to_string(inst.good_run) + " samples"
                       : inst.metric + " = " + format_value(value) + ", recovered (" + (rule.recovery ? "recovery " : "") +
                             format_value(recovery) + ")");
    return;
  }
  if (!compare(rule.op, value, rule.threshold)) {
    inst.bad = false;
    inst.bad_run = 0;
    if (inst.state == AlertState::kPending) {
      inst.held_by_uplink = false;
      transition(inst, AlertState::kOk, ts, inst.metric + " = " + format_value(value) + ", condition cleared");
    }
    return;
  }
  if (!inst.bad) {
    inst.bad = true;
    inst.bad_since = ts;
  }
  ++inst.bad_run;
  const std::string cond = failure ? inst.metric + " failed"
                                   : inst.metric + " = " + format_value(value) + " " + to_string(rule.op) + " " +
                                         format_value(rule.threshold);
  const bool due = rule.for_duration ? ts - inst.bad_since >= *rule.for_duration : inst.bad_run >= rule.samples;
  if (due) {
    try_fire(inst, ts,
             cond + (rule.for_duration ? " for " + format_duration(*rule.for_duration)
                                       : " for " + std::to_string(inst.bad_run) + " samples"));
  } else {
    transition(inst, AlertState::kPending, ts, cond);
  }
}

Evaluator::NodeContext Evaluator::node_context(std::string_view node) {
  NodeContext ctx{node, node_info(node), uplink_of(node), {}};
  ctx.absence.reserve(node_absence_rules_.size());
  for (std::size_t r : node_absence_rules_) ctx.absence.push_back(instance(r, node, ""));
  return ctx;
}

void Evaluator::observe(std::string_view node, std::string_view metric, double value, WallTime ts) {
  NodeContext ctx = node_context(node);
  observe(ctx, metric, value, ts);
}

void Evaluator::observe(NodeContext& ctx, std::string_view metric, double value, WallTime ts) {
  ++stats_.samples;
  if (!ctx.uplink.empty() && is_uplink_verdict(metric, ctx.uplink)) {
    if (ctx.info.uplink_up != (value != 0)) dirty_ = true;
    ctx.info.uplink_up = value != 0;
  }
  for (Instance* inst : ctx.absence) {
    if (inst != nullptr) apply_sample(*inst, value, ts);
  }
  for (std::size_t r : rules_for_metric(metric)) {
    if (Instance* inst = instance(r, ctx.node, metric)) apply_sample(*inst, value, ts);
  }
}

void Evaluator::observe_batch(std::string_view node, std::span<const Sample> samples) {
  if (samples.empty()) return;
  // The node's info, uplink and node-level absence instances are looked up once per batch (a batch
  // is one message: every current metric of the node), not once per sample.
  NodeContext ctx = node_context(node);
  // The uplink's own samples first, so a round where the uplink and every target failed together
  // is attributed to the uplink.
  const auto is_uplink = [&](const Sample& s) { return !ctx.uplink.empty() && target_of(s.metric) == ctx.uplink; };
  for (const Sample& s : samples) {
    if (is_uplink(s)) observe(ctx, s.metric, s.value, s.ts);
  }
  for (const Sample& s : samples) {
    if (!is_uplink(s)) observe(ctx, s.metric, s.value, s.ts);
  }
}

void Evaluator::node_online(std::string_view node, WallTime at) {
  NodeInfo& info = node_info(node);
  if (!info.online || info.uplink_up) dirty_ = true;
  info.online = true;
  info.uplink_up.reset();
  for (std::size_t r : node_down_rules_) {
    if (Instance* inst = instance(r, node, "")) {
      inst->bad = false;
      if (inst->state != AlertState::kOk) transition(*inst, AlertState::kOk, at, std::string(node) + " online (NBIRTH)");
    }
  }
  // Absence timers restart from the birth: the node had no chance to send while it was away.
  const std::string prefix = std::string(node) + kSep;
  for (auto it = instances_.lower_bound(prefix); it != instances_.end() && it->first.starts_with(prefix); ++it) {
    Instance& inst = it->second;
    if (rules_.rules[inst.rule_index].kind == RuleKind::kAbsence) {
      inst.last_ts = at;
      if (inst.state != AlertState::kOk) transition(inst, AlertState::kOk, at, std::string(node) + " online (NBIRTH)");
    }
  }
}

void Evaluator::node_offline(std::string_view node, WallTime at) {
  NodeInfo& info = node_info(node);
  if (info.online) dirty_ = true;
  info.online = false;
  for (std::size_t r : node_down_rules_) {
    Instance* inst = instance(r, node, "");
    if (inst == nullptr || inst->bad) continue;
    inst->bad = true;
    inst->bad_since = at;
    const Rule& rule = rules_.rules[r];
    if (!rule.for_duration || rule.for_duration->count() == 0) {
      try_fire(*inst, at, std::string(node) + " offline (NDEATH)");
    } else {
      transition(*inst, AlertState::kPending, at, std::string(node) + " offline (NDEATH)");
    }
  }
}

void Evaluator::tick(WallTime now) {
  for (auto& [key, inst] : instances_) {
    if (deaf_since_ && inst.node != deaf_own_node_) continue;  // the gateway hears nothing: no verdict
    const Rule& rule = rules_.rules[inst.rule_index];
    switch (rule.kind) {
      case RuleKind::kAbsence: {
        if (inst.state != AlertState::kOk || !inst.last_ts || !rule.for_duration) break;
        if (!inst.metric.empty() && uplink_down(inst.node)) break;  // the node is away, not its services
        // After a restore, the time the gateway itself was down does not count as silence.
        const WallTime seen = restored_at_ ? std::max(*inst.last_ts, *restored_at_) : *inst.last_ts;
        if (now - seen < *rule.for_duration) break;
        try_fire(inst, now,
                 "no data from " + (inst.metric.empty() ? inst.node : inst.subject) + " for " +
                     format_duration(*rule.for_duration));
        break;
      }
      case RuleKind::kNodeDown:
      case RuleKind::kThreshold:
      case RuleKind::kFailure: {
        if (inst.state != AlertState::kPending || !inst.bad || !rule.for_duration) break;
        if (now - inst.bad_since < *rule.for_duration) break;
        if (blocked_by_uplink(inst)) break;
        try_fire(inst, now, inst.reason + " for " + format_duration(*rule.for_duration));
        break;
      }
      case RuleKind::kErrorRate:
        break;
    }
  }
  decide_notifications(now);
}

void Evaluator::clock_stepped(Duration delta) {
  if (delta == Duration(0)) return;
  const auto d = std::chrono::duration_cast<WallTime::duration>(delta);
  for (auto& [key, inst] : instances_) {
    inst.bad_since += d;
    if (inst.last_ts) *inst.last_ts += d;
    if (inst.last_firing_notice) *inst.last_firing_notice += d;
  }
  for (auto& [key, g] : groups_) {
    if (g.last_sent) *g.last_sent += d;
  }
  if (restored_at_) *restored_at_ += d;
}

void Evaluator::broker_lost(WallTime at, std::string own_node) {
  if (deaf_since_) return;
  deaf_since_ = at;
  deaf_own_node_ = std::move(own_node);
}

void Evaluator::broker_back(WallTime at) {
  if (!deaf_since_) return;
  const WallTime::duration d = at > *deaf_since_ ? at - *deaf_since_ : WallTime::duration(0);
  deaf_since_.reset();
  for (auto& [key, inst] : instances_) {
    if (inst.node == deaf_own_node_) continue;
    inst.bad_since += d;
    if (inst.last_ts) *inst.last_ts += d;
  }
}

void Evaluator::decide_notifications(WallTime now) {
  struct Work {
    std::vector<Instance*> fresh;      // firing, not yet announced, allowed now
    std::vector<Instance*> announced;  // firing and announced
    std::vector<Alert> resolved;
    Duration repeat{Duration::max()};
  };
  std::map<std::string_view, Work> work;  // ordered: deterministic output
  for (auto& [key, inst] : instances_) {
    const Rule& rule = rules_.rules[inst.rule_index];
    if (inst.resolved_unsent) {
      // Always sent once the firing was announced, even inside a silence: a receiver must not be
      // left with an alert that never ends.
      work[inst.group].resolved.push_back(std::move(*inst.resolved_unsent));
      inst.resolved_unsent.reset();
      dirty_ = true;
    }
    if (inst.state != AlertState::kFiring) continue;
    if (suppressed(make_alert(inst).labels, now)) continue;
    Work& w = work[inst.group];
    w.repeat = std::min(w.repeat, rule.repeat_interval.value_or(rules_.settings.repeat_interval));
    if (inst.notified) {
      w.announced.push_back(&inst);
      continue;
    }
    const Duration cooldown = rule.cooldown.value_or(rules_.settings.cooldown);
    if (inst.last_firing_notice && now - *inst.last_firing_notice < cooldown) continue;  // flapping
    w.fresh.push_back(&inst);
  }
  for (auto& [group, w] : work) {
    GroupInfo& g = groups_[std::string(group)];
    const auto emit = [&](NotificationKind kind, std::vector<Alert> alerts) {
      Notification n;
      n.kind = kind;
      n.group = std::string(group);
      n.at = now;
      for (const Alert& a : alerts) n.severity = max_severity(n.severity, a.severity);
      n.alerts = std::move(alerts);
      notifications_.push_back(std::move(n));
    };
    if (!w.fresh.empty() || (!w.announced.empty() && g.last_sent && now - *g.last_sent >= w.repeat)) {
      const NotificationKind kind = w.fresh.empty() ? NotificationKind::kRepeat : NotificationKind::kFiring;
      std::vector<Alert> alerts;
      for (Instance* inst : w.announced) alerts.push_back(make_alert(*inst));
      for (Instance* inst : w.fresh) {
        Alert a = make_alert(*inst);
        a.is_new = true;
        alerts.push_back(std::move(a));
        inst->notified = true;
        inst->last_firing_notice = now;
      }
      std::sort(alerts.begin(), alerts.end(),
                [](const Alert& a, const Alert& b) { return std::tie(a.subject, a.rule) < std::tie(b.subject, b.rule); });
      g.last_sent = now;
      dirty_ = true;
      emit(kind, std::move(alerts));
    }
    if (!w.resolved.empty()) emit(NotificationKind::kResolved, std::move(w.resolved));
  }
}

std::uint64_t Evaluator::add_silence(Silence s) {
  if (s.id == 0) s.id = next_silence_id_;
  next_silence_id_ = std::max(next_silence_id_, s.id + 1);
  const std::uint64_t id = s.id;
  rules_.silences.push_back(std::move(s));
  runtime_silences_.insert(id);
  dirty_ = true;
  return id;
}

bool Evaluator::remove_silence(std::uint64_t id) {
  auto& v = rules_.silences;
  const auto it = std::find_if(v.begin(), v.end(), [&](const Silence& s) { return s.id == id; });
  if (it == v.end()) return false;
  v.erase(it);
  runtime_silences_.erase(id);
  dirty_ = true;
  return true;
}

bool Evaluator::replace_silence(Silence s) {
  auto& v = rules_.silences;
  const auto it = std::find_if(v.begin(), v.end(), [&](const Silence& x) { return x.id == s.id; });
  if (it == v.end()) return false;
  *it = std::move(s);
  dirty_ = true;
  return true;
}

std::vector<Alert> Evaluator::active_alerts() const {
  std::vector<Alert> out;
  for (const auto& [key, inst] : instances_) {
    if (inst.state == AlertState::kFiring) out.push_back(make_alert(inst));
  }
  std::sort(out.begin(), out.end(),
            [](const Alert& a, const Alert& b) { return std::tie(a.subject, a.rule) < std::tie(b.subject, b.rule); });
  return out;
}

std::vector<Incident> Evaluator::open_incidents() const {
  std::vector<Incident> out;
  for (const auto& [id, inc] : open_incidents_) out.push_back(inc);
  return out;
}

AlertState Evaluator::state(std::string_view subject, std::string_view rule) const {
  for (const auto& [key, inst] : instances_) {
    if (inst.subject == subject && rules_.rules[inst.rule_index].name == rule) return inst.state;
  }
  return AlertState::kOk;
}

}  // namespace edgemon::rules
