#include "edgemon/gateway/core/fleet_state.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace edgemon::gateway {
namespace {

using nlohmann::json;

Topic topic(MessageKind kind, std::string node = "pi-1", std::string group = "plant") {
  return Topic{std::move(group), kind, std::move(node)};
}

Metric mk(std::string name, std::string unit, std::optional<double> value, std::int64_t ts) {
  Metric m;
  m.name = std::move(name);
  m.unit = std::move(unit);
  m.value = value;
  m.ts_ms = ts;
  return m;
}

TelemetryMessage msg(MessageKind kind, std::uint64_t seq, std::uint64_t bd_seq, std::vector<Metric> metrics = {}) {
  TelemetryMessage m;
  m.kind = kind;
  m.timestamp_ms = 1000;
  m.seq = seq;
  m.bd_seq = bd_seq;
  m.metrics = std::move(metrics);
  return m;
}

TelemetryMessage birth(std::uint64_t bd_seq, std::vector<Metric> metrics = {}) {
  return msg(MessageKind::kBirth, 0, bd_seq, std::move(metrics));
}
TelemetryMessage data(std::uint64_t seq, std::vector<Metric> metrics = {}) {
  return msg(MessageKind::kData, seq, 0, std::move(metrics));
}
TelemetryMessage death(std::uint64_t bd_seq) { return msg(MessageKind::kDeath, 0, bd_seq); }

std::vector<std::string> metric_names(const NodeState& n) {
  std::vector<std::string> out;
  for (const Metric& m : n.metrics) out.push_back(m.name);
  return out;
}

TEST(FleetState, BirthBringsNodeOnlineWithItsMetricsInOrder) {
  FleetState fleet;
  const ApplyResult r =
      fleet.apply(topic(MessageKind::kBirth), birth(3, {mk("cpu/total", "%", 1.0, 10), mk("mem/used", "B", 2.0, 10)}), 5000);
  ASSERT_NE(r.node, nullptr);
  const NodeState& n = *r.node;
  EXPECT_EQ(n.group, "plant");
  EXPECT_EQ(n.id, "pi-1");
  EXPECT_TRUE(n.online);
  EXPECT_TRUE(n.birth_seen);
  EXPECT_EQ(n.bd_seq, 3u);
  EXPECT_EQ(n.last_seen_ms, 5000);
  EXPECT_EQ(metric_names(n), (std::vector<std::string>{"cpu/total", "mem/used"}));
  EXPECT_EQ(fleet.size(), 1u);
  EXPECT_EQ(fleet.find("plant", "pi-1"), &n);
  EXPECT_EQ(fleet.find("plant", "pi-2"), nullptr);
  EXPECT_EQ(r.accepted.size(), 2u);
}

TEST(FleetState, NodeKeyAndWhetherItWasOnlineBeforeTheMessage) {
  FleetState fleet;
  const ApplyResult first = fleet.apply(topic(MessageKind::kBirth), birth(1, {mk("a", "", 1.0, 1)}), 1);
  EXPECT_EQ(first.node->key, "plant/pi-1");
  EXPECT_FALSE(first.was_online);
  const ApplyResult second = fleet.apply(topic(MessageKind::kData), data(1, {mk("a", "", 2.0, 2)}), 2);
  EXPECT_TRUE(second.was_online);
  const ApplyResult gone = fleet.apply(topic(MessageKind::kDeath), death(1), 3);
  EXPECT_TRUE(gone.was_online);
  EXPECT_FALSE(gone.node->online);
  const ApplyResult back = fleet.apply(topic(MessageKind::kBirth), birth(2), 4);
  EXPECT_FALSE(back.was_online);
  EXPECT_EQ(fleet.apply(topic(MessageKind::kBirth, "pi-2", "lab"), birth(1), 5).node->key, "lab/pi-2");
}

TEST(FleetState, DataUpdatesValuesInPlaceAndAppendsNewMetrics) {
  FleetState fleet;
  (void)fleet.apply(topic(MessageKind::kBirth), birth(0, {mk("a", "%", 1.0, 10), mk("b", "ms", 2.0, 10), mk("c", "", 3.0, 10)}), 1);
  const ApplyResult r = fleet.apply(topic(MessageKind::kData),
                                    data(1, {mk("c", "", 30.0, 20), mk("d", "V", 4.0, 20), mk("a", "%", std::nullopt, 20)}), 2);
  const NodeState& n = *r.node;
  EXPECT_FALSE(r.gap);
  EXPECT_FALSE(r.needs_rebirth);
  EXPECT_EQ(metric_names(n), (std::vector<std::string>{"a", "b", "c", "d"}));
  EXPECT_FALSE(n.metrics[0].value.has_value());
  EXPECT_EQ(n.metrics[0].ts_ms, 20);
  EXPECT_EQ(n.metrics[1].value, 2.0) << "untouched metric keeps its last value";
  EXPECT_EQ(n.metrics[1].ts_ms, 10);
  EXPECT_EQ(n.metrics[2].value, 30.0);
  EXPECT_EQ(n.metrics[3].value, 4.0);
  EXPECT_EQ(n.last_seen_ms, 2);
}

TEST(FleetState, DataBeforeBirthIsOnlineButAsksForABirth) {
  FleetState fleet;
  const ApplyResult r = fleet.apply(topic(MessageKind::kData), data(5, {mk("a", "", 1.0, 1)}), 7);
  EXPECT_TRUE(r.node->online);
  EXPECT_FALSE(r.node->birth_seen);
  EXPECT_TRUE(r.needs_rebirth);
}

TEST(FleetState, DeathWithMatchingBdSeqTakesNodeOfflineAndKeepsLastValues) {
  FleetState fleet;
  (void)fleet.apply(topic(MessageKind::kBirth), birth(4, {mk("a", "", 1.0, 1)}), 1);
  const ApplyResult r = fleet.apply(topic(MessageKind::kDeath), death(4), 9);
  const NodeState& n = *r.node;
  EXPECT_FALSE(n.online);
  EXPECT_EQ(n.last_seen_ms, 9);
  ASSERT_EQ(n.metrics.size(), 1u);
  EXPECT_EQ(n.metrics[0].value, 1.0);
}

TEST(FleetState, DeathMarksEveryMetricStaleUntilItIsSetAgain) {
  FleetState fleet;
  (void)fleet.apply(topic(MessageKind::kBirth), birth(4, {mk("a", "", 1.0, 1), mk("b", "", 2.0, 1)}), 1);
  const NodeState& n = *fleet.apply(topic(MessageKind::kDeath), death(4), 9).node;
  EXPECT_EQ(n.stale, (std::vector<bool>{true, true}));
  EXPECT_TRUE(fleet.node_json(n)["metrics"][1]["stale"].get<bool>());
  // The next session's birth sets the metric set afresh: nothing stale is left.
  (void)fleet.apply(topic(MessageKind::kBirth), birth(5, {mk("a", "", 3.0, 20), mk("b", "", 4.0, 20)}), 20);
  EXPECT_EQ(n.stale, (std::vector<bool>{false, false}));
  EXPECT_FALSE(fleet.node_json(n)["metrics"][1]["stale"].get<bool>());
}

TEST(FleetState, StaleDeathFromAnEarlierSessionIsIgnored) {
  FleetState fleet;
  (void)fleet.apply(topic(MessageKind::kBirth), birth(5), 1);
  const ApplyResult r = fleet.apply(topic(MessageKind::kDeath), death(4), 2);
  EXPECT_TRUE(r.node->online);
  EXPECT_EQ(r.node->bd_seq, 5u);
}

TEST(FleetState, DeathWithoutBirthTakesNodeOffline) {
  FleetState fleet;
  (void)fleet.apply(topic(MessageKind::kData), data(0), 1);
  EXPECT_FALSE(fleet.apply(topic(MessageKind::kDeath), death(17), 2).node->online);
}

TEST(FleetState, RebirthAfterDeathComesBackOnlineAndIgnoresTheOldWill) {
  FleetState fleet;
  (void)fleet.apply(topic(MessageKind::kBirth), birth(1), 1);
  (void)fleet.apply(topic(MessageKind::kDeath), death(1), 2);
  const ApplyResult r = fleet.apply(topic(MessageKind::kBirth), birth(2), 3);
  EXPECT_TRUE(r.node->online);
  EXPECT_EQ(r.node->bd_seq, 2u);
  (void)fleet.apply(topic(MessageKind::kDeath), death(1), 4);  // late will of session 1
  EXPECT_TRUE(fleet.find("plant", "pi-1")->online);
}

TEST(FleetState, CommandChangesNothingButLastSeen) {
  FleetState fleet;
  (void)fleet.apply(topic(MessageKind::kBirth), birth(1, {mk("a", "", 1.0, 1)}), 1);
  const ApplyResult r = fleet.apply(topic(MessageKind::kCommand), msg(MessageKind::kCommand, 0, 0, {mk("a", "", 99.0, 2)}), 2);
  EXPECT_TRUE(r.node->online);
  EXPECT_EQ(r.node->metrics[0].value, 1.0);
  EXPECT_EQ(r.node->last_seen_ms, 2);
}

TEST(FleetState, RedeliveredDataIsIgnoredAndCounted) {
  FleetState fleet;
  (void)fleet.apply(topic(MessageKind::kBirth), birth(1, {mk("a", "", 1.0, 1)}), 1);
  (void)fleet.apply(topic(MessageKind::kData), data(1, {mk("a", "", 2.0, 2)}), 2);
  const ApplyResult r = fleet.apply(topic(MessageKind::kData), data(1, {mk("a", "", 3.0, 3)}), 3);
  EXPECT_TRUE(r.duplicate);
  EXPECT_EQ(r.node->duplicates, 1u);
  EXPECT_EQ(r.node->metrics[0].value, 2.0);
  EXPECT_TRUE(r.accepted.empty());
}

TEST(FleetState, SeqJumpIsAGapThatAsksForRebirthButStillApplies) {
  FleetState fleet;
  (void)fleet.apply(topic(MessageKind::kBirth), birth(1, {mk("a", "", 1.0, 1)}), 1);
  const ApplyResult r = fleet.apply(topic(MessageKind::kData), data(3, {mk("a", "", 5.0, 2)}), 2);
  EXPECT_TRUE(r.gap);
  EXPECT_TRUE(r.needs_rebirth);
  EXPECT_EQ(r.node->gaps, 1u);
  EXPECT_EQ(r.node->metrics[0].value, 5.0);
}

TEST(FleetState, SeqWrapsFrom255ToZeroWithoutAGap) {
  FleetState fleet;
  TelemetryMessage b = birth(1);
  b.seq = 254;
  (void)fleet.apply(topic(MessageKind::kBirth), b, 1);
  EXPECT_FALSE(fleet.apply(topic(MessageKind::kData), data(255), 2).gap);
  EXPECT_FALSE(fleet.apply(topic(MessageKind::kData), data(0), 3).gap);
  EXPECT_FALSE(fleet.apply(topic(MessageKind::kData), data(1), 4).gap);
}

TEST(FleetState, AliasesFromBirthResolveNamesInData) {
  FleetState fleet;
  Metric cpu = mk("cpu/total", "%", 1.0, 1);
  cpu.alias = 7;
  (void)fleet.apply(topic(MessageKind::kBirth), birth(1, {cpu}), 1);
  Metric by_alias;
  by_alias.alias = 7;
  by_alias.value = 42.0;
  by_alias.ts_ms = 2;
  Metric unknown;
  unknown.alias = 8;
  unknown.value = 1.0;
  const ApplyResult r = fleet.apply(topic(MessageKind::kData), data(1, {by_alias, unknown}), 2);
  EXPECT_EQ(r.node->metrics.size(), 1u);
  EXPECT_EQ(r.node->metrics[0].value, 42.0);
  EXPECT_EQ(r.node->metrics[0].unit, "%");
  ASSERT_EQ(r.accepted.size(), 1u);
  EXPECT_EQ(r.accepted[0].name, "cpu/total") << "history gets the resolved name";
  EXPECT_EQ(r.unknown_aliases, 1u);
  EXPECT_TRUE(r.needs_rebirth);
}

TEST(FleetState, HistoricalSampleDoesNotOverwriteANewerLiveValue) {
  FleetState fleet;
  (void)fleet.apply(topic(MessageKind::kBirth), birth(1, {mk("a", "", 10.0, 100)}), 1);
  Metric old = mk("a", "", 1.0, 50);
  old.historical = true;
  const ApplyResult r = fleet.apply(topic(MessageKind::kData), data(1, {old}), 2);
  EXPECT_EQ(r.node->metrics[0].value, 10.0);
  ASSERT_EQ(r.accepted.size(), 1u) << "but it still goes to history";
  EXPECT_EQ(r.accepted[0].value, 1.0);
}

TEST(FleetState, HistoricalSampleDoesNotOverwriteALiveValueOfTheSameMillisecond) {
  FleetState fleet;
  (void)fleet.apply(topic(MessageKind::kBirth), birth(1, {mk("a", "", 236.0, 100)}), 1);
  Metric replayed = mk("a", "", 235.0, 100);
  replayed.historical = true;
  const ApplyResult r = fleet.apply(topic(MessageKind::kData), data(1, {replayed}), 2);
  EXPECT_EQ(r.node->metrics[0].value, 236.0);
  Metric newer = mk("a", "", 237.0, 101);
  newer.historical = true;
  EXPECT_EQ(fleet.apply(topic(MessageKind::kData), data(2, {newer}), 3).node->metrics[0].value, 237.0)
      << "a strictly newer replayed sample is still the newest value";
}

TEST(FleetState, ANewBirthDeclaresTheWholeMetricSet) {
  FleetState fleet;
  (void)fleet.apply(topic(MessageKind::kBirth), birth(1, {mk("ping/a/up", "", 1.0, 1), mk("ping/b/up", "", 1.0, 1)}), 1);
  const ApplyResult r = fleet.apply(topic(MessageKind::kBirth), birth(2, {mk("ping/b/up", "", 0.0, 2)}), 2);
  ASSERT_EQ(r.node->metrics.size(), 1u) << "a target left out of the new birth is gone";
  EXPECT_EQ(r.node->metrics[0].name, "ping/b/up");
  EXPECT_EQ(r.node->metrics[0].value, 0.0);
  EXPECT_EQ(r.node->stale.size(), 1u);
  EXPECT_EQ(r.node->index.count("ping/a/up"), 0u);
}

TEST(FleetState, SameNodeIdInTwoGroupsIsTwoNodes) {
  FleetState fleet;
  (void)fleet.apply(topic(MessageKind::kBirth, "pi", "a"), birth(1), 1);
  (void)fleet.apply(topic(MessageKind::kBirth, "pi", "b"), birth(1), 1);
  (void)fleet.apply(topic(MessageKind::kDeath, "pi", "b"), death(1), 2);
  EXPECT_EQ(fleet.size(), 2u);
  EXPECT_TRUE(fleet.find("a", "pi")->online);
  EXPECT_FALSE(fleet.find("b", "pi")->online);
}

TEST(FleetState, NodeJsonHasTheDocumentedShape) {
  FleetState fleet;
  const ApplyResult r = fleet.apply(topic(MessageKind::kBirth),
                                    birth(0, {mk("cpu/total", "%", 12.5, 111), mk("ping/h/rtt", "ms", std::nullopt, 112)}),
                                    1700000000000);
  const json expected = json::parse(R"({
    "group": "plant", "id": "pi-1", "online": true, "last_seen": 1700000000000,
    "metrics": [
      {"name": "cpu/total", "unit": "%", "value": 12.5, "ts": 111, "stale": false},
      {"name": "ping/h/rtt", "unit": "ms", "value": null, "ts": 112, "stale": false}
    ]})");
  EXPECT_EQ(fleet.node_json(*r.node), expected) << fleet.node_json(*r.node).dump();
}

