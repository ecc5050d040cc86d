#include "edgemon/gateway/core/fleet_state.h"

#include <gtest/gtest.h>

#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "edgemon/gateway/api/node_json.h"
#include "edgemon/gateway/core/aggregator.h"

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
  for (const MetricSlot& m : n.metrics) out.push_back(m.key.name());
  return out;
}

std::vector<bool> stale_flags(const NodeState& n) {
  std::vector<bool> out;
  for (const MetricSlot& m : n.metrics) out.push_back(m.stale);
  return out;
}

// The name of an accepted sample's slot.
std::string accepted_name(const ApplyResult& r, std::size_t i) {
  const std::uint32_t slot = r.accepted.at(i).slot;
  EXPECT_LT(slot, r.node->metrics.size());
  return slot < r.node->metrics.size() ? r.node->metrics[slot].key.name() : std::string("<bad slot>");
}

// The node document the API writes (without an aggregator summary), parsed.
json doc(const NodeState& n) {
  const std::string text = node_json(n, nullptr);
  json j = json::parse(text, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << text;
  return j;
}

Metric aliased(Metric m, std::uint64_t alias) {
  m.alias = alias;
  return m;
}

// A data sample that names its metric only by alias.
Metric by_alias(std::uint64_t alias, double value, std::int64_t ts) {
  Metric m;
  m.alias = alias;
  m.value = value;
  m.ts_ms = ts;
  return m;
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
  ASSERT_EQ(r.accepted.size(), 2u);
  EXPECT_EQ(accepted_name(r, 0), "cpu/total");
  EXPECT_EQ(accepted_name(r, 1), "mem/used");
  EXPECT_EQ(r.accepted[1].value, 2.0);
  EXPECT_EQ(r.accepted[1].ts_ms, 10);
  EXPECT_FALSE(r.accepted[1].historical);
  EXPECT_TRUE(r.live);
  EXPECT_FALSE(r.went_offline);
  EXPECT_EQ(r.refused_metrics, 0u);
  EXPECT_EQ(fleet.metric_count(), 2u);
  // Each name is parsed once into its key.
  EXPECT_EQ(n.metrics[0].key.family(), Family::kBoard);
  EXPECT_EQ(n.metrics[0].unit, "%");
  EXPECT_EQ(n.find("mem/used"), &n.metrics[1]);
  EXPECT_EQ(n.find("mem/free"), nullptr);
  EXPECT_EQ(fleet.find("plant/pi-1"), &n);
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
  EXPECT_TRUE(gone.went_offline);
  EXPECT_FALSE(gone.node->online);
  EXPECT_FALSE(fleet.apply(topic(MessageKind::kDeath), death(1), 4).went_offline) << "it was offline already";
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
  EXPECT_EQ(metric_names(*r.node), std::vector<std::string>{"a"}) << "the data is still taken";
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
  EXPECT_EQ(stale_flags(n), (std::vector<bool>{true, true}));
  EXPECT_TRUE(doc(n)["metrics"][1]["stale"].get<bool>());
  EXPECT_FALSE(doc(n)["online"].get<bool>());
  // The next session's birth sets the metric set afresh: nothing stale is left.
  (void)fleet.apply(topic(MessageKind::kBirth), birth(5, {mk("a", "", 3.0, 20), mk("b", "", 4.0, 20)}), 20);
  EXPECT_EQ(stale_flags(n), (std::vector<bool>{false, false}));
  EXPECT_FALSE(doc(n)["metrics"][1]["stale"].get<bool>());
}

TEST(FleetState, StaleDeathFromAnEarlierSessionIsIgnored) {
  FleetState fleet;
  (void)fleet.apply(topic(MessageKind::kBirth), birth(5, {mk("a", "", 1.0, 1)}), 1);
  const ApplyResult r = fleet.apply(topic(MessageKind::kDeath), death(4), 2);
  EXPECT_TRUE(r.node->online);
  EXPECT_FALSE(r.went_offline);
  EXPECT_EQ(r.node->bd_seq, 5u);
  EXPECT_EQ(stale_flags(*r.node), std::vector<bool>{false});
}

TEST(FleetState, DataAfterADeathBringsTheNodeBackAndAsksForABirth) {
  FleetState fleet;
  (void)fleet.apply(topic(MessageKind::kBirth), birth(1, {mk("a", "", 1.0, 1)}), 1);
  (void)fleet.apply(topic(MessageKind::kDeath), death(1), 2);
  // Data after the death (a node that came back without a birth): online again, stale cleared for
  // what it sends, and a birth is asked for (the death forgot the session).
  const ApplyResult r = fleet.apply(topic(MessageKind::kData), data(7, {mk("a", "", 2.0, 3)}), 3);
  EXPECT_TRUE(r.node->online);
  EXPECT_TRUE(r.needs_rebirth);
  EXPECT_FALSE(r.gap) << "no sequence to compare with after a death";
  EXPECT_EQ(stale_flags(*r.node), std::vector<bool>{false});
  EXPECT_EQ(r.node->metrics[0].value, 2.0);
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
  EXPECT_TRUE(r.accepted.empty());
  EXPECT_FALSE(r.live);
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
  EXPECT_FALSE(r.live);
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
  (void)fleet.apply(topic(MessageKind::kBirth), std::move(b), 1);
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
  EXPECT_EQ(accepted_name(r, 0), "cpu/total") << "history gets the resolved name";
  EXPECT_EQ(r.accepted[0].value, 42.0);
  EXPECT_EQ(r.accepted[0].ts_ms, 2);
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
  EXPECT_EQ(r.accepted[0].ts_ms, 50);
  EXPECT_TRUE(r.accepted[0].historical);
  EXPECT_EQ(accepted_name(r, 0), "a");
  EXPECT_FALSE(r.live) << "only replayed samples";
  EXPECT_EQ(r.node->metrics[0].ts_ms, 100);
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
  EXPECT_EQ(r.node->metrics[0].key.name(), "ping/b/up");
  EXPECT_EQ(r.node->metrics[0].key.family(), Family::kPing);
  EXPECT_EQ(r.node->metrics[0].key.target(), "b");
  EXPECT_EQ(r.node->metrics[0].value, 0.0);
  EXPECT_EQ(r.node->index.size(), 1u);
  EXPECT_EQ(r.node->index.count("ping/a/up"), 0u);
  EXPECT_EQ(r.node->find("ping/a/up"), nullptr);
  EXPECT_EQ(fleet.metric_count(), 1u) << "the dropped slot no longer counts towards the fleet cap";
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
  EXPECT_EQ(doc(*r.node), expected) << node_json(*r.node, nullptr);
}

TEST(FleetState, NodesJsonIsSortedByGroupThenId) {
  FleetState fleet;
  (void)fleet.apply(topic(MessageKind::kData, "z", "b"), data(0), 1);
  (void)fleet.apply(topic(MessageKind::kData, "y", "a"), data(0), 1);
  (void)fleet.apply(topic(MessageKind::kData, "x", "b"), data(0), 1);
  const Aggregator aggregator;
  const json all = json::parse(nodes_json(fleet, aggregator));
  ASSERT_TRUE(all.is_array());
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0]["group"], "a");
  EXPECT_EQ(all[1]["id"], "x");
  EXPECT_EQ(all[2]["id"], "z");
  EXPECT_FALSE(all[0].contains("status")) << "no summary for a node the aggregator does not know";
  EXPECT_EQ(json::parse(nodes_json(FleetState(), aggregator)), json::array());
}

