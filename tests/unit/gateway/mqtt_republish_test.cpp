#include "edgemon/gateway/live/mqtt_republish.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace edgemon::gateway {
namespace {

// Appends a slot to `n` (and to its name index, as FleetState keeps it).
void add_number(NodeState& n, const std::string& name, const std::string& unit, std::optional<double> value) {
  MetricSlot m;
  m.key = MetricKey(name);
  m.unit = unit;
  m.type = MetricType::kDouble;
  m.value = value;
  n.index[name] = static_cast<std::uint32_t>(n.metrics.size());
  n.metrics.push_back(std::move(m));
}

void add_text(NodeState& n, const std::string& name, const std::string& text) {
  MetricSlot m;
  m.key = MetricKey(name);
  m.type = MetricType::kString;
  m.text = text;
  n.index[name] = static_cast<std::uint32_t>(n.metrics.size());
  n.metrics.push_back(std::move(m));
}

NodeState node() {
  NodeState n;
  n.group = "plant";
  n.id = "pi-1";
  n.key = "plant/pi-1";
  n.online = true;
  add_number(n, "cpu/total", "%", 12.5);
  add_number(n, "sensor/{{ 7*7 }}", "", 1.0);
  add_number(n, "temp/cpu", "°C", std::nullopt);
  add_text(n, "agent/config/status", "applied");
  return n;
}

NodeSummary healthy() {
  NodeSummary s;
  s.key = "plant/pi-1";
  s.status = NodeStatus::kHealthy;
  return s;
}

TEST(MqttRepublish, StateIsTheNodeDocumentWithAFlatValuesMap) {
  const RepublishConfig c;
  const NodeSummary summary = healthy();
  const MqttMessage m = state_message(c, node(), &summary);
  EXPECT_EQ(m.topic, "edgemon/nodes/plant/pi-1/state");
  const auto j = nlohmann::json::parse(m.payload);
  EXPECT_EQ(j["status"], "HEALTHY");
  EXPECT_EQ(j["group"], "plant");
  EXPECT_EQ(j["online"], true);
  EXPECT_EQ(j["values"]["cpu/total"], 12.5);
  EXPECT_TRUE(j["values"].contains("temp/cpu"));
  EXPECT_TRUE(j["values"]["temp/cpu"].is_null());
  EXPECT_EQ(j["values"]["agent/config/status"], "applied");
  ASSERT_EQ(j["metrics"].size(), 4u);
  EXPECT_EQ(j["metrics"][3]["value"], "applied") << "a text metric's value is its text";
  EXPECT_EQ(j["metrics"][0]["unit"], "%");
  EXPECT_EQ(availability_message(c, node()).payload, "online");
  NodeState dead = node();
  dead.online = false;
  EXPECT_EQ(availability_message(c, dead).payload, "offline");
  EXPECT_EQ(availability_message(c, dead).topic, "edgemon/nodes/plant/pi-1/availability");

  // Without a summary (a node the aggregator does not know) the node's own part is still there.
  const auto bare = nlohmann::json::parse(state_message(c, node(), nullptr).payload);
  EXPECT_FALSE(bare.contains("status"));
  EXPECT_EQ(bare["values"]["cpu/total"], 12.5);

  RepublishConfig other;
  other.prefix = "site/a";
  EXPECT_EQ(state_message(other, node(), &summary).topic, "site/a/plant/pi-1/state");
}

TEST(MqttRepublish, DiscoveryHasPlainNumericMetricsOnlyAndNoTemplateInjection) {
  RepublishConfig c;
  c.homeassistant = true;
  const auto m = discovery_message(c, node(), "1.2.3");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->topic, "homeassistant/device/plant_pi-1/config");
  const auto j = nlohmann::json::parse(m->payload);
  const auto& cmps = j["cmps"];
  EXPECT_TRUE(cmps.contains("cpu_total"));
  EXPECT_EQ(cmps["cpu_total"]["val_tpl"], "{{ value_json['values']['cpu/total'] }}");
  EXPECT_EQ(cmps["cpu_total"]["unit_of_meas"], "%");
  EXPECT_TRUE(cmps.contains("temp_cpu")) << "numeric even before its first value: the set stays stable";
  EXPECT_EQ(cmps["temp_cpu"]["dev_cla"], "temperature");
  EXPECT_FALSE(cmps.contains("agent_config_status")) << "text metrics are not sensors with units";
  EXPECT_EQ(m->payload.find("7*7"), std::string::npos) << "a name with template syntax is left out";
  EXPECT_TRUE(cmps.contains("status"));
  EXPECT_EQ(cmps.size(), 3u);
  EXPECT_EQ(j["avty_t"], "edgemon/nodes/plant/pi-1/availability");
  EXPECT_EQ(j["stat_t"], "edgemon/nodes/plant/pi-1/state");
  EXPECT_EQ(j["o"]["sw"], "1.2.3");
  EXPECT_EQ(j["dev"]["name"], "pi-1") << "without agent/name the device is named by its id";

  NodeState named = node();
  add_text(named, "agent/name", "Kitchen <b>Pi</b>");
  const auto n = discovery_message(c, named, "1.2.3");
  ASSERT_TRUE(n);
  EXPECT_EQ(nlohmann::json::parse(n->payload)["dev"]["name"], "Kitchen <b>Pi</b>");
}

TEST(MqttRepublish, PlainNames) {
  EXPECT_TRUE(plain_metric_name("ping/10.0.0.1/rtt"));
  EXPECT_TRUE(plain_metric_name("disk/root/used_percent"));
  EXPECT_FALSE(plain_metric_name(""));
  EXPECT_FALSE(plain_metric_name("a'b"));
  EXPECT_FALSE(plain_metric_name("a b"));
  EXPECT_FALSE(plain_metric_name("{{x}}"));
  EXPECT_FALSE(plain_metric_name(std::string(101, 'a')));
}

}  // namespace
}  // namespace edgemon::gateway