TEST(FleetState, NodesJsonIsSortedByGroupThenId) {
  FleetState fleet;
  (void)fleet.apply(topic(MessageKind::kData, "z", "b"), data(0), 1);
  (void)fleet.apply(topic(MessageKind::kData, "y", "a"), data(0), 1);
  (void)fleet.apply(topic(MessageKind::kData, "x", "b"), data(0), 1);
  const json all = fleet.nodes_json();
  ASSERT_TRUE(all.is_array());
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0]["group"], "a");
  EXPECT_EQ(all[1]["id"], "x");
  EXPECT_EQ(all[2]["id"], "z");
  EXPECT_EQ(FleetState().nodes_json(), json::array());
}

TEST(FleetState, HostileNamesSurviveAsDataNotMarkup) {
  const std::string hostile[] = {
      R"(</script><script>alert(1)</script>)",
      R"x(<img src=x onerror="alert(1)">)x",
      R"(a"b\c)",
      R"(", "online": false, "x": ")",
      "${jndi:ldap://x}",
  };
  std::vector<Metric> metrics;
  for (const std::string& h : hostile) metrics.push_back(mk(h, h.substr(0, 16), 1.0, 1));
  FleetState fleet;
  const ApplyResult r = fleet.apply(topic(MessageKind::kBirth), birth(0, metrics), 1);
  const std::string wire = fleet.node_json(*r.node).dump();
  const json back = json::parse(wire);
  EXPECT_EQ(back["online"], true) << "an injected field must not override the real one";
  ASSERT_EQ(back["metrics"].size(), std::size(hostile));
  for (std::size_t i = 0; i < std::size(hostile); ++i) {
    EXPECT_EQ(back["metrics"][i]["name"], hostile[i]);
    EXPECT_EQ(back["metrics"][i]["unit"], hostile[i].substr(0, 16));
  }
}

}  // namespace
}  // namespace edgemon::gateway
