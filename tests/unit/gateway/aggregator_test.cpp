#include "edgemon/gateway/core/aggregator.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "edgemon/gateway/api/json_writer.h"
#include "edgemon/gateway/api/node_json.h"
#include "edgemon/gateway/core/fleet_state.h"

namespace edgemon::gateway {
namespace {

using nlohmann::json;

constexpr std::int64_t kSec = 1000;
constexpr std::int64_t kMin = 60 * kSec;
constexpr std::int64_t kHour = 60 * kMin;
constexpr std::int64_t kDay = 24 * kHour;
constexpr std::int64_t T0 = 1'700'002'800'000;  // the start of an hour (UTC)
static_assert(T0 % kHour == 0);

const std::string kNode = "plant/pi-1";
const std::string kTarget = "plant/pi-1/ping/10.0.0.1";

// One metric of a message, by name (as an agent sends it).
struct Sample {
  std::string name;
  std::optional<double> value;
  std::int64_t ts_ms = 0;
};
using V = std::vector<Sample>;

Sample mk(std::string name, std::optional<double> value, std::int64_t ts) { return Sample{std::move(name), value, ts}; }

V up(double v, std::int64_t ts, const std::string& target = "10.0.0.1") { return {mk("ping/" + target + "/up", v, ts)}; }

// A message as FleetState hands it on: each name parsed once into a MetricKey that outlives the
// Observations pointing at it.
class Observations {
 public:
  explicit Observations(const V& samples) {
    keys_.reserve(samples.size());
    for (const Sample& s : samples) keys_.emplace_back(s.name);
    obs_.reserve(samples.size());
    for (std::size_t i = 0; i < samples.size(); ++i) obs_.push_back(Observation{&keys_[i], samples[i].value, samples[i].ts_ms});
  }
  std::span<const Observation> span() const { return obs_; }

