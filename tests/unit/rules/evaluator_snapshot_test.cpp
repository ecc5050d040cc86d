// Evaluator persistence: snapshot_json() / restore_json() / dirty(). A "restart" is a second
// Evaluator restored from the first one's snapshot; time is explicit, nothing sleeps.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "edgemon/rules/evaluator.h"
#include "edgemon/rules/rules_config.h"

namespace edgemon::rules {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

const WallTime T0 = WallTime(std::chrono::sys_days(std::chrono::year(2024) / 6 / 4));  // a Tuesday, 00:00 UTC

WallTime at(std::chrono::seconds s) { return T0 + s; }

RuleSet rules_from(std::string_view toml) {
  auto r = parse_rules(toml, "test.toml");
  if (!r) {
    ADD_FAILURE() << r.error().message;
    return {};
  }
  return std::move(r).value();
}

std::vector<std::string> transitions(const std::vector<Event>& events) {
  std::vector<std::string> out;
  for (const Event& e : events) out.push_back(std::string(to_string(e.from)) + ">" + to_string(e.to));
  return out;
}

std::vector<std::string> kinds(const std::vector<Notification>& ns) {
  std::vector<std::string> out;
  for (const Notification& n : ns) out.emplace_back(to_string(n.kind));
  return out;
}

// Drains every output queue (what the gateway does after each tick).
void drain(Evaluator& ev) {
  ev.take_events();
  ev.take_incident_updates();
  ev.take_notifications();
}

// Restarts: a fresh Evaluator over `rules`, restored at `now` from `snapshot`.
Evaluator restored(std::string_view toml, const std::string& snapshot, WallTime now) {
  Evaluator ev(rules_from(toml));
  const Status st = ev.restore_json(snapshot, now);
  EXPECT_TRUE(st.ok()) << (st.ok() ? "" : st.error().message);
  return ev;
}

constexpr const char* kCpuRule = R"(
[alerting]
cooldown = "10m"
repeat_interval = "1h"
[[rules]]
name = "high_cpu"
metric = "cpu/total"
threshold = 85
recovery = 75
type = "HIGH_CPU"
severity = "critical"
)";

TEST(Snapshot, FiringAlertIsNeitherLostNorRefired) {
  Evaluator before(rules_from(kCpuRule));
  before.observe("pi-01", "cpu/total", 90, at(0s));
  before.tick(at(1s));
  ASSERT_EQ(kinds(before.take_notifications()), (std::vector<std::string>{"firing"}));
  drain(before);
  const std::string snap = before.snapshot_json();

  Evaluator after = restored(kCpuRule, snap, at(5s));
  const auto a = before.active_alerts();
  const auto b = after.active_alerts();
  ASSERT_EQ(a.size(), 1u);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b[0].subject, a[0].subject);
  EXPECT_EQ(b[0].rule, a[0].rule);
  EXPECT_EQ(b[0].since, a[0].since);
  EXPECT_EQ(b[0].since, at(0s));
  EXPECT_EQ(b[0].reason, a[0].reason);
  EXPECT_EQ(b[0].severity, Severity::kCritical);
  EXPECT_EQ(b[0].incident_id, a[0].incident_id);
  EXPECT_EQ(b[0].value, 90);
  ASSERT_EQ(after.open_incidents().size(), 1u);
  EXPECT_EQ(after.open_incidents()[0].start, at(0s));

  EXPECT_TRUE(after.take_events().empty());
  EXPECT_TRUE(after.take_notifications().empty());
  EXPECT_TRUE(after.take_incident_updates().empty());
  after.observe("pi-01", "cpu/total", 95, at(6s));  // still bad: nothing new
  after.tick(at(6s));
  after.tick(at(30min));
  EXPECT_TRUE(after.take_events().empty());
  EXPECT_TRUE(after.take_notifications().empty());
  EXPECT_TRUE(after.take_incident_updates().empty());

  after.observe("pi-01", "cpu/total", 10, at(40min));
  after.tick(at(40min + 1s));
  const auto events = after.take_events();
  EXPECT_EQ(transitions(events), (std::vector<std::string>{"firing>ok"}));
  const auto ns = after.take_notifications();
  ASSERT_EQ(kinds(ns), (std::vector<std::string>{"resolved"}));
  ASSERT_EQ(ns[0].alerts.size(), 1u);
  EXPECT_EQ(ns[0].alerts[0].since, at(0s));
  EXPECT_EQ(ns[0].alerts[0].resolved_at, at(40min));
  const auto incidents = after.take_incident_updates();
  ASSERT_EQ(incidents.size(), 1u);
  EXPECT_EQ(incidents[0].id, a[0].incident_id);
  EXPECT_EQ(incidents[0].start, at(0s));
  EXPECT_EQ(incidents[0].end, at(40min));
  EXPECT_TRUE(after.open_incidents().empty());
  after.tick(at(41min));
  EXPECT_TRUE(after.take_notifications().empty());
}

