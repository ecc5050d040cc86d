// Remote configuration over Sparkplug NCMD, with real processes: `edgemon-gateway push-config`
// sends a TOML config to a running agent, which validates it, applies it without a restart,
// reports the applied version, rejects an invalid one with the reason (keeping the previous), and
// still runs the applied config after a restart.
#include <csignal>

#include <gtest/gtest.h>

#include "support/sparkplug_host.h"
#include "support/test_fleet.h"

namespace edgemon::test {
namespace {

using namespace std::chrono_literals;

std::optional<std::string> text_of(const std::vector<ReceivedMessage>& messages, const std::string& node,
                                   const std::string& metric) {
  std::optional<std::string> v;
  for (const ReceivedMessage& r : messages) {
    if (r.topic.node != node) continue;
    for (const Metric& m : r.message.metrics) {
      // Historical values (the agent's buffer sent again) describe the past, not the current state.
      if (m.name == metric && !m.historical) v = m.text;
    }
  }
  return v;
}

bool has_metric_after_birth(const std::vector<ReceivedMessage>& messages, const std::string& node,
                            const std::string& metric) {
  // The latest NBIRTH lists the node's current metric set.
  const ReceivedMessage* birth = nullptr;
  for (const ReceivedMessage& r : messages) {
    if (r.topic.node == node && r.topic.kind == MessageKind::kBirth) birth = &r;
  }
  if (birth == nullptr) return false;
  for (const Metric& m : birth->message.metrics) {
    if (m.name == metric) return true;
  }
  return false;
}

int push(const TestFleet& fleet, const std::string& node, const std::string& version, const std::string& toml) {
  const std::string path = fleet.dir().file("push-" + version + ".toml");
  write_file(path, toml);
  const auto r = run_command({EDGEMON_GATEWAY_BIN, "push-config", "--node", node, "--version", version, "--port",
                              std::to_string(const_cast<TestFleet&>(fleet).broker().port()), path},
                             20s);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  return r.exit_code;
}

TEST(RemoteConfig, AppliedWithoutRestartInvalidRejectedAndKeptAcrossRestart) {
  TestFleet fleet(/*with_gateway=*/false);
  SparkplugHost host(fleet.broker().port(), "test-host");
  host.set_online(true);
  const AgentOptions options{.node_id = "rc-1", .interval_s = 0.2, .ping_hosts = {"127.0.0.1"},
                             .config_toml = "[telemetry]\nprimary_host = \"test-host\"\n"};
  fleet.start_agent(options);
  ASSERT_TRUE(host.wait_for([](const auto& m) { return has_metric_after_birth(m, "rc-1", "ping/127.0.0.1/rtt"); }, 15s))
      << fleet.logs();
  const pid_t pid = fleet.agent("rc-1").pid();

  // A valid config: a second target. The same process starts probing it.
  ASSERT_EQ(push(fleet, "rc-1", "v2", "[ping]\nhosts = [\"127.0.0.1\", \"127.0.0.2\"]\n"), 0);
  ASSERT_TRUE(host.wait_for([](const auto& m) {
    return has_metric_after_birth(m, "rc-1", "ping/127.0.0.2/rtt") && text_of(m, "rc-1", "agent/config/version") == "v2";
  }, 10s)) << fleet.logs();
  EXPECT_EQ(text_of(resolve_aliases(host.messages()), "rc-1", "agent/config/status"), "applied");
  EXPECT_EQ(fleet.agent("rc-1").pid(), pid);
  EXPECT_TRUE(fleet.agent("rc-1").running());

  // An invalid one: rejected with the reason, v2 keeps running.
  ASSERT_EQ(push(fleet, "rc-1", "v3", "[agent]\ninterval = -5\n"), 0);
  ASSERT_TRUE(host.wait_for([](const auto& m) {
    const auto status = text_of(m, "rc-1", "agent/config/status");
    return status && status->rfind("rejected", 0) == 0;
  }, 10s)) << fleet.logs();
  const auto messages = resolve_aliases(host.messages());
  EXPECT_NE(text_of(messages, "rc-1", "agent/config/status")->find("agent.interval"), std::string::npos);
  EXPECT_EQ(text_of(messages, "rc-1", "agent/config/version"), "v2");
  EXPECT_TRUE(has_metric_after_birth(messages, "rc-1", "ping/127.0.0.2/rtt"));

  // A restart keeps the applied config (persisted in the agent's state directory).
  ASSERT_TRUE(fleet.agent("rc-1").stop(SIGTERM, 5s));
  const std::size_t births = [&] {
    std::size_t n = 0;
    for (const auto& r : host.messages()) n += r.topic.kind == MessageKind::kBirth ? 1u : 0u;
    return n;
  }();
  fleet.start_agent(options);
  ASSERT_TRUE(host.wait_for([&](const auto& m) {
    std::size_t n = 0;
    for (const auto& r : m) n += r.topic.kind == MessageKind::kBirth ? 1u : 0u;
    return n > births && has_metric_after_birth(m, "rc-1", "ping/127.0.0.2/rtt");
  }, 15s)) << fleet.logs();
}

}  // namespace
}  // namespace edgemon::test
