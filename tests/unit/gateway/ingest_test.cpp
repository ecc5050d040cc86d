// The ingest pipeline end to end in one process: Sparkplug bytes in, typed state and an outbox of
// effects out. A manual clock, no broker, no threads; time moves only when a test says so.
#include "edgemon/gateway/core/ingest.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "edgemon/common/sparkplug_codec.h"
#include "edgemon/common/telemetry_json.h"

namespace edgemon::gateway {
namespace {

using namespace std::chrono_literals;

rules::Rule high_cpu_for(std::chrono::milliseconds d) {
  rules::Rule r;
  r.name = "high_cpu";
  r.kind = rules::RuleKind::kThreshold;
  r.metric = "cpu/total";
  r.op = rules::Op::kGreater;
  r.threshold = 80;
  r.type = "HIGH_CPU";
  r.for_duration = d;
  r.cooldown = 0ms;
  return r;
}

rules::Rule storage_rule() {
  rules::Rule r;
  r.name = "_gateway_storage";
  r.kind = rules::RuleKind::kFailure;
  r.op = rules::Op::kEqual;
  r.threshold = 0;
  r.metric = std::string(kStorageMetric);
  r.nodes = {"_gateway/test"};
  r.type = "STORAGE_FAILED";
  r.severity = rules::Severity::kCritical;
  r.cooldown = 0ms;
  return r;
}

struct Pipeline {
  explicit Pipeline(IngestLimits limits = {}, std::vector<rules::Rule> extra_rules = {})
      : fleet(FleetLimits{limits.max_metrics_per_node, limits.max_metrics_total}),
        aggregator([] {
          AggregatorConfig c;
          c.stale_after_ms = 10'000;
          return c;
        }()),
        evaluator([&] {
          rules::RuleSet set;
          set.rules = std::move(extra_rules);
          set.rules.push_back(storage_rule());
          set.rules.push_back(data_loss_rule());
          return set;
        }()),
        ingest([&] {
          IngestConfig c;
          c.limits = limits;
          c.gateway_node = "_gateway/test";
          return c;
        }(), fleet, aggregator, completeness, evaluator, managed) {}

  Instant now() const { return Instant::of(clock); }
  std::int64_t now_ms() const { return to_unix_ms(clock.wall()); }

  Outbox send(MessageKind kind, std::uint64_t seq, std::vector<Metric> metrics, const std::string& node = "pi-1",
              const std::string& group = "plant", std::uint64_t bd_seq = 1) {
    TelemetryMessage m;
    m.kind = kind;
    m.timestamp_ms = now_ms();
    m.seq = seq;
    m.bd_seq = bd_seq;
    for (Metric& x : metrics) x.ts_ms = now_ms();
    m.metrics = std::move(metrics);
    Outbox out;
    ingest.message(format_topic(group, kind, node), encode_sparkplug(m), now(), out);
    return out;
  }
  Outbox birth(std::vector<Metric> metrics, const std::string& node = "pi-1", const std::string& group = "plant") {
    return send(MessageKind::kBirth, 0, std::move(metrics), node, group);
  }
  Outbox data(std::uint64_t seq, std::vector<Metric> metrics, const std::string& node = "pi-1") {
    return send(MessageKind::kData, seq, std::move(metrics), node);
  }
  Outbox tick() {
    Outbox out;
    ingest.tick(now(), out);
    return out;
  }