TEST(Snapshot, RepeatIntervalContinuesFromTheLastNotice) {
  Evaluator before(rules_from(kCpuRule));
  before.observe("pi-01", "cpu/total", 90, at(0s));
  before.tick(at(1s));
  drain(before);
  Evaluator after = restored(kCpuRule, before.snapshot_json(), at(10min));
  after.tick(at(3600s));
  EXPECT_TRUE(after.take_notifications().empty());
  after.tick(at(3601s));  // 1 h after the firing notice sent before the restart
  EXPECT_EQ(kinds(after.take_notifications()), (std::vector<std::string>{"repeat"}));
}

TEST(Snapshot, PendingForDurationFiresAtTheOriginalDeadline) {
  constexpr const char* kHot = R"(
[[rules]]
name = "hot"
metric = "thermal/cpu"
threshold = 80
for = "60s"
type = "OVERHEAT"
)";
  Evaluator before(rules_from(kHot));
  before.observe("pi-01", "thermal/cpu", 85, at(0s));
  before.tick(at(10s));
  ASSERT_EQ(before.state("pi-01/thermal/cpu", "hot"), AlertState::kPending);
  drain(before);

  Evaluator after = restored(kHot, before.snapshot_json(), at(30s));
  EXPECT_EQ(after.state("pi-01/thermal/cpu", "hot"), AlertState::kPending);
  EXPECT_TRUE(after.take_events().empty());
  after.tick(at(59s));
  EXPECT_EQ(after.state("pi-01/thermal/cpu", "hot"), AlertState::kPending);
  after.tick(at(60s));  // not 30 s + 60 s
  EXPECT_EQ(after.state("pi-01/thermal/cpu", "hot"), AlertState::kFiring);
  EXPECT_EQ(transitions(after.take_events()), (std::vector<std::string>{"pending>firing"}));
  const auto incidents = after.take_incident_updates();
  ASSERT_EQ(incidents.size(), 1u);
  EXPECT_EQ(incidents[0].start, at(60s));
  EXPECT_EQ(kinds(after.take_notifications()), (std::vector<std::string>{"firing"}));
}

TEST(Snapshot, PendingSampleRunContinues) {
  constexpr const char* kThree = "[[rules]]\nname = \"c\"\nmetric = \"cpu/total\"\nthreshold = 85\nsamples = 3\n";
  Evaluator before(rules_from(kThree));
  before.observe("n", "cpu/total", 90, at(0s));
  before.observe("n", "cpu/total", 90, at(10s));
  Evaluator after = restored(kThree, before.snapshot_json(), at(15s));
  after.observe("n", "cpu/total", 90, at(20s));  // the third bad sample
  EXPECT_EQ(after.state("n/cpu/total", "c"), AlertState::kFiring);
}

TEST(Snapshot, CooldownIsRememberedAcrossARestart) {
  Evaluator before(rules_from(kCpuRule));
  before.observe("n", "cpu/total", 90, at(0s));
  before.tick(at(1s));
  before.observe("n", "cpu/total", 10, at(10s));
  before.tick(at(11s));
  ASSERT_EQ(kinds(before.take_notifications()), (std::vector<std::string>{"firing", "resolved"}));
  drain(before);

  Evaluator after = restored(kCpuRule, before.snapshot_json(), at(20s));
  EXPECT_TRUE(after.take_notifications().empty());
  after.observe("n", "cpu/total", 90, at(30s));  // flaps inside the 10 min cooldown
  after.tick(at(31s));
  EXPECT_EQ(transitions(after.take_events()), (std::vector<std::string>{"ok>firing"}));  // recorded...
  EXPECT_TRUE(after.take_notifications().empty());                                     // ...not told
  after.tick(at(601s));  // the cooldown (from the notice at 1 s) is over and it still fires
  EXPECT_EQ(kinds(after.take_notifications()), (std::vector<std::string>{"firing"}));
}

