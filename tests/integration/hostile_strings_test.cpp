// Strings a device controls — metric names (and so target labels), units, text values — cannot
// break out of any response (control characters never get that far: the decoder rejects them): they come back byte for byte as JSON data (served as JSON, never
// sniffed as HTML), as escaped Prometheus labels that promtool accepts, and on the WebSocket.
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/process.h"
#include "support/sparkplug_host.h"
#include "support/test_fleet.h"
#include "support/ws_client.h"

namespace edgemon::test {
namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;

const std::vector<std::string>& hostile() {
  static const std::vector<std::string> strings = {
      "<script>alert(1)</script>",
      "\"><img src=x onerror=alert(1)>",
      "javascript:alert(document.cookie)",
      "quote\" back\\slash ' apostrophe",
      "=cmd|' /C calc'!A0",
      "}{\"injected\":true",
  };
  return strings;
}

TEST(HostileStrings, DeviceSuppliedNamesUnitsAndTextComeOutEscapedOrInert) {
  TestFleet fleet;
  SparkplugHost device(fleet.broker().port(), "evil-device");
  for (int i = 0; i < 100 && !device.connected(); ++i) std::this_thread::sleep_for(50ms);
  ASSERT_TRUE(device.connected());

  TelemetryMessage birth;
  birth.kind = MessageKind::kBirth;
  birth.timestamp_ms = 1'763'700'000'000;
  birth.bd_seq = 0;
  for (std::size_t i = 0; i < hostile().size(); ++i) {
    const std::string& s = hostile()[i];
    birth.metrics.push_back(make_metric("ping/" + s + "/up", "", 1.0, birth.timestamp_ms));  // a target label
    // Name and unit (units are at most 16 bytes: the first 16 of the same string).
    birth.metrics.push_back(make_metric("sensor/" + std::to_string(i) + "/" + s, s.substr(0, 16), 42.5, birth.timestamp_ms));
  }
  Metric status = make_metric("agent/config/status", "", std::nullopt, birth.timestamp_ms, MetricType::kString);
  status.text = hostile()[0] + hostile()[2];
  birth.metrics.push_back(status);
  ASSERT_TRUE(device.client()
                  .publish_and_wait(format_topic("edgemon", MessageKind::kBirth, "evil-1"), encode(Encoding::kSparkplug, birth),
                                    1, false, 2s)
                  .ok());

  // /api/nodes: JSON with nosniff, and every hostile string back exactly as sent (data, not markup).
  json node;
  HttpResponse nodes;
  for (int i = 0; i < 100 && node.is_null(); ++i) {
    HttpRequest r;
    r.path = "/api/nodes";
    nodes = http_request(fleet.http_port(), r);
    const json all = json::parse(nodes.body, nullptr, false);
    if (all.is_array()) {
      for (const json& n : all) {
        if (n.value("id", "") == "evil-1") node = n;
      }
    }
    if (node.is_null()) std::this_thread::sleep_for(50ms);
  }
  ASSERT_FALSE(node.is_null()) << nodes.body << fleet.logs();
  EXPECT_EQ(nodes.header("content-type"), "application/json");
  EXPECT_EQ(nodes.header("x-content-type-options"), "nosniff");
  std::set<std::string> names;
  std::set<std::string> units;
  std::string status_text;
  for (const json& m : node["metrics"]) {
    names.insert(m["name"].get<std::string>());
    units.insert(m.value("unit", ""));
    if (m["name"] == "agent/config/status" && m["value"].is_string()) status_text = m["value"].get<std::string>();
  }
  for (std::size_t i = 0; i < hostile().size(); ++i) {
    const std::string& s = hostile()[i];
    EXPECT_EQ(names.count("ping/" + s + "/up"), 1u) << s;
    EXPECT_EQ(names.count("sensor/" + std::to_string(i) + "/" + s), 1u) << s;
    EXPECT_EQ(units.count(s.substr(0, 16)), 1u) << s;
  }
  EXPECT_EQ(status_text, hostile()[0] + hostile()[2]);
  // No raw line break or unescaped quote leaves a JSON string: the body is one line of valid JSON.
  EXPECT_EQ(nodes.body.find('\n'), std::string::npos);

  // The targets endpoint reports the hostile labels as data as well.
  const json targets = json::parse(http_get(fleet.http_port(), "/api/nodes/edgemon/evil-1/targets"), nullptr, false);
  ASSERT_TRUE(targets.is_object());
  // A target is one name segment (the telemetry contract, common/metric_key.h): "ping/a/b/up" is
  // no ping target's verdict, so labels with a '/' are metrics of their own, not targets.
  std::set<std::string> expected_targets;
  for (const std::string& s : hostile()) {
    if (s.find('/') == std::string::npos) expected_targets.insert(s);
  }
  std::set<std::string> reported;
  for (const json& t : targets["targets"]) reported.insert(t.get<std::string>());
  EXPECT_EQ(reported, expected_targets);

  // History echoes the requested metric name as JSON data.
  HttpRequest history;
  history.path = "/api/history?node=edgemon/evil-1&metric=" + std::string("%3Cscript%3Ealert(1)%3C%2Fscript%3E");
  const HttpResponse h = http_request(fleet.http_port(), history);
  EXPECT_EQ(h.header("content-type"), "application/json");
  const json hj = json::parse(h.body, nullptr, false);
  ASSERT_FALSE(hj.is_discarded()) << h.body;
  if (h.status == 200) {
    EXPECT_EQ(hj["metric"], "<script>alert(1)</script>");
  }

  // /metrics: every hostile label escaped; promtool accepts the exposition without remarks.
  int status_code = 0;
  const std::string metrics = http_get(fleet.http_port(), "/metrics", &status_code);
  ASSERT_EQ(status_code, 200);
  EXPECT_NE(metrics.find("target=\"quote\\\" back\\\\slash ' apostrophe\""), std::string::npos);
  if (!std::string(EDGEMON_PROMTOOL).empty()) {
    write_file(fleet.dir().file("metrics.txt"), metrics);
    const auto check = run_command(
        {"sh", "-c", std::string("exec '") + EDGEMON_PROMTOOL + "' check metrics < '" + fleet.dir().file("metrics.txt") + "'"},
        30s);
    EXPECT_EQ(check.exit_code, 0) << check.output;
    EXPECT_EQ(check.output, "") << "promtool remarks";
  }

  // The WebSocket snapshot carries the same strings as JSON data.
  WsClient ws(fleet.http_port(), "/ws");
  bool seen = false;
  for (int i = 0; i < 20 && !seen; ++i) {
    const auto frame = ws.read(3s);
    if (!frame) break;
    const json j = json::parse(*frame, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << *frame;
    seen = frame->find("evil-1") != std::string::npos && j.dump().find("<script>alert(1)</script>") != std::string::npos;
  }
  EXPECT_TRUE(seen);
}

}  // namespace
}  // namespace edgemon::test
