// The dashboard in a real headless Chromium (Debian's, driven by playwright-core): the page shows
// this test's node and its CPU value updates live, with no reload. Saves a screenshot.
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
  std::filesystem::remove(shot);
  const auto r = run_command({EDGEMON_NODE, std::string(EDGEMON_SOURCE_DIR) + "/tests/browser/dashboard_live.cjs",
                              "--url", fleet.url(), "--node", "browser-pi", "--screenshot", shot,
                              "--timeout-ms", "40000"},
                             60s);
  EXPECT_EQ(r.exit_code, 0) << r.output << "\n" << fleet.logs();
  EXPECT_TRUE(std::filesystem::exists(shot));
  std::printf("%s", r.output.c_str());
}

}  // namespace
}  // namespace edgemon::test