TEST(Snapshot, UnsentResolvedNoticeIsSentAfterTheRestart) {
  Evaluator before(rules_from(kCpuRule));
  before.observe("n", "cpu/total", 90, at(0s));
  before.tick(at(1s));
  before.observe("n", "cpu/total", 10, at(10s));  // recovered; the resolved notice is decided at the next tick
  drain(before);
  Evaluator after = restored(kCpuRule, before.snapshot_json(), at(12s));
  after.tick(at(13s));
  const auto ns = after.take_notifications();
  ASSERT_EQ(kinds(ns), (std::vector<std::string>{"resolved"}));
  EXPECT_EQ(ns[0].alerts.at(0).resolved_at, at(10s));
}

TEST(Snapshot, RemovedRuleDropsTheInstanceAndClosesItsIncident) {
  const std::string both = std::string(kCpuRule) + R"(
[[rules]]
name = "hot"
metric = "thermal/cpu"
threshold = 80
type = "OVERHEAT"
)";
  Evaluator before(rules_from(both));
  before.observe("n", "cpu/total", 90, at(0s));
  before.observe("n", "thermal/cpu", 90, at(0s));
  before.tick(at(1s));
  drain(before);
  ASSERT_EQ(before.active_alerts().size(), 2u);
  std::uint64_t cpu_incident = 0;
  for (const Alert& a : before.active_alerts()) {
    if (a.rule == "high_cpu") cpu_incident = a.incident_id;
  }

  const std::string only_hot = R"(
[alerting]
cooldown = "10m"
repeat_interval = "1h"
[[rules]]
name = "hot"
metric = "thermal/cpu"
threshold = 80
type = "OVERHEAT"
)";
  Evaluator after = restored(only_hot, before.snapshot_json(), at(100s));
  const auto alerts = after.active_alerts();
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].rule, "hot");
  EXPECT_EQ(after.state("n/cpu/total", "high_cpu"), AlertState::kOk);
  ASSERT_EQ(after.open_incidents().size(), 1u);
  EXPECT_EQ(after.open_incidents()[0].rule, "hot");

  const auto incidents = after.take_incident_updates();
  ASSERT_EQ(incidents.size(), 1u);
  EXPECT_EQ(incidents[0].id, cpu_incident);
  EXPECT_EQ(incidents[0].rule, "high_cpu");
  EXPECT_EQ(incidents[0].type, "HIGH_CPU");
  EXPECT_EQ(incidents[0].start, at(0s));
  EXPECT_EQ(incidents[0].end, at(100s));
  const auto events = after.take_events();
  ASSERT_EQ(transitions(events), (std::vector<std::string>{"firing>ok"}));
  EXPECT_EQ(events[0].rule, "high_cpu");
  EXPECT_EQ(events[0].at, at(100s));
  EXPECT_THAT(events[0].reason, HasSubstr("no longer applies"));
  // It had been announced: the receiver is told it ended.
  const auto ns = after.take_notifications();
  ASSERT_EQ(kinds(ns), (std::vector<std::string>{"resolved"}));
  EXPECT_EQ(ns[0].alerts.at(0).rule, "high_cpu");
  EXPECT_EQ(ns[0].alerts.at(0).resolved_at, at(100s));
  EXPECT_EQ(ns[0].group, "rule=high_cpu,node=n");

  // The dropped instance is gone for good; the next snapshot does not mention the rule.
  EXPECT_THAT(after.snapshot_json(), ::testing::Not(HasSubstr("high_cpu")));
  // A new incident does not reuse the closed one's id.
  after.observe("n", "thermal/cpu", 10, at(110s));
  after.observe("n", "thermal/cpu", 90, at(120s));
  ASSERT_EQ(after.active_alerts().size(), 1u);
  EXPECT_GT(after.active_alerts()[0].incident_id, cpu_incident);
}

