// The dashboard in a real headless Chromium (Debian's, driven by playwright-core): the login page
// (one wrong password shows the gateway's error), logging in, this test's node with its CPU value
// updating live with no reload, the node's detail page with a history chart that grows live, and
// logging out. Saves screenshots of the login, overview and node detail pages.
#include <filesystem>

#include <gtest/gtest.h>

#include "support/test_fleet.h"

namespace edgemon::test {
namespace {

using namespace std::chrono_literals;

TEST(Dashboard, ShowsLiveNodeInChromium) {
  ASSERT_TRUE(std::filesystem::exists("/usr/bin/chromium")) << "Debian chromium missing: run .ci/deps";
  TestFleet fleet;
  fleet.start_agent({.node_id = "browser-pi", .interval_s = 0.5});
  const std::string shots = std::string(EDGEMON_BINARY_DIR) + "/screenshots";
  std::filesystem::create_directories(shots);
  const std::string shot = shots + "/dashboard-overview.png";
  const std::string login_shot = shots + "/login.png";
  const std::string detail_shot = shots + "/node-detail.png";
  for (const auto& f : {shot, login_shot, detail_shot}) std::filesystem::remove(f);
  const auto r = run_command({EDGEMON_NODE, std::string(EDGEMON_SOURCE_DIR) + "/tests/browser/dashboard_live.cjs",
                              "--url", fleet.url(), "--node", "browser-pi", "--user", TestFleet::kAdminUser,
                              "--password", TestFleet::kAdminPassword, "--screenshot", shot, "--login-screenshot",
                              login_shot, "--detail-screenshot", detail_shot, "--timeout-ms", "60000"},
                             90s);
  EXPECT_EQ(r.exit_code, 0) << r.output << "\n" << fleet.logs();
  EXPECT_TRUE(std::filesystem::exists(shot));
  EXPECT_TRUE(std::filesystem::exists(login_shot));
  EXPECT_TRUE(std::filesystem::exists(detail_shot));
  std::printf("%s", r.output.c_str());
}

}  // namespace
}  // namespace edgemon::test
