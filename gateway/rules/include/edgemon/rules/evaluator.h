// Evaluator: turns samples and node state changes into alert state transitions (events), incidents
// and notification decisions. Single-threaded (lives on the gateway's aggregation/rules thread);
// no I/O and no clock of its own: every call carries its time, so tests never sleep.
//
// Feeding it (see docs/rules.md):
//   observe(node, metric, value, ts)     each accepted numeric sample (not historical replays)
//   observe_batch(node, samples)         one NDATA's samples; uplink samples are applied first
//   node_online(node, at) / node_offline(node, at)   NBIRTH / NDEATH (or the MQTT will)
//   tick(now)                            about once a second: absence, `for` durations, notifications
// Reading it:
//   take_events()          every transition ok/pending/firing, emitted only on change
//   take_incident_updates() an incident when it opens (no end) and again when it closes
//   take_notifications()   what the notifier should send now: firing / repeat / resolved
//   active_alerts(), open_incidents(), state()   current state (for the API and tests)
// Surviving a restart (docs/rules.md "Persistence"):
//   snapshot_json() when dirty(), stored with the tick's events/incidents; restore_json() at start.
//
// Alert life: ok -> pending (condition bad, not yet long enough) -> firing -> ok. A firing alert
// opens an incident; its recovery closes it. Notifications are decided in tick(): silences and
// maintenance windows suppress them (events and incidents are still recorded), cooldown limits
// firing notices per alert, repeat_interval re-announces a group that is still firing, and a
// resolved notice is sent for every alert whose firing notice was sent.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "edgemon/common/clock.h"
#include "edgemon/common/result.h"
#include "edgemon/rules/rule.h"

namespace edgemon::rules {

enum class AlertState : std::uint8_t { kOk, kPending, kFiring };
const char* to_string(AlertState s);

struct Event {
  std::string subject;  // "<node>" or "<node>/<metric>"
  std::string rule;
  std::string type;
  AlertState from = AlertState::kOk;
  AlertState to = AlertState::kOk;
  WallTime at{};
  std::string reason;   // e.g. "cpu/total = 91.5 > 85 for 3 samples"
  Severity severity = Severity::kWarning;
  bool suppressed = false;  // inside a silence or maintenance window at `at`: recorded, not notified
};

struct Incident {
  std::uint64_t id = 0;
  std::string subject;
  std::string rule;
  std::string type;
  Severity severity = Severity::kWarning;
  WallTime start{};
  std::optional<WallTime> end;
  Duration duration() const {
    return end ? std::chrono::duration_cast<Duration>(*end - start) : Duration(0);
  }
};

struct Alert {
  std::string subject;
  std::string rule;
  std::string type;
  std::string node;
  std::string metric;
  Severity severity = Severity::kWarning;
  WallTime since{};
  std::optional<WallTime> resolved_at;
  std::string reason;
  std::optional<double> value;  // the last sample
  std::uint64_t incident_id = 0;
  bool is_new = false;          // in a kFiring notification: first announced by this one
  Labels labels;
};

enum class NotificationKind : std::uint8_t { kFiring, kRepeat, kResolved };
const char* to_string(NotificationKind k);

struct Notification {
  NotificationKind kind = NotificationKind::kFiring;
  std::string group;            // "rule=high_cpu,node=pi-01" from AlertingSettings::group_by
  WallTime at{};
  Severity severity = Severity::kInfo;  // the highest among `alerts`
  // kFiring / kRepeat: every announced, still-firing alert of the group (new ones have is_new);
  // kResolved: the alerts that recovered since the last decision.
  std::vector<Alert> alerts;
};

struct Sample {
  std::string_view metric;
  double value = 0;
  WallTime ts{};
};

struct EvaluatorStats {
  std::uint64_t samples = 0;
  std::uint64_t out_of_order = 0;  // older than the series' last sample: ignored
  std::uint64_t not_raised_uplink_down = 0;  // transitions to firing held back by connectivity awareness
};

class Evaluator {
 public:
  explicit Evaluator(RuleSet rules);