TEST(Snapshot, NodeOfflineAndNodeDownFiringAreRestored) {
  constexpr const char* kNodeRules = R"(
[alerting]
uplink_target = "10.0.0.1"
[[rules]]
name = "ndeath"
kind = "node_down"
severity = "critical"
)";
  Evaluator before(rules_from(kNodeRules));
  before.node_online("pi-01", at(0s));
  before.node_offline("pi-01", at(10s));
  before.tick(at(11s));
  drain(before);

  Evaluator after = restored(kNodeRules, before.snapshot_json(), at(20s));
  EXPECT_TRUE(after.uplink_down("pi-01"));
  EXPECT_FALSE(after.uplink_down("pi-02"));
  ASSERT_EQ(after.active_alerts().size(), 1u);
  EXPECT_EQ(after.active_alerts()[0].type, "NODE_DOWN");
  EXPECT_EQ(after.active_alerts()[0].since, at(10s));
  after.node_offline("pi-01", at(21s));  // a retained NDEATH seen again: nothing new
  after.tick(at(22s));
  EXPECT_TRUE(after.take_events().empty());
  EXPECT_TRUE(after.take_notifications().empty());

  after.node_online("pi-01", at(30s));
  EXPECT_FALSE(after.uplink_down("pi-01"));
  after.tick(at(31s));
  EXPECT_EQ(transitions(after.take_events()), (std::vector<std::string>{"firing>ok"}));
  EXPECT_EQ(kinds(after.take_notifications()), (std::vector<std::string>{"resolved"}));
  const auto incidents = after.take_incident_updates();
  ASSERT_EQ(incidents.size(), 1u);
  EXPECT_EQ(incidents[0].duration(), 20s);
}

TEST(Snapshot, UplinkDownIsRestored) {
  constexpr const char* kUplink = R"(
[alerting]
uplink_target = "10.0.0.1"
[[rules]]
name = "down"
kind = "failure"
metric = "ping/*/up"
failure_threshold = 1
)";
  Evaluator before(rules_from(kUplink));
  before.observe("pi-01", "ping/10.0.0.1/up", 0, at(0s));
  Evaluator after = restored(kUplink, before.snapshot_json(), at(5s));
  EXPECT_TRUE(after.uplink_down("pi-01"));
  after.observe("pi-01", "ping/8.8.8.8/up", 0, at(10s));  // not blamed while the uplink is down
  EXPECT_EQ(after.state("pi-01/ping/8.8.8.8/up", "down"), AlertState::kPending);
}

TEST(Snapshot, AbsenceTimersCountFromTheRestoreNotTheGatewayDowntime) {
  constexpr const char* kSilent = R"(
[[rules]]
name = "silent"
kind = "absence"
for = "60s"
)";
  Evaluator before(rules_from(kSilent));
  before.observe("pi-01", "cpu/total", 5, at(0s));
  before.tick(at(10s));
  drain(before);

  // The gateway was down from 10 s to 100 s: pi-01 was not heard from, through no fault of its own.
  Evaluator after = restored(kSilent, before.snapshot_json(), at(100s));
  after.tick(at(101s));
  after.tick(at(159s));
  EXPECT_EQ(after.state("pi-01", "silent"), AlertState::kOk);
  after.tick(at(160s));  // still nothing 60 s after the restart: absent
  EXPECT_EQ(after.state("pi-01", "silent"), AlertState::kFiring);

  // A node heard from after the restart counts from its sample as usual.
  Evaluator again = restored(kSilent, before.snapshot_json(), at(100s));
  again.observe("pi-01", "cpu/total", 5, at(130s));
  again.tick(at(189s));
  EXPECT_EQ(again.state("pi-01", "silent"), AlertState::kOk);
  again.tick(at(190s));
  EXPECT_EQ(again.state("pi-01", "silent"), AlertState::kFiring);
}

