// Issue #8's acceptance tests in a real headless Chromium (Debian's, driven by playwright-core):
//   * FleetOutage: two real agents with a 4 s MQTT keepalive and a gateway with a node_down rule;
//     one agent is SIGKILLed while the dashboard is open: its card must show DOWN and an active
//     alert about it must appear within 1.5 x keepalive + 2 s, without a reload; after a restart
//     the card is HEALTHY again and the alert gone; then the restarted agent is SIGSTOPped (a hung
//     node with its TCP connection open: only the keepalive can tell): the same bound, and it
//     recovers after SIGCONT (tests/browser/fleet_outage.cjs).
//   * HostileNames: a device publishes markup as its node id (refused by the gateway) and as ping
//     target labels and metric names of a valid node (with a rule that fires on them): the
//     overview, the active alerts, the node's detail page and the alerts page show the strings as
//     text, and nothing runs; a real agent whose display name ([agent] name, the string metric
//     agent/name) is markup is titled by that exact text on its card, its detail page and its
//     alert (tests/browser/hostile_names.cjs).
#include <sys/wait.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "edgemon/common/telemetry.h"
#include "support/sparkplug_host.h"
#include "support/test_fleet.h"
#include "support/ws_client.h"

namespace edgemon::test {
namespace {

using namespace std::chrono_literals;

std::string screenshot(const std::string& name) {
  const std::string shots = std::string(EDGEMON_BINARY_DIR) + "/screenshots";
  std::filesystem::create_directories(shots);
  const std::string file = shots + "/" + name;
  std::filesystem::remove(file);
  return file;
}

std::int64_t epoch_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

TEST(FleetOutage, KilledAgentShowsDownAndAlertInChromium) {
  ASSERT_TRUE(std::filesystem::exists("/usr/bin/chromium")) << "Debian chromium missing: run .ci/deps";
  TestFleet fleet(true, "[[rules]]\nname = \"node_death\"\nkind = \"node_down\"\nseverity = \"critical\"\n");
  constexpr int kKeepalive = 4;
  const std::string agent_toml = "[mqtt]\nkeepalive = " + std::to_string(kKeepalive) + "\n";
  const AgentOptions keep{.node_id = "keep-pi", .interval_s = 0.5, .config_toml = agent_toml};
  const AgentOptions victim{.node_id = "kill-pi", .interval_s = 0.5, .config_toml = agent_toml};
  fleet.start_agent(keep);
  fleet.start_agent(victim);

  const std::string control = fleet.dir().file("outage-control");
  std::filesystem::create_directories(control);
  const std::string shot = screenshot("fleet-outage.png");
  ChildProcess browser = ChildProcess::start(
      {EDGEMON_NODE, std::string(EDGEMON_SOURCE_DIR) + "/tests/browser/fleet_outage.cjs", "--url", fleet.url(), "--user",
       TestFleet::kAdminUser, "--password", TestFleet::kAdminPassword, "--nodes", "keep-pi,kill-pi", "--victim",
       "kill-pi", "--victim-pid", std::to_string(fleet.agent("kill-pi").pid()), "--control-dir", control,
       "--keepalive-s", std::to_string(kKeepalive), "--screenshot", shot, "--freeze", "--timeout-ms", "120000"},
      fleet.dir().file("browser-outage.log"));

  // The script kills the agent itself (for an exact kill time) and asks for the restart through
  // <control>/restart; the fleet restarts it (same node id, state dir and keepalive) and writes
  // "<epoch ms of the new process's start> <its pid>" to <control>/restarted (the script then also
  // SIGSTOPs/SIGCONTs that process: a hung node that only the MQTT keepalive can detect).
  std::optional<int> status;
  bool restarted = false;
  const auto until = std::chrono::steady_clock::now() + 150s;
  while (!(status = browser.wait(50ms)) && std::chrono::steady_clock::now() < until) {
    if (!restarted && std::filesystem::exists(control + "/restart")) {
      const std::int64_t at = epoch_ms();
      fleet.start_agent(victim);
      write_file(control + "/restarted.tmp", std::to_string(at) + " " + std::to_string(fleet.agent("kill-pi").pid()));
      std::filesystem::rename(control + "/restarted.tmp", control + "/restarted");
      restarted = true;
    }
  }
  if (!status) browser.stop(SIGTERM, 10s);
  const std::string out = browser.log();
  ASSERT_TRUE(status.has_value()) << "fleet_outage.cjs did not finish\n" << out << fleet.logs();
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << out << "\n" << fleet.logs();
  EXPECT_TRUE(restarted) << out;
  EXPECT_TRUE(std::filesystem::exists(shot));
  std::printf("%s", out.c_str());
}

TEST(HostileNames, RenderAsTextInChromium) {
  ASSERT_TRUE(std::filesystem::exists("/usr/bin/chromium")) << "Debian chromium missing: run .ci/deps";
  // A rule that fires on every hostile sensor: the strings reach the active alerts too. A second
  // one always fires for the named agent (cpu/total >= -1): its alert names it by display name.
  TestFleet fleet(true, "[[rules]]\nname = \"hostile_probe\"\nmetric = \"sensor/*\"\nthreshold = 10\nsamples = 1\n"
                        "severity = \"warning\"\n"
                        "[[rules]]\nname = \"named_probe\"\nmetric = \"cpu/total\"\nop = \">=\"\nthreshold = -1\n"
                        "samples = 1\nseverity = \"warning\"\nnodes = [\"*named-1\"]\n");
  const std::vector<std::string> strings = {"<img src=x onerror=alert(1)>", "<img src=x onerror=window.__xss=1>",
                                            "\"><svg onload=alert(2)>"};
  const std::string rejected_id = strings[0];
  // 3. A real agent whose display name is markup (published as the string metric agent/name).
  const std::string display_name = "<img src=x onerror=alert(1)>";
  fleet.start_agent({.node_id = "named-1", .interval_s = 0.5, .config_toml = "[agent]\nname = \"" + display_name + "\"\n"});

  SparkplugHost device(fleet.broker().port(), "evil-device");
  for (int i = 0; i < 100 && !device.connected(); ++i) std::this_thread::sleep_for(50ms);
  ASSERT_TRUE(device.connected());
  const auto rejected = [&] {
    const auto j = nlohmann::json::parse(http_get(fleet.http_port(), "/api/health"), nullptr, false);
    return j.is_object() ? j.value("messages_rejected", std::uint64_t{0}) : std::uint64_t{0};
  };
  const std::uint64_t rejected_before = rejected();

  TelemetryMessage birth;
  birth.kind = MessageKind::kBirth;
  birth.timestamp_ms = epoch_ms();
  birth.bd_seq = 0;
  birth.metrics.push_back(make_metric("cpu/total", "%", 12.5, birth.timestamp_ms));
  // 1. Markup as the node id: MQTT allows it in a topic level; the gateway must refuse it.
  ASSERT_TRUE(device.client()
                  .publish_and_wait(format_topic("edgemon", MessageKind::kBirth, rejected_id),
                                    encode(Encoding::kSparkplug, birth), 1, false, 2s)
                  .ok());
  // 2. Markup as ping target labels (the first one down: it lands in the status reason) and
  //    as sensor names (the rule above fires on each).
  for (std::size_t i = 0; i < strings.size(); ++i) {
    const bool up = i != 0;
    birth.metrics.push_back(make_metric("ping/" + strings[i] + "/up", "", up ? 1.0 : 0.0, birth.timestamp_ms));
    birth.metrics.push_back(make_metric("ping/" + strings[i] + "/rtt", "ms",
                                        up ? std::optional<double>(1.5) : std::nullopt, birth.timestamp_ms));
    birth.metrics.push_back(make_metric("sensor/" + strings[i], "", 42.5, birth.timestamp_ms));
  }
  ASSERT_TRUE(device.client()
                  .publish_and_wait(format_topic("edgemon", MessageKind::kBirth, "evil-1"),
                                    encode(Encoding::kSparkplug, birth), 1, false, 2s)
                  .ok());
  for (int i = 0; i < 100 && rejected() == rejected_before; ++i) std::this_thread::sleep_for(50ms);
  EXPECT_GT(rejected(), rejected_before) << "the gateway accepted a node id with markup";

  // The gateway passes the agent's display name on verbatim (the dashboard must render it as text).
  std::string published;
  for (int i = 0; i < 200 && published.empty(); ++i) {
    const auto node = nlohmann::json::parse(http_get(fleet.http_port(), "/api/nodes/edgemon/named-1"), nullptr, false);
    if (node.is_object() && node.contains("metrics") && node["metrics"].is_array()) {
      for (const auto& m : node["metrics"]) {
        if (m.value("name", "") == "agent/name" && m.contains("value") && m["value"].is_string()) published = m["value"];
      }
    }
    if (published.empty()) std::this_thread::sleep_for(50ms);
  }
  ASSERT_EQ(published, display_name) << "agent/name of named-1 not published as configured\n" << fleet.logs();

  const nlohmann::json strings_json = strings;
  const std::string shot = screenshot("hostile-names.png");
  const auto r = run_command({EDGEMON_NODE, std::string(EDGEMON_SOURCE_DIR) + "/tests/browser/hostile_names.cjs", "--url",
                              fleet.url(), "--user", TestFleet::kAdminUser, "--password", TestFleet::kAdminPassword,
                              "--node", "evil-1", "--strings", strings_json.dump(), "--rejected-id", rejected_id,
                              "--named-node", "named-1", "--display-name", display_name, "--screenshot", shot,
                              "--timeout-ms", "60000"},
                             90s);
  EXPECT_EQ(r.exit_code, 0) << r.output << "\n" << fleet.logs();
  EXPECT_TRUE(std::filesystem::exists(shot));
  std::printf("%s", r.output.c_str());
}

}  // namespace
}  // namespace edgemon::test