  void observe(std::string_view node, std::string_view metric, double value, WallTime ts);
  void observe_batch(std::string_view node, std::span<const Sample> samples);
  // Whether a sample of `metric` from `node` can change anything beyond node-level absence: a
  // rule matches the metric, or it is the node's uplink verdict. A caller may skip the others, as
  // long as a node with node-level absence rules (has_node_absence_rules()) still gets one sample
  // per message. The answer holds until rules_generation() changes (replace_rules, restore).
  bool wants_sample(std::string_view node, std::string_view metric);
  bool has_node_absence_rules() const { return !node_absence_rules_.empty(); }
  std::uint64_t rules_generation() const { return rules_generation_; }
  void node_online(std::string_view node, WallTime at);
  void node_offline(std::string_view node, WallTime at);
  void tick(WallTime now);
  // The wall clock stepped by `delta` (new - old), e.g. NTP on a board without an RTC. Moves the
  // times that measure intervals (bad since, last sample, last notice, group repeat, restore) by
  // it, so a `for` duration, an absence timer, a cooldown or a repeat interval neither jumps nor
  // freezes. Times already reported (alert since, incident start) keep their values.
  void clock_stepped(Duration delta);
  // The gateway lost the broker at `at` and hears nothing from the fleet: until broker_back(), no
  // rule about a node other than `own_node` (the gateway's own: storage) fires from the passing
  // of time — absence, `for` durations. broker_back() moves those rules' remembered times forward
  // by the deaf interval, so that time counts neither as silence nor as time a condition held.
  void broker_lost(WallTime at, std::string own_node);
  void broker_back(WallTime at);

  // Returns the silence's id (assigned when s.id is 0). Expired silences stop applying by themselves.
  std::uint64_t add_silence(Silence s);
  bool remove_silence(std::uint64_t id);
  // Replaces the silence with s.id (matchers, times, comment); false if there is none.
  bool replace_silence(Silence s);
  // True for a silence added with add_silence() (kept in the snapshot), false for a configured one.
  bool runtime_silence(std::uint64_t id) const { return runtime_silences_.contains(id); }
  const std::vector<Silence>& silences() const { return rules_.silences; }
  // True when notifications for an alert with these labels are suppressed at `t`.
  bool suppressed(const Labels& labels, WallTime t) const;

  std::vector<Event> take_events() { return std::exchange(events_, {}); }
  std::vector<Incident> take_incident_updates() { return std::exchange(incident_updates_, {}); }
  std::vector<Notification> take_notifications() { return std::exchange(notifications_, {}); }

  std::vector<Alert> active_alerts() const;  // firing, sorted by subject then rule
  std::vector<Incident> open_incidents() const;
  AlertState state(std::string_view subject, std::string_view rule) const;
  bool uplink_down(std::string_view node) const;
  const EvaluatorStats& stats() const { return stats_; }
  const RuleSet& rule_set() const { return rules_; }

  // --- Persistence (evaluator_snapshot.cpp) ---
  // A JSON snapshot ("version": 1, times in unix ms) of everything that must survive a restart,
  // keyed by rule name: every instance that is not plain ok (pending, firing, or ok but still
  // remembering a cooldown or an unsent resolved notice), every absence instance (the series seen),
  // node info (offline, uplink), the last notice of every group still announced, open incidents,
  // next_incident_id, next_silence_id and the silences added with add_silence(). Deterministic:
  // the same state gives the same bytes. Clears dirty().
  std::string snapshot_json() const;
  // Replaces the evaluator's alert state with a snapshot taken by snapshot_json(), possibly by an
  // older gateway with another rule set; call it before feeding anything. Instances whose rule is
  // gone (or no longer applies to the node/metric, or changed kind) are dropped: a firing one has
  // its incident closed at `now` (an incident update and a firing>ok event are emitted, and a
  // resolved notification if it had been announced). Restored firing alerts keep since, incident id
  // and notified: nothing is emitted for them. Pending ones keep bad_run/bad_since, so a `for`
  // duration continues. Absence timers count from max(last seen, `now`): the time the gateway was
  // down does not make nodes absent. Configured silences come from the RuleSet; runtime silences
  // from the snapshot. Errors: kInvalidArgument for malformed JSON, a wrong version or an
  // inconsistent snapshot; the evaluator is unchanged then.
  Status restore_json(std::string_view json, WallTime now);
  // True when anything the snapshot keeps changed since the last snapshot_json(): transitions,
  // notification decisions, silences, node online/offline and uplink changes, newly seen absence
  // series, a restore. Not set by samples that change nothing else (a pending run's counters, an
  // absence series' last-seen time).
  bool dirty() const { return dirty_; }

  // Hot swap of the rule list (the API's rules CRUD); settings, silences and maintenance stay.
  // Works like a restart with restore_json() of the current state, except that absence timers
  // keep counting from the last sample: rules that keep their name, kind and scope keep their
  // alerts (firing ones stay firing, same incident; pending ones keep counting); an instance whose
  // rule is gone or no longer applies ends now (firing>ok event, incident closed, a resolved notice
  // if it was announced). Series that were plainly ok start their counting afresh (e.g. an error
  // rate window). Errors: only if the evaluator's own snapshot failed to restore; nothing changes.
  Status replace_rules(std::vector<Rule> rules, WallTime now);