TEST(Snapshot, RuntimeSilencesSurviveConfiguredOnesComeFromTheConfig) {
  const std::string cfg = std::string(kCpuRule) + R"(
[[silences]]
match = { node = "pi-09" }
until = 2030-01-01T00:00:00Z
comment = "configured"
)";
  Evaluator before(rules_from(cfg));
  Silence s;
  s.matchers = {{"node", "pi-01"}, {"type", "HIGH_*"}};
  s.until = at(1h);
  s.comment = "fan replacement";
  const std::uint64_t id = before.add_silence(s);
  ASSERT_EQ(before.silences().size(), 2u);

  Evaluator after = restored(cfg, before.snapshot_json(), at(10s));
  ASSERT_EQ(after.silences().size(), 2u);
  EXPECT_EQ(after.silences()[0].comment, "configured");
  EXPECT_EQ(after.silences()[1].id, id);
  EXPECT_EQ(after.silences()[1].comment, "fan replacement");
  EXPECT_EQ(after.silences()[1].until, at(1h));
  EXPECT_EQ(after.silences()[1].matchers, s.matchers);
  EXPECT_FALSE(after.silences()[1].starts);

  after.observe("pi-01", "cpu/total", 90, at(20s));
  after.tick(at(21s));
  EXPECT_TRUE(after.take_notifications().empty());  // silenced
  EXPECT_GT(after.add_silence(Silence{}), id);       // ids are not reused
  EXPECT_TRUE(after.remove_silence(id));
  after.tick(at(22s));
  EXPECT_EQ(kinds(after.take_notifications()), (std::vector<std::string>{"firing"}));
}

TEST(Snapshot, MalformedOrWrongVersionIsAnErrorAndChangesNothing) {
  Evaluator ev(rules_from(kCpuRule));
  ev.observe("n", "cpu/total", 90, at(0s));
  ev.tick(at(1s));
  drain(ev);
  const std::string good = ev.snapshot_json();

  nlohmann::json v2 = nlohmann::json::parse(good);
  v2["version"] = 2;
  nlohmann::json no_version = nlohmann::json::parse(good);
  no_version.erase("version");
  nlohmann::json bad_type = nlohmann::json::parse(good);
  bad_type["instances"][0]["bad_run"] = "three";
  nlohmann::json bad_state = nlohmann::json::parse(good);
  bad_state["instances"][0]["state"] = "exploded";
  bad_state["nodes"] = nlohmann::json::array();  // parsed before the instance: must not stick
  nlohmann::json missing = nlohmann::json::parse(good);
  missing.erase("incidents");

  const struct {
    std::string text;
    const char* message;
  } rows[] = {
      {"", "malformed JSON"},
      {"{\"version\": 1, ", "malformed JSON"},
      {"[1, 2]", "not a JSON object"},
      {v2.dump(), "unsupported version 2"},
      {no_version.dump(), "no \"version\""},
      {bad_type.dump(), "evaluator snapshot"},
      {bad_state.dump(), "unknown alert state 'exploded'"},
      {missing.dump(), "incidents"},
  };
  for (const auto& r : rows) {
    const Status st = ev.restore_json(r.text, at(5s));
    ASSERT_FALSE(st.ok()) << r.text;
    EXPECT_EQ(st.error().code, ErrorCode::kInvalidArgument);
    EXPECT_THAT(st.error().message, HasSubstr(r.message)) << r.text;
    EXPECT_FALSE(ev.dirty());
    EXPECT_EQ(ev.snapshot_json(), good) << r.text;
    EXPECT_TRUE(ev.take_events().empty());
    EXPECT_TRUE(ev.take_incident_updates().empty());
    EXPECT_TRUE(ev.take_notifications().empty());
  }
  ASSERT_EQ(ev.active_alerts().size(), 1u);
  EXPECT_EQ(ev.active_alerts()[0].since, at(0s));
}

TEST(Snapshot, DirtyOnlyWhenSomethingWorthKeepingChanged) {
  Evaluator ev(rules_from(kCpuRule));
  EXPECT_FALSE(ev.dirty());
  ev.observe("n", "cpu/total", 10, at(0s));  // ok stays ok
  ev.tick(at(1s));
  EXPECT_FALSE(ev.dirty());
  ev.observe("n", "cpu/total", 90, at(10s));  // ok>firing
  EXPECT_TRUE(ev.dirty());
  ev.tick(at(11s));  // the firing notice is decided
  EXPECT_TRUE(ev.dirty());
  ev.snapshot_json();
  EXPECT_FALSE(ev.dirty());
  ev.observe("n", "cpu/total", 95, at(20s));  // still firing
  ev.tick(at(21s));
  EXPECT_FALSE(ev.dirty());
  ev.snapshot_json();
  EXPECT_FALSE(ev.dirty());
  ev.node_offline("pi-02", at(22s));
  EXPECT_TRUE(ev.dirty());
  ev.snapshot_json();
  ev.node_online("pi-02", at(23s));
  EXPECT_TRUE(ev.dirty());
  ev.snapshot_json();
  ev.node_online("pi-02", at(24s));  // already online
  EXPECT_FALSE(ev.dirty());
  const std::uint64_t id = ev.add_silence(Silence{0, {{"node", "x"}}, std::nullopt, at(1h), ""});
  EXPECT_TRUE(ev.dirty());
  ev.snapshot_json();
  EXPECT_TRUE(ev.remove_silence(id));
  EXPECT_TRUE(ev.dirty());
  ev.snapshot_json();
  ev.observe("n", "cpu/total", 10, at(30s));  // firing>ok
  EXPECT_TRUE(ev.dirty());
  ev.snapshot_json();
  ev.tick(at(31s));  // the resolved notice
  EXPECT_TRUE(ev.dirty());

  Evaluator fresh(rules_from(kCpuRule));
  ASSERT_TRUE(fresh.restore_json(ev.snapshot_json(), at(40s)).ok());
  EXPECT_TRUE(fresh.dirty());
}

