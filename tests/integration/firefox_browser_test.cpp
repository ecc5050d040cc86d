// The dashboard in Firefox (Debian's firefox-esr, headless, driven by puppeteer-core over WebDriver
// BiDi; tests/browser/firefox_smoke.cjs): logging in, this test's node live with its CPU value
// updating, the node's detail page with its CPU chart drawn, and the alerts, reports and
// admin/targets pages rendering, with no page or console error. The full checks run in Chromium
// (dashboard_browser_test.cpp); this one backs the "works in Chromium and Firefox" promise.
#include <filesystem>

#include <gtest/gtest.h>

#include "support/test_fleet.h"

namespace edgemon::test {
namespace {

using namespace std::chrono_literals;

TEST(Firefox, ShowsLiveNodeAndEveryPage) {
  // Not a skip: a missing install step is a bug.
  ASSERT_TRUE(std::filesystem::exists("/usr/bin/firefox-esr")) << "Debian firefox-esr missing: run .ci/deps";
  TestFleet fleet(/*with_gateway=*/true);
  fleet.start_agent({.node_id = "firefox-pi", .interval_s = 0.5});
  const std::string shots = std::string(EDGEMON_BINARY_DIR) + "/screenshots";
  std::filesystem::create_directories(shots);
  const std::string shot = shots + "/firefox-node-detail.png";
  std::filesystem::remove(shot);
  const auto r = run_command({EDGEMON_NODE, std::string(EDGEMON_SOURCE_DIR) + "/tests/browser/firefox_smoke.cjs",
                              "--url", fleet.url(), "--node", "firefox-pi", "--user", TestFleet::kAdminUser,
                              "--password", TestFleet::kAdminPassword, "--screenshot", shot, "--timeout-ms", "90000"},
                             120s);
  EXPECT_EQ(r.exit_code, 0) << r.output << "\n" << fleet.logs();
  EXPECT_TRUE(std::filesystem::exists(shot));
  std::printf("%s", r.output.c_str());
}

}  // namespace
}  // namespace edgemon::test
