// One device account tries to grow the gateway without limit (issue 13's acceptance): births in
// 2,000 groups with 50 new metric names each (100,000 names), then one birth with 4,000 names.
// A real broker, a real gateway process with the shipped [limits] defaults. The gateway must cap
// it, count every rejection by reason, keep answering, and keep its memory within the bound
// docs/performance.md states for this test (RSS growth under 24 MiB).
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "edgemon/common/mqtt_client.h"
#include "edgemon/common/sparkplug_codec.h"
#include "support/process.h"
#include "support/test_fleet.h"
#include "support/ws_client.h"

namespace edgemon::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

std::int64_t rss_kib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoll(line.substr(6));
  }
  return -1;
}

json health(const TestFleet& fleet) {
  return json::parse(http_get(fleet.http_port(), "/api/health"), nullptr, false);
}

// Publishes at QoS 1, waiting while Paho's buffer is full (bounded in time).
void publish(MqttClient& client, const std::string& topic, const std::string& payload) {
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!client.publish(topic, payload, 1, false).ok()) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "cannot publish " << topic;
    std::this_thread::sleep_for(2ms);
  }
}

TEST(HostileLoad, OneAccountWithThousandsOfGroupsAndNamesIsCappedAndCounted) {
  TestFleet fleet;
  MqttOptions o;
  o.port = fleet.broker().port();
  o.client_id = "evil";
  o.max_buffered = 1000;
  MqttClient client(o);
  ASSERT_TRUE(client.start().ok());
  ASSERT_TRUE(poll_until([&] { return client.connected(); }, 10s));
  ASSERT_TRUE(poll_until([&] { return health(fleet).value("mqtt_connected", false); }, 10s));
  const pid_t gw = fleet.gateway().pid();
  const std::int64_t before = rss_kib(gw);

  const auto now_ms = [] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  };
  for (int g = 0; g < 2000; ++g) {
    TelemetryMessage b;
    b.kind = MessageKind::kBirth;
    b.timestamp_ms = now_ms();
    b.bd_seq = 1;
    for (int k = 0; k < 50; ++k) {
      b.metrics.push_back(make_metric("x/" + std::to_string(g) + "/" + std::to_string(k), "", 1.0, b.timestamp_ms));
    }
    publish(client, format_topic("g" + std::to_string(g), MessageKind::kBirth, "evil"), encode_sparkplug(b));
  }
  TelemetryMessage big;
  big.kind = MessageKind::kBirth;
  big.timestamp_ms = now_ms();
  big.bd_seq = 2;
  for (int k = 0; k < 4000; ++k) big.metrics.push_back(make_metric("y/" + std::to_string(k), "", 1.0, big.timestamp_ms));
  publish(client, format_topic("g0", MessageKind::kBirth, "evil"), encode_sparkplug(big));

  json h;
  ASSERT_TRUE(poll_until(
      [&] {
        h = health(fleet);
        return h.value("messages_accepted", 0) + h.value("messages_rejected", 0) >= 2001;
      },
      60s))
      << h.dump() << fleet.logs();
  const std::int64_t after = rss_kib(gw);
  client.stop();

  EXPECT_EQ(h["nodes"], 4) << "limits.max_groups_per_account = 4";
  EXPECT_EQ(h["messages_accepted"], 5);
  EXPECT_EQ(h["rejected_by_reason"]["cap: limits.max_groups_per_account reached"], 1996);
  EXPECT_EQ(h["limits"]["metrics_refused_node_cap"], 4000 - 2048) << "limits.max_metrics_per_node = 2048";
  EXPECT_EQ(h["limits"]["metrics"], 3 * 50 + 2048);
  std::printf("gateway RSS: %lld KiB before, %lld KiB after (+%lld KiB)\n", static_cast<long long>(before),
              static_cast<long long>(after), static_cast<long long>(after - before));
  EXPECT_LT(after - before, 24 * 1024) << "RSS growth under the hostile load";
  // Still answering, with a small fleet.
  int status = 0;
  const std::string nodes = http_get(fleet.http_port(), "/api/nodes", &status);
  EXPECT_EQ(status, 200);
  EXPECT_LT(nodes.size(), 512u * 1024u);
  const std::string metrics = http_get(fleet.http_port(), "/metrics", &status);
  EXPECT_EQ(status, 200);
  EXPECT_NE(metrics.find("edgemon_messages_rejected_total{reason=\"cap: limits.max_groups_per_account reached\"} 1996"),
            std::string::npos);
}

}  // namespace
}  // namespace edgemon::test
