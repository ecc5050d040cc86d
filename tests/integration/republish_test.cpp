// Readable MQTT: what `mosquitto_sub -t 'edgemon/nodes/#' -v` shows for a real agent — retained
// JSON state and availability following birth and death — and Home Assistant device discovery.
#include <map>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "edgemon/common/mqtt_client.h"
#include "support/process.h"
#include "support/test_fleet.h"

namespace edgemon::test {
namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

// The latest payload per topic under the given filters.
class Watcher {
 public:
  Watcher(std::uint16_t port, const std::vector<std::string>& filters) {
    MqttOptions o;
    o.port = port;
    o.client_id = "republish-watcher";
    client_ = std::make_unique<MqttClient>(o);
    for (const std::string& f : filters) client_->subscribe(f, 1);
    client_->on_message([this](MqttIncoming&& m) {
      std::lock_guard lock(mutex_);
      latest_[m.topic] = m.payload;
    });
    if (!client_->start()) throw std::runtime_error("watcher cannot start");
  }
  ~Watcher() { client_->stop(); }
  std::optional<std::string> get(const std::string& topic) {
    std::lock_guard lock(mutex_);
    const auto it = latest_.find(topic);
    return it == latest_.end() ? std::nullopt : std::optional<std::string>(it->second);
  }
  // Waits until `pred(payload)` holds for `topic`.
  template <typename Pred>
  bool wait_for(const std::string& topic, Pred pred, std::chrono::milliseconds timeout) {
    const auto until = Clock::now() + timeout;
    while (Clock::now() < until) {
      if (const auto p = get(topic); p && pred(*p)) return true;
      std::this_thread::sleep_for(50ms);
    }
    return false;
  }

 private:
  std::unique_ptr<MqttClient> client_;
  std::mutex mutex_;
  std::map<std::string, std::string> latest_;
};

TEST(Republish, ReadableRetainedStateAvailabilityAndHomeAssistantDiscovery) {
  TestFleet fleet(/*with_gateway=*/true, "[republish]\nhomeassistant = true\n");
  fleet.start_agent({.node_id = "ha-1", .interval_s = 0.5, .ping_hosts = {"127.0.0.1"}});
  Watcher watch(fleet.broker().port(), {"edgemon/nodes/#", "homeassistant/#"});

  const std::string state = "edgemon/nodes/edgemon/ha-1/state";
  const std::string availability = "edgemon/nodes/edgemon/ha-1/availability";
  json doc;
  ASSERT_TRUE(watch.wait_for(state, [&](const std::string& p) {
    doc = json::parse(p, nullptr, false);
    return doc.is_object() && doc["values"].contains("cpu/total") && doc["values"]["cpu/total"].is_number() &&
           doc.value("status", "") == "HEALTHY";
  }, 15s)) << watch.get(state).value_or("(nothing)") << fleet.logs();
  EXPECT_EQ(doc["id"], "ha-1");
  EXPECT_EQ(doc["group"], "edgemon");
  EXPECT_TRUE(doc["online"].get<bool>());
  EXPECT_EQ(doc["values"]["ping/127.0.0.1/up"], 1.0);
  EXPECT_TRUE(doc["uptime"].is_object());
  ASSERT_TRUE(watch.wait_for(availability, [](const std::string& p) { return p == "online"; }, 5s));

  // Home Assistant: one device with a sensor per plain numeric metric, bound to the state topic.
  const std::string config = "homeassistant/device/edgemon_ha-1/config";
  json discovery;
  ASSERT_TRUE(watch.wait_for(config, [&](const std::string& p) {
    discovery = json::parse(p, nullptr, false);
    return discovery.is_object();
  }, 5s)) << "no discovery";
  EXPECT_EQ(discovery["dev"]["ids"][0], "edgemon_edgemon_ha-1");
  EXPECT_EQ(discovery["stat_t"], state);
  EXPECT_EQ(discovery["avty_t"], availability);
  ASSERT_TRUE(discovery["cmps"].contains("cpu_total")) << discovery.dump();
  EXPECT_EQ(discovery["cmps"]["cpu_total"]["unit_of_meas"], "%");
  EXPECT_EQ(discovery["cmps"]["cpu_total"]["val_tpl"], "{{ value_json['values']['cpu/total'] }}");
  EXPECT_TRUE(discovery["cmps"].contains("status"));

  // Retained: a client that subscribes now gets the state at once, as mosquitto_sub would show it.
  const auto sub = run_command({"mosquitto_sub", "-p", std::to_string(fleet.broker().port()), "-t", "edgemon/nodes/#",
                                "-v", "-C", "2", "-W", "5"},
                               10s);
  EXPECT_NE(sub.output.find(state + " {"), std::string::npos) << sub.output;
  EXPECT_NE(sub.output.find(availability + " online"), std::string::npos) << sub.output;

  // Death: availability goes offline and the state says so.
  fleet.agent("ha-1").stop(SIGTERM, 5s);
  ASSERT_TRUE(watch.wait_for(availability, [](const std::string& p) { return p == "offline"; }, 10s)) << fleet.logs();
  ASSERT_TRUE(watch.wait_for(state, [](const std::string& p) {
    const json j = json::parse(p, nullptr, false);
    return j.is_object() && !j.value("online", true);
  }, 10s));
}

}  // namespace
}  // namespace edgemon::test
