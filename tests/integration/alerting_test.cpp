// Alerting end to end with real processes: a ping target on loopback is made unreachable (an
// iptables DROP for one 127.x address on lo, which this test adds and removes); the gateway's
// failure rule fires within failure_threshold x interval + 1 s, and a real webhook receiver and a
// real SMTP sink get the alert and, after recovery, the resolved notice. Events and incidents
// are in the history. Needs root (iptables); loopback only.
#include <unistd.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "notify/receivers.h"
#include "support/test_fleet.h"
#include "support/ws_client.h"

namespace edgemon::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

constexpr const char* kTarget = "127.0.0.77";

// Drops ICMP echo to kTarget while alive.
class IcmpBlackhole {
 public:
  IcmpBlackhole() {
    const auto r = run_command({"iptables", "-w", "5", "-I", "OUTPUT", "-o", "lo", "-d", kTarget, "-p", "icmp", "-j", "DROP"}, 10s);
    active_ = r.exit_code == 0;
    output_ = r.output;
  }
  ~IcmpBlackhole() { remove(); }
  void remove() {
    if (!active_) return;
    (void)run_command({"iptables", "-w", "5", "-D", "OUTPUT", "-o", "lo", "-d", kTarget, "-p", "icmp", "-j", "DROP"}, 10s);
    active_ = false;
  }
  bool active() const { return active_; }
  const std::string& output() const { return output_; }

 private:
  bool active_ = false;
  std::string output_;
};

TEST(Alerting, UnreachableTargetAlertsWebhookAndEmailThenResolves) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root for iptables";
  HttpReceiver webhook;
  SmtpSink smtp;
  const std::string config = std::string(R"(
[[rules]]
name = "target_down"
kind = "failure"
metric = "ping/*/up"
failure_threshold = 3
success_threshold = 2
severity = "critical"

[notify.webhook]
url = "http://127.0.0.1:)") + std::to_string(webhook.port()) + R"(/hook"
timeout = 5.0

[notify.email]
url = "smtp://127.0.0.1:)" + std::to_string(smtp.port()) + R"("
from = "edgemon@example.invalid"
to = ["ops@example.invalid", "oncall@example.invalid"]
starttls = false
)";
  TestFleet fleet(/*with_gateway=*/true, config);
  fleet.start_agent({.node_id = "alert-1", .interval_s = 1.0, .ping_hosts = {"127.0.0.1", kTarget}});
  // Healthy first: the target answers.
  bool healthy = false;
  for (int i = 0; i < 100 && !healthy; ++i) {
    const std::string nodes = http_get(fleet.http_port(), "/api/nodes");
    healthy = nodes.find(std::string("\"ping/") + kTarget + "/up\",\"ts\"") != std::string::npos ||
              nodes.find(std::string("ping/") + kTarget + "/rtt") != std::string::npos;
    std::this_thread::sleep_for(100ms);
  }
  ASSERT_TRUE(healthy) << fleet.logs();
  std::this_thread::sleep_for(1500ms);

  IcmpBlackhole hole;
  ASSERT_TRUE(hole.active()) << "iptables failed: " << hole.output();
  const auto cut = std::chrono::steady_clock::now();
  const auto fired = webhook.wait_for(1, 15s);
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - cut);
  ASSERT_EQ(fired.size(), 1u) << fleet.logs();
  EXPECT_LE(took.count(), 3 * 1000 + 1000) << "failure_threshold x interval + 1 s";
  EXPECT_NE(fired[0].body.find("FIRING"), std::string::npos) << fired[0].body;
  EXPECT_NE(fired[0].body.find(kTarget), std::string::npos) << fired[0].body;
  const auto mail = smtp.wait_for(1, 10s);
  ASSERT_EQ(mail.size(), 1u);
  EXPECT_EQ(mail[0].rcpt_to.size(), 2u);
  EXPECT_NE(mail[0].data.find("Subject:"), std::string::npos);
  const json alerts = json::parse(http_get(fleet.http_port(), "/api/alerts"));
  ASSERT_EQ(alerts.size(), 1u) << alerts.dump();
  EXPECT_EQ(alerts[0]["severity"], "critical");

  hole.remove();
  const auto resolved = webhook.wait_for(2, 15s);
  ASSERT_EQ(resolved.size(), 2u) << fleet.logs();
  EXPECT_NE(resolved[1].body.find("RESOLVED"), std::string::npos) << resolved[1].body;
  EXPECT_EQ(smtp.wait_for(2, 10s).size(), 2u);
  EXPECT_TRUE(json::parse(http_get(fleet.http_port(), "/api/alerts")).empty());

  const json incidents = json::parse(http_get(fleet.http_port(), "/api/incidents"));
  ASSERT_GE(incidents.size(), 1u);
  EXPECT_FALSE(incidents[0]["end"].is_null()) << incidents.dump();
  const json events = json::parse(http_get(fleet.http_port(), "/api/events?limit=10"));
  EXPECT_GE(events.size(), 2u) << events.dump();
  std::printf("alert delivered %lld ms after the target became unreachable\n", static_cast<long long>(took.count()));
}

}  // namespace
}  // namespace edgemon::test
