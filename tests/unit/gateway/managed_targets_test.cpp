#include "edgemon/gateway/core/managed_targets.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "edgemon/gateway/core/fleet_state.h"

namespace edgemon::gateway {
namespace {

using Hosts = std::vector<std::string>;

// Appends a metric slot to `n`, indexed by name as FleetState keeps it.
MetricSlot& add_slot(NodeState& n, const std::string& name) {
  MetricSlot m;
  m.key = MetricKey(name);
  n.index[name] = static_cast<std::uint32_t>(n.metrics.size());
  n.metrics.push_back(std::move(m));
  return n.metrics.back();
}

// A node "plant/pi-1" reporting ping targets `reported` and, if not empty, agent/config/version.
NodeState node(const Hosts& reported, const std::string& config_version = "", bool online = true) {
  NodeState n;
  n.group = "plant";
  n.id = "pi-1";
  n.key = "plant/pi-1";
  n.online = online;
  for (const std::string& h : reported) {
    add_slot(n, "ping/" + h + "/up").value = 1.0;
    add_slot(n, "ping/" + h + "/rtt").value = 1.5;
  }
  add_slot(n, "cpu/total").value = 3.0;
  if (!config_version.empty()) {
    MetricSlot& v = add_slot(n, "agent/config/version");
    v.type = MetricType::kString;
    v.text = config_version;
  }
  return n;
}

std::optional<Hosts> hosts_of(const ManagedTargets& t, const std::string& key = "plant/pi-1") {
  const ManagedTargets::Entry* e = t.find(key);
  return e == nullptr ? std::nullopt : std::optional<Hosts>(e->hosts);
}

// Checks that `cmd` is the configuration command for plant/pi-1 with `hosts` and `version`.
void expect_command(const std::optional<NodeCommand>& cmd, const Hosts& hosts, const std::string& version,
                    std::int64_t now_ms) {
  ASSERT_TRUE(cmd.has_value());
  EXPECT_EQ(cmd->group, "plant");
  EXPECT_EQ(cmd->node, "pi-1");
  EXPECT_EQ(cmd->message.kind, MessageKind::kCommand);
  EXPECT_EQ(cmd->message.timestamp_ms, now_ms);
  ASSERT_EQ(cmd->message.metrics.size(), 2u);
  EXPECT_EQ(cmd->message.metrics[0].name, "edgemon/config");
  EXPECT_EQ(cmd->message.metrics[0].text, targets_config_toml(hosts));
  EXPECT_EQ(cmd->message.metrics[1].name, "edgemon/config_version");
  EXPECT_EQ(cmd->message.metrics[1].text, version);
}

TEST(ManagedTargets, HostValidation) {
  for (const char* ok : {"10.0.0.1", "fe80::1", "router.lan", "a-b.example.org", "::1"}) {
    EXPECT_TRUE(validate_target_host(ok).ok()) << ok;
  }
  for (const char* bad : {"", "-rf", ".hidden", "a b", "x\"]\n[agent]", "<script>", "a;b", "a/b"}) {
    EXPECT_FALSE(validate_target_host(bad).ok()) << bad;
  }
  EXPECT_FALSE(validate_target_host(std::string(254, 'a')).ok());
  EXPECT_TRUE(validate_target_host(std::string(253, 'a')).ok());
}

TEST(ManagedTargets, ReportedTargetsComeFromUpMetrics) {
  NodeState n;
  for (const char* name : {"ping/b/up", "ping/b/rtt", "ping/a/up", "cpu/total", "ping//up", "ping/up", "tcp/c/up",
                           "ping/d/rtt", "ping/a/up"}) {
    MetricSlot m;
    m.key = MetricKey(name);
    n.metrics.push_back(m);
  }
  EXPECT_EQ(reported_targets(n), (Hosts{"a", "b"}));
  EXPECT_TRUE(reported_targets(NodeState{}).empty());
}

TEST(ManagedTargets, ConfigTomlListsTheHosts) {
  EXPECT_EQ(targets_config_toml({"10.0.0.1", "router.lan"}), "[ping]\nhosts = [\"10.0.0.1\", \"router.lan\"]\n");
  EXPECT_EQ(targets_config_toml({}), "[ping]\nhosts = []\n");
}

TEST(ManagedTargets, ConfigCommandCarriesTextAndVersion) {
  const TelemetryMessage cmd = config_command("[ping]\nhosts = []\n", "api-7", 7);
  EXPECT_EQ(cmd.kind, MessageKind::kCommand);
  ASSERT_EQ(cmd.metrics.size(), 2u);
  EXPECT_EQ(cmd.metrics[0].name, "edgemon/config");
  EXPECT_EQ(cmd.metrics[0].type, MetricType::kString);
  EXPECT_EQ(cmd.metrics[0].text, "[ping]\nhosts = []\n");
  EXPECT_EQ(cmd.metrics[1].name, "edgemon/config_version");
  EXPECT_EQ(cmd.metrics[1].type, MetricType::kString);
  EXPECT_EQ(cmd.metrics[1].text, "api-7");
}

TEST(ManagedTargets, AddStartsFromWhatTheNodeReportsAndSendsTheListToAnOnlineNode) {
  ManagedTargets t;
  const NodeState n = node({"b", "a"}, "file-1");
  auto c = t.add(n, "c", 1234);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_TRUE(c->changed);
  EXPECT_EQ(c->row.node, "plant/pi-1");
  EXPECT_EQ(c->row.ping_hosts, (std::optional<Hosts>(Hosts{"a", "b", "c"})));
  EXPECT_EQ(c->row.version, "api-1234");
  EXPECT_EQ(c->row.updated_ms, 1234);
  expect_command(c->command, {"a", "b", "c"}, "api-1234", 1234);

  EXPECT_EQ(t.size(), 1u);
  EXPECT_EQ(hosts_of(t), (Hosts{"a", "b", "c"}));
  ASSERT_NE(t.find("plant/pi-1"), nullptr);
  EXPECT_EQ(t.find("plant/pi-1")->version, "api-1234");
  EXPECT_EQ(t.find("plant/pi-1")->updated_ms, 1234);
  EXPECT_EQ(t.find("plant/pi-2"), nullptr);
  EXPECT_TRUE(t.managed("plant/pi-1", "c"));
  EXPECT_TRUE(t.managed("plant/pi-1", "a"));
  EXPECT_FALSE(t.managed("plant/pi-1", "z"));
  EXPECT_FALSE(t.managed("plant/pi-2", "c"));

  // The next change starts from the wanted list, not from what the node still reports.
  auto d = t.add(n, "d", 2000);
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_TRUE(d->changed);
  EXPECT_EQ(d->row.ping_hosts, (std::optional<Hosts>(Hosts{"a", "b", "c", "d"})));
  EXPECT_EQ(d->row.version, "api-2000");
  expect_command(d->command, {"a", "b", "c", "d"}, "api-2000", 2000);
}

TEST(ManagedTargets, AddingAHostThatIsThereAlreadyChangesNothing) {
  ManagedTargets t;
  const NodeState n = node({"a"}, "file-1");
  auto same = t.add(n, "a", 1000);  // reported, not yet managed
  ASSERT_TRUE(same) << same.error().message;
  EXPECT_FALSE(same->changed);
  EXPECT_FALSE(same->command.has_value());
  EXPECT_EQ(t.size(), 0u) << "nothing to manage yet";

  ASSERT_TRUE(t.add(n, "b", 2000));
  auto again = t.add(n, "b", 3000);
  ASSERT_TRUE(again);
  EXPECT_FALSE(again->changed);
  EXPECT_FALSE(again->command.has_value());
  EXPECT_EQ(t.find("plant/pi-1")->version, "api-2000") << "the version is not bumped for nothing";
  EXPECT_EQ(t.find("plant/pi-1")->updated_ms, 2000);
}

TEST(ManagedTargets, RemoveDropsTheHostAndAnAbsentHostIsNotFound) {
  ManagedTargets t;
  const NodeState n = node({"a", "b", "c"}, "file-1");
  auto r = t.remove(n, "b", 500);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(r->changed);
  EXPECT_EQ(r->row.ping_hosts, (std::optional<Hosts>(Hosts{"a", "c"})));
  EXPECT_EQ(r->row.version, "api-500");
  EXPECT_EQ(r->row.updated_ms, 500);
  expect_command(r->command, {"a", "c"}, "api-500", 500);
  EXPECT_FALSE(t.managed("plant/pi-1", "b"));

  auto absent = t.remove(n, "b", 600);  // the node still reports b, but it is no longer wanted
  ASSERT_FALSE(absent);
  EXPECT_EQ(absent.error().code, ErrorCode::kNotFound);
  auto never = t.remove(node({}), "zz", 600);
  ASSERT_FALSE(never);
  EXPECT_EQ(never.error().code, ErrorCode::kNotFound);
  auto bad = t.remove(n, "a b", 600);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(hosts_of(t), (Hosts{"a", "c"})) << "failed changes leave the list alone";
  EXPECT_EQ(t.find("plant/pi-1")->version, "api-500");

  // Down to an empty list: still a list to send.
  ASSERT_TRUE(t.remove(n, "a", 700));
  auto last = t.remove(n, "c", 800);
  ASSERT_TRUE(last);
  EXPECT_EQ(last->row.ping_hosts, (std::optional<Hosts>(Hosts{})));
  expect_command(last->command, {}, "api-800", 800);
}

TEST(ManagedTargets, ACommandGoesOnlyToAnOnlineNodeReportingAnotherVersion) {
  ManagedTargets t;
  // Offline: stored, sent later.
  auto offline = t.add(node({"a"}, "file-1", false), "b", 1000);
  ASSERT_TRUE(offline);
  EXPECT_TRUE(offline->changed);
  EXPECT_EQ(offline->row.version, "api-1000");
  EXPECT_FALSE(offline->command.has_value());

  // Born again reporting another version (an older file): sent.
  expect_command(t.push_if_needed(node({"a"}, "file-1"), 5000), {"a", "b"}, "api-1000", 5000);
  // Without any version yet: sent.
  expect_command(t.push_if_needed(node({"a"}), 5000), {"a", "b"}, "api-1000", 5000);
  // Reporting the wanted version: nothing to do.
  EXPECT_FALSE(t.push_if_needed(node({"a", "b"}, "api-1000"), 5000).has_value());
  // Offline: nothing, whatever it reported last.
  EXPECT_FALSE(t.push_if_needed(node({"a"}, "file-1", false), 5000).has_value());
  // A node that is not managed: nothing.
  NodeState other = node({"a"}, "file-1");
  other.key = "plant/pi-2";
  other.id = "pi-2";
  EXPECT_FALSE(t.push_if_needed(other, 5000).has_value());

  // A change the node already reports (same millisecond label): stored, nothing to send.
  auto applied = t.add(node({"a", "b"}, "api-6000"), "c", 6000);
  ASSERT_TRUE(applied);
  EXPECT_TRUE(applied->changed);
  EXPECT_FALSE(applied->command.has_value());
}

TEST(ManagedTargets, BadHostsAndTooManyAreInvalidArguments) {
  ManagedTargets t;
  const NodeState n = node({"a"}, "file-1");
  for (const char* bad : {"", "a b", "-rf", "x\"]\n[agent]"}) {
    auto r = t.add(n, bad, 1);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument) << bad;
  }
  EXPECT_EQ(t.size(), 0u);