TEST(FleetState, NodesJsonAddsTheAggregatorsSummary) {
  FleetState fleet;
  Aggregator aggregator;
  (void)fleet.apply(topic(MessageKind::kBirth, "a", "g"), birth(0), 1000);
  (void)fleet.apply(topic(MessageKind::kBirth, "b", "g"), birth(0), 1000);
  aggregator.node_online("g/b", 1000);
  const json all = json::parse(nodes_json(fleet, aggregator));
  ASSERT_EQ(all.size(), 2u);
  EXPECT_FALSE(all[0].contains("status"));
  EXPECT_EQ(all[1]["key"], "g/b");
  EXPECT_EQ(all[1]["status"], "HEALTHY");
  EXPECT_EQ(all[1]["targets"], json::array());
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
  const std::string wire = node_json(*r.node, nullptr);
  const json back = json::parse(wire);
  EXPECT_EQ(back["online"], true) << "an injected field must not override the real one";
  ASSERT_EQ(back["metrics"].size(), std::size(hostile));
  for (std::size_t i = 0; i < std::size(hostile); ++i) {
    EXPECT_EQ(back["metrics"][i]["name"], hostile[i]);
    EXPECT_EQ(back["metrics"][i]["unit"], hostile[i].substr(0, 16));
  }
}

