// The admin pages in a real headless Chromium (Debian's, driven by playwright-core,
// tests/browser/admin_targets.cjs): an admin adds a ping target to a running agent in
// #/admin/targets, the target's page shows measurements of it within 10 s of the click, and
// removing it in the UI (confirmed) takes it off the list. On the way it creates a silence and an
// API token in the UI, and a rule when the gateway has the rules API. Saves a screenshot of every
// admin section (screenshots/admin-<section>.png), the targets page at phone width and the
// target's page.
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/test_fleet.h"

namespace edgemon::test {
namespace {

using namespace std::chrono_literals;

TEST(Admin, AddTargetInUi) {
  ASSERT_TRUE(std::filesystem::exists("/usr/bin/chromium")) << "Debian chromium missing: run .ci/deps";
  TestFleet fleet;
  fleet.start_agent({.node_id = "admin-pi", .group = "edgemon", .interval_s = 0.5, .ping_hosts = {"127.0.0.1"}});
  const std::string shots = std::string(EDGEMON_BINARY_DIR) + "/screenshots";
  std::filesystem::create_directories(shots);
  const std::vector<std::string> files = {"admin-targets.png", "admin-rules.png",         "admin-silences.png",
                                          "admin-users.png",   "admin-tokens.png",        "admin-targets-phone.png",
                                          "admin-target-page.png"};
  for (const auto& f : files) std::filesystem::remove(shots + "/" + f);
  std::filesystem::remove(shots + "/admin-failure.png");
  const auto r = run_command({EDGEMON_NODE, std::string(EDGEMON_SOURCE_DIR) + "/tests/browser/admin_targets.cjs",
                              "--url", fleet.url(), "--group", "edgemon", "--node", "admin-pi", "--host",
                              "127.0.0.2", "--user", TestFleet::kAdminUser, "--password",
                              TestFleet::kAdminPassword, "--screenshot-dir", shots, "--max-measure-ms", "10000",
                              "--timeout-ms", "90000"},
                             150s);
  EXPECT_EQ(r.exit_code, 0) << r.output << "\n" << fleet.logs();
  for (const auto& f : files) EXPECT_TRUE(std::filesystem::exists(shots + "/" + f)) << f;
  std::printf("%s", r.output.c_str());
}

}  // namespace
}  // namespace edgemon::test