TEST(Snapshot, RoundTripIsStable) {
  constexpr const char* kMany = R"(
[alerting]
cooldown = "10m"
uplink_target = "10.0.0.1"
[[rules]]
name = "high_cpu"
metric = "cpu/total"
threshold = 85
recovery = 75
type = "HIGH_CPU"
[[rules]]
name = "hot"
metric = "thermal/cpu"
threshold = 80
for = "60s"
[[rules]]
name = "http_errors"
kind = "error_rate"
metric = "http/*/up"
window = 10
min_samples = 5
threshold = 20
[[rules]]
name = "silent"
kind = "absence"
for = "2m"
[[rules]]
name = "ndeath"
kind = "node_down"
[[silences]]
match = { node = "pi-09" }
until = 2030-01-01T00:00:00Z
)";
  Evaluator ev(rules_from(kMany));
  ev.observe("pi-01", "cpu/total", 90.25, at(0s));    // firing, announced
  ev.observe("pi-01", "thermal/cpu", 85, at(0s));     // pending
  ev.observe("pi-02", "cpu/total", 95, at(0s));
  ev.tick(at(1s));
  ev.observe("pi-02", "cpu/total", 10, at(5s));       // ok, in cooldown, resolved notice unsent
  for (double v : {0.0, 0.0, 1.0, 1.0, 1.0, 0.0}) ev.observe("pi-03", "http/api/up", v, at(6s));  // error rate firing
  ev.observe("pi-03", "ping/10.0.0.1/up", 0, at(6s)); // uplink down
  ev.node_offline("pi-04", at(7s));                   // NODE_DOWN firing
  ev.add_silence(Silence{0, {{"node", "pi-05"}}, at(10s), at(2h), "runtime \"quoted\""});
  const std::string x = ev.snapshot_json();

  const nlohmann::json doc = nlohmann::json::parse(x);
  EXPECT_EQ(doc["version"], 1);
  EXPECT_EQ(doc["silences"].size(), 1u);  // the runtime one only

  Evaluator restarted = restored(kMany, x, at(8s));
  EXPECT_EQ(restarted.snapshot_json(), x);
  Evaluator twice = restored(kMany, restarted.snapshot_json(), at(9s));
  EXPECT_EQ(twice.snapshot_json(), x);
  EXPECT_EQ(twice.active_alerts().size(), ev.active_alerts().size());
  EXPECT_EQ(twice.state("pi-03/http/api/up", "http_errors"), AlertState::kFiring);
  // The error-rate window came along: four good samples leave 3/10 failed (30 %), the fifth 2/10 (20 % <= 20 %).
  for (int i = 0; i < 4; ++i) twice.observe("pi-03", "http/api/up", 1, at(10s));
  EXPECT_EQ(twice.state("pi-03/http/api/up", "http_errors"), AlertState::kFiring);
  twice.observe("pi-03", "http/api/up", 1, at(10s));
  EXPECT_EQ(twice.state("pi-03/http/api/up", "http_errors"), AlertState::kOk);
}


// --- replace_rules(): the API's hot swap of the rule list ---

std::vector<Rule> rule_list(std::string_view toml) { return rules_from(toml).rules; }

constexpr const char* kCpuAndAbsence = R"(
[alerting]
cooldown = "10m"
[[rules]]
name = "high_cpu"
metric = "cpu/total"
threshold = 85
recovery = 75
type = "HIGH_CPU"
[[rules]]
name = "silent"
kind = "absence"
for = "60s"
)";

