// Silences through the API: added, listed, changed, kept across a gateway restart (in the
// alert-state snapshot), removed; bad input refused; configured ones and maintenance windows are
// read-only. (Suppression itself: tests/unit/rules.)
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/test_fleet.h"
#include "support/ws_client.h"

namespace edgemon::test {
namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;

HttpResponse send(std::uint16_t port, const std::string& method, const std::string& path, const std::string& body = "") {
  return http_send(port, method, path, body);
}

TEST(SilencesApi, AddListSurviveRestartAndRemove) {
  TestFleet fleet;
  const std::uint16_t port = fleet.http_port();
  const HttpResponse add = send(port, "POST", "/api/silences",
                                R"({"match":{"node":"edgemon/pi-03","type":"NODE_DOWN"},"duration":"2h","comment":"moving the rack"})");
  ASSERT_EQ(add.status, 201) << add.body;
  const json created = json::parse(add.body);
  const auto id = created["id"].get<std::uint64_t>();
  EXPECT_EQ(created["match"]["node"], "edgemon/pi-03");
  EXPECT_TRUE(created["active"].get<bool>());
  EXPECT_EQ(created["comment"], "moving the rack");

  for (const char* bad : {R"({"match":{},"duration":"1h"})", R"({"match":{"colour":"red"},"duration":"1h"})",
                          R"({"match":{"node":"x"}})", R"({"match":{"node":"x"},"duration":"soon"})",
                          R"({"match":{"node":"x"},"until":1000})", "[]", "not json"}) {
    EXPECT_EQ(send(port, "POST", "/api/silences", bad).status, 400) << bad;
  }

  // Extended and re-commented in place (PATCH): same id, the members given replace the old ones.
  const HttpResponse patch = send(port, "PATCH", "/api/silences/" + std::to_string(id),
                                  R"({"duration":"3h","comment":"rack moved, cabling left"})");
  ASSERT_EQ(patch.status, 200) << patch.body;
  const json patched = json::parse(patch.body);
  EXPECT_EQ(patched["id"], id);
  EXPECT_GT(patched["until"].get<std::int64_t>(), created["until"].get<std::int64_t>());
  EXPECT_EQ(patched["comment"], "rack moved, cabling left");
  EXPECT_EQ(patched["match"], created["match"]) << "members not given stay";
  EXPECT_EQ(send(port, "PATCH", "/api/silences/" + std::to_string(id), R"({"until":1000})").status, 400);
  EXPECT_EQ(send(port, "PATCH", "/api/silences/" + std::to_string(id), R"({"match":{"colour":"red"}})").status, 400);
  EXPECT_EQ(send(port, "PATCH", "/api/silences/9999", R"({"duration":"1h"})").status, 404);

  // The snapshot that keeps it is written by the next rules tick (250 ms); then restart.
  std::this_thread::sleep_for(1s);
  fleet.gateway().stop(SIGTERM, 5s);
  fleet.restart_gateway();
  const HttpResponse list = send(port, "GET", "/api/silences");
  ASSERT_EQ(list.status, 200);
  const json all = json::parse(list.body);
  ASSERT_EQ(all.size(), 1u) << list.body;
  EXPECT_EQ(all[0]["id"], id);
  EXPECT_EQ(all[0]["until"], patched["until"]);
  EXPECT_EQ(all[0]["comment"], "rack moved, cabling left");

  EXPECT_EQ(send(port, "DELETE", "/api/silences/" + std::to_string(id)).status, 200);
  EXPECT_EQ(send(port, "DELETE", "/api/silences/" + std::to_string(id)).status, 404);
  EXPECT_EQ(send(port, "DELETE", "/api/silences/abc").status, 404);
  EXPECT_EQ(json::parse(send(port, "GET", "/api/silences").body).size(), 0u);
}

TEST(SilencesApi, ConfiguredMaintenanceWindowsAndSilencesAreReadOnly) {
  TestFleet fleet(true, R"(
[[maintenance]]
name = "weekend <patch> window"
days = ["sat", "sun"]
start = "02:00"
end = "04:30"
utc_offset_minutes = 60
match = { node = "edgemon/rack1-*" }

[[silences]]
match = { node = "edgemon/rack2-*" }
until = 2099-01-01T00:00:00Z
comment = "configured"
)");
  const std::uint16_t port = fleet.http_port();
  const HttpResponse list = send(port, "GET", "/api/maintenance");
  ASSERT_EQ(list.status, 200) << list.body;
  const json all = json::parse(list.body);
  ASSERT_EQ(all.size(), 1u) << list.body;
  EXPECT_EQ(all[0]["name"], "weekend <patch> window");
  EXPECT_EQ(all[0]["days"], json({"sun", "sat"}));
  EXPECT_EQ(all[0]["start"], "02:00");
  EXPECT_EQ(all[0]["end"], "04:30");
  EXPECT_EQ(all[0]["utc_offset_minutes"], 60);
  EXPECT_EQ(all[0]["match"]["node"], "edgemon/rack1-*");
  EXPECT_TRUE(all[0]["active"].is_boolean());
  EXPECT_EQ(send(port, "POST", "/api/maintenance", "{}").status, 405);
  // A configured silence is read-only here.
  const json silences = json::parse(send(port, "GET", "/api/silences").body);
  ASSERT_EQ(silences.size(), 1u) << silences.dump();
  EXPECT_EQ(send(port, "PATCH", "/api/silences/" + std::to_string(silences[0]["id"].get<std::uint64_t>()),
                 R"({"duration":"1h"})").status, 409);
}

}  // namespace
}  // namespace edgemon::test