  // 255 wanted: one more fits, the 257th does not.
  Hosts many;
  for (int i = 0; i < 255; ++i) many.push_back("h" + std::to_string(i));
  ASSERT_EQ(t.restore(std::vector<NodeConfig>{NodeConfig{"plant/pi-1", many, "api-1", 1}}), 0u);
  auto fits = t.add(n, "last", 2);
  ASSERT_TRUE(fits) << fits.error().message;
  EXPECT_EQ(fits->row.ping_hosts->size(), ManagedTargets::kMaxTargets);
  auto over = t.add(n, "one-more", 3);
  ASSERT_FALSE(over);
  EXPECT_EQ(over.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(over.error().message.find("256"), std::string::npos) << over.error().message;
  EXPECT_EQ(hosts_of(t)->size(), 256u);
  EXPECT_EQ(t.find("plant/pi-1")->version, "api-2");
  // At the cap, adding a host that is there already is no change (not an error) and removing works.
  auto same = t.add(n, "h7", 4);
  ASSERT_TRUE(same);
  EXPECT_FALSE(same->changed);
  auto removed = t.remove(n, "h7", 5);
  ASSERT_TRUE(removed);
  EXPECT_EQ(removed->row.ping_hosts->size(), 255u);
}

TEST(ManagedTargets, RestoreSkipsAndCountsUnreadableRows) {
  ManagedTargets t;
  const std::vector<NodeConfig> rows = {
      NodeConfig{"plant/ok", Hosts{"10.0.0.1", "router.lan"}, "api-10", 10},
      NodeConfig{"plant/unreadable", std::nullopt, "api-11", 11},
      NodeConfig{"plant/bad-host", Hosts{"10.0.0.1", "a b"}, "api-12", 12},
      NodeConfig{"plant/empty", Hosts{}, "api-13", 13},
      NodeConfig{"plant/injected", Hosts{"x\"]\n[agent]"}, "api-14", 14},
  };
  EXPECT_EQ(t.restore(rows), 3u);
  EXPECT_EQ(t.size(), 2u);
  EXPECT_EQ(hosts_of(t, "plant/ok"), (Hosts{"10.0.0.1", "router.lan"}));
  ASSERT_NE(t.find("plant/ok"), nullptr);
  EXPECT_EQ(t.find("plant/ok")->version, "api-10");
  EXPECT_EQ(t.find("plant/ok")->updated_ms, 10);
  EXPECT_EQ(hosts_of(t, "plant/empty"), Hosts{}) << "an empty list is wanted too (no targets)";
  EXPECT_EQ(t.find("plant/unreadable"), nullptr);
  EXPECT_EQ(t.find("plant/bad-host"), nullptr);
  EXPECT_EQ(t.find("plant/injected"), nullptr);
  EXPECT_EQ(t.restore(std::vector<NodeConfig>{}), 0u);
}

}  // namespace
}  // namespace edgemon::gateway