TEST(ReplaceRules, UnchangedRuleKeepsItsFiringAlertAndIncident) {
  Evaluator ev(rules_from(kCpuAndAbsence));
  ev.observe("pi-01", "cpu/total", 95, at(0s));
  ev.tick(at(1s));
  ASSERT_EQ(ev.active_alerts().size(), 1u);
  const std::uint64_t incident = ev.active_alerts()[0].incident_id;
  drain(ev);

  // A new rule is added; high_cpu stays as it was.
  std::vector<Rule> next = rule_list(kCpuAndAbsence);
  next.push_back(rule_list(R"([[rules]]
name = "hot"
metric = "soc/temperature"
threshold = 80
)")[0]);
  ASSERT_TRUE(ev.replace_rules(next, at(10s)).ok());
  EXPECT_TRUE(ev.take_events().empty());
  EXPECT_TRUE(ev.take_notifications().empty());
  ASSERT_EQ(ev.active_alerts().size(), 1u);
  EXPECT_EQ(ev.active_alerts()[0].incident_id, incident);
  EXPECT_EQ(ev.rule_set().rules.size(), 3u);

  // The new rule evaluates at once.
  ev.observe("pi-01", "soc/temperature", 85, at(11s));
  EXPECT_EQ(ev.state("pi-01/soc/temperature", "hot"), AlertState::kFiring);
  // The kept one still recovers normally.
  ev.observe("pi-01", "cpu/total", 50, at(12s));
  EXPECT_EQ(ev.state("pi-01/cpu/total", "high_cpu"), AlertState::kOk);
}

TEST(ReplaceRules, RemovedRuleEndsItsAlertWithEventIncidentAndResolvedNotice) {
  Evaluator ev(rules_from(kCpuAndAbsence));
  ev.observe("pi-01", "cpu/total", 95, at(0s));
  ev.tick(at(1s));
  ASSERT_EQ(kinds(ev.take_notifications()), (std::vector<std::string>{"firing"}));
  drain(ev);

  ASSERT_TRUE(ev.replace_rules(rule_list(R"([[rules]]
name = "silent"
kind = "absence"
for = "60s"
)"), at(30s)).ok());
  const auto events = ev.take_events();
  ASSERT_EQ(transitions(events), (std::vector<std::string>{"firing>ok"}));
  EXPECT_THAT(events[0].reason, HasSubstr("no longer applies (removed or changed)"));
  const auto incidents = ev.take_incident_updates();
  ASSERT_EQ(incidents.size(), 1u);
  EXPECT_EQ(incidents[0].end, at(30s));
  EXPECT_EQ(kinds(ev.take_notifications()), (std::vector<std::string>{"resolved"}));
  EXPECT_TRUE(ev.active_alerts().empty());
  // cpu samples no longer matter.
  ev.observe("pi-01", "cpu/total", 99, at(31s));
  EXPECT_TRUE(ev.active_alerts().empty());
}

TEST(ReplaceRules, AbsenceTimerKeepsCountingFromTheLastSample) {
  Evaluator ev(rules_from(kCpuAndAbsence));
  ev.observe("pi-01", "cpu/total", 10, at(0s));
  ev.tick(at(30s));
  ASSERT_TRUE(ev.replace_rules(rule_list(kCpuAndAbsence), at(50s)).ok());
  ev.tick(at(61s));  // 61 s after the last sample, 11 s after the swap
  EXPECT_EQ(ev.state("pi-01", "silent"), AlertState::kFiring);
}

TEST(ReplaceRules, ChangedThresholdAppliesToTheNextSample) {
  Evaluator ev(rules_from(kCpuAndAbsence));
  ev.observe("pi-01", "cpu/total", 80, at(0s));
  EXPECT_EQ(ev.state("pi-01/cpu/total", "high_cpu"), AlertState::kOk);
  std::vector<Rule> next = rule_list(kCpuAndAbsence);
  next[0].threshold = 70;
  next[0].recovery = 60;
  ASSERT_TRUE(ev.replace_rules(next, at(5s)).ok());
  ev.observe("pi-01", "cpu/total", 80, at(6s));
  EXPECT_EQ(ev.state("pi-01/cpu/total", "high_cpu"), AlertState::kFiring);
}

}  // namespace
}  // namespace edgemon::rules
