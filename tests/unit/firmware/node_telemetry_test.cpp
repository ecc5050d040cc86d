// NodeTelemetry: Sparkplug alias assignment and report by exception. Time is passed in as
// MonoTime values built from MonoTime{} + offsets: no clock, no sleeping.
#include "edgemon/firmware/node_telemetry.h"

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace edgemon::firmware {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

const MonoTime t0 = MonoTime{} + seconds(1000);

Metric num(const std::string& name, std::optional<double> value) { return make_metric(name, "", value, 1000); }
Metric text(const std::string& name, const std::string& t) {
  Metric m = make_metric(name, "", std::nullopt, 1000, MetricType::kString);
  m.text = t;
  return m;
}

std::vector<std::string> names(const TelemetryMessage& msg) {
  std::vector<std::string> out;
  for (const Metric& m : msg.metrics) out.push_back(m.name);
  return out;
}

ReportPolicy policy(double default_band = 0.0, std::map<std::string, double> bands = {},
                    milliseconds keyframe = milliseconds(60'000)) {
  ReportPolicy p;
  p.default_deadband = default_band;
  p.deadbands = std::move(bands);
  p.keyframe_every = keyframe;
  return p;
}

TEST(NodeTelemetryBirth, AssignsAliasesOneToNInOrder) {
  NodeTelemetry nt(policy());
  const TelemetryMessage birth =
      nt.make_birth({num("cpu/total", 1), num("mem/used", 2), text("os", "linux")}, 5000, 7, t0);
  EXPECT_EQ(birth.kind, MessageKind::kBirth);
  EXPECT_EQ(birth.timestamp_ms, 5000);
  EXPECT_EQ(birth.bd_seq, 7u);
  ASSERT_EQ(birth.metrics.size(), 3u);
  EXPECT_EQ(birth.metrics[0].alias, std::optional<std::uint64_t>(1));
  EXPECT_EQ(birth.metrics[1].alias, std::optional<std::uint64_t>(2));
  EXPECT_EQ(birth.metrics[2].alias, std::optional<std::uint64_t>(3));
  EXPECT_EQ(nt.born_metrics(), 3u);
  EXPECT_EQ(nt.alias_of("mem/used"), std::optional<std::uint64_t>(2));
  EXPECT_EQ(nt.alias_of("never/seen"), std::nullopt);
}

TEST(NodeTelemetryBirth, AliasesAreStableAcrossBirthsAndNewNamesGetTheNext) {
  NodeTelemetry nt(policy());
  (void)nt.make_birth({num("a", 1), num("b", 2), num("c", 3)}, 0, 0, t0);
  // Rebirth in a different order, without "b", with a new name.
  const TelemetryMessage second = nt.make_birth({num("c", 3), num("new", 4), num("a", 1)}, 0, 1, t0);
  ASSERT_EQ(second.metrics.size(), 3u);
  EXPECT_EQ(second.metrics[0].alias, std::optional<std::uint64_t>(3)) << "c keeps its alias";
  EXPECT_EQ(second.metrics[1].alias, std::optional<std::uint64_t>(4)) << "a new name gets the next alias";
  EXPECT_EQ(second.metrics[2].alias, std::optional<std::uint64_t>(1)) << "a keeps its alias";
  EXPECT_EQ(nt.alias_of("b"), std::nullopt) << "b is not in the last birth";
  EXPECT_EQ(nt.born_metrics(), 3u);
  // b comes back: its old alias, not a new one (aliases are never reused for other names).
  const TelemetryMessage third = nt.make_birth({num("b", 2)}, 0, 2, t0);
  EXPECT_EQ(third.metrics[0].alias, std::optional<std::uint64_t>(2));
}

TEST(NodeTelemetryData, NothingChangedAfterBirthSendsNoMetrics) {
  NodeTelemetry nt(policy());
  (void)nt.make_birth({num("a", 1), text("s", "x"), num("n", std::nullopt)}, 0, 0, t0);
  const auto data = nt.make_data({num("a", 1), text("s", "x"), num("n", std::nullopt)}, 2000, t0 + seconds(1));
  EXPECT_EQ(data.message.kind, MessageKind::kData);
  EXPECT_EQ(data.message.timestamp_ms, 2000);
  EXPECT_TRUE(data.message.metrics.empty());
  EXPECT_FALSE(data.needs_rebirth);
}

// One metric "x" born at 10.0, then a sequence of samples; each row says whether that sample
// goes into NDATA. The deadband compares with the value last *sent*, not the last sample.
TEST(NodeTelemetryData, DeadbandTable) {
  struct Step {
    std::optional<double> value;
    bool sent;
  };
  struct Case {
    const char* label;
    double band;
    std::vector<Step> steps;
  };
  const Case cases[] = {
      {"band 0: any change is sent", 0.0, {{10.0, false}, {10.0000001, true}, {10.0000001, false}, {9.0, true}}},
      {"change equal to the band is not sent", 0.5, {{10.5, false}, {9.5, false}}},
      {"change just over the band is sent", 0.5, {{10.5000001, true}}},
      {"downwards over the band is sent", 0.5, {{9.25, true}}},
      {"drift accumulates against the last sent value", 0.5,
       {{10.25, false}, {10.5, false}, {10.75, true}, {11.0, false}, {11.25, false}, {11.3, true}}},
      {"value -> null is sent", 100.0, {{std::nullopt, true}}},
      {"null -> null is not sent", 100.0, {{std::nullopt, true}, {std::nullopt, false}}},
      {"null -> value is sent even within the band", 100.0, {{std::nullopt, true}, {10.0, true}, {10.0, false}}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.label);
    NodeTelemetry nt(policy(c.band));
    (void)nt.make_birth({num("x", 10.0)}, 0, 0, t0);
    MonoTime now = t0;
    for (std::size_t i = 0; i < c.steps.size(); ++i) {
      now += seconds(1);
      const auto data = nt.make_data({num("x", c.steps[i].value)}, 0, now);
      EXPECT_EQ(data.message.metrics.size(), c.steps[i].sent ? 1u : 0u) << "step " << i;
      if (c.steps[i].sent && !data.message.metrics.empty()) {
        EXPECT_EQ(data.message.metrics[0].value, c.steps[i].value) << "step " << i;
      }
    }
  }
}

TEST(NodeTelemetryData, LongestPrefixDeadbandWins) {
  // cpu/* : 5, cpu/temp* : 0.5, default 2; "cpu/temp/core0" matches both prefixes.
  NodeTelemetry nt(policy(2.0, {{"cpu", 5.0}, {"cpu/temp", 0.5}, {"zzz", 0.0}}));
  (void)nt.make_birth({num("cpu/temp/core0", 50), num("cpu/total", 50), num("mem/used", 50)}, 0, 0, t0);
  // Move each by 1: only the metric under the 0.5 band is over it.
  auto d = nt.make_data({num("cpu/temp/core0", 51), num("cpu/total", 51), num("mem/used", 51)}, 0, t0 + seconds(1));
  EXPECT_EQ(names(d.message), (std::vector<std::string>{"cpu/temp/core0"}));
  // Move by 3 from the born 50: over the default (2), not over cpu's 5.
  d = nt.make_data({num("cpu/temp/core0", 51), num("cpu/total", 53), num("mem/used", 53)}, 0, t0 + seconds(2));
  EXPECT_EQ(names(d.message), (std::vector<std::string>{"mem/used"}));
  // Move by 6: cpu/total now over its band.
  d = nt.make_data({num("cpu/temp/core0", 51), num("cpu/total", 56), num("mem/used", 53)}, 0, t0 + seconds(3));
  EXPECT_EQ(names(d.message), (std::vector<std::string>{"cpu/total"}));
}

TEST(NodeTelemetryData, StringMetricsAreSentWhenTheTextChanges) {
  NodeTelemetry nt(policy(1000.0));  // a numeric deadband does not apply to text
  (void)nt.make_birth({text("state", "up")}, 0, 0, t0);
  auto d = nt.make_data({text("state", "up")}, 0, t0 + seconds(1));
  EXPECT_TRUE(d.message.metrics.empty());
  d = nt.make_data({text("state", "degraded")}, 0, t0 + seconds(2));
  ASSERT_EQ(d.message.metrics.size(), 1u);
  EXPECT_EQ(d.message.metrics[0].text, "degraded");
  d = nt.make_data({text("state", "degraded")}, 0, t0 + seconds(3));
  EXPECT_TRUE(d.message.metrics.empty());
  d = nt.make_data({text("state", "")}, 0, t0 + seconds(4));
  EXPECT_EQ(d.message.metrics.size(), 1u) << "empty text is a change too";
}

TEST(NodeTelemetryData, KeyframeSendsEverythingEveryInterval) {
  NodeTelemetry nt(policy(10.0, {}, milliseconds(60'000)));
  const std::vector<Metric> steady = {num("a", 1), num("b", 2), text("s", "x")};
  (void)nt.make_birth(steady, 0, 0, t0);
  auto d = nt.make_data(steady, 0, t0 + milliseconds(59'999));
  EXPECT_TRUE(d.message.metrics.empty()) << "not yet a keyframe";
  d = nt.make_data(steady, 0, t0 + seconds(60));
  EXPECT_EQ(names(d.message), (std::vector<std::string>{"a", "b", "s"})) << "keyframe: everything";
  d = nt.make_data(steady, 0, t0 + seconds(61));
  EXPECT_TRUE(d.message.metrics.empty()) << "the keyframe restarts the interval";
  d = nt.make_data(steady, 0, t0 + seconds(119));
  EXPECT_TRUE(d.message.metrics.empty());
  d = nt.make_data(steady, 0, t0 + seconds(120));
  EXPECT_EQ(d.message.metrics.size(), 3u) << "second keyframe one interval after the first";
}

TEST(NodeTelemetryData, KeyframeUpdatesTheLastSentValue) {
  NodeTelemetry nt(policy(0.5, {}, milliseconds(10'000)));
  (void)nt.make_birth({num("x", 10.0)}, 0, 0, t0);
  auto d = nt.make_data({num("x", 10.4)}, 0, t0 + seconds(1));
  EXPECT_TRUE(d.message.metrics.empty());
  d = nt.make_data({num("x", 10.4)}, 0, t0 + seconds(10));  // keyframe sends 10.4
  ASSERT_EQ(d.message.metrics.size(), 1u);
  EXPECT_EQ(d.message.metrics[0].value, std::optional<double>(10.4));
  // 10.8 is 0.8 from the born 10.0 but only 0.4 from the 10.4 just sent.
  d = nt.make_data({num("x", 10.8)}, 0, t0 + seconds(11));
  EXPECT_TRUE(d.message.metrics.empty());
}

TEST(NodeTelemetryData, BirthRestartsTheKeyframeInterval) {
  NodeTelemetry nt(policy(0.0, {}, milliseconds(10'000)));
  (void)nt.make_birth({num("x", 1)}, 0, 0, t0);
  (void)nt.make_birth({num("x", 1)}, 0, 1, t0 + seconds(8));
  auto d = nt.make_data({num("x", 1)}, 0, t0 + seconds(12));
  EXPECT_TRUE(d.message.metrics.empty()) << "only 4 s since the last birth";
  d = nt.make_data({num("x", 1)}, 0, t0 + seconds(18));
  EXPECT_EQ(d.message.metrics.size(), 1u);
}

TEST(NodeTelemetryData, MetricUnknownAtBirthAsksForRebirthAndIsSentByName) {
  NodeTelemetry nt(policy(1000.0));
  (void)nt.make_birth({num("a", 1)}, 0, 0, t0);
  auto d = nt.make_data({num("a", 1), num("late/metric", 5)}, 0, t0 + seconds(1));
  EXPECT_TRUE(d.needs_rebirth);
  ASSERT_EQ(d.message.metrics.size(), 1u);
  EXPECT_EQ(d.message.metrics[0].name, "late/metric");
  EXPECT_EQ(d.message.metrics[0].value, std::optional<double>(5));
  nt.assign_aliases(d.message.metrics);
  EXPECT_EQ(d.message.metrics[0].alias, std::nullopt) << "an unborn metric has no alias on the wire";
  // Unchanged but still unborn: asks again, every time, until a birth includes it.
  d = nt.make_data({num("a", 1), num("late/metric", 5)}, 0, t0 + seconds(2));
  EXPECT_TRUE(d.needs_rebirth);
  const TelemetryMessage birth = nt.make_birth({num("a", 1), num("late/metric", 5)}, 0, 1, t0 + seconds(3));
  EXPECT_EQ(birth.metrics[1].alias, std::optional<std::uint64_t>(2));
  d = nt.make_data({num("a", 1), num("late/metric", 5)}, 0, t0 + seconds(4));
  EXPECT_FALSE(d.needs_rebirth);
  EXPECT_TRUE(d.message.metrics.empty());
}

TEST(NodeTelemetryAliases, AssignAliasesSetsOnlyBornNames) {
  NodeTelemetry nt(policy());
  (void)nt.make_birth({num("a", 1), num("b", 2)}, 0, 0, t0);
  std::vector<Metric> ms = {num("b", 0), num("stranger", 0), num("a", 0)};
  ms[1].alias = 42;  // a stale alias the caller left on an unborn metric is cleared
  nt.assign_aliases(ms);
  EXPECT_EQ(ms[0].alias, std::optional<std::uint64_t>(2));
  EXPECT_EQ(ms[1].alias, std::nullopt);
  EXPECT_EQ(ms[2].alias, std::optional<std::uint64_t>(1));
  EXPECT_EQ(ms[1].name, "stranger") << "names are left alone";
}

}  // namespace
}  // namespace edgemon::firmware
