// Ping targets added and removed through the API reach a real agent over Sparkplug NCMD, survive
// restarts of either side, and are sent again to a node that comes back with an older config.
#include <filesystem>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/test_fleet.h"
#include "support/ws_client.h"

namespace edgemon::test {
namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

json get(std::uint16_t port, const std::string& path) {
  int status = 0;
  const std::string body = http_get(port, path, &status);
  if (status != 200) return json();
  return json::parse(body, nullptr, false);
}

HttpResponse send(std::uint16_t port, const std::string& method, const std::string& path, const std::string& body = "") {
  return http_send(port, method, path, body);
}

// The node's live value of `metric` from /api/nodes, if it has one.
std::optional<double> live_value(std::uint16_t port, const std::string& node, const std::string& metric) {
  const json nodes = get(port, "/api/nodes");
  if (!nodes.is_array()) return std::nullopt;
  for (const json& n : nodes) {
    if (n.value("id", "") != node) continue;
    for (const json& m : n["metrics"]) {
      if (m.value("name", "") == metric && m["value"].is_number() && !m.value("stale", false)) return m["value"].get<double>();
    }
  }
  return std::nullopt;
}

// Polls GET .../targets until the reported list is `want` and nothing is pending.
bool targets_become(std::uint16_t port, const std::string& path, const std::vector<std::string>& want,
                    std::chrono::milliseconds timeout, json* last) {
  const auto until = Clock::now() + timeout;
  while (Clock::now() < until) {
    *last = get(port, path);
    if (last->is_object() && (*last)["targets"] == json(want) && !(*last)["pending"].get<bool>()) return true;
    std::this_thread::sleep_for(100ms);
  }
  return false;
}

TEST(TargetsApi, AddedTargetIsProbedWithinTenSecondsRemovedOneIsGoneAndBothSurviveRestarts) {
  TestFleet fleet;
  const std::uint16_t port = fleet.http_port();
  const AgentOptions agent{.node_id = "tgt-1", .interval_s = 0.5, .ping_hosts = {"127.0.0.1"}};
  fleet.start_agent(agent);
  const std::string path = "/api/nodes/edgemon/tgt-1/targets";
  json last;
  ASSERT_TRUE(targets_become(port, path, {"127.0.0.1"}, 15s, &last)) << last.dump() << fleet.logs();
  EXPECT_TRUE(last["managed"].is_null());

  // Add: the agent gets it over NCMD and probes it.
  const auto added_at = Clock::now();
  const HttpResponse add = send(port, "POST", path, R"({"host":"127.0.0.2"})");
  ASSERT_EQ(add.status, 202) << add.body;
  EXPECT_EQ(json::parse(add.body)["managed"]["targets"], json({"127.0.0.1", "127.0.0.2"}));
  // (The birth that announces the new target carries it before its first round: up = 0 there.)
  std::optional<double> rtt;
  while (!(rtt = live_value(port, "tgt-1", "ping/127.0.0.2/rtt")) && Clock::now() - added_at < 10s) {
    std::this_thread::sleep_for(100ms);
  }
  ASSERT_TRUE(rtt) << "no answered probe of the added target within 10 s\n" << fleet.logs();
  EXPECT_GT(*rtt, 0.0);
  EXPECT_EQ(live_value(port, "tgt-1", "ping/127.0.0.2/up"), 1.0);
  std::printf("added target answered after %lld ms\n",
              static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - added_at).count()));
  ASSERT_TRUE(targets_become(port, path, {"127.0.0.1", "127.0.0.2"}, 10s, &last)) << last.dump();
  EXPECT_EQ(last["config_status"], "applied");
  EXPECT_EQ(send(port, "POST", path, R"({"host":"127.0.0.2"})").status, 200) << "adding it twice changes nothing";

  // Remove: the node's next birth no longer has it.
  const HttpResponse del = send(port, "DELETE", path + "/127.0.0.1");
  ASSERT_EQ(del.status, 202) << del.body;
  ASSERT_TRUE(targets_become(port, path, {"127.0.0.2"}, 10s, &last)) << last.dump() << fleet.logs();
  EXPECT_FALSE(live_value(port, "tgt-1", "ping/127.0.0.1/up"));

  // The node on its own, and the fleet-wide target list.
  const json node = get(port, "/api/nodes/edgemon/tgt-1");
  ASSERT_TRUE(node.is_object());
  EXPECT_EQ(node["key"], "edgemon/tgt-1");
  EXPECT_TRUE(node["metrics"].is_array());
  EXPECT_EQ(get(port, "/api/nodes/edg%65mon/tgt%2D1")["key"], "edgemon/tgt-1") << "segments are percent-decoded";
  EXPECT_EQ(send(port, "GET", "/api/nodes/edgemon/no-such-node").status, 404);
  EXPECT_EQ(send(port, "DELETE", "/api/nodes/edgemon/tgt-1").status, 405);
  const json targets = get(port, "/api/targets");
  ASSERT_TRUE(targets.is_array());
  const json* t2 = nullptr;
  for (const json& t : targets) {
    if (t["node"] == "edgemon/tgt-1" && t["family"] == "ping" && t["target"] == "127.0.0.2") t2 = &t;
  }
  ASSERT_NE(t2, nullptr) << targets.dump();
  EXPECT_TRUE((*t2)["managed"].get<bool>());
  EXPECT_TRUE((*t2)["values"].contains("rtt")) << t2->dump();

  // Bad requests change nothing.
  EXPECT_EQ(send(port, "POST", path, R"({"host":"<script>alert(1)</script>"})").status, 400);
  EXPECT_EQ(send(port, "POST", path, R"({"host":"127.0.0.3; rm -rf /"})").status, 400);
  EXPECT_EQ(send(port, "POST", path, R"({"target":"127.0.0.3"})").status, 400);
  EXPECT_EQ(send(port, "POST", path, "not json").status, 400);
  EXPECT_EQ(send(port, "DELETE", path + "/10.9.9.9").status, 404);
  EXPECT_EQ(send(port, "POST", "/api/nodes/edgemon/no-such-node/targets", R"({"host":"127.0.0.3"})").status, 404);

  // The node comes back without its persisted remote config (an older file): the gateway sends
  // the managed targets again at its birth.
  fleet.agent("tgt-1").stop(SIGTERM, 5s);
  std::filesystem::remove(fleet.agent_state_dir("tgt-1") + "/remote-config.toml");
  fleet.start_agent(agent);
  ASSERT_TRUE(targets_become(port, path, {"127.0.0.2"}, 15s, &last)) << last.dump() << fleet.logs();

  // The gateway restarts: the managed list and its version come back from the store.
  const std::string version = last["managed"]["version"].get<std::string>();
  fleet.gateway().stop(SIGTERM, 5s);
  fleet.restart_gateway();
  ASSERT_TRUE(targets_become(port, path, {"127.0.0.2"}, 15s, &last)) << last.dump() << fleet.logs();
  EXPECT_EQ(last["managed"]["version"], version);
  EXPECT_EQ(last["config_version"], version);
}

}  // namespace
}  // namespace edgemon::test
