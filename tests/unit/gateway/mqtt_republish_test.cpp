#include "edgemon/gateway/live/mqtt_republish.h"

#include <gtest/gtest.h>

namespace edgemon::gateway {
namespace {

nlohmann::json node() {
  return {{"group", "plant"},
          {"id", "pi-1"},
          {"online", true},
          {"status", "HEALTHY"},
          {"metrics",
           {{{"name", "cpu/total"}, {"unit", "%"}, {"value", 12.5}},
            {{"name", "sensor/{{ 7*7 }}"}, {"unit", ""}, {"value", 1.0}},
            {{"name", "temp/cpu"}, {"unit", "°C"}, {"value", nullptr}},
            {{"name", "agent/config/status"}, {"unit", ""}, {"value", "applied"}}}}};
}

TEST(MqttRepublish, StateIsTheNodeDocumentWithAFlatValuesMap) {
  const RepublishConfig c;
  const MqttMessage m = state_message(c, node());
  EXPECT_EQ(m.topic, "edgemon/nodes/plant/pi-1/state");
  const auto j = nlohmann::json::parse(m.payload);
  EXPECT_EQ(j["status"], "HEALTHY");
  EXPECT_EQ(j["values"]["cpu/total"], 12.5);
  EXPECT_TRUE(j["values"]["temp/cpu"].is_null());
  EXPECT_EQ(j["values"]["agent/config/status"], "applied");
  EXPECT_EQ(availability_message(c, node()).payload, "online");
  nlohmann::json dead = node();
  dead["online"] = false;
  EXPECT_EQ(availability_message(c, dead).payload, "offline");
  EXPECT_EQ(availability_message(c, dead).topic, "edgemon/nodes/plant/pi-1/availability");
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
  EXPECT_TRUE(cmps.contains("temp_cpu")) << "numeric even before its first value: the set stays stable";
  EXPECT_EQ(cmps["temp_cpu"]["dev_cla"], "temperature");
  EXPECT_FALSE(cmps.contains("agent_config_status")) << "text metrics are not sensors with units";
  EXPECT_EQ(m->payload.find("7*7"), std::string::npos) << "a name with template syntax is left out";
  EXPECT_TRUE(cmps.contains("status"));
  EXPECT_EQ(j["avty_t"], "edgemon/nodes/plant/pi-1/availability");
  EXPECT_EQ(j["o"]["sw"], "1.2.3");
  EXPECT_EQ(j["dev"]["name"], "pi-1") << "without agent/name the device is named by its id";

  nlohmann::json named = node();
  named["metrics"].push_back({{"name", "agent/name"}, {"value", "Kitchen <b>Pi</b>"}});
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
