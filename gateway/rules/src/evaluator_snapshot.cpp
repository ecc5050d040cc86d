// Evaluator persistence: snapshot_json() / restore_json(). The format (version 1) is described in
// docs/rules.md "Persistence"; times are unix milliseconds, rules are named, not indexed.
#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <tuple>

#include <nlohmann/json.hpp>

#include "edgemon/rules/evaluator.h"

namespace edgemon::rules {
namespace {

using nlohmann::json;

constexpr int kSnapshotVersion = 1;

// A snapshot that parses as JSON but does not make sense; turned into kInvalidArgument.
struct SnapshotError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

json time_json(WallTime t) { return to_unix_ms(t); }
json time_json(const std::optional<WallTime>& t) { return t ? json(to_unix_ms(*t)) : json(nullptr); }
// JSON has no NaN or infinity: such a value is not kept.
json value_json(const std::optional<double>& v) { return v && std::isfinite(*v) ? json(*v) : json(nullptr); }

WallTime time_from(const json& j) {
  return WallTime(std::chrono::duration_cast<WallClock::duration>(std::chrono::milliseconds(j.get<std::int64_t>())));
}
std::optional<WallTime> opt_time_from(const json& j) {
  if (j.is_null()) return std::nullopt;
  return time_from(j);
}
std::optional<double> opt_value_from(const json& j) {
  if (j.is_null()) return std::nullopt;
  return j.get<double>();
}

AlertState parse_state(const std::string& s) {
  for (AlertState st : {AlertState::kOk, AlertState::kPending, AlertState::kFiring}) {
    if (s == to_string(st)) return st;
  }
  throw SnapshotError("unknown alert state '" + s + "'");
}

RuleKind parse_kind(const std::string& s) {
  for (RuleKind k : {RuleKind::kThreshold, RuleKind::kFailure, RuleKind::kErrorRate, RuleKind::kAbsence,
                     RuleKind::kNodeDown}) {
    if (s == to_string(k)) return k;
  }
  throw SnapshotError("unknown rule kind '" + s + "'");
}

Severity severity_from(const json& j) {
  Severity s{};
  const std::string text = j.get<std::string>();
  if (!parse_severity(text, s)) throw SnapshotError("unknown severity '" + text + "'");
  return s;
}

// Everything but labels (rebuilt from these fields) and is_new (never set on a resolved alert).
json alert_json(const Alert& a) {
  return json{{"subject", a.subject},     {"rule", a.rule},
              {"type", a.type},           {"node", a.node},
              {"metric", a.metric},       {"severity", to_string(a.severity)},
              {"since", time_json(a.since)}, {"resolved_at", time_json(a.resolved_at)},
              {"reason", a.reason},       {"value", value_json(a.value)},
              {"incident_id", a.incident_id}};
}

Alert alert_from(const json& j) {
  Alert a;
  a.subject = j.at("subject").get<std::string>();
  a.rule = j.at("rule").get<std::string>();
  a.type = j.at("type").get<std::string>();
  a.node = j.at("node").get<std::string>();
  a.metric = j.at("metric").get<std::string>();
  a.severity = severity_from(j.at("severity"));
  a.since = time_from(j.at("since"));
  a.resolved_at = opt_time_from(j.at("resolved_at"));
  a.reason = j.at("reason").get<std::string>();
  a.value = opt_value_from(j.at("value"));
  a.incident_id = j.at("incident_id").get<std::uint64_t>();
  return a;
}

Severity max_severity(Severity a, Severity b) { return static_cast<int>(a) >= static_cast<int>(b) ? a : b; }

}  // namespace

bool Evaluator::persisted(const Instance& inst) const {
  return inst.state != AlertState::kOk || inst.last_firing_notice || inst.resolved_unsent ||
         rules_.rules[inst.rule_index].kind == RuleKind::kAbsence;
}

std::string Evaluator::snapshot_json() const {
  json doc;
  doc["version"] = kSnapshotVersion;
  doc["next_incident_id"] = next_incident_id_;
  doc["next_silence_id"] = next_silence_id_;

  json nodes = json::array();
  for (const auto& [name, info] : nodes_) {
    if (info.online && !info.uplink_up) continue;  // the default for a node never heard of
    nodes.push_back({{"node", name},
                     {"online", info.online},
                     {"uplink_up", info.uplink_up ? json(*info.uplink_up) : json(nullptr)}});
  }
  doc["nodes"] = std::move(nodes);

  // Instances, ordered by node, rule name and metric (not by rule index, which a new rule set may change).
  std::vector<const Instance*> kept;
  std::set<std::string_view> announced_groups;  // groups whose last notice still decides a repeat
  for (const auto& [key, inst] : instances_) {
    if (!persisted(inst)) continue;
    kept.push_back(&inst);
    if (inst.state == AlertState::kFiring && inst.notified) announced_groups.insert(inst.group);
  }
  std::sort(kept.begin(), kept.end(), [&](const Instance* a, const Instance* b) {
    return std::tie(a->node, rules_.rules[a->rule_index].name, a->metric) <
           std::tie(b->node, rules_.rules[b->rule_index].name, b->metric);
  });
  json instances = json::array();
  for (const Instance* inst : kept) {
    const Rule& rule = rules_.rules[inst->rule_index];
    std::string window;
    for (std::uint8_t f : inst->window) window.push_back(f != 0 ? '1' : '0');
    instances.push_back({{"rule", rule.name},
                         {"kind", to_string(rule.kind)},
                         {"type", rule.type},
                         {"severity", to_string(rule.severity)},
                         {"node", inst->node},
                         {"metric", inst->metric},
                         {"state", to_string(inst->state)},
                         {"bad", inst->bad},
                         {"bad_run", inst->bad_run},
                         {"bad_since", time_json(inst->bad_since)},
                         {"good_run", inst->good_run},
                         {"last_ts", time_json(inst->last_ts)},
                         {"value", value_json(inst->value)},
                         {"window", window},
                         {"window_pos", inst->window_pos},
                         {"reason", inst->reason},
                         {"since", time_json(inst->firing_since)},
                         {"incident_id", inst->incident_id},
                         {"notified", inst->notified},
                         {"last_firing_notice", time_json(inst->last_firing_notice)},
                         {"resolved", inst->resolved_unsent ? alert_json(*inst->resolved_unsent) : json(nullptr)},
                         {"held_by_uplink", inst->held_by_uplink}});
  }
  doc["instances"] = std::move(instances);

  json groups = json::array();
  for (const auto& [name, g] : groups_) {
    if (g.last_sent && announced_groups.contains(name)) groups.push_back({{"group", name}, {"last_sent", time_json(g.last_sent)}});
  }
  doc["groups"] = std::move(groups);

  json incidents = json::array();
  for (const auto& [id, inc] : open_incidents_) {
    incidents.push_back({{"id", inc.id},
                         {"subject", inc.subject},
                         {"rule", inc.rule},
                         {"type", inc.type},
                         {"severity", to_string(inc.severity)},
                         {"start", time_json(inc.start)}});
  }
  doc["incidents"] = std::move(incidents);

  json silences = json::array();
  for (const Silence& s : rules_.silences) {
    if (!runtime_silences_.contains(s.id)) continue;
    json matchers = json::object();
    for (const auto& [k, v] : s.matchers) matchers[k] = v;
    silences.push_back({{"id", s.id},
                        {"matchers", std::move(matchers)},
                        {"starts", time_json(s.starts)},
                        {"until", time_json(s.until)},
                        {"comment", s.comment}});
  }
  doc["silences"] = std::move(silences);

  dirty_ = false;
  return doc.dump();
}

Status Evaluator::restore_json(std::string_view text, WallTime now) { return restore(text, now, false); }

Status Evaluator::replace_rules(std::vector<Rule> rules, WallTime now) {
  const std::string state = snapshot_json();
  std::vector<Rule> previous = std::exchange(rules_.rules, std::move(rules));
  index_rules();
  Status s = restore(state, now, true);
  if (!s) {  // cannot happen with our own snapshot; keep the old rules rather than half a state
    rules_.rules = std::move(previous);
    index_rules();
  }
  return s;
}

Status Evaluator::restore(std::string_view text, WallTime now, bool rules_swapped) {
  const auto invalid = [](const std::string& why) {
    return make_error(ErrorCode::kInvalidArgument, "evaluator snapshot: " + why);
  };
  const json doc = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return invalid("malformed JSON");
  if (!doc.is_object()) return invalid("not a JSON object");
  if (!doc.contains("version")) return invalid("no \"version\"");
  if (!doc["version"].is_number_integer() || doc["version"].get<std::int64_t>() != kSnapshotVersion) {
    return invalid("unsupported version " + doc["version"].dump() + " (this gateway reads version " +
                   std::to_string(kSnapshotVersion) + ")");
  }

  // An instance that cannot be restored under the current rules, with what is needed to end it.
  struct Dropped {
    Instance inst;  // rule_index is meaningless
    std::string rule;
    std::string type;
    Severity severity = Severity::kWarning;
  };

  // Everything is parsed into these first: the evaluator changes only once the whole snapshot is good.
  std::map<std::string, Instance, std::less<>> instances;
  std::map<std::string, NodeInfo, std::less<>> nodes;
  std::map<std::string, GroupInfo, std::less<>> groups;
  std::map<std::uint64_t, Incident> incidents;
  std::vector<Silence> silences;
  std::vector<Dropped> dropped;
  std::uint64_t next_incident_id = 1;
  std::uint64_t next_silence_id = 1;
  try {
    next_incident_id = doc.at("next_incident_id").get<std::uint64_t>();
    next_silence_id = doc.at("next_silence_id").get<std::uint64_t>();

    for (const json& n : doc.at("nodes")) {
      NodeInfo info;
      info.online = n.at("online").get<bool>();
      if (!n.at("uplink_up").is_null()) info.uplink_up = n.at("uplink_up").get<bool>();
      if (!nodes.emplace(n.at("node").get<std::string>(), info).second) throw SnapshotError("duplicate node");
    }

    for (const json& g : doc.at("groups")) {
      groups[g.at("group").get<std::string>()].last_sent = time_from(g.at("last_sent"));
    }

    for (const json& i : doc.at("incidents")) {
      Incident inc;
      inc.id = i.at("id").get<std::uint64_t>();
      inc.subject = i.at("subject").get<std::string>();
      inc.rule = i.at("rule").get<std::string>();
      inc.type = i.at("type").get<std::string>();
      inc.severity = severity_from(i.at("severity"));
      inc.start = time_from(i.at("start"));
      if (inc.id == 0 || !incidents.emplace(inc.id, inc).second) {
        throw SnapshotError("bad or duplicate incident id " + std::to_string(inc.id));
      }
    }

    for (const json& s : doc.at("silences")) {
      Silence sil;
      sil.id = s.at("id").get<std::uint64_t>();
      for (const auto& [k, v] : s.at("matchers").items()) sil.matchers[k] = v.get<std::string>();
      sil.starts = opt_time_from(s.at("starts"));
      sil.until = time_from(s.at("until"));
      sil.comment = s.at("comment").get<std::string>();
      silences.push_back(std::move(sil));
    }

    std::map<std::string, std::size_t, std::less<>> rule_by_name;
    for (std::size_t r = 0; r < rules_.rules.size(); ++r) rule_by_name.emplace(rules_.rules[r].name, r);

    for (const json& j : doc.at("instances")) {
      Instance inst;
      inst.node = j.at("node").get<std::string>();
      inst.metric = j.at("metric").get<std::string>();
      inst.subject = inst.metric.empty() ? inst.node : inst.node + "/" + inst.metric;
      inst.state = parse_state(j.at("state").get<std::string>());
      inst.bad = j.at("bad").get<bool>();
      inst.bad_run = j.at("bad_run").get<std::uint32_t>();
      inst.bad_since = time_from(j.at("bad_since"));
      inst.good_run = j.at("good_run").get<std::uint32_t>();
      inst.last_ts = opt_time_from(j.at("last_ts"));
      inst.value = opt_value_from(j.at("value"));
      const std::string window = j.at("window").get<std::string>();
      inst.window_pos = j.at("window_pos").get<std::size_t>();
      inst.reason = j.at("reason").get<std::string>();
      inst.firing_since = time_from(j.at("since"));
      inst.incident_id = j.at("incident_id").get<std::uint64_t>();
      inst.notified = j.at("notified").get<bool>();
      inst.last_firing_notice = opt_time_from(j.at("last_firing_notice"));
      if (!j.at("resolved").is_null()) inst.resolved_unsent = alert_from(j.at("resolved"));
      inst.held_by_uplink = j.at("held_by_uplink").get<bool>();
      const std::string rule_name = j.at("rule").get<std::string>();
      const RuleKind kind = parse_kind(j.at("kind").get<std::string>());
      if (inst.state == AlertState::kFiring && inst.incident_id == 0) {
        throw SnapshotError("firing instance " + rule_name + " " + inst.subject + " without an incident");
      }
      if (window.find_first_not_of("01") != std::string::npos || (!window.empty() && inst.window_pos >= window.size())) {
        throw SnapshotError("bad error-rate window of " + rule_name + " " + inst.subject);
      }

      // Does the rule still exist and still apply to this node and series?
      const auto r = rule_by_name.find(rule_name);
      bool applies = r != rule_by_name.end();
      if (applies) {
        const Rule& rule = rules_.rules[r->second];
        const bool node_rule = rule.kind == RuleKind::kNodeDown || rule.metric.empty();
        applies = rule.kind == kind && node_matches(rule, inst.node) &&
                  (node_rule ? inst.metric.empty() : !inst.metric.empty() && glob_match(rule.metric, inst.metric, true));
      }
      if (!applies) {
        dropped.push_back({std::move(inst), rule_name, j.at("type").get<std::string>(), severity_from(j.at("severity"))});
        continue;
      }
      const Rule& rule = rules_.rules[r->second];
      inst.rule_index = r->second;
      if (rule.kind == RuleKind::kErrorRate) {
        if (window.size() == rule.window) {
          for (char c : window) inst.window.push_back(c == '1' ? 1 : 0);
          inst.window_failures = static_cast<std::uint32_t>(std::count(window.begin(), window.end(), '1'));
        } else {  // the window was resized: count afresh
          inst.window.assign(rule.window, 0);
          inst.window_pos = 0;
          inst.window_failures = 0;
          inst.bad_run = 0;
        }
      } else {
        inst.window_pos = 0;
      }
      inst.group = group_key(make_alert(inst).labels);  // group_by may have changed
      std::string key = instance_key(inst.rule_index, inst.node, inst.metric);
      if (instances.contains(key)) throw SnapshotError("duplicate instance " + rule_name + " " + inst.subject);
      instances.emplace(std::move(key), std::move(inst));
    }
  } catch (const SnapshotError& e) {
    return invalid(e.what());
  } catch (const json::exception& e) {
    return invalid(e.what());
  }

  // Commit. Incidents of restored firing instances stay open; the rest are closed below.
  std::map<std::uint64_t, Incident> open;
  std::uint64_t max_incident = 0;
  for (auto& [key, inst] : instances) {
    if (inst.state != AlertState::kFiring) continue;
    auto it = incidents.find(inst.incident_id);
    if (it != incidents.end()) {
      open.insert(incidents.extract(it));
    } else {  // not in the snapshot's list: rebuild it from the alert
      const Rule& rule = rules_.rules[inst.rule_index];
      open.emplace(inst.incident_id,
                   Incident{inst.incident_id, inst.subject, rule.name, rule.type, rule.severity, inst.firing_since, std::nullopt});
    }
    max_incident = std::max(max_incident, inst.incident_id);
  }
  for (const auto& [id, inc] : incidents) max_incident = std::max(max_incident, id);
  for (const Dropped& d : dropped) {
    max_incident = std::max(max_incident, d.inst.incident_id);
    if (d.inst.state == AlertState::kFiring && !open.contains(d.inst.incident_id)) {  // closed below
      incidents.emplace(d.inst.incident_id, Incident{d.inst.incident_id, d.inst.subject, d.rule, d.type, d.severity,
                                                     d.inst.firing_since, std::nullopt});
    }
  }

  instances_ = std::move(instances);
  nodes_ = std::move(nodes);
  groups_ = std::move(groups);
  open_incidents_ = std::move(open);
  next_incident_id_ = std::max({next_incident_id_, next_incident_id, max_incident + 1});
  // A group still announced but whose last notice is unknown (group_by changed) repeats from its
  // alerts' last firing notice.
  for (auto& [key, inst] : instances_) {
    if (inst.state != AlertState::kFiring || !inst.notified) continue;
    GroupInfo& g = groups_[inst.group];
    if (!g.last_sent) g.last_sent = inst.last_firing_notice.value_or(now);
  }

  // Silences: the configured ones stay, the runtime ones are the snapshot's.
  std::erase_if(rules_.silences, [&](const Silence& s) { return runtime_silences_.contains(s.id); });
  runtime_silences_.clear();
  std::uint64_t max_silence = 0;
  for (const Silence& s : rules_.silences) max_silence = std::max(max_silence, s.id);
  for (const Silence& s : silences) max_silence = std::max(max_silence, s.id);
  next_silence_id_ = std::max({next_silence_id_, next_silence_id, max_silence + 1});
  for (Silence& s : silences) {
    const bool taken = s.id == 0 || std::any_of(rules_.silences.begin(), rules_.silences.end(),
                                                [&](const Silence& o) { return o.id == s.id; });
    if (taken) s.id = next_silence_id_++;  // a configured silence took its id
    runtime_silences_.insert(s.id);
    rules_.silences.push_back(std::move(s));
  }
  if (!rules_swapped) restored_at_ = now;  // a swap keeps absence timers running from last seen

  // Incidents left open by the snapshot but not owned by a restored alert: closed now.
  for (auto& [id, inc] : incidents) {
    inc.end = now;
    incident_updates_.push_back(inc);
  }
  // Dropped instances end now: firing>ok / pending>ok events (their incidents were closed just
  // above), and a resolved notice for those that had been announced.
  std::map<std::string, Notification> resolved;
  const auto resolve = [&](Alert a) {
    const std::string group = group_key(a.labels);
    Notification& n = resolved[group];
    n.kind = NotificationKind::kResolved;
    n.group = group;
    n.at = now;
    n.severity = max_severity(n.severity, a.severity);
    n.alerts.push_back(std::move(a));
  };
  for (Dropped& d : dropped) {
    const Instance& inst = d.inst;
    const Labels labels = make_labels(d.rule, d.type, d.severity, inst.node, inst.subject, inst.metric);
    if (inst.resolved_unsent) {
      Alert a = *inst.resolved_unsent;
      a.labels = make_labels(a.rule, a.type, a.severity, a.node, a.subject, a.metric);
      resolve(std::move(a));
    }
    if (inst.state == AlertState::kOk) continue;
    Event e;
    e.subject = inst.subject;
    e.rule = d.rule;
    e.type = d.type;
    e.from = inst.state;
    e.to = AlertState::kOk;
    e.at = now;
    e.reason = "rule " + d.rule + (rules_swapped ? " no longer applies (removed or changed)"
                                                 : " no longer applies (removed or changed while the gateway was down)");
    e.severity = d.severity;
    e.suppressed = suppressed(labels, now);
    events_.push_back(std::move(e));
    if (inst.state == AlertState::kFiring && inst.notified) {
      Alert a;
      a.subject = inst.subject;
      a.rule = d.rule;
      a.type = d.type;
      a.node = inst.node;
      a.metric = inst.metric;
      a.severity = d.severity;
      a.since = inst.firing_since;
      a.resolved_at = now;
      a.reason = inst.reason;
      a.value = inst.value;
      a.incident_id = inst.incident_id;
      a.labels = labels;
      resolve(std::move(a));
    }
  }
  for (auto& [group, n] : resolved) notifications_.push_back(std::move(n));

  dirty_ = true;  // the restored state (minus what was dropped) is the state to keep
  return Status::Ok();
}

}  // namespace edgemon::rules