 private:
  // One rule applied to one subject. Kept after recovery: it remembers the cooldown.
  struct Instance {
    std::size_t rule_index = 0;
    std::string node;
    std::string metric;   // "" for node rules
    std::string subject;
    std::string group;    // notification group key
    AlertState state = AlertState::kOk;
    std::uint32_t bad_run = 0;     // consecutive bad samples
    std::uint32_t good_run = 0;    // consecutive recovered samples while firing
    bool bad = false;              // the condition holds (threshold, node offline)
    WallTime bad_since{};
    std::optional<WallTime> last_ts;   // last sample (absence: last seen)
    std::optional<double> value;
    std::vector<std::uint8_t> window;  // kErrorRate ring: 1 = failed sample
    std::size_t window_pos = 0;
    std::uint32_t window_failures = 0;
    std::string reason;
    WallTime firing_since{};
    std::uint64_t incident_id = 0;
    bool notified = false;             // the current firing was announced
    std::optional<WallTime> last_firing_notice;
    std::optional<Alert> resolved_unsent;  // announced, recovered, resolved notice not yet decided
    bool held_by_uplink = false;
  };
  struct NodeInfo {
    bool online = true;        // unknown nodes are presumed online until an NDEATH says otherwise
    std::optional<bool> uplink_up;
  };
  struct GroupInfo {
    std::optional<WallTime> last_sent;
  };

  // What observe() needs of a node, looked up once for a whole batch of its samples.
  struct NodeContext {
    std::string_view node;
    NodeInfo& info;
    const std::string& uplink;
    std::vector<Instance*> absence;  // per node_absence_rules_; nullptr where the rule skips the node
  };
  // Hashes std::string and std::string_view alike: lookups by view without a temporary string.
  struct StringHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
  };

  static std::string instance_key(std::size_t rule_index, std::string_view node, std::string_view metric);
  static void build_instance_key(std::string& key, std::size_t rule_index, std::string_view node,
                                 std::string_view metric);
  static Labels make_labels(const std::string& rule, const std::string& type, Severity severity,
                            const std::string& node, const std::string& subject, const std::string& metric);
  std::string group_key(const Labels& labels) const;
  bool persisted(const Instance& inst) const;
  void index_rules();  // node_absence_rules_, node_down_rules_ from rules_.rules; clears metric_rules_
  Status restore(std::string_view text, WallTime now, bool rules_swapped);

  NodeInfo& node_info(std::string_view node);
  NodeContext node_context(std::string_view node);
  void observe(NodeContext& ctx, std::string_view metric, double value, WallTime ts);
  const std::vector<std::size_t>& rules_for_metric(std::string_view metric);
  bool node_matches(const Rule& rule, std::string_view node) const;
  Instance* instance(std::size_t rule_index, std::string_view node, std::string_view metric);
  const std::string& uplink_of(std::string_view node) const;
  bool blocked_by_uplink(const Instance& inst) const;

  void apply_sample(Instance& inst, double value, WallTime ts);
  void transition(Instance& inst, AlertState to, WallTime at, std::string reason);
  void try_fire(Instance& inst, WallTime at, std::string reason);
  Alert make_alert(const Instance& inst) const;
  void decide_notifications(WallTime now);

  RuleSet rules_;
  std::vector<std::size_t> node_absence_rules_;  // absence rules without a metric
  std::vector<std::size_t> node_down_rules_;
  std::unordered_map<std::string, std::vector<std::size_t>, StringHash, std::equal_to<>> metric_rules_;  // cache: metric -> rules
  std::map<std::string, NodeInfo, std::less<>> nodes_;
  // Key: node '\x1f' rule index '\x1f' metric, so one node's instances are contiguous.
  std::map<std::string, Instance, std::less<>> instances_;
  std::string key_buffer_;  // instance(): the lookup key, reused
  std::map<std::string, GroupInfo, std::less<>> groups_;
  std::vector<Event> events_;
  std::vector<Incident> incident_updates_;
  std::vector<Notification> notifications_;
  std::map<std::uint64_t, Incident> open_incidents_;
  std::uint64_t next_incident_id_ = 1;
  std::uint64_t next_silence_id_ = 1;
  std::set<std::uint64_t> runtime_silences_;  // ids of the silences added with add_silence()
  std::optional<WallTime> restored_at_;        // absence timers count from here at the earliest
  std::optional<WallTime> deaf_since_;         // broker_lost() .. broker_back()
  std::string deaf_own_node_;                  // its rules go on while deaf
  mutable bool dirty_ = false;
  std::uint64_t rules_generation_ = 0;  // index_rules() counts up: 1 after construction
  EvaluatorStats stats_;
};

}  // namespace edgemon::rules
