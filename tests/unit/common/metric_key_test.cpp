// The telemetry contract: one parse of a metric name, used by every consumer.
#include "edgemon/common/metric_key.h"

#include <gtest/gtest.h>

#include <set>
#include <vector>

namespace edgemon {
namespace {

TEST(MetricKey, ProbeNameSplitsIntoFamilyTargetAndLeaf) {
  const MetricKey k("ping/10.0.0.1/rtt");
  EXPECT_EQ(k.family(), Family::kPing);
  EXPECT_TRUE(k.probe());
  EXPECT_EQ(k.target(), "10.0.0.1");
  EXPECT_EQ(k.leaf(), Leaf::kRtt);
  EXPECT_EQ(k.leaf_name(), "rtt");
  EXPECT_EQ(k.target_id(), "ping/10.0.0.1");
}

TEST(MetricKey, EveryProbeFamilyOfTheTableIsRecognised) {
  for (const FamilySpec& f : families()) {
    if (!f.probe) continue;
    const MetricKey k(std::string(f.name) + "/svc.lan/up");
    EXPECT_EQ(k.family(), f.family) << f.name;
    EXPECT_EQ(k.target(), "svc.lan") << f.name;
    EXPECT_EQ(k.leaf(), Leaf::kUp) << f.name;
  }
  // The six probe families the issue names, no more and no fewer.
  std::set<std::string_view> probes;
  for (const FamilySpec& f : families()) {
    if (f.probe) probes.insert(f.name);
  }
  EXPECT_EQ(probes, (std::set<std::string_view>{"ping", "tcp", "http", "grpc", "dns", "tls"}));
}

TEST(MetricKey, Ipv6TargetsKeepTheirColons) {
  const MetricKey k("ping/fe80::1%eth0/loss");
  EXPECT_EQ(k.target(), "fe80::1%eth0");
  EXPECT_EQ(k.leaf(), Leaf::kLoss);
}

TEST(MetricKey, UnknownLeafOfAProbeFamilyKeepsItsText) {
  const MetricKey k("http/api/body/match");
  EXPECT_EQ(k.family(), Family::kHttp);
  EXPECT_EQ(k.target(), "api");
  EXPECT_EQ(k.leaf(), Leaf::kOther);
  EXPECT_EQ(k.leaf_name(), "body/match");
}

TEST(MetricKey, AgentAndBoardNames) {
  const MetricKey agent("agent/buffer/dropped");
  EXPECT_EQ(agent.family(), Family::kAgent);
  EXPECT_EQ(agent.leaf_name(), "buffer/dropped");
  EXPECT_EQ(agent.leaf(), Leaf::kBufferDropped);
  EXPECT_EQ(MetricKey("agent/sample_seq").leaf(), Leaf::kSampleSeq);
  EXPECT_EQ(MetricKey("agent/buffer/damaged").leaf(), Leaf::kBufferDamaged);
  EXPECT_EQ(MetricKey("agent/name").leaf(), Leaf::kOther);
  EXPECT_TRUE(agent.target().empty());
  EXPECT_TRUE(agent.target_id().empty());

  const MetricKey cpu("cpu/total");
  EXPECT_EQ(cpu.family(), Family::kBoard);
  EXPECT_EQ(cpu.leaf_name(), "cpu/total");
  EXPECT_FALSE(cpu.probe());
}

TEST(MetricKey, ProbeShapesThatAreNotProbeMetricsAreBoardNames) {
  // A probe family needs a target and a leaf; otherwise the name is an ordinary one.
  for (const char* name : {"ping", "ping/", "ping/x", "ping//up", "ping/x/", "pingx/a/up", "Ping/a/up"}) {
    const MetricParts p = parse_metric_name(name);
    EXPECT_EQ(p.family, Family::kBoard) << name;
    EXPECT_TRUE(p.target.empty()) << name;
  }
}

TEST(MetricKey, ViewsSurviveCopiesAndMoves) {
  std::vector<MetricKey> keys;
  for (int i = 0; i < 100; ++i) keys.emplace_back("tcp/host-number-" + std::to_string(i) + ".example/rtt");
  const MetricKey copy = keys[42];
  std::vector<MetricKey> moved = std::move(keys);
  EXPECT_EQ(moved[42].target(), "host-number-42.example");
  EXPECT_EQ(copy.target(), "host-number-42.example");
  EXPECT_EQ(copy.leaf(), Leaf::kRtt);
}

TEST(MetricKey, FormatAndParseAreInverse) {
  const std::string name = probe_metric_name(Family::kDns, "resolver.lan", "rtt");
  EXPECT_EQ(name, "dns/resolver.lan/rtt");
  const MetricParts p = parse_metric_name(name);
  EXPECT_EQ(p.family, Family::kDns);
  EXPECT_EQ(p.target, "resolver.lan");
  EXPECT_EQ(p.leaf, Leaf::kRtt);
}

TEST(MetricKey, EveryTableLeafParsesBackToItself) {
  for (const FamilySpec& f : families()) {
    if (!f.probe) continue;
    for (const LeafSpec& l : f.leaves) {
      EXPECT_EQ(leaf_from(l.name), l.leaf) << f.name << "/" << l.name;
      EXPECT_EQ(to_string(l.leaf), l.name);
    }
  }
}

TEST(MetricKey, TypeScriptContractListsEveryFamilyAndLeaf) {
  const std::string ts = contract_typescript();
  for (const FamilySpec& f : families()) {
    EXPECT_NE(ts.find("name: '" + std::string(f.name) + "'"), std::string::npos) << f.name;
    for (const LeafSpec& l : f.leaves) EXPECT_NE(ts.find("'" + std::string(l.name) + "'"), std::string::npos);
  }
  EXPECT_NE(ts.find("export const PROBE_FAMILIES: readonly FamilyName[] = ['ping', 'tcp', 'http', 'grpc', 'dns', 'tls'];"),
            std::string::npos);
}

}  // namespace
}  // namespace edgemon
