// Alert rules through the API against a real agent: a rule added with POST fires on the agent's
// samples with no restart, a PUT that changes its threshold makes it recover, configured rules are
// read-only, bad rules are refused with the key at fault, and API rules survive a gateway restart
// until they are deleted.
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

constexpr const char* kGatewayToml = R"(
[[rules]]
name = "configured_cpu"
metric = "cpu/total"
threshold = 101
type = "HIGH_CPU"
)";

// The active alerts of `rule`.
std::size_t alerts_of(std::uint16_t port, const std::string& rule) {
  const HttpResponse r = send(port, "GET", "/api/alerts");
  if (r.status != 200) return 0;
  std::size_t n = 0;
  for (const json& a : json::parse(r.body)) n += a.value("rule", "") == rule ? 1u : 0u;
  return n;
}

const json* rule_named(const json& list, const std::string& name) {
  for (const json& r : list) {
    if (r.value("name", "") == name) return &r;
  }
  return nullptr;
}

TEST(RulesApi, AddFireChangeRecoverSurviveRestartAndDelete) {
  TestFleet fleet(true, kGatewayToml);
  fleet.start_agent({.node_id = "rules-pi", .interval_s = 0.5});
  const std::uint16_t port = fleet.http_port();

  // The configured rule and the built-in one are listed, read-only.
  const json before = json::parse(send(port, "GET", "/api/rules").body);
  ASSERT_NE(rule_named(before, "configured_cpu"), nullptr) << before.dump();
  EXPECT_EQ((*rule_named(before, "configured_cpu"))["source"], "config");
  EXPECT_EQ((*rule_named(before, "configured_cpu"))["threshold"], 101);
  EXPECT_EQ((*rule_named(before, "_gateway_storage"))["source"], "builtin");
  EXPECT_EQ(send(port, "PUT", "/api/rules/configured_cpu", R"({"metric":"cpu/total","threshold":1})").status, 409);
  EXPECT_EQ(send(port, "DELETE", "/api/rules/configured_cpu").status, 409);

  // Add: any CPU value fires it, with no restart.
  const HttpResponse add = send(port, "POST", "/api/rules",
                                R"({"name":"any_cpu","metric":"cpu/total","op":">=","threshold":0,"type":"CPU_SEEN",)"
                                R"("severity":"info","nodes":["*rules-pi"],"cooldown":"90s","recovery":null})");
  ASSERT_EQ(add.status, 201) << add.body;
  const json created = json::parse(add.body);
  EXPECT_EQ(created["source"], "api");
  EXPECT_EQ(created["kind"], "threshold");
  EXPECT_EQ(created["cooldown"], "90s");
  EXPECT_EQ(created["samples"], 1);
  EXPECT_FALSE(created.contains("recovery"));
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(poll_until([&] { return alerts_of(port, "any_cpu") == 1; }, 10s)) << fleet.logs();
  std::printf("POST /api/rules -> alert active after %lld ms\n",
              static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                         std::chrono::steady_clock::now() - t0).count()));
  EXPECT_EQ(send(port, "POST", "/api/rules", R"({"name":"any_cpu","metric":"x","threshold":1})").status, 409);

  // Bad rules: 400 naming the key.
  const struct {
    const char* body;
    const char* says;
  } bad[] = {
      {R"({"name":"b1","threshold":5})", "missing key 'metric'"},
      {R"({"name":"b2","metric":"cpu/total","threshold":"high"})", "rule.threshold"},
      {R"({"name":"b3","metric":"cpu/total","threshold":5,"op":"=>"})", "rule.op"},
      {R"({"name":"b4","metric":"cpu/total","threshold":5,"colour":"red"})", "rule.colour"},
      {R"({"name":"b5","kind":"absence"})", "missing key 'for'"},
      {R"({"name":"b6","metric":"cpu/total","threshold":5,"nodes":[1]})", "rule.nodes"},
      {R"({"name":"b 7","metric":"cpu/total","threshold":5})", "rule.name"},
      {R"({"name":"_gateway_x","kind":"node_down"})", "reserved"},
      {R"(["not","an","object"])", "JSON object"},
      {"not json", "not JSON"},
  };
  for (const auto& b : bad) {
    const HttpResponse r = send(port, "POST", "/api/rules", b.body);
    EXPECT_EQ(r.status, 400) << b.body << " -> " << r.body;
    EXPECT_NE(r.body.find(b.says), std::string::npos) << b.body << " -> " << r.body;
  }

  // Change: nothing reaches 1000 %, so the alert recovers on the next samples.
  const HttpResponse put = send(port, "PUT", "/api/rules/any_cpu",
                                R"({"metric":"cpu/total","op":">=","threshold":1000,"type":"CPU_SEEN"})");
  ASSERT_EQ(put.status, 200) << put.body;
  EXPECT_EQ(json::parse(put.body)["threshold"], 1000);
  EXPECT_FALSE(json::parse(put.body).contains("cooldown")) << "a PUT replaces the whole rule";
  EXPECT_TRUE(poll_until([&] { return alerts_of(port, "any_cpu") == 0; }, 10s)) << send(port, "GET", "/api/alerts").body;
  EXPECT_EQ(send(port, "PUT", "/api/rules/any_cpu", R"({"name":"other","metric":"cpu/total","threshold":1})").status, 400);
  EXPECT_EQ(send(port, "PUT", "/api/rules/nope", R"({"metric":"cpu/total","threshold":1})").status, 404);

  // Kept across a restart (the write reaches the store within the writer's flush interval).
  std::this_thread::sleep_for(1s);
  fleet.gateway().stop(SIGTERM, 5s);
  fleet.restart_gateway();
  const HttpResponse one = send(port, "GET", "/api/rules/any_cpu");
  ASSERT_EQ(one.status, 200) << fleet.logs();
  EXPECT_EQ(json::parse(one.body)["threshold"], 1000);
  EXPECT_EQ(json::parse(one.body)["source"], "api");

  // Delete: gone now and after a restart.
  EXPECT_EQ(send(port, "DELETE", "/api/rules/any_cpu").status, 200);
  EXPECT_EQ(send(port, "GET", "/api/rules/any_cpu").status, 404);
  EXPECT_EQ(send(port, "DELETE", "/api/rules/any_cpu").status, 404);
  std::this_thread::sleep_for(1s);
  fleet.gateway().stop(SIGTERM, 5s);
  fleet.restart_gateway();
  EXPECT_EQ(send(port, "GET", "/api/rules/any_cpu").status, 404);
  EXPECT_NE(rule_named(json::parse(send(port, "GET", "/api/rules").body), "configured_cpu"), nullptr);
}

}  // namespace
}  // namespace edgemon::test
