// Table tests for every rule kind, and for the notification policy (cooldown, repeat, grouping,
// silences, maintenance windows) and connectivity awareness. Time is explicit: nothing sleeps.
#include "edgemon/rules/evaluator.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

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

// --- Threshold: N consecutive samples -------------------------------------------------------

struct SeqCase {
  const char* label;
  std::vector<double> values;       // one per 10 s
  AlertState final_state;
  std::vector<std::string> events;  // from>to, in order
};

class ThresholdSamples : public ::testing::TestWithParam<SeqCase> {};

TEST_P(ThresholdSamples, Transitions) {
  Evaluator ev(rules_from(R"(
[[rules]]
name = "high_cpu"
metric = "cpu/total"
threshold = 85
recovery = 75
samples = 3
type = "HIGH_CPU"
)"));
  std::int64_t t = 0;
  for (double v : GetParam().values) ev.observe("pi-01", "cpu/total", v, at(std::chrono::seconds(t += 10)));
  EXPECT_EQ(ev.state("pi-01/cpu/total", "high_cpu"), GetParam().final_state) << GetParam().label;
  EXPECT_EQ(transitions(ev.take_events()), GetParam().events) << GetParam().label;
}

INSTANTIATE_TEST_SUITE_P(
    Table, ThresholdSamples,
    ::testing::Values(
        SeqCase{"below", {10, 50, 85}, AlertState::kOk, {}},
        SeqCase{"two high is pending", {90, 90}, AlertState::kPending, {"ok>pending"}},
        SeqCase{"three high fires", {90, 90, 90}, AlertState::kFiring, {"ok>pending", "pending>firing"}},
        SeqCase{"a low sample resets the run", {90, 90, 50, 90, 90}, AlertState::kPending,
                {"ok>pending", "pending>ok", "ok>pending"}},
        SeqCase{"events only on change", {90, 90, 90, 95, 99, 91}, AlertState::kFiring, {"ok>pending", "pending>firing"}},
        SeqCase{"hysteresis: 80 keeps firing", {90, 90, 90, 80, 80}, AlertState::kFiring, {"ok>pending", "pending>firing"}},
        SeqCase{"hysteresis: 75 recovers", {90, 90, 90, 80, 75}, AlertState::kOk,
                {"ok>pending", "pending>firing", "firing>ok"}},
        SeqCase{"fires again after recovery", {90, 90, 90, 70, 90, 90, 90}, AlertState::kFiring,
                {"ok>pending", "pending>firing", "firing>ok", "ok>pending", "pending>firing"}}),
    [](const ::testing::TestParamInfo<SeqCase>& p) {
      std::string n = p.param.label;
      for (char& c : n) {
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
      }
      return n;
    });

TEST(Threshold, ForDurationFiresOnTickAndOpensAndClosesAnIncident) {
  Evaluator ev(rules_from(R"(
[[rules]]
name = "hot"
metric = "thermal/cpu"
threshold = 80
for = "60s"
recovery_samples = 2
severity = "critical"
type = "OVERHEAT"
)"));
  ev.observe("pi-01", "thermal/cpu", 85, at(0s));
  ev.tick(at(30s));
  EXPECT_EQ(ev.state("pi-01/thermal/cpu", "hot"), AlertState::kPending);
  ev.tick(at(60s));
  EXPECT_EQ(ev.state("pi-01/thermal/cpu", "hot"), AlertState::kFiring);
  auto incidents = ev.take_incident_updates();
  ASSERT_EQ(incidents.size(), 1u);
  EXPECT_EQ(incidents[0].type, "OVERHEAT");
  EXPECT_EQ(incidents[0].start, at(60s));
  EXPECT_FALSE(incidents[0].end);
  ASSERT_EQ(ev.active_alerts().size(), 1u);
  EXPECT_EQ(ev.active_alerts()[0].severity, Severity::kCritical);

  ev.observe("pi-01", "thermal/cpu", 70, at(90s));  // one good sample of two
  EXPECT_EQ(ev.state("pi-01/thermal/cpu", "hot"), AlertState::kFiring);
  ev.observe("pi-01", "thermal/cpu", 70, at(100s));
  EXPECT_EQ(ev.state("pi-01/thermal/cpu", "hot"), AlertState::kOk);
  incidents = ev.take_incident_updates();
  ASSERT_EQ(incidents.size(), 1u);
  EXPECT_EQ(incidents[0].end, at(100s));
  EXPECT_EQ(incidents[0].duration(), 40s);
  EXPECT_TRUE(ev.open_incidents().empty());
}

TEST(Threshold, ForDurationAlsoFiresOnALaterSample) {
  Evaluator ev(rules_from("[[rules]]\nname = \"hot\"\nmetric = \"t\"\nthreshold = 80\nfor = \"20s\"\n"));
  ev.observe("n", "t", 85, at(0s));
  ev.observe("n", "t", 85, at(10s));
  EXPECT_EQ(ev.state("n/t", "hot"), AlertState::kPending);
  ev.observe("n", "t", 85, at(20s));
  EXPECT_EQ(ev.state("n/t", "hot"), AlertState::kFiring);
}

// --- Latency and loss: DEGRADED per target ----------------------------------------------------

TEST(Degraded, LatencyAndLossPerTarget) {
  Evaluator ev(rules_from(R"(
[[rules]]
name = "slow"
metric = "ping/*/rtt"
threshold = 200
recovery = 150
type = "DEGRADED"
[[rules]]
name = "lossy"
metric = "ping/*/loss"
op = ">="
threshold = 20
samples = 2
type = "DEGRADED"
)"));
  struct Row {
    const char* metric;
    double value;
    const char* subject;
    const char* rule;
    AlertState expect;
  };
  const Row rows[] = {
      {"ping/10.0.0.1/rtt", 250, "n/ping/10.0.0.1/rtt", "slow", AlertState::kFiring},
      {"ping/10.0.0.2/rtt", 20, "n/ping/10.0.0.2/rtt", "slow", AlertState::kOk},
      {"ping/10.0.0.1/rtt", 170, "n/ping/10.0.0.1/rtt", "slow", AlertState::kFiring},  // hysteresis
      {"ping/10.0.0.1/rtt", 140, "n/ping/10.0.0.1/rtt", "slow", AlertState::kOk},
      {"ping/10.0.0.2/loss", 20, "n/ping/10.0.0.2/loss", "lossy", AlertState::kPending},
      {"ping/10.0.0.2/loss", 40, "n/ping/10.0.0.2/loss", "lossy", AlertState::kFiring},
      {"ping/10.0.0.2/loss", 19, "n/ping/10.0.0.2/loss", "lossy", AlertState::kOk},
      {"ping/10.0.0.2/up", 0, "n/ping/10.0.0.2/up", "slow", AlertState::kOk},  // no rule matches
  };
  std::int64_t t = 0;
  for (const Row& r : rows) {
    ev.observe("n", r.metric, r.value, at(std::chrono::seconds(t += 10)));
    EXPECT_EQ(ev.state(r.subject, r.rule), r.expect) << r.metric << " = " << r.value;
  }
  for (const Event& e : ev.take_events()) EXPECT_EQ(e.type, "DEGRADED");
}

// --- Probe failure threshold -------------------------------------------------------------------

TEST(Failure, FailureAndSuccessThresholds) {
  Evaluator ev(rules_from(R"(
[[rules]]
name = "down"
kind = "failure"
metric = "ping/*/up"
failure_threshold = 3
success_threshold = 2
)"));
  const struct {
    double up;
    AlertState expect;
  } rows[] = {{0, AlertState::kPending}, {0, AlertState::kPending}, {1, AlertState::kOk},
              {0, AlertState::kPending}, {0, AlertState::kPending}, {0, AlertState::kFiring},
              {1, AlertState::kFiring},  {0, AlertState::kFiring},  {1, AlertState::kFiring},
              {1, AlertState::kOk}};
  std::int64_t t = 0;
  for (const auto& r : rows) {
    ev.observe("n", "ping/8.8.8.8/up", r.up, at(std::chrono::seconds(t += 5)));
    EXPECT_EQ(ev.state("n/ping/8.8.8.8/up", "down"), r.expect) << "sample " << t / 5;
  }
  const auto events = ev.take_events();
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().type, "SERVICE_DOWN");
  EXPECT_THAT(events.back().reason, HasSubstr("ok for 2 samples"));
}

// --- Error rate --------------------------------------------------------------------------------

TEST(ErrorRate, FiresOverThresholdAndRecoversBelowRecovery) {
  Evaluator ev(rules_from(R"(
[[rules]]
name = "http_errors"
kind = "error_rate"
metric = "http/*/up"
window = 10
min_samples = 5
threshold = 20
recovery = 10
)"));
  const std::string subject = "n/http/api/up";
  std::int64_t t = 0;
  const auto feed = [&](std::initializer_list<double> values) {
    for (double v : values) ev.observe("n", "http/api/up", v, at(std::chrono::seconds(t += 1)));
  };
  feed({0, 0, 0, 0});  // 100 % but fewer than min_samples
  EXPECT_EQ(ev.state(subject, "http_errors"), AlertState::kOk);
  feed({1});  // 4/5 = 80 %
  EXPECT_EQ(ev.state(subject, "http_errors"), AlertState::kFiring);
  feed({1, 1, 1, 1, 1, 1, 1, 1});  // window of 10: 1/10 failed (the 4th zero) -> 10 % <= recovery
  EXPECT_EQ(ev.state(subject, "http_errors"), AlertState::kOk);
  feed({0, 1, 1});  // 1/10 -> 10 %, 20 % needs > 2 of 10
  EXPECT_EQ(ev.state(subject, "http_errors"), AlertState::kOk);
  feed({0, 0});  // 3/10 = 30 %
  EXPECT_EQ(ev.state(subject, "http_errors"), AlertState::kFiring);
  EXPECT_EQ(ev.active_alerts().at(0).type, "HIGH_ERROR_RATE");
}

// --- Absence and NDEATH ------------------------------------------------------------------------

TEST(Absence, NoDataForTFiresAndDataRecovers) {
  Evaluator ev(rules_from(R"(
[[rules]]
name = "silent"
kind = "absence"
for = "60s"
[[rules]]
name = "no_http"
kind = "absence"
metric = "http/*/up"
for = "30s"
)"));
  ev.observe("pi-01", "http/api/up", 1, at(0s));
  ev.tick(at(29s));
  EXPECT_TRUE(ev.take_events().empty());
  ev.tick(at(30s));
  EXPECT_EQ(ev.state("pi-01/http/api/up", "no_http"), AlertState::kFiring);
  ev.observe("pi-01", "cpu/total", 5, at(40s));  // the node talks, but not about http
  ev.tick(at(60s));
  EXPECT_EQ(ev.state("pi-01", "silent"), AlertState::kOk);
  ev.tick(at(100s));
  EXPECT_EQ(ev.state("pi-01", "silent"), AlertState::kFiring);
  const auto alerts = ev.active_alerts();
  ASSERT_EQ(alerts.size(), 2u);
  EXPECT_EQ(alerts[0].type, "NODE_DOWN");
  EXPECT_EQ(alerts[1].type, "SERVICE_DOWN");
  ev.observe("pi-01", "http/api/up", 1, at(101s));
  EXPECT_EQ(ev.state("pi-01", "silent"), AlertState::kOk);
  EXPECT_EQ(ev.state("pi-01/http/api/up", "no_http"), AlertState::kOk);
  EXPECT_EQ(transitions(ev.take_events()),
            (std::vector<std::string>{"ok>firing", "ok>firing", "firing>ok", "firing>ok"}));
}

TEST(Absence, ADeafGatewayFiresNothingAboutTheFleetAndItsOwnRulesGoOn) {
  Evaluator ev(rules_from(R"(
[[rules]]
name = "silent"
kind = "absence"
for = "60s"
[[rules]]
name = "hot"
metric = "soc/temp"
op = ">"
threshold = 80
for = "30s"
[[rules]]
name = "own_silent"
kind = "absence"
metric = "gateway/storage_ok"
for = "60s"
)"));
  ev.observe("pi-01", "soc/temp", 90, at(0s));  // bad, pending for 30 s
  ev.observe("_gateway/gw", "gateway/storage_ok", 1, at(0s));
  ev.broker_lost(at(10s), "_gateway/gw");
  ev.tick(at(10min));
  EXPECT_EQ(ev.state("pi-01", "silent"), AlertState::kOk) << "no silence while the gateway is deaf";
  EXPECT_NE(ev.state("pi-01/soc/temp", "hot"), AlertState::kFiring) << "no `for` elapses while deaf";
  EXPECT_EQ(ev.state("_gateway/gw/gateway/storage_ok", "own_silent"), AlertState::kFiring)
      << "the gateway's own rules go on";
  // Back at 10 min: the 9 min 50 s deaf count for nothing. The temperature was bad for 10 s
  // before, so it fires 20 s after; the node's silence had lasted 10 s, so it fires 50 s after.
  ev.broker_back(at(10min));
  ev.tick(at(10min + 19s));
  EXPECT_NE(ev.state("pi-01/soc/temp", "hot"), AlertState::kFiring);
  ev.tick(at(10min + 20s));
  EXPECT_EQ(ev.state("pi-01/soc/temp", "hot"), AlertState::kFiring);
  ev.tick(at(10min + 49s));
  EXPECT_EQ(ev.state("pi-01", "silent"), AlertState::kOk);
  ev.tick(at(10min + 50s));
  EXPECT_EQ(ev.state("pi-01", "silent"), AlertState::kFiring);
}

TEST(Absence, NeverSeenSeriesDoNotFire) {
  Evaluator ev(rules_from("[[rules]]\nname = \"no_temp\"\nkind = \"absence\"\nmetric = \"thermal/*\"\nfor = \"10s\"\n"));
  ev.observe("pi-01", "cpu/total", 1, at(0s));
  ev.tick(at(1h));
  EXPECT_TRUE(ev.active_alerts().empty());
}

TEST(NodeDown, NdeathFiresAtOnceAndNbirthResolves) {
  Evaluator ev(rules_from("[[rules]]\nname = \"ndeath\"\nkind = \"node_down\"\nseverity = \"critical\"\n"));
  ev.node_online("pi-01", at(0s));
  ev.node_offline("pi-01", at(10s));
  ev.node_offline("pi-01", at(11s));  // a repeated NDEATH changes nothing
  EXPECT_EQ(ev.state("pi-01", "ndeath"), AlertState::kFiring);
  ev.node_online("pi-01", at(70s));
  EXPECT_EQ(ev.state("pi-01", "ndeath"), AlertState::kOk);
  const auto events = ev.take_events();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_THAT(events[0].reason, HasSubstr("NDEATH"));
  EXPECT_EQ(events[0].type, "NODE_DOWN");
  const auto incidents = ev.take_incident_updates();
  ASSERT_EQ(incidents.size(), 2u);
  EXPECT_EQ(incidents[1].duration(), 60s);
}

TEST(NodeDown, ForDurationIgnoresAShortRestart) {
  Evaluator ev(rules_from("[[rules]]\nname = \"ndeath\"\nkind = \"node_down\"\nfor = \"30s\"\n"));
  ev.node_offline("pi-01", at(0s));
  ev.tick(at(10s));
  ev.node_online("pi-01", at(15s));
  ev.tick(at(60s));
  EXPECT_EQ(transitions(ev.take_events()), (std::vector<std::string>{"ok>pending", "pending>ok"}));
  ev.node_offline("pi-01", at(100s));
  ev.tick(at(130s));
  EXPECT_EQ(ev.state("pi-01", "ndeath"), AlertState::kFiring);
}

TEST(Rules, NodeFilterLimitsARule) {
  Evaluator ev(rules_from("[[rules]]\nname = \"c\"\nmetric = \"cpu/total\"\nthreshold = 1\nnodes = [\"rack1-*\"]\n"));
  ev.observe("rack1-a", "cpu/total", 5, at(0s));
  ev.observe("rack2-a", "cpu/total", 5, at(0s));
  EXPECT_EQ(ev.state("rack1-a/cpu/total", "c"), AlertState::kFiring);
  EXPECT_EQ(ev.state("rack2-a/cpu/total", "c"), AlertState::kOk);
}

TEST(Rules, OutOfOrderSamplesAreIgnored) {
  Evaluator ev(rules_from("[[rules]]\nname = \"c\"\nmetric = \"cpu/total\"\nthreshold = 50\n"));
  ev.observe("n", "cpu/total", 10, at(10s));
  ev.observe("n", "cpu/total", 90, at(5s));
  EXPECT_EQ(ev.state("n/cpu/total", "c"), AlertState::kOk);
  EXPECT_EQ(ev.stats().out_of_order, 1u);
}

// --- Notifications -----------------------------------------------------------------------------

constexpr const char* kCpuRule = R"(
[alerting]
cooldown = "10m"
repeat_interval = "1h"
[[rules]]
name = "high_cpu"
metric = "cpu/total"
threshold = 85
type = "HIGH_CPU"
)";

std::vector<std::string> kinds(const std::vector<Notification>& ns) {
  std::vector<std::string> out;
  for (const Notification& n : ns) out.emplace_back(to_string(n.kind));
  return out;
}

TEST(Notifications, FiringRepeatAndResolved) {
  Evaluator ev(rules_from(kCpuRule));
  ev.observe("n", "cpu/total", 90, at(0s));
  ev.tick(at(1s));
  auto ns = ev.take_notifications();
  ASSERT_EQ(kinds(ns), (std::vector<std::string>{"firing"}));
  EXPECT_EQ(ns[0].group, "rule=high_cpu,node=n");
  ASSERT_EQ(ns[0].alerts.size(), 1u);
  EXPECT_TRUE(ns[0].alerts[0].is_new);
  EXPECT_EQ(ns[0].alerts[0].value, 90);
  ev.tick(at(2s));
  ev.tick(at(30min));
  EXPECT_TRUE(ev.take_notifications().empty());
  ev.tick(at(3601s));
  ns = ev.take_notifications();
  ASSERT_EQ(kinds(ns), (std::vector<std::string>{"repeat"}));
  EXPECT_FALSE(ns[0].alerts[0].is_new);
  ev.observe("n", "cpu/total", 10, at(3700s));
  ev.tick(at(3701s));
  ns = ev.take_notifications();
  ASSERT_EQ(kinds(ns), (std::vector<std::string>{"resolved"}));
  EXPECT_EQ(ns[0].alerts[0].resolved_at, at(3700s));
  ev.tick(at(3702s));
  EXPECT_TRUE(ev.take_notifications().empty());
}

TEST(Notifications, FlappingDoesNotRenotifyWithinTheCooldown) {
  Evaluator ev(rules_from(kCpuRule));
  std::vector<Notification> all;
  std::size_t firing_events = 0;
  // 90 / 10 alternating every 10 s for 9 minutes (inside the 10 min cooldown), ticking every second.
  for (int s = 0; s < 540; ++s) {
    if (s % 10 == 0) ev.observe("n", "cpu/total", (s / 10) % 2 == 0 ? 90 : 10, at(std::chrono::seconds(s)));
    ev.tick(at(std::chrono::seconds(s)));
    for (Notification& n : ev.take_notifications()) all.push_back(std::move(n));
  }
  for (const Event& e : ev.take_events()) firing_events += e.to == AlertState::kFiring ? 1 : 0;
  EXPECT_EQ(firing_events, 27u);  // every flap is recorded...
  EXPECT_EQ(kinds(all), (std::vector<std::string>{"firing", "resolved"}));  // ...but told once
  // After the cooldown, a still-firing alert is announced again.
  ev.observe("n", "cpu/total", 90, at(600s));
  ev.tick(at(600s));
  EXPECT_EQ(kinds(ev.take_notifications()), (std::vector<std::string>{"firing"}));
}

TEST(Notifications, MaintenanceWindowSuppressesNotificationsButRecordsEvents) {
  // Tuesdays 00:00-02:00 UTC, for nodes named rack1-*. T0 is a Tuesday 00:00 UTC.
  std::string cfg = std::string(kCpuRule) + R"(
[[maintenance]]
name = "patching"
days = ["tue"]
start = "00:00"
end = "02:00"
match = { node = "rack1-*" }
)";
  Evaluator ev(rules_from(cfg));
  ev.observe("rack1-a", "cpu/total", 95, at(10min));
  ev.observe("rack2-a", "cpu/total", 95, at(10min));
  ev.tick(at(11min));
  auto ns = ev.take_notifications();
  ASSERT_EQ(ns.size(), 1u);
  EXPECT_EQ(ns[0].alerts.at(0).node, "rack2-a");
  const auto events = ev.take_events();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_TRUE(events[0].suppressed);  // rack1-a: recorded, marked suppressed
  EXPECT_FALSE(events[1].suppressed);
  EXPECT_EQ(ev.take_incident_updates().size(), 2u);
  EXPECT_EQ(ev.active_alerts().size(), 2u);

  // Recovers inside the window: never announced, so no resolved notice either.
  ev.observe("rack1-a", "cpu/total", 10, at(20min));
  ev.tick(at(21min));
  EXPECT_TRUE(ev.take_notifications().empty());
  EXPECT_EQ(transitions(ev.take_events()), (std::vector<std::string>{"firing>ok"}));

  // Still firing when the window closes at 02:00: announced then.
  ev.observe("rack1-a", "cpu/total", 95, at(90min));
  ev.tick(at(119min));
  ns = ev.take_notifications();  // rack2-a's hourly repeat only
  ASSERT_EQ(ns.size(), 1u);
  EXPECT_EQ(ns[0].kind, NotificationKind::kRepeat);
  EXPECT_EQ(ns[0].alerts.at(0).node, "rack2-a");
  ev.tick(at(120min));
  ns = ev.take_notifications();
  ASSERT_EQ(ns.size(), 1u);
  EXPECT_EQ(ns[0].alerts.at(0).node, "rack1-a");
}

TEST(Notifications, MaintenanceWindowWeeklyCalendar) {
  MaintenanceWindow w;
  w.days_mask = 1u << 6;  // Saturday
  w.start_minute = 23 * 60;
  w.end_minute = 2 * 60;  // crosses midnight into Sunday
  const WallTime sat = WallTime(std::chrono::sys_days(std::chrono::year(2024) / 6 / 8));
  const struct {
    WallTime t;
    bool active;
  } rows[] = {{sat + 22h + 59min, false}, {sat + 23h, true}, {sat + 25h, true}, {sat + 26h, false},
              {sat + 7 * 24h + 23h + 30min, true}, {sat + 24h + 23h + 30min, false}};
  for (const auto& r : rows) EXPECT_EQ(w.active_at(r.t), r.active) << to_unix_ms(r.t);
  w.utc_offset_minutes = 120;  // 23:00 at UTC+2 is 21:00 UTC
  EXPECT_TRUE(w.active_at(sat + 21h));
  EXPECT_TRUE(w.active_at(sat + 23h + 30min));  // Sunday 01:30 local
  EXPECT_FALSE(w.active_at(sat + 24h + 30min));  // Sunday 02:30 local
}

TEST(Notifications, SilenceUntilThenAnnounce) {
  Evaluator ev(rules_from(kCpuRule));
  Silence s;
  s.matchers = {{"node", "n"}, {"type", "HIGH_*"}};
  s.until = at(1h);
  const std::uint64_t id = ev.add_silence(s);
  EXPECT_NE(id, 0u);
  ev.observe("n", "cpu/total", 90, at(0s));
  ev.observe("other", "cpu/total", 90, at(0s));
  ev.tick(at(1s));
  auto ns = ev.take_notifications();
  ASSERT_EQ(ns.size(), 1u);
  EXPECT_EQ(ns[0].alerts.at(0).node, "other");
  ev.tick(at(59min));
  EXPECT_TRUE(ev.take_notifications().empty());
  ev.tick(at(1h));
  ns = ev.take_notifications();
  ASSERT_EQ(ns.size(), 1u);
  EXPECT_EQ(ns[0].alerts.at(0).node, "n");
  EXPECT_TRUE(ev.remove_silence(id));
  EXPECT_FALSE(ev.remove_silence(id));
}

TEST(Notifications, GroupingByNodeCollectsTargetsIntoOneNotice) {
  Evaluator ev(rules_from(R"(
[alerting]
group_by = ["node"]
repeat_interval = "30m"
[[rules]]
name = "down"
kind = "failure"
metric = "ping/*/up"
severity = "critical"
[[rules]]
name = "slow"
metric = "ping/*/rtt"
threshold = 100
)"));
  ev.observe("n", "ping/a/up", 0, at(0s));
  ev.observe("n", "ping/b/up", 0, at(0s));
  ev.observe("n", "ping/c/rtt", 500, at(0s));
  ev.observe("m", "ping/a/up", 0, at(0s));
  ev.tick(at(1s));
  auto ns = ev.take_notifications();
  ASSERT_EQ(ns.size(), 2u);
  EXPECT_EQ(ns[0].group, "node=m");
  EXPECT_EQ(ns[1].group, "node=n");
  ASSERT_EQ(ns[1].alerts.size(), 3u);
  EXPECT_EQ(ns[1].severity, Severity::kCritical);
  // A fourth alert joins the group: one firing notice listing all four, only it new.
  ev.observe("n", "ping/d/up", 0, at(60s));
  ev.tick(at(61s));
  ns = ev.take_notifications();
  ASSERT_EQ(ns.size(), 1u);
  ASSERT_EQ(ns[0].alerts.size(), 4u);
  EXPECT_EQ(std::count_if(ns[0].alerts.begin(), ns[0].alerts.end(), [](const Alert& a) { return a.is_new; }), 1);
  // Repeat counts from the group's last notice: node=m repeats at 30m, node=n at 31m.
  ev.tick(at(30min + 1s));
  ns = ev.take_notifications();
  ASSERT_EQ(ns.size(), 1u);
  EXPECT_EQ(ns[0].group, "node=m");
  ev.tick(at(31min + 1s));
  ns = ev.take_notifications();
  ASSERT_EQ(ns.size(), 1u);
  EXPECT_EQ(ns[0].kind, NotificationKind::kRepeat);
  EXPECT_EQ(ns[0].group, "node=n");
}

// --- Connectivity awareness --------------------------------------------------------------------

constexpr const char* kUplinkRules = R"(
[alerting]
uplink_target = "192.168.1.1"
uplink_targets = { "pi-07" = "10.0.0.1" }
[[rules]]
name = "down"
kind = "failure"
metric = "ping/*/up"
failure_threshold = 2
[[rules]]
name = "no_ping"
kind = "absence"
metric = "ping/*/up"
for = "30s"
[[rules]]
name = "ndeath"
kind = "node_down"
)";

TEST(Connectivity, TargetsAreNotBlamedWhileTheUplinkIsDown) {
  Evaluator ev(rules_from(kUplinkRules));
  const auto round = [&](WallTime t, double gw, double target) {
    const Sample batch[] = {{"ping/8.8.8.8/up", target, t}, {"ping/192.168.1.1/up", gw, t}};
    ev.observe_batch("pi-01", batch);
  };
  round(at(0s), 0, 0);
  round(at(10s), 0, 0);
  EXPECT_TRUE(ev.uplink_down("pi-01"));
  EXPECT_EQ(ev.state("pi-01/ping/192.168.1.1/up", "down"), AlertState::kFiring);  // the cause
  EXPECT_EQ(ev.state("pi-01/ping/8.8.8.8/up", "down"), AlertState::kPending);     // not blamed
  EXPECT_EQ(ev.stats().not_raised_uplink_down, 1u);
  ev.tick(at(11s));
  ASSERT_EQ(ev.take_notifications().size(), 1u);
  EXPECT_EQ(ev.active_alerts().size(), 1u);
  // The uplink returns but the target is still down: now it is the target's fault.
  round(at(20s), 1, 0);
  EXPECT_FALSE(ev.uplink_down("pi-01"));
  EXPECT_EQ(ev.state("pi-01/ping/8.8.8.8/up", "down"), AlertState::kFiring);
}

TEST(Connectivity, ABatchIsTheSameAsItsSamplesOneByOneUplinkFirst) {
  // observe_batch() looks the node up once per batch; the outcome must be exactly that of
  // observe() per sample, the uplink's samples first (node-level absence rule included).
  const std::string rules = std::string(kUplinkRules) + R"(
[[rules]]
name = "silent"
kind = "absence"
for = "30s"
)";
  Evaluator batched(rules_from(rules));
  Evaluator single(rules_from(rules));
  const auto round = [&](WallTime t, double gw, double target, double cpu) {
    const Sample batch[] = {{"ping/8.8.8.8/up", target, t}, {"cpu/total", cpu, t}, {"ping/192.168.1.1/up", gw, t}};
    batched.observe_batch("pi-01", batch);
    single.observe("pi-01", "ping/192.168.1.1/up", gw, t);
    single.observe("pi-01", "ping/8.8.8.8/up", target, t);
    single.observe("pi-01", "cpu/total", cpu, t);
  };
  round(at(0s), 1, 1, 10);
  round(at(10s), 0, 0, 20);
  round(at(20s), 0, 0, 30);
  batched.tick(at(70s));
  single.tick(at(70s));
  round(at(80s), 1, 0, 40);
  round(at(90s), 1, 0, 50);
  for (Evaluator* ev : {&batched, &single}) ev->tick(at(91s));
  EXPECT_EQ(transitions(batched.take_events()), transitions(single.take_events()));
  EXPECT_EQ(batched.snapshot_json(), single.snapshot_json());
  EXPECT_EQ(batched.stats().samples, single.stats().samples);
  EXPECT_EQ(batched.stats().not_raised_uplink_down, single.stats().not_raised_uplink_down);
  EXPECT_EQ(batched.active_alerts().size(), single.active_alerts().size());
  EXPECT_FALSE(batched.active_alerts().empty());
}

TEST(Connectivity, PerNodeUplinkOverride) {
  Evaluator ev(rules_from(kUplinkRules));
  for (int i = 0; i < 2; ++i) {
    ev.observe("pi-07", "ping/10.0.0.1/up", 0, at(std::chrono::seconds(i)));
    ev.observe("pi-07", "ping/192.168.1.1/up", 0, at(std::chrono::seconds(i)));
  }
  EXPECT_TRUE(ev.uplink_down("pi-07"));
  EXPECT_EQ(ev.state("pi-07/ping/10.0.0.1/up", "down"), AlertState::kFiring);
  EXPECT_EQ(ev.state("pi-07/ping/192.168.1.1/up", "down"), AlertState::kPending);
}

TEST(Connectivity, AnOfflineNodeRaisesNodeDownNotItsServices) {
  Evaluator ev(rules_from(kUplinkRules));
  ev.node_online("pi-01", at(0s));
  ev.observe("pi-01", "ping/8.8.8.8/up", 1, at(1s));
  ev.node_offline("pi-01", at(5s));
  ev.tick(at(10min));
  const auto alerts = ev.active_alerts();
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].type, "NODE_DOWN");
  // Back online: absence timers restart from the birth instead of firing at once.
  ev.node_online("pi-01", at(11min));
  ev.tick(at(11min + 10s));
  EXPECT_TRUE(ev.active_alerts().empty());
  ev.tick(at(11min + 30s));
  EXPECT_EQ(ev.state("pi-01/ping/8.8.8.8/up", "no_ping"), AlertState::kFiring);
}

TEST(Globs, SegmentedAndFree) {
  EXPECT_TRUE(glob_match("ping/*/rtt", "ping/10.0.0.1/rtt", true));
  EXPECT_FALSE(glob_match("ping/*/rtt", "ping/a/b/rtt", true));
  EXPECT_TRUE(glob_match("ping/*", "ping/a", true));
  EXPECT_FALSE(glob_match("ping/*", "ping/a/rtt", true));
  EXPECT_TRUE(glob_match("*", "anything/at/all", false));
  EXPECT_TRUE(glob_match("rack1-*", "rack1-pi-3", false));
  EXPECT_FALSE(glob_match("rack1-*", "rack2-pi-3", false));
  EXPECT_EQ(target_of("ping/10.0.0.1/rtt"), "10.0.0.1");
  EXPECT_EQ(target_of("cpu/total"), "");
}

}  // namespace
}  // namespace edgemon::rules