TEST(FleetState, NamesOverTheNodeCapAreRefusedAndCounted) {
  FleetState fleet(FleetLimits{3, 1000});
  const ApplyResult r = fleet.apply(
      topic(MessageKind::kBirth),
      birth(1, {aliased(mk("a", "", 1.0, 1), 1), aliased(mk("b", "", 2.0, 1), 2), aliased(mk("c", "", 3.0, 1), 3),
                aliased(mk("d", "", 4.0, 1), 4), aliased(mk("e", "", 5.0, 1), 5)}),
      1);
  EXPECT_EQ(metric_names(*r.node), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(r.refused_metrics, 2u);
  EXPECT_FALSE(r.fleet_cap);
  EXPECT_EQ(r.node->metrics_refused, 2u);
  EXPECT_EQ(r.accepted.size(), 3u);
  EXPECT_FALSE(r.needs_rebirth);
  EXPECT_EQ(fleet.metric_count(), 3u);

  // Data by the alias of a refused name: dropped quietly (counted at birth), no rebirth asked for.
  const ApplyResult quiet = fleet.apply(topic(MessageKind::kData), data(1, {by_alias(4, 40.0, 2), by_alias(1, 10.0, 2)}), 2);
  EXPECT_FALSE(quiet.needs_rebirth);
  EXPECT_EQ(quiet.unknown_aliases, 0u);
  EXPECT_EQ(quiet.refused_metrics, 0u);
  ASSERT_EQ(quiet.accepted.size(), 1u) << "the known alias in the same message is kept";
  EXPECT_EQ(accepted_name(quiet, 0), "a");
  EXPECT_EQ(quiet.node->metrics[0].value, 10.0);
  EXPECT_EQ(quiet.node->metrics.size(), 3u);
  EXPECT_EQ(quiet.node->metrics_refused, 2u);

  // An alias the birth never declared is still a lost birth.
  const ApplyResult lost = fleet.apply(topic(MessageKind::kData), data(2, {by_alias(9, 1.0, 3)}), 3);
  EXPECT_TRUE(lost.needs_rebirth);
  EXPECT_EQ(lost.unknown_aliases, 1u);

  // A name over the cap in data is refused and counted each time; names the node has still update.
  const ApplyResult named = fleet.apply(topic(MessageKind::kData), data(3, {mk("f", "", 6.0, 4), mk("b", "", 20.0, 4)}), 4);
  EXPECT_EQ(named.refused_metrics, 1u);
  EXPECT_FALSE(named.fleet_cap);
  EXPECT_FALSE(named.needs_rebirth);
  EXPECT_EQ(named.node->metrics_refused, 3u);
  ASSERT_EQ(named.accepted.size(), 1u);
  EXPECT_EQ(accepted_name(named, 0), "b");
  EXPECT_EQ(metric_names(*named.node), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(named.node->find("f"), nullptr);
  EXPECT_EQ(fleet.metric_count(), 3u);

  // Another node has its own allowance.
  const ApplyResult other =
      fleet.apply(topic(MessageKind::kBirth, "pi-2"), birth(1, {mk("a", "", 1.0, 1), mk("b", "", 1.0, 1)}), 5);
  EXPECT_EQ(other.refused_metrics, 0u);
  EXPECT_EQ(other.node->metrics.size(), 2u);
  EXPECT_EQ(fleet.metric_count(), 5u);
}

TEST(FleetState, ARebirthForgetsRefusedAliases) {
  FleetState fleet(FleetLimits{1, 1000});
  (void)fleet.apply(topic(MessageKind::kBirth), birth(1, {aliased(mk("a", "", 1.0, 1), 1), aliased(mk("b", "", 2.0, 1), 2)}), 1);
  // The next session declares only "b" (under alias 2): it fits now, and alias 2 resolves to it.
  const ApplyResult again = fleet.apply(topic(MessageKind::kBirth), birth(2, {aliased(mk("b", "", 3.0, 2), 2)}), 2);
  EXPECT_EQ(again.refused_metrics, 0u);
  EXPECT_EQ(metric_names(*again.node), std::vector<std::string>{"b"});
  const ApplyResult r = fleet.apply(topic(MessageKind::kData), data(1, {by_alias(2, 30.0, 3)}), 3);
  ASSERT_EQ(r.accepted.size(), 1u);
  EXPECT_EQ(accepted_name(r, 0), "b");
  EXPECT_EQ(r.node->metrics[0].value, 30.0);
  EXPECT_EQ(r.node->metrics_refused, 1u) << "counted since the node appeared";
}

TEST(FleetState, TheFleetWideCapRefusesNamesOnAnyNodeAndSaysSo) {
  FleetState fleet(FleetLimits{100, 4});
  const ApplyResult a =
      fleet.apply(topic(MessageKind::kBirth, "a"), birth(1, {mk("x", "", 1.0, 1), mk("y", "", 1.0, 1), mk("z", "", 1.0, 1)}), 1);
  EXPECT_EQ(a.refused_metrics, 0u);
  EXPECT_FALSE(a.fleet_cap);
  const ApplyResult b = fleet.apply(topic(MessageKind::kBirth, "b"),
                                    birth(1, {aliased(mk("x", "", 1.0, 1), 1), aliased(mk("y", "", 1.0, 1), 2),
                                              aliased(mk("z", "", 1.0, 1), 3)}),
                                    2);
  EXPECT_EQ(metric_names(*b.node), std::vector<std::string>{"x"});
  EXPECT_EQ(b.refused_metrics, 2u);
  EXPECT_TRUE(b.fleet_cap);
  EXPECT_EQ(b.node->metrics_refused, 2u);
  EXPECT_EQ(fleet.metric_count(), 4u);
  EXPECT_EQ(fleet.limits().max_metrics_total, 4u);

  // The refused aliases are remembered here too.
  const ApplyResult quiet = fleet.apply(topic(MessageKind::kData, "b"), data(1, {by_alias(2, 5.0, 3)}), 3);
  EXPECT_FALSE(quiet.needs_rebirth);
  EXPECT_TRUE(quiet.accepted.empty());
  EXPECT_FALSE(quiet.fleet_cap) << "nothing was refused by this message";

  // A new name on the first node is refused by the fleet cap as well.
  const ApplyResult more = fleet.apply(topic(MessageKind::kData, "a"), data(1, {mk("w", "", 1.0, 4)}), 4);
  EXPECT_EQ(more.refused_metrics, 1u);
  EXPECT_TRUE(more.fleet_cap);
  EXPECT_EQ(more.node->metrics.size(), 3u);

  // A rebirth that declares fewer names frees room for others.
  (void)fleet.apply(topic(MessageKind::kBirth, "a"), birth(2, {mk("x", "", 1.0, 5)}), 5);
  EXPECT_EQ(fleet.metric_count(), 2u);
  const ApplyResult room = fleet.apply(topic(MessageKind::kData, "b"), data(2, {mk("y", "", 7.0, 6)}), 6);
  EXPECT_EQ(room.refused_metrics, 0u);
  EXPECT_FALSE(room.fleet_cap);
  EXPECT_EQ(metric_names(*room.node), (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(fleet.metric_count(), 3u);
}

}  // namespace
}  // namespace edgemon::gateway