  ManualClock clock;
  FleetState fleet;
  Aggregator aggregator;
  Completeness completeness;
  rules::Evaluator evaluator;
  ManagedTargets managed;
  Ingest ingest;
};

Metric cpu(double v) { return make_metric("cpu/total", "%", v, 0); }
Metric aliased_cpu(double v) {
  Metric m = cpu(v);
  m.alias = 1;
  return m;
}
Metric ping(const std::string& target, const char* leaf, double v) {
  return make_metric("ping/" + target + "/" + leaf, "", v, 0);
}

TEST(Ingest, BirthAndDataBecomeTypedStateRowsToStoreAndNodeChanges) {
  Pipeline p;
  const Outbox b = p.birth({aliased_cpu(12), ping("10.0.0.1", "up", 1), ping("10.0.0.1", "rtt", 2.5)});
  ASSERT_EQ(b.store.samples.size(), 1u);
  const NodeSamples& rows = b.store.samples[0];
  EXPECT_EQ(rows.node, "pi-1");
  ASSERT_EQ(rows.values.size(), 3u);
  ASSERT_NE(rows.names, nullptr);
  EXPECT_EQ((*rows.names)[rows.values[2].series].metric, "ping/10.0.0.1/rtt");
  EXPECT_EQ(rows.values[2].opt(), 2.5);
  ASSERT_EQ(b.nodes.size(), 1u);
  EXPECT_TRUE(b.nodes[0].urgent) << "a node coming online goes out at once";

  const NodeState* n = p.fleet.find("plant", "pi-1");
  ASSERT_NE(n, nullptr);
  EXPECT_EQ(n->metrics[1].key.family(), Family::kPing);
  EXPECT_EQ(n->metrics[1].key.target(), "10.0.0.1");

  p.clock.advance(1s);
  Metric alias_only;  // NDATA by alias: the name comes from the birth
  alias_only.alias = 1;
  alias_only.value = 55;
  const Outbox d = p.data(1, {alias_only});
  ASSERT_EQ(d.store.samples.size(), 1u);
  const NodeSamples& later = d.store.samples[0];
  EXPECT_EQ(later.names, rows.names) << "the same set of names: shared, not copied";
  EXPECT_EQ((*later.names)[later.values[0].series].metric, "cpu/total");
  EXPECT_EQ(later.values[0].opt(), 55);
  ASSERT_EQ(d.nodes.size(), 1u);
  EXPECT_FALSE(d.nodes[0].urgent) << "a new value is coalesced, not urgent";
  EXPECT_EQ(p.ingest.stats().accepted, 2u);

  const auto summary = p.aggregator.node_summary("plant/pi-1");
  ASSERT_TRUE(summary);
  ASSERT_EQ(summary->targets.size(), 1u);
  EXPECT_EQ(summary->targets[0].rtt_avg, 2.5);
}

TEST(Ingest, DuplicatesAreCountedAndNotStoredAgain) {
  Pipeline p;
  (void)p.birth({cpu(1)});
  (void)p.data(1, {cpu(2)});
  const Outbox again = p.data(1, {cpu(2)});
  EXPECT_TRUE(again.store.samples.empty());
  EXPECT_TRUE(again.nodes.empty());
  EXPECT_EQ(p.ingest.stats().duplicates, 1u);
}

TEST(Ingest, GapAsksForARebirthThrottledOnTheMonotonicClock) {
  Pipeline p;
  (void)p.birth({cpu(1)});
  EXPECT_EQ(p.data(5, {cpu(1)}).rebirths.size(), 1u);
  EXPECT_EQ(p.ingest.stats().gaps, 1u);
  p.clock.advance(1s);
  EXPECT_TRUE(p.data(9, {cpu(1)}).rebirths.empty()) << "at most one request per 5 s";
  // A forward step of the wall clock does not end the throttle early...
  p.clock.step_wall(1h);
  p.clock.advance(1s);
  EXPECT_TRUE(p.data(20, {cpu(1)}).rebirths.empty());
  // ...and a backward step does not extend it.
  p.clock.step_wall(-2h);
  p.clock.advance(3s);
  EXPECT_EQ(p.data(30, {cpu(1)}).rebirths.size(), 1u);
  EXPECT_EQ(p.ingest.stats().rebirth_requests, 2u);
}

TEST(Ingest, RejectionsAreCountedByReason) {
  IngestLimits limits;
  limits.max_message_bytes = 300;
  Pipeline p(limits);
  Outbox out;
  p.ingest.message("spBv1.0/plant/NDATA", "x", p.now(), out);          // topic
  p.ingest.message("spBv1.0/plant/NDATA/pi-1", "\x01\x02", p.now(), out);  // not Sparkplug
  p.ingest.message("spBv1.0/plant/NDATA/pi-1", std::string(301, '\x0a'), p.now(), out);
  const auto& r = p.ingest.stats().rejected;
  EXPECT_EQ(r.at(std::string(kRejectTooLarge)), 1u);
  EXPECT_EQ(p.ingest.stats().rejected_total(), 3u);
  EXPECT_EQ(p.ingest.stats().accepted, 0u);
  EXPECT_EQ(p.fleet.size(), 0u) << "nothing rejected creates a node";
}

TEST(Ingest, ReasonsAreBoundedOthersCountAsOther) {
  Pipeline p;
  Outbox out;
  // JSON payloads whose error names the metric's index: 100 distinct reasons.
  for (int i = 0; i < 100; ++i) {
    std::string metrics;
    for (int k = 0; k < i; ++k) metrics += R"({"name":"m)" + std::to_string(k) + R"(","value":1},)";
    metrics += R"({"name":5})";
    const std::string payload = R"({"timestamp":1700000000000,"seq":1,"metrics":[)" + metrics + "]}";
    p.ingest.message("spBv1.0/plant/NDATA/pi-1", payload, p.now(), out);
  }
  const IngestStats& s = p.ingest.stats();
  EXPECT_EQ(s.rejected_total(), 100u) << "every rejection is counted";
  EXPECT_LE(s.rejected.size(), IngestStats::kMaxReasons);
  EXPECT_GT(s.rejected.at("other"), 0u);
}

TEST(Ingest, OneAccountCannotGrowTheGatewayWithGroupsAndNames) {
  IngestLimits limits;
  limits.max_groups_per_account = 4;
  limits.max_metrics_per_node = 500;
  Pipeline p(limits);
  // One device account (node id "evil") publishes births into 2,000 groups with 50 new names
  // each: 100,000 metric names in all.
  for (int g = 0; g < 2000; ++g) {
    std::vector<Metric> metrics;
    for (int k = 0; k < 50; ++k) metrics.push_back(make_metric("x/" + std::to_string(g) + "/" + std::to_string(k), "", 1, 0));
    (void)p.birth(std::move(metrics), "evil", "g" + std::to_string(g));
  }
  EXPECT_EQ(p.fleet.size(), 4u);
  EXPECT_EQ(p.fleet.metric_count(), 200u);
  EXPECT_EQ(p.ingest.stats().rejected.at(std::string(kRejectGroupsPerAccount)), 1996u);
  // And one node cannot hold more names than its cap: the rest are refused and counted.
  std::vector<Metric> many;
  for (int k = 0; k < 700; ++k) many.push_back(make_metric("y/" + std::to_string(k), "", 1, 0));
  (void)p.birth(std::move(many), "evil", "g0");
  EXPECT_EQ(p.fleet.find("g0", "evil")->metrics.size(), 500u);
  EXPECT_EQ(p.ingest.stats().metrics_refused_node_cap, 200u);
}

TEST(Ingest, FleetCapsOnNodesGroupsAndMetrics) {
  IngestLimits limits;
  limits.max_nodes = 3;
  limits.max_groups = 2;
  limits.max_nodes_per_group = 2;
  limits.max_metrics_total = 5;
  Pipeline p(limits);
  (void)p.birth({cpu(1), ping("a", "up", 1)}, "n1", "g1");
  (void)p.birth({cpu(1), ping("a", "up", 1)}, "n2", "g1");
  (void)p.birth({cpu(1)}, "n3", "g1");  // a third node in g1
  (void)p.birth({cpu(1)}, "n4", "g2");
  (void)p.birth({cpu(1)}, "n5", "g3");  // a third group
  (void)p.birth({cpu(1)}, "n6", "g2");  // a fourth node (g2 has room)
  const auto& r = p.ingest.stats().rejected;
  EXPECT_EQ(r.at(std::string(kRejectNodesPerGroup)), 1u);
  EXPECT_EQ(r.at(std::string(kRejectGroups)), 1u);
  EXPECT_EQ(r.at(std::string(kRejectNodes)), 1u);
  EXPECT_EQ(p.fleet.size(), 3u);
  EXPECT_EQ(p.fleet.metric_count(), 5u);
  EXPECT_EQ(p.ingest.stats().metrics_refused_fleet_cap, 0u);
  (void)p.send(MessageKind::kData, 1, {make_metric("new/name", "", 1, 0)}, "n1", "g1");
  EXPECT_EQ(p.ingest.stats().metrics_refused_fleet_cap, 1u);
}

TEST(Ingest, AForDurationIsMeasuredAcrossWallClockSteps) {
  Pipeline p({}, {high_cpu_for(10s)});
  (void)p.birth({cpu(95)});
  (void)p.tick();
  // The wall clock jumps back an hour (NTP on a board without an RTC): 10 s later the rule fires.
  p.clock.advance(2s);
  p.clock.step_wall(-1h);
  (void)p.data(1, {cpu(95)});
  p.clock.advance(7s);
  (void)p.data(2, {cpu(95)});
  EXPECT_EQ(p.evaluator.state("plant/pi-1/cpu/total", "high_cpu"), rules::AlertState::kPending);
  p.clock.advance(1500ms);
  const Outbox fired = p.tick();
  EXPECT_EQ(p.evaluator.state("plant/pi-1/cpu/total", "high_cpu"), rules::AlertState::kFiring);
  EXPECT_TRUE(fired.alerts_changed);
  EXPECT_EQ(p.ingest.stats().clock_steps, 1u);
}

TEST(Ingest, AForwardWallStepDoesNotCompleteAForDuration) {
  Pipeline p({}, {high_cpu_for(10s)});
  (void)p.birth({cpu(95)});
  p.clock.advance(1s);
  p.clock.step_wall(1h);
  (void)p.data(1, {cpu(95)});
  (void)p.tick();
  EXPECT_EQ(p.evaluator.state("plant/pi-1/cpu/total", "high_cpu"), rules::AlertState::kPending)
      << "an hour of wall time passed in one second: the rule has seen 1 s of high CPU";
}

TEST(Ingest, ANodeGoesStaleAfterItsIntervalWhateverTheWallClockDoes) {
  Pipeline p;
  (void)p.birth({cpu(1)});
  (void)p.tick();
  p.clock.advance(3s);
  p.clock.step_wall(-1h);
  (void)p.tick();
  EXPECT_EQ(p.aggregator.status("plant/pi-1").status, NodeStatus::kHealthy);
  p.clock.advance(8s);  // 11 s without a message, stale_after 10 s
  const Outbox out = p.tick();
  EXPECT_EQ(p.aggregator.status("plant/pi-1").status, NodeStatus::kDown);
  ASSERT_EQ(out.nodes.size(), 1u);
  EXPECT_TRUE(out.nodes[0].urgent);
}

TEST(Ingest, UptimeIsFlushedEveryFiveSecondsOfMonotonicTime) {
  Pipeline p;
  (void)p.birth({ping("t", "up", 1)});
  (void)p.tick();
  int flushes = 0;
  for (int i = 0; i < 40; ++i) {  // 10 s in 250 ms ticks, with a backward step in the middle
    p.clock.advance(250ms);
    if (i == 10) p.clock.step_wall(-1h);
    if (!p.tick().store.uptime.empty()) ++flushes;
  }
  EXPECT_EQ(flushes, 2);
}

TEST(Ingest, FailingStorageRaisesItsAlertAtOnceAndItsNoticeIsNotHeldBack) {
  Pipeline p;
  (void)p.tick();
  Outbox out;
  p.ingest.storage_status(false, p.now(), out);
  EXPECT_FALSE(p.ingest.storage_ok());
  ASSERT_FALSE(out.store.events.empty());
  EXPECT_EQ(out.store.events.back().type, "STORAGE_FAILED");
  EXPECT_EQ(out.store.events.back().to, "firing");
  p.clock.advance(250ms);
  const Outbox t = p.tick();
  ASSERT_FALSE(t.notifications.empty());
  EXPECT_TRUE(t.deliver_now) << "waiting for a commit that cannot happen would hold it forever";
  EXPECT_TRUE(t.store.alert_state.has_value());
}

TEST(Ingest, ManagedTargetsAreSentToANodeBornWithAnotherVersion) {
  Pipeline p;
  const NodeConfig row{"plant/pi-1", std::vector<std::string>{"10.0.0.9"}, "api-7", 1};
  ASSERT_EQ(p.managed.restore(std::span<const NodeConfig>(&row, 1)), 0u);
  Metric version = make_metric("agent/config/version", "", std::nullopt, 0, MetricType::kString);
  version.text = "file";
  const Outbox b = p.birth({cpu(1), version});
  ASSERT_EQ(b.commands.size(), 1u);
  EXPECT_EQ(b.commands[0].node, "pi-1");
  EXPECT_EQ(b.commands[0].message.metrics[1].text, "api-7");
  version.text = "api-7";
  EXPECT_TRUE(p.birth({cpu(1), version}).commands.empty()) << "it has the wanted version";
}

TEST(Ingest, DeathTakesTheNodeOfflineAtOnce) {
  Pipeline p;
  (void)p.birth({cpu(1)});
  const Outbox d = p.send(MessageKind::kDeath, 0, {});
  ASSERT_EQ(d.nodes.size(), 1u);
  EXPECT_TRUE(d.nodes[0].urgent);
  EXPECT_FALSE(p.fleet.find("plant", "pi-1")->online);
  EXPECT_EQ(p.aggregator.status("plant/pi-1").status, NodeStatus::kDown);
}

TEST(Ingest, AliasesFromSmallToHugeResolve) {
  Pipeline p;
  std::vector<Metric> metrics;
  for (std::uint64_t alias : {std::uint64_t{1}, std::uint64_t{70}, std::uint64_t{1} << 63, ~std::uint64_t{0}}) {
    Metric m = make_metric("m/" + std::to_string(alias), "", 1.0, 0);
    m.alias = alias;
    metrics.push_back(m);
  }
  (void)p.birth(std::move(metrics));
  std::vector<Metric> data;
  for (std::uint64_t alias : {std::uint64_t{1}, std::uint64_t{70}, std::uint64_t{1} << 63, ~std::uint64_t{0}}) {
    Metric m;
    m.alias = alias;
    m.value = static_cast<double>(alias % 1000);
    data.push_back(m);
  }
  const Outbox d = p.data(1, std::move(data));
  EXPECT_TRUE(d.rebirths.empty());
  ASSERT_EQ(d.store.samples.size(), 1u);
  EXPECT_EQ(d.store.samples[0].values.size(), 4u);
  const NodeState* n = p.fleet.find("plant", "pi-1");
  EXPECT_EQ(n->find("m/70")->value, 70.0);
  EXPECT_EQ(n->find("m/" + std::to_string(~std::uint64_t{0}))->value, static_cast<double>(~std::uint64_t{0} % 1000));
  Metric unknown;
  unknown.alias = 5;
  unknown.value = 1;
  EXPECT_EQ(p.data(2, {unknown}).rebirths.size(), 1u) << "an alias the birth did not declare";
}

Metric seq_metric(std::uint64_t s) { return make_metric("agent/sample_seq", "", static_cast<double>(s), 0, MetricType::kUInt64); }
Metric dropped_metric(std::uint64_t d) {
  return make_metric("agent/buffer/dropped", "", static_cast<double>(d), 0, MetricType::kUInt64);
}
std::size_t stored_samples(const Outbox& out) {
  std::size_t n = 0;
  for (const NodeSamples& s : out.store.samples) n += s.size();
  return n;
}

TEST(Ingest, ReplayedSamplesAreCountedNotStoredAgain) {
  Pipeline p;
  // A birth's sample_seq is the last number assigned, not a sample: not stored.
  EXPECT_EQ(stored_samples(p.birth({seq_metric(0), dropped_metric(0), cpu(1)})), 2u);
  for (std::uint64_t s = 1; s <= 5; ++s) EXPECT_EQ(stored_samples(p.data(s, {seq_metric(s), cpu(2)})), 2u);
  // The agent's confirm window after the host came back: a new session, the same samples again.
  (void)p.birth({seq_metric(5), dropped_metric(0), cpu(1)});
  for (std::uint64_t s = 3; s <= 5; ++s) {
    const Outbox out = p.data(s - 2, {seq_metric(s), cpu(2)});
    EXPECT_EQ(stored_samples(out), 0u) << s;
  }
  EXPECT_GT(stored_samples(p.data(4, {seq_metric(6), cpu(2)})), 0u);
  EXPECT_EQ(p.ingest.stats().sample_duplicates, 3u);
  EXPECT_EQ(p.completeness.find("plant/pi-1")->received, 6u);
  EXPECT_EQ(p.completeness.find("plant/pi-1")->missing, 0u);
}

TEST(Ingest, AHoleInSampleSeqIsAStoredDataLossEventAndFiresTheLossRule) {
  Pipeline p;
  (void)p.tick();
  (void)p.birth({seq_metric(0), dropped_metric(0), cpu(1)});
  (void)p.data(1, {seq_metric(1)});
  // The ring overflowed during an outage: the birth says 7 were dropped, the next sample is 9. The
  // hole is reported at the first live sample 5 s (settle_min) after it was seen.
  (void)p.birth({seq_metric(20), dropped_metric(7), cpu(1)});
  const Outbox seen = p.data(1, {seq_metric(9)});
  for (const StoredEvent& e : seen.store.events) EXPECT_NE(e.type, "DATA_LOSS") << "reported before it settled";
  EXPECT_EQ(p.completeness.find("plant/pi-1")->missing, 7u);
  p.clock.advance(5s);
  const Outbox out = p.data(2, {seq_metric(10)});
  const StoredEvent* loss = nullptr;
  for (const StoredEvent& e : out.store.events) {
    if (e.type == "DATA_LOSS" && e.to == "loss") loss = &e;
  }
  ASSERT_NE(loss, nullptr);
  EXPECT_EQ(loss->subject, "plant/pi-1");
  EXPECT_EQ(loss->rule, "_data_loss");
  EXPECT_EQ(loss->reason, "sample_seq 2-8 missing (7 samples): 7 dropped by the agent's full buffer");
  bool firing = false;
  for (const StoredEvent& e : out.store.events) firing = firing || (e.rule == "_data_loss" && e.to == "firing");
  EXPECT_TRUE(firing);
  EXPECT_EQ(p.evaluator.state("plant/pi-1/gateway/samples_missing", "_data_loss"), rules::AlertState::kFiring);
  // A notification goes out through the normal rules.
  p.clock.advance(250ms);
  const Outbox t = p.tick();
  ASSERT_FALSE(t.notifications.empty());
  EXPECT_EQ(t.notifications[0].alerts.at(0).type, "DATA_LOSS");
  // An hour later the alert resolves by itself.
  p.clock.advance(1h);
  (void)p.tick();
  EXPECT_EQ(p.evaluator.state("plant/pi-1/gateway/samples_missing", "_data_loss"), rules::AlertState::kOk);
}

TEST(Ingest, SampleAccountingIsStoredWithTheUptimeFlush) {
  Pipeline p;
  (void)p.tick();
  (void)p.birth({seq_metric(0), cpu(1)});
  (void)p.data(1, {seq_metric(1)});
  p.clock.advance(5s);
  const Outbox t = p.tick();
  ASSERT_EQ(t.store.progress.size(), 1u);
  EXPECT_EQ(t.store.progress[0].node, "plant/pi-1");
  EXPECT_EQ(t.store.progress[0].high, std::optional<std::uint64_t>(1));
}

}  // namespace
}  // namespace edgemon::gateway
