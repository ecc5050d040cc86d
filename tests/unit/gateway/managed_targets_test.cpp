#include "edgemon/gateway/core/managed_targets.h"

#include <gtest/gtest.h>

#include "edgemon/gateway/core/fleet_state.h"

namespace edgemon::gateway {
namespace {

TEST(ManagedTargets, HostValidation) {
  for (const char* ok : {"10.0.0.1", "fe80::1", "router.lan", "a-b.example.org", "::1"}) {
    EXPECT_TRUE(validate_target_host(ok).ok()) << ok;
  }
  for (const char* bad : {"", "-rf", ".hidden", "a b", "x\"]\n[agent]", "<script>", "a;b", "a/b"}) {
    EXPECT_FALSE(validate_target_host(bad).ok()) << bad;
  }
  EXPECT_FALSE(validate_target_host(std::string(254, 'a')).ok());
}

TEST(ManagedTargets, ReportedTargetsComeFromUpMetrics) {
  NodeState n;
  for (const char* name : {"ping/b/up", "ping/b/rtt", "ping/a/up", "cpu/total", "ping//up", "ping/up"}) {
    Metric m;
    m.name = name;
    n.metrics.push_back(m);
  }
  EXPECT_EQ(reported_targets(n), (std::vector<std::string>{"a", "b"}));
}

TEST(ManagedTargets, StoredFormRoundTripsAndRejectsGarbage) {
  const std::vector<std::string> hosts = {"10.0.0.1", "router.lan"};
  EXPECT_EQ(parse_managed_targets(managed_targets_json(hosts)), hosts);
  EXPECT_FALSE(parse_managed_targets("{}"));
  EXPECT_FALSE(parse_managed_targets(R"({"ping_hosts":["a b"]})"));
  EXPECT_FALSE(parse_managed_targets("not json"));
  EXPECT_EQ(targets_config_toml(hosts), "[ping]\nhosts = [\"10.0.0.1\", \"router.lan\"]\n");
  EXPECT_EQ(targets_config_toml({}), "[ping]\nhosts = []\n");
}

TEST(ManagedTargets, ConfigCommandCarriesTextAndVersion) {
  const TelemetryMessage cmd = config_command("[ping]\nhosts = []\n", "api-7", 7);
  EXPECT_EQ(cmd.kind, MessageKind::kCommand);
  ASSERT_EQ(cmd.metrics.size(), 2u);
  EXPECT_EQ(cmd.metrics[0].name, "edgemon/config");
  EXPECT_EQ(cmd.metrics[0].text, "[ping]\nhosts = []\n");
  EXPECT_EQ(cmd.metrics[1].name, "edgemon/config_version");
  EXPECT_EQ(cmd.metrics[1].text, "api-7");
}

}  // namespace
}  // namespace edgemon::gateway