 private:
  std::vector<MetricKey> keys_;
  std::vector<Observation> obs_;
};

void observe(Aggregator& agg, const std::string& node_key, const V& samples, bool live, std::int64_t now_ms) {
  const Observations o(samples);
  agg.observe(node_key, o.span(), live, now_ms);
}

// The node's summary; a failed expectation (and an empty summary) when the aggregator has none.
NodeSummary summary_of(const Aggregator& agg, const std::string& node_key) {
  std::optional<NodeSummary> s = agg.node_summary(node_key);
  EXPECT_TRUE(s.has_value()) << node_key;
  return s ? std::move(*s) : NodeSummary{};
}

// The node document (api/node_json.h) of a node without metrics and its summary, parsed back.
json node_document(const NodeSummary& s) {
  NodeState n;
  n.group = "plant";
  n.id = "pi-1";
  n.key = s.key;
  const std::string text = node_json(n, &s);
  json j = json::parse(text, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << text;
  return j;
}

AggregatorConfig fixed_stale(std::int64_t ms) {
  AggregatorConfig c;
  c.stale_after_ms = ms;
  return c;
}

TEST(Aggregator, TargetUptimeIsExactForAScriptedHour) {
  Aggregator agg(fixed_stale(kHour));
  agg.node_online(kNode, T0);
  for (int i = 0; i < 40; ++i) {
    const std::int64_t t = T0 + 10 * kSec + i * 5 * kSec;
    observe(agg, kNode, up(i < 30 ? 1 : 0, t), true, t);
  }
  agg.tick(T0 + 10 * kMin);
  const UptimeCounts c = agg.uptime_counts(kTarget, UptimeWindow::k1h);
  EXPECT_EQ(c.good, 30u);
  EXPECT_EQ(c.total, 40u);
  EXPECT_EQ(agg.uptime_pct(kTarget, UptimeWindow::k1h), 75.0);
  EXPECT_EQ(agg.uptime_pct(kTarget, UptimeWindow::k24h), 75.0);
  EXPECT_EQ(agg.uptime_pct(kTarget, UptimeWindow::k7d), 75.0);
  EXPECT_EQ(agg.uptime_pct(kTarget, UptimeWindow::k30d), 75.0);
  const NodeSummary s = summary_of(agg, kNode);
  ASSERT_EQ(s.targets.size(), 1u);
  EXPECT_EQ(s.targets[0].uptime.h1, 75.0);
  EXPECT_EQ(s.targets[0].uptime.h24, 75.0);
  EXPECT_EQ(s.targets[0].key, kTarget);
  EXPECT_EQ(s.targets[0].family, Family::kPing);
  EXPECT_EQ(s.targets[0].target, "10.0.0.1");
  EXPECT_EQ(s.key, kNode);
  // Node: online the whole 10 minutes.
  EXPECT_EQ(agg.uptime_pct(kNode, UptimeWindow::k1h), 100.0);
  EXPECT_EQ(agg.uptime_counts(kNode, UptimeWindow::k1h).total, static_cast<std::uint64_t>(10 * kMin));
}

TEST(Aggregator, UptimeIsNullWithoutData) {
  Aggregator agg(fixed_stale(kHour));
  EXPECT_EQ(agg.uptime_pct(kTarget, UptimeWindow::k1h), std::nullopt);
  agg.node_online(kNode, T0);
  observe(agg, kNode, V{mk("cpu/total", 5.0, T0)}, true, T0);
  EXPECT_EQ(agg.uptime_pct(kNode, UptimeWindow::k24h), std::nullopt);  // no time has passed yet
  const NodeSummary s = summary_of(agg, kNode);
  EXPECT_EQ(s.uptime.h1, std::nullopt);
  EXPECT_EQ(s.uptime.h24, std::nullopt);
  EXPECT_EQ(s.uptime.d7, std::nullopt);
  EXPECT_EQ(s.uptime.d30, std::nullopt);
  EXPECT_TRUE(s.targets.empty());
  // The API writes what is missing as null, not 0.
  const json doc = node_document(s);
  EXPECT_EQ(doc["uptime"], json({{"1h", nullptr}, {"24h", nullptr}, {"7d", nullptr}, {"30d", nullptr}})) << doc.dump();
  EXPECT_EQ(doc["targets"], json::array());
}

TEST(Aggregator, WindowsAcrossHourAndDayBoundariesAndRingWrap) {
  AggregatorConfig cfg = fixed_stale(400 * kDay);
  Aggregator agg(cfg);
  const auto rounds = [&agg](std::int64_t start, int n, double v) {
    for (int i = 0; i < n; ++i) {
      const std::int64_t t = start + i * kSec;
      observe(agg, kNode, up(v, t), true, t);
    }
  };
  const auto pct = [&agg](UptimeWindow w) { return agg.uptime_pct(kTarget, w); };

  // Hour boundary: 4 good at :59, 4 bad at :01 of the next hour; the 1 h window holds both.
  rounds(T0 + 59 * kMin, 4, 1);
  rounds(T0 + 61 * kMin, 4, 0);
  EXPECT_EQ(pct(UptimeWindow::k1h), 50.0);
  EXPECT_EQ(pct(UptimeWindow::k24h), 50.0);
  agg.tick(T0 + 120 * kMin);  // :59 of hour 0 leaves the 1 h window
  EXPECT_EQ(pct(UptimeWindow::k1h), 0.0);
  EXPECT_EQ(pct(UptimeWindow::k24h), 50.0);

  // Day boundary: hour 0 leaves the 24 h window after 24 hours.
  rounds(T0 + 24 * kHour + 30 * kMin, 8, 0);  // hour 24
  EXPECT_EQ(agg.uptime_counts(kTarget, UptimeWindow::k24h).total, 12u);  // hour 1 (4) + hour 24 (8)
  EXPECT_EQ(agg.uptime_counts(kTarget, UptimeWindow::k24h).good, 0u);
  EXPECT_EQ(agg.uptime_counts(kTarget, UptimeWindow::k7d).total, 16u);
  EXPECT_EQ(pct(UptimeWindow::k7d), 25.0);

  // A week later: hours 0 and 1 left the 7 d window, hour 24 is still in it.
  rounds(T0 + 169 * kHour + 30 * kMin, 8, 1);  // hour 169
  EXPECT_EQ(agg.uptime_counts(kTarget, UptimeWindow::k7d).total, 16u);
  EXPECT_EQ(pct(UptimeWindow::k7d), 50.0);
  EXPECT_EQ(agg.uptime_counts(kTarget, UptimeWindow::k30d).total, 24u);
  EXPECT_EQ(agg.uptime_counts(kTarget, UptimeWindow::k30d).good, 12u);

  // 30 days later the ring wraps: hours 720 and 721 reuse the slots of hours 0 and 1, which are
  // cleared first.
  rounds(T0 + 721 * kHour + 30 * kMin, 4, 1);  // hour 721
  UptimeCounts c30 = agg.uptime_counts(kTarget, UptimeWindow::k30d);
  EXPECT_EQ(c30.total, 20u);  // hours 24, 169, 721
  EXPECT_EQ(c30.good, 12u);
  EXPECT_EQ(pct(UptimeWindow::k24h), 100.0);
  EXPECT_EQ(pct(UptimeWindow::k1h), 100.0);

  // A day later still: hour 24 leaves the 30 d window too, with no new rounds (query-time cut).
  agg.tick(T0 + 745 * kHour);
  c30 = agg.uptime_counts(kTarget, UptimeWindow::k30d);
  EXPECT_EQ(c30.total, 12u);
  EXPECT_EQ(c30.good, 12u);
  EXPECT_EQ(pct(UptimeWindow::k1h), std::nullopt);

  // Far beyond the ring: everything is gone, nothing stale is summed.
  agg.tick(T0 + 2000 * kHour);
  EXPECT_EQ(pct(UptimeWindow::k30d), std::nullopt);
}

TEST(Aggregator, NodeUptimeCountsOnlineAndObservedMilliseconds) {
  Aggregator agg(fixed_stale(kHour));
  agg.node_online(kNode, T0);
  agg.tick(T0 + 10 * kSec);
  agg.node_offline(kNode, T0 + 30 * kSec);
  agg.tick(T0 + 40 * kSec);
  UptimeCounts c = agg.uptime_counts(kNode, UptimeWindow::k1h);
  EXPECT_EQ(c.good, 30'000u);
  EXPECT_EQ(c.total, 40'000u);
  agg.node_online(kNode, T0 + 50 * kSec);
  agg.tick(T0 + 60 * kSec);
  c = agg.uptime_counts(kNode, UptimeWindow::k1h);
  EXPECT_EQ(c.good, 40'000u);
  EXPECT_EQ(c.total, 60'000u);
  // Across a minute and an hour boundary, ticking irregularly.
  agg.tick(T0 + 59 * kMin + 30 * kSec);
  agg.node_offline(kNode, T0 + 60 * kMin + 30 * kSec);
  agg.tick(T0 + 61 * kMin);
  const UptimeCounts c24 = agg.uptime_counts(kNode, UptimeWindow::k24h);
  EXPECT_EQ(c24.total, static_cast<std::uint64_t>(61 * kMin));
  EXPECT_EQ(c24.good, static_cast<std::uint64_t>(60 * kMin + 10 * kSec));  // offline 30..50 s and after 60:30
  // 1 h window: minutes 2..61 (the first two minutes have left it).
  c = agg.uptime_counts(kNode, UptimeWindow::k1h);
  EXPECT_EQ(c.total, static_cast<std::uint64_t>(59 * kMin));
  EXPECT_EQ(c.good, static_cast<std::uint64_t>(58 * kMin + 30 * kSec));
  EXPECT_EQ(agg.status(kNode).status, NodeStatus::kDown);
  EXPECT_EQ(agg.status(kNode).reason, "offline since 2023-11-15T00:00:30Z");
}

TEST(Aggregator, StaleNodeIsDownWithoutDeathAndComesBack) {
  Aggregator agg;  // automatic: 3 x observed interval, at least 10 s
  agg.node_online(kNode, T0);
  for (int i = 0; i <= 4; ++i) observe(agg, kNode, V{mk("cpu/total", 1.0, T0 + i * 5 * kSec)}, true, T0 + i * 5 * kSec);
  // Last message at +20 s, interval 5 s -> stale after 15 s, at +35 s.
  agg.tick(T0 + 34 * kSec);
  EXPECT_EQ(agg.status(kNode).status, NodeStatus::kHealthy);
  agg.tick(T0 + 36 * kSec);
  EXPECT_EQ(agg.status(kNode).status, NodeStatus::kDown);
  EXPECT_EQ(agg.status(kNode).reason, "no data since 2023-11-14T23:00:20Z");
  const UptimeCounts c = agg.uptime_counts(kNode, UptimeWindow::k1h);
  EXPECT_EQ(c.good, 35'000u);
  EXPECT_EQ(c.total, 36'000u);

  observe(agg, kNode, V{mk("cpu/total", 1.0, T0 + 60 * kSec)}, true, T0 + 60 * kSec);
  EXPECT_EQ(agg.status(kNode).status, NodeStatus::kHealthy);
  const std::vector<StatusChange> changes = agg.take_status_changes();
  ASSERT_EQ(changes.size(), 3u);
  EXPECT_EQ(changes[0].from, NodeStatus::kUnknown);
  EXPECT_EQ(changes[0].to, NodeStatus::kHealthy);
  EXPECT_EQ(changes[0].at_ms, T0);
  EXPECT_EQ(changes[1].from, NodeStatus::kHealthy);
  EXPECT_EQ(changes[1].to, NodeStatus::kDown);
  EXPECT_EQ(changes[1].at_ms, T0 + 35 * kSec);
  EXPECT_EQ(changes[1].reason, "no data since 2023-11-14T23:00:20Z");
  EXPECT_EQ(changes[1].node_key, kNode);
  EXPECT_EQ(changes[2].to, NodeStatus::kHealthy);
  EXPECT_EQ(changes[2].at_ms, T0 + 60 * kSec);
  // The silent 25 s count as offline.
  agg.tick(T0 + 61 * kSec);
  EXPECT_EQ(agg.uptime_counts(kNode, UptimeWindow::k1h).good, 36'000u);
  EXPECT_EQ(agg.uptime_counts(kNode, UptimeWindow::k1h).total, 61'000u);
}

TEST(Aggregator, ADeafGatewaySaysUnknownAndTheDeafTimeCountsForNothing) {
  Aggregator agg;  // stale after 3 x 5 s
  agg.node_online(kNode, T0);
  for (int i = 0; i <= 4; ++i) observe(agg, kNode, V{mk("cpu/total", 1.0, T0 + i * 5 * kSec)}, true, T0 + i * 5 * kSec);
  (void)agg.take_status_changes();
  agg.broker_lost(T0 + 22 * kSec);
  EXPECT_TRUE(agg.deaf());
  EXPECT_EQ(agg.status(kNode).status, NodeStatus::kUnknown);
  EXPECT_EQ(agg.status(kNode).reason, "gateway disconnected from the broker since 2023-11-14T23:00:22Z");
  // Minutes of silence while deaf: not DOWN.
  agg.tick(T0 + 5 * kMin);
  EXPECT_EQ(agg.status(kNode).status, NodeStatus::kUnknown);
  std::vector<StatusChange> changes = agg.take_status_changes();
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].from, NodeStatus::kHealthy);
  EXPECT_EQ(changes[0].to, NodeStatus::kUnknown);

  // Back at +5 min 2 s: healthy again, as when the gateway went deaf (2 s after the last message),
  // and stale 13 s later if nothing comes — not at once.
  agg.broker_back(T0 + 5 * kMin + 2 * kSec);
  EXPECT_FALSE(agg.deaf());
  EXPECT_EQ(agg.status(kNode).status, NodeStatus::kHealthy);
  agg.tick(T0 + 5 * kMin + 14 * kSec);
  EXPECT_EQ(agg.status(kNode).status, NodeStatus::kHealthy);
  agg.tick(T0 + 5 * kMin + 16 * kSec);
  EXPECT_EQ(agg.status(kNode).status, NodeStatus::kDown);
  changes = agg.take_status_changes();
  ASSERT_EQ(changes.size(), 2u);
  EXPECT_EQ(changes[0].to, NodeStatus::kHealthy);
  EXPECT_EQ(changes[1].to, NodeStatus::kDown);
  // Observed: 22 s before, 13 s after (online), 1 s stale; the deaf 4 min 40 s are in neither.
  const UptimeCounts c = agg.uptime_counts(kNode, UptimeWindow::k1h);
  EXPECT_EQ(c.good, 35'000u);
  EXPECT_EQ(c.total, 36'000u);
}

TEST(Aggregator, StaleAfterHasAFloorAndAnAssumedIntervalBeforeTheFirstGap) {
  Aggregator agg;
  agg.node_online(kNode, T0);  // no gap measured yet: assumed 20 s -> 60 s
  agg.tick(T0 + 59 * kSec);
  EXPECT_EQ(agg.status(kNode).status, NodeStatus::kHealthy);
  agg.tick(T0 + 61 * kSec);
  EXPECT_EQ(agg.status(kNode).status, NodeStatus::kDown);

  Aggregator fast;  // 1 s interval: 3 s would be too eager, the floor is 10 s
  for (int i = 0; i < 5; ++i) observe(fast, kNode, V{}, true, T0 + i * kSec);
  fast.tick(T0 + 13 * kSec);
  EXPECT_EQ(fast.status(kNode).status, NodeStatus::kHealthy);
  fast.tick(T0 + 15 * kSec);
  EXPECT_EQ(fast.status(kNode).status, NodeStatus::kDown);
}

TEST(Aggregator, DegradedReasons) {
  Aggregator agg(fixed_stale(kHour));
  agg.node_online(kNode, T0);
  observe(agg, kNode, V{mk("ping/10.0.0.1/up", 1, T0), mk("ping/10.0.0.1/state", 1, T0), mk("ping/gw/up", 1, T0)}, true,
              T0);
  EXPECT_EQ(agg.status(kNode).status, NodeStatus::kHealthy);
  EXPECT_EQ(agg.status(kNode).reason, "");

  observe(agg, kNode, up(0, T0 + 5 * kSec), true, T0 + 5 * kSec);
  EXPECT_EQ(agg.status(kNode).status, NodeStatus::kDegraded);
  EXPECT_EQ(agg.status(kNode).reason, "target 10.0.0.1 down");

  observe(agg, kNode, V{mk("ping/gw/up", 0, T0)}, true, T0 + 10 * kSec);
  EXPECT_EQ(agg.status(kNode).reason, "target 10.0.0.1 down (+1 more)");

  observe(agg, kNode, V{mk("ping/gw/up", 1, T0), mk("ping/10.0.0.1/up", 1, T0), mk("ping/10.0.0.1/state", 2, T0)}, true,
              T0 + 15 * kSec);
  EXPECT_EQ(agg.status(kNode).reason, "target 10.0.0.1 degraded");

  observe(agg, kNode, V{mk("ping/10.0.0.1/state", 3, T0)}, true, T0 + 20 * kSec);
  EXPECT_EQ(agg.status(kNode).reason, "target 10.0.0.1 down");

  observe(agg, kNode, V{mk("ping/10.0.0.1/state", 1, T0)}, true, T0 + 25 * kSec);
  EXPECT_EQ(agg.status(kNode).status, NodeStatus::kHealthy);
  agg.set_alerts(kNode, 2);
  EXPECT_EQ(agg.status(kNode).status, NodeStatus::kDegraded);
  EXPECT_EQ(agg.status(kNode).reason, "2 alerts firing");
  agg.set_alerts(kNode, 1);
  observe(agg, kNode, V{mk("http/api/up", 0, T0)}, true, T0 + 30 * kSec);
  EXPECT_EQ(agg.status(kNode).reason, "target api down; 1 alert firing");
  agg.set_alerts(kNode, 0);
  observe(agg, kNode, V{mk("http/api/up", 1, T0)}, true, T0 + 35 * kSec);
  EXPECT_EQ(agg.status(kNode).status, NodeStatus::kHealthy);

  // DOWN wins over DEGRADED.
  observe(agg, kNode, V{mk("http/api/up", 0, T0)}, true, T0 + 40 * kSec);
  agg.node_offline(kNode, T0 + 45 * kSec);
  EXPECT_EQ(agg.status(kNode).status, NodeStatus::kDown);
  EXPECT_EQ(agg.status(kNode).reason, "offline since 2023-11-14T23:00:45Z");

  // A target no longer reported retires: it stops degrading the node.
  agg.node_online(kNode, T0 + kMin);
  EXPECT_EQ(agg.status(kNode).status, NodeStatus::kDegraded);
  for (std::int64_t t = T0 + kMin; t <= T0 + 7 * kMin; t += 30 * kSec) {
    observe(agg, kNode, V{mk("cpu/total", 1.0, t)}, true, t);
  }
  EXPECT_EQ(agg.status(kNode).status, NodeStatus::kHealthy);
  const NodeSummary s = summary_of(agg, kNode);
  ASSERT_FALSE(s.targets.empty());
  EXPECT_FALSE(s.targets[0].active);
}

TEST(Aggregator, StatusChangesAreReportedOnlyOnChange) {
  Aggregator agg(fixed_stale(kHour));
  agg.node_online(kNode, T0);
  for (int i = 0; i < 20; ++i) observe(agg, kNode, up(1, T0 + i * kSec), true, T0 + i * kSec);
  for (int i = 0; i < 20; ++i) agg.tick(T0 + 20 * kSec + i * kSec);
  agg.set_alerts(kNode, 0);
  std::vector<StatusChange> changes = agg.take_status_changes();
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].to, NodeStatus::kHealthy);
  EXPECT_TRUE(agg.take_status_changes().empty());

  observe(agg, kNode, up(0, T0 + 50 * kSec), true, T0 + 50 * kSec);
  observe(agg, kNode, up(0, T0 + 51 * kSec), true, T0 + 51 * kSec);  // still degraded: no change
  agg.set_alerts(kNode, 3);                                          // reason changes, status does not
  changes = agg.take_status_changes();
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].from, NodeStatus::kHealthy);
  EXPECT_EQ(changes[0].to, NodeStatus::kDegraded);
  EXPECT_EQ(changes[0].reason, "target 10.0.0.1 down");
  EXPECT_EQ(changes[0].at_ms, T0 + 50 * kSec);
  EXPECT_TRUE(agg.take_status_changes().empty());
}

TEST(Aggregator, UnknownAndSeededNodes) {
  Aggregator agg;
  EXPECT_EQ(agg.status("plant/none").status, NodeStatus::kUnknown);
  EXPECT_FALSE(agg.node_summary("plant/none").has_value());
  agg.set_alerts("plant/none", 3);  // ignored
  EXPECT_EQ(agg.node_count(), 0u);

  const std::vector<UptimeDelta> rows = {{kNode, T0 - kHour, 1000, 2000}};
  agg.seed(rows, T0);
  EXPECT_EQ(agg.status(kNode).status, NodeStatus::kUnknown);
  EXPECT_EQ(agg.fleet_summary().counts[static_cast<std::size_t>(NodeStatus::kUnknown)], 1u);
  EXPECT_EQ(agg.status_counts(), (std::array<std::size_t, kNodeStatuses>{1, 0, 0, 0}));
  EXPECT_EQ(agg.uptime_pct(kNode, UptimeWindow::k24h), 50.0);
  // Never heard from within stale_after (60 s before an interval is known): DOWN since we knew it.
  agg.tick(T0 + 59 * kSec);
  EXPECT_EQ(agg.status(kNode).status, NodeStatus::kUnknown);
  agg.tick(T0 + 61 * kSec);
  EXPECT_EQ(agg.status(kNode).status, NodeStatus::kDown);
  EXPECT_EQ(agg.status(kNode).reason, "not heard from since 2023-11-14T23:00:00Z");
  EXPECT_EQ(agg.uptime_counts(kNode, UptimeWindow::k24h).total, 2000u + 61'000u);
  const std::vector<StatusChange> changes = agg.take_status_changes();
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].at_ms, T0 + 60 * kSec);

  // A seeded node that speaks in time: the wait before its first message is not observed.
  Aggregator b;
  b.seed(rows, T0);
  b.node_online(kNode, T0 + 5 * kSec);
  b.tick(T0 + 15 * kSec);
  EXPECT_EQ(b.status(kNode).status, NodeStatus::kHealthy);
  EXPECT_EQ(b.uptime_counts(kNode, UptimeWindow::k24h).total, 2000u + 10'000u);
  EXPECT_EQ(b.uptime_counts(kNode, UptimeWindow::k24h).good, 1000u + 10'000u);
}

std::map<std::pair<std::string, std::int64_t>, std::pair<std::uint64_t, std::uint64_t>> by_key(
    const std::vector<UptimeDelta>& rows) {
  std::map<std::pair<std::string, std::int64_t>, std::pair<std::uint64_t, std::uint64_t>> out;
  for (const UptimeDelta& d : rows) {
    auto& v = out[{d.subject, d.hour_ms}];
    v.first += d.good;
    v.second += d.total;
  }
  return out;
}

TEST(Aggregator, SeedRoundTripKeepsUptime) {
  Aggregator a(fixed_stale(kHour));
  a.node_online(kNode, T0);
  std::vector<UptimeDelta> stored;
  std::int64_t t = T0;
  for (int i = 0; t < T0 + 5 * kHour + 20 * kMin; ++i, t += 30 * kSec) {
    if (i % 200 == 150) a.node_offline(kNode, t);
    if (i % 200 == 170) a.node_online(kNode, t);
    const bool offline = i % 200 >= 150 && i % 200 < 170;  // 10 minutes every 100
    if (!offline) observe(a, kNode, V{mk("ping/10.0.0.1/up", i % 7 == 0 ? 0 : 1, t), mk("tcp/db/up", i % 3 == 0 ? 0 : 1, t)}, true, t);
    a.tick(t);
    if (i % 10 == 0) {
      for (UptimeDelta& d : a.take_uptime_deltas()) stored.push_back(std::move(d));
    }
  }
  a.tick(t);
  for (UptimeDelta& d : a.take_uptime_deltas()) stored.push_back(std::move(d));
  EXPECT_TRUE(a.take_uptime_deltas().empty());
  // The store adds rows of the same (subject, hour).
  std::vector<UptimeDelta> rows;
  for (const auto& [key, v] : by_key(stored)) rows.push_back({key.first, key.second, v.first, v.second});
  EXPECT_EQ(rows.size(), 3u * 6u);  // node + 2 targets, 6 hours

  Aggregator b(fixed_stale(kHour));
  b.seed(rows, t);
  for (const std::string& subject : {kNode, kTarget, std::string("plant/pi-1/tcp/db")}) {
    for (UptimeWindow w : {UptimeWindow::k24h, UptimeWindow::k7d, UptimeWindow::k30d}) {
      const UptimeCounts ca = a.uptime_counts(subject, w);
      const UptimeCounts cb = b.uptime_counts(subject, w);
      EXPECT_EQ(ca.good, cb.good) << subject;
      EXPECT_EQ(ca.total, cb.total) << subject;
      EXPECT_GT(ca.total, 0u);
    }
    // 1 h: rebuilt from the previous hour's row spread evenly over its minutes, so close, not
    // exact (the node was offline 10 minutes inside the window; spread, 6.5 of them fall in it).
    const double pa = *a.uptime_pct(subject, UptimeWindow::k1h);
    const double pb = *b.uptime_pct(subject, UptimeWindow::k1h);
    EXPECT_NEAR(pa, pb, 7.0) << subject;
  }
  EXPECT_EQ(b.target_count(), 2u);
  EXPECT_EQ(b.status(kNode).status, NodeStatus::kUnknown);
}

TEST(Aggregator, SeedSpreadsTheCurrentAndPreviousHourOverTheMinuteRing) {
  Aggregator agg;
  const std::vector<UptimeDelta> rows = {
      {kTarget, T0, 30, 40},               // current hour: minutes 0..30 so far
      {kTarget, T0 - kHour, 0, 60},        // previous hour: 29 of its minutes are in the 1 h window
      {kTarget, T0 - 40 * kDay, 5, 5},     // outside 30 days
      {"plant", T0, 1, 1},                 // not a subject
      {"plant/pi-1/smtp/x", T0, 1, 1},     // not a probe family
      {"plant/pi-1/ping/a/b", T0, 1, 1},   // a target has no '/'
  };
  agg.seed(rows, T0 + 30 * kMin);
  const UptimeCounts c1 = agg.uptime_counts(kTarget, UptimeWindow::k1h);
  EXPECT_EQ(c1.good, 30u);
  EXPECT_EQ(c1.total, 40u + 29u);
  const UptimeCounts c30 = agg.uptime_counts(kTarget, UptimeWindow::k30d);
  EXPECT_EQ(c30.good, 30u);
  EXPECT_EQ(c30.total, 100u);
  EXPECT_EQ(agg.node_count(), 1u);
  EXPECT_EQ(agg.target_count(), 1u);
  EXPECT_TRUE(agg.take_uptime_deltas().empty());  // seeding is not new data
}

TEST(Aggregator, HistoricalSamplesCountInTheirOwnHourOnly) {
  Aggregator agg(fixed_stale(kHour));
  const std::int64_t now = T0 + 2 * kHour + 10 * kMin;
  agg.node_online(kNode, now);
  observe(agg, kNode, V{mk("ping/10.0.0.1/up", 1, now), mk("ping/10.0.0.1/rtt", 3.0, now)}, true, now);
  // A replay from hour 1: the first record carries up = 0, the rest are unchanged (not sent).
  const std::int64_t past = T0 + kHour + 5 * kMin;
  V first = {mk("ping/10.0.0.1/up", 0, past), mk("ping/10.0.0.1/rtt", std::nullopt, past)};
  observe(agg, kNode, first, false, now + kSec);
  for (int i = 1; i < 5; ++i) {
    const V rec = {mk("agent/sample_seq", i, past + i * 5 * kSec)};
    observe(agg, kNode, rec, false, now + kSec);
  }
  // Older than 30 days: counted nowhere.
  observe(agg, kNode, V{mk("ping/10.0.0.1/up", 0, T0 - 31 * kDay)}, false, now + kSec);

  // Current values untouched.
  EXPECT_EQ(agg.status(kNode).status, NodeStatus::kHealthy);
  const NodeSummary s = summary_of(agg, kNode);
  ASSERT_EQ(s.targets.size(), 1u);
  EXPECT_EQ(s.targets[0].up, 1.0);
  EXPECT_EQ(s.targets[0].rtt_avg, 3.0);
  EXPECT_EQ(s.targets[0].rounds, 1u);
  EXPECT_EQ(s.targets[0].last_seen, now);

  // The 1 h window (hour 2, minutes after 1:10) has only the live round; 24 h has all six.
  EXPECT_EQ(agg.uptime_counts(kTarget, UptimeWindow::k1h).total, 1u);
  const UptimeCounts c = agg.uptime_counts(kTarget, UptimeWindow::k24h);
  EXPECT_EQ(c.good, 1u);
  EXPECT_EQ(c.total, 6u);
  bool found = false;
  for (const UptimeDelta& d : agg.take_uptime_deltas()) {
    if (d.subject == kTarget && d.hour_ms == T0 + kHour) {
      found = true;
      EXPECT_EQ(d.good, 0u);
      EXPECT_EQ(d.total, 5u);
    }
    EXPECT_GE(d.hour_ms, T0);  // nothing for the 31-day-old sample
  }
  EXPECT_TRUE(found);
}

TEST(Aggregator, RollingWindowOfRoundsAndNodeCpu) {
  Aggregator agg(fixed_stale(kHour));
  agg.node_online(kNode, T0);
  for (int i = 0; i < 70; ++i) {
    const std::int64_t t = T0 + i * 5 * kSec;
    const bool answered = i % 10 != 5;
    V m = {mk("ping/10.0.0.1/up", answered ? 1 : 0, t),
                             mk("ping/10.0.0.1/rtt", answered ? std::optional<double>(i) : std::nullopt, t),
                             mk("ping/10.0.0.1/loss", answered ? 0 : 100, t),
                             mk("ping/10.0.0.1/state", 1, t)};
    if (i >= 60) m.erase(m.begin() + 2, m.end());  // loss and state unchanged: not sent
    observe(agg, kNode, m, true, t);
  }
  const NodeSummary ts = summary_of(agg, kNode);
  ASSERT_EQ(ts.targets.size(), 1u);
  const TargetSummary& tj = ts.targets[0];
  EXPECT_EQ(tj.rounds, 60u);
  // Rounds 10..69; rounds 15, 25, ..., 65 got no answer (6 of 60).
  EXPECT_EQ(tj.rtt_min, 10.0);
  EXPECT_EQ(tj.rtt_max, 69.0);
  double sum = 0;
  for (int i = 10; i < 70; ++i) sum += i % 10 == 5 ? 0 : i;
  ASSERT_TRUE(tj.rtt_avg.has_value());
  EXPECT_DOUBLE_EQ(*tj.rtt_avg, sum / 54.0);
  // Loss after round 60 was not sent: carried (round 59's 0 %), except round 65 which sent up 0
  // but no loss: still the carried 0 %. Rounds 15..55: 5 rounds of 100 %.
  ASSERT_TRUE(tj.loss_pct.has_value());
  EXPECT_DOUBLE_EQ(*tj.loss_pct, 500.0 / 60.0);
  EXPECT_EQ(tj.state, 1.0);
  EXPECT_EQ(tj.up, 1.0);
  EXPECT_EQ(tj.last_up, T0 + 69 * 5 * kSec);
  EXPECT_TRUE(tj.active);

  // A target that never answered: rtt null-safe.
  Aggregator dead(fixed_stale(kHour));
  observe(dead, kNode, V{mk("tcp/db/up", 0, T0), mk("tcp/db/rtt", std::nullopt, T0)}, true, T0);
  observe(dead, kNode, V{mk("tcp/db/up", 0, T0)}, true, T0 + 5 * kSec);
  const NodeSummary ds = summary_of(dead, kNode);
  ASSERT_EQ(ds.targets.size(), 1u);
  const TargetSummary& dj = ds.targets[0];
  EXPECT_EQ(dj.family, Family::kTcp);
  EXPECT_EQ(dj.rtt_avg, std::nullopt);
  EXPECT_EQ(dj.rtt_min, std::nullopt);
  EXPECT_EQ(dj.rtt_max, std::nullopt);
  EXPECT_EQ(dj.last_up, std::nullopt);
  EXPECT_EQ(dj.state, std::nullopt);
  EXPECT_EQ(dj.loss_pct, 100.0);  // no loss metric (tcp): share of rounds down
  // ... and the API writes them as null.
  JsonWriter w;
  write_target_summary(w, dj);
  const json dw = json::parse(w.str());
  for (const char* k : {"rtt_avg", "rtt_min", "rtt_max", "last_up", "state"}) EXPECT_TRUE(dw[k].is_null()) << k;
  EXPECT_EQ(dw["loss_pct"], 100.0);
  EXPECT_EQ(dw["family"], "tcp");
  EXPECT_EQ(dw["key"], "plant/pi-1/tcp/db");
  EXPECT_EQ(dw["rounds"], 2);

  // CPU: the last 5 minutes only, live only; message rate over the same window.
  Aggregator cpu(fixed_stale(kHour));
  for (int minute = 0; minute < 10; ++minute) {
    for (int k = 0; k < 6; ++k) {
      const std::int64_t t = T0 + minute * kMin + k * 10 * kSec;
      observe(cpu, kNode, V{mk("cpu/total", minute * 10.0 + k, t)}, true, t);
    }
  }
  observe(cpu, kNode, V{mk("cpu/total", 99.0, T0)}, false, T0 + 9 * kMin + 55 * kSec);  // replay: not cpu
  const NodeSummary cj = summary_of(cpu, kNode);
  // Minutes 5..9: values 50..95 (+0..5).
  double csum = 0;
  for (int minute = 5; minute < 10; ++minute) {
    for (int k = 0; k < 6; ++k) csum += minute * 10.0 + k;
  }
  ASSERT_TRUE(cj.cpu_avg_5m.has_value());
  EXPECT_DOUBLE_EQ(*cj.cpu_avg_5m, csum / 30.0);
  EXPECT_EQ(cj.cpu_max_5m, 95.0);
  // 31 messages over 4 min 55 s.
  ASSERT_TRUE(cj.rate_per_min.has_value());
  EXPECT_NEAR(*cj.rate_per_min, 31.0 * 60.0 / 295.0, 1e-9);
  EXPECT_EQ(cj.status, NodeStatus::kHealthy);
  EXPECT_EQ(cj.last_seen, T0 + 9 * kMin + 55 * kSec);
  // The node document carries them under the documented names.
  const json cd = node_document(cj);
  EXPECT_EQ(cd["cpu"]["max_5m"], 95.0);
  EXPECT_DOUBLE_EQ(cd["cpu"]["avg_5m"].get<double>(), csum / 30.0);
  EXPECT_NEAR(cd["rate_per_min"].get<double>(), 31.0 * 60.0 / 295.0, 1e-9);
  EXPECT_EQ(cd["status"], "HEALTHY");
  EXPECT_EQ(cd["status_reason"], "");
  EXPECT_EQ(cd["key"], kNode);
}

TEST(Aggregator, FleetSummaryCountsEveryStatus) {
  Aggregator agg(fixed_stale(kHour));
  agg.node_online("g/a", T0);
  agg.node_online("g/b", T0);
  observe(agg, "g/b", up(0, T0), true, T0);
  agg.node_offline("g/c", T0);
  agg.seed(std::vector<UptimeDelta>{{"g/d", T0, 1, 1}}, T0);
  const FleetSummary f = agg.fleet_summary();
  EXPECT_EQ(f.counts, (std::array<std::size_t, kNodeStatuses>{1, 1, 1, 1}));
  EXPECT_EQ(agg.status_counts(), f.counts);
  ASSERT_EQ(f.nodes.size(), 4u);
  EXPECT_EQ(f.nodes[0].key, "g/a");
  EXPECT_EQ(f.nodes[0].status, NodeStatus::kHealthy);
  EXPECT_EQ(f.nodes[0].last_seen, T0);
  EXPECT_EQ(f.nodes[1].key, "g/b");
  EXPECT_EQ(f.nodes[1].status, NodeStatus::kDegraded);
  EXPECT_EQ(f.nodes[1].status_reason, "target 10.0.0.1 down");
  EXPECT_EQ(f.nodes[2].key, "g/c");
  EXPECT_EQ(f.nodes[2].status, NodeStatus::kDown);
  EXPECT_EQ(f.nodes[3].key, "g/d");
  EXPECT_EQ(f.nodes[3].status, NodeStatus::kUnknown);
  EXPECT_EQ(f.nodes[3].last_seen, std::nullopt);

  // GET /api/fleet writes it.
  const json fj = json::parse(fleet_json(f));
  EXPECT_EQ(fj["counts"], json({{"HEALTHY", 1}, {"DEGRADED", 1}, {"DOWN", 1}, {"UNKNOWN", 1}}));
  ASSERT_EQ(fj["nodes"].size(), 4u);
  EXPECT_EQ(fj["nodes"][0]["key"], "g/a");
  EXPECT_EQ(fj["nodes"][0]["last_seen"], T0);
  EXPECT_EQ(fj["nodes"][1]["status"], "DEGRADED");
  EXPECT_EQ(fj["nodes"][1]["status_reason"], "target 10.0.0.1 down");
  EXPECT_EQ(fj["nodes"][2]["status"], "DOWN");
  EXPECT_EQ(fj["nodes"][3]["status"], "UNKNOWN");
  EXPECT_TRUE(fj["nodes"][3]["last_seen"].is_null());
  // Counts are distinct per status, not one number copied four times.
  FleetSummary skewed;
  skewed.counts = {1, 2, 3, 4};
  EXPECT_EQ(json::parse(fleet_json(skewed))["counts"], json({{"UNKNOWN", 1}, {"HEALTHY", 2}, {"DEGRADED", 3}, {"DOWN", 4}}));
}

TEST(Aggregator, HostileTargetNamesSurviveAsData) {
  Aggregator agg(fixed_stale(kHour));
  const std::string evil = "a\"b<script>alert('x')<\\script>&amp;\\";  // no '/': it ends a target
  agg.node_online(kNode, T0);
  observe(agg, kNode, V{mk("ping/" + evil + "/up", 0, T0), mk("http/" + evil + "/state", 3, T0)}, true, T0);
  const NodeSummary s = summary_of(agg, kNode);
  ASSERT_EQ(s.targets.size(), 2u);
  EXPECT_EQ(s.targets[0].target, evil);
  EXPECT_EQ(s.targets[0].key, "plant/pi-1/http/" + evil);
  EXPECT_EQ(s.targets[1].key, "plant/pi-1/ping/" + evil);
  EXPECT_EQ(s.status_reason, "target " + evil + " down (+1 more)");
  // The API's writers escape them and they come back byte for byte.
  const std::string dumped = node_json(NodeState{}, &s);
  EXPECT_NE(dumped.find("a\\\"b<script>"), std::string::npos) << dumped;  // the quote is escaped
  const json back = json::parse(dumped);
  ASSERT_EQ(back["targets"].size(), 2u);
  EXPECT_EQ(back["targets"][0]["target"], evil);
  EXPECT_EQ(back["targets"][0]["key"], "plant/pi-1/http/" + evil);
  EXPECT_EQ(back["targets"][1]["key"], "plant/pi-1/ping/" + evil);
  EXPECT_EQ(back["status_reason"], "target " + evil + " down (+1 more)");
  JsonWriter tw;
  write_target_summary(tw, s.targets[1]);
  EXPECT_EQ(json::parse(tw.str())["target"], evil);
  const std::string fleet_text = fleet_json(agg.fleet_summary());
  EXPECT_EQ(json::parse(fleet_text)["nodes"][0]["status_reason"], back["status_reason"]) << fleet_text;
  // And the uptime subject round-trips through deltas and seed.
  agg.tick(T0 + kMin);
  const std::vector<UptimeDelta> rows = agg.take_uptime_deltas();
  Aggregator b;
  b.seed(rows, T0 + kMin);
  EXPECT_EQ(b.uptime_pct("plant/pi-1/ping/" + evil, UptimeWindow::k24h), 0.0);
}

TEST(Aggregator, MemoryIsBoundedPerSubjectAndDoesNotGrowWithTime) {
  AggregatorConfig cfg = fixed_stale(kHour);
  Aggregator agg(cfg);
  constexpr int kNodes = 100;
  constexpr int kTargets = 10;
  std::vector<std::string> keys;
  for (int n = 0; n < kNodes; ++n) keys.push_back("g/n" + std::to_string(n));
  std::size_t after_first_hour = 0;
  std::int64_t t = T0;
  for (int step = 0; t < T0 + 3 * kHour; ++step, t += kMin) {
    for (const std::string& key : keys) {
      V m;
      for (int k = 0; k < kTargets; ++k) {
        const std::string base = "ping/10.0.0." + std::to_string(k);
        m.push_back(mk(base + "/up", (step + k) % 5 == 0 ? 0 : 1, t));
        m.push_back(mk(base + "/rtt", 1.5, t));
      }
      m.push_back(mk("cpu/total", 3.0, t));
      observe(agg, key, m, true, t);
    }
    agg.tick(t);
    if (step % 5 == 0) (void)agg.take_uptime_deltas();  // every 5 minutes, as the gateway would
    (void)agg.take_status_changes();
    if (after_first_hour == 0 && t >= T0 + kHour) after_first_hour = agg.memory_bytes();
  }
  EXPECT_EQ(agg.node_count(), static_cast<std::size_t>(kNodes));
  EXPECT_EQ(agg.target_count(), static_cast<std::size_t>(kNodes * kTargets));
  EXPECT_EQ(agg.memory_bytes(), after_first_hour);
  const std::size_t per_subject = agg.memory_bytes() / (kNodes * (kTargets + 1));
  EXPECT_LT(per_subject, 8u * 1024u) << per_subject;

  // Caps: targets per node and nodes.
  AggregatorConfig small = fixed_stale(kHour);
  small.max_nodes = 2;
  small.max_targets_per_node = 3;
  Aggregator capped(small);
  V many;
  for (int k = 0; k < 10; ++k) many.push_back(mk("ping/t" + std::to_string(k) + "/up", 1, T0));
  observe(capped, "g/a", many, true, T0);
  observe(capped, "g/b", many, true, T0);
  observe(capped, "g/c", many, true, T0);
  EXPECT_EQ(capped.node_count(), 2u);
  EXPECT_EQ(capped.target_count(), 6u);
  EXPECT_GT(capped.dropped_subjects(), 0u);
  EXPECT_EQ(capped.status("g/c").status, NodeStatus::kUnknown);

  // And targets over the whole fleet.
  AggregatorConfig total = fixed_stale(kHour);
  total.max_targets_total = 5;
  Aggregator fleet_capped(total);
  const V three = {mk("ping/t0/up", 1, T0), mk("ping/t1/up", 1, T0), mk("ping/t2/up", 1, T0)};
  observe(fleet_capped, "g/a", three, true, T0);
  EXPECT_EQ(fleet_capped.dropped_subjects(), 0u);
  observe(fleet_capped, "g/b", three, true, T0);
  EXPECT_EQ(fleet_capped.node_count(), 2u);
  EXPECT_EQ(fleet_capped.target_count(), 5u);
  EXPECT_EQ(fleet_capped.dropped_subjects(), 1u);
  EXPECT_EQ(summary_of(fleet_capped, "g/b").targets.size(), 2u);
}

}  // namespace
}  // namespace edgemon::gateway
