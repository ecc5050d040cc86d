// The dashboard in a real headless Chromium (Debian's, driven by playwright-core): the login page
// (one wrong password shows the gateway's error), logging in, this test's node with its CPU value
// updating live with no reload, the node's detail page with a history chart that grows live, the
// overview's search, group filter and active-alerts strip, the ping target's page (latency chart,
// check log, uptime), the alerts page (one firing and one silenced alert, incidents, events), the
// reports page with its downloads, phone width, and logging out. Saves screenshots of the login,
// overview, node detail, target detail, alerts and reports pages.
#include <filesystem>

#include <gtest/gtest.h>

#include "support/test_fleet.h"

namespace edgemon::test {
namespace {

using namespace std::chrono_literals;

TEST(Dashboard, ShowsLiveNodeInChromium) {
  ASSERT_TRUE(std::filesystem::exists("/usr/bin/chromium")) << "Debian chromium missing: run .ci/deps";
  // Two rules that fire at once for any node: a warning on the ping RTT (shown as firing) and an
  // info on the CPU, silenced by a configured silence (shown as silenced).
  const std::string rules = R"(
[[rules]]
name = "browser_rtt"
metric = "ping/*/rtt"
op = ">="
threshold = 0
samples = 1
type = "BROWSER_RTT"
severity = "warning"

[[rules]]
name = "browser_cpu"
metric = "cpu/total"
op = ">="
threshold = 0
samples = 1
type = "BROWSER_CPU"
severity = "info"

[[silences]]
match = { type = "BROWSER_CPU" }
until = 2099-01-01T00:00:00Z
comment = "silenced by the browser test"
)";
  TestFleet fleet(/*with_gateway=*/true, rules);
  fleet.start_agent({.node_id = "browser-pi", .interval_s = 0.5});
  const std::string shots = std::string(EDGEMON_BINARY_DIR) + "/screenshots";
  std::filesystem::create_directories(shots);
  const std::string shot = shots + "/dashboard-overview.png";
  const std::string login_shot = shots + "/login.png";
  const std::string detail_shot = shots + "/node-detail.png";
  const std::string target_shot = shots + "/target-detail.png";
  const std::string alerts_shot = shots + "/alerts.png";
  const std::string reports_shot = shots + "/reports.png";
  for (const auto& f : {shot, login_shot, detail_shot, target_shot, alerts_shot, reports_shot}) {
    std::filesystem::remove(f);
  }
  const auto r = run_command({EDGEMON_NODE, std::string(EDGEMON_SOURCE_DIR) + "/tests/browser/dashboard_live.cjs",
                              "--url", fleet.url(), "--node", "browser-pi", "--user", TestFleet::kAdminUser,
                              "--password", TestFleet::kAdminPassword, "--screenshot", shot, "--login-screenshot",
                              login_shot, "--detail-screenshot", detail_shot, "--target-screenshot", target_shot,
                              "--alerts-screenshot", alerts_shot, "--reports-screenshot", reports_shot,
                              "--expect-alerts", "--timeout-ms", "90000"},
                             120s);
  EXPECT_EQ(r.exit_code, 0) << r.output << "\n" << fleet.logs();
  EXPECT_TRUE(std::filesystem::exists(shot));
  EXPECT_TRUE(std::filesystem::exists(login_shot));
  EXPECT_TRUE(std::filesystem::exists(detail_shot));
  EXPECT_TRUE(std::filesystem::exists(target_shot));
  EXPECT_TRUE(std::filesystem::exists(alerts_shot));
  EXPECT_TRUE(std::filesystem::exists(reports_shot));
  std::printf("%s", r.output.c_str());
}

}  // namespace
}  // namespace edgemon::test
