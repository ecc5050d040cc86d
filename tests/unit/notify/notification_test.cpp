#include "edgemon/notify/notification.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "edgemon/notify/mqtt_alert_channel.h"

namespace edgemon::notify {
namespace {

Notification sample() {
  Notification n;
  n.alert = "HIGH_CPU";
  n.node = "pi-01";
  n.severity = Severity::kCritical;
  n.started_at = WallTime(std::chrono::milliseconds(1'700'000'000'123));
  n.summary = "CPU 93 % for 3 intervals";
  n.labels = {{"site", "lab"}, {"rack", "2"}};
  return n;
}

TEST(Notification, HeadlineNamesStateAlertSubjectAndSeverity) {
  Notification n = sample();
  EXPECT_EQ(headline(n), "[FIRING] HIGH_CPU on pi-01 (critical)");
  n.state = AlertState::kResolved;
  n.subject = "pi-01/tcp:db:5432";
  EXPECT_EQ(headline(n), "[RESOLVED] HIGH_CPU on pi-01/tcp:db:5432 (critical)");
}

TEST(Notification, JsonIsSlackCompatibleAndStructured) {
  Notification n = sample();
  n.state = AlertState::kResolved;
  n.resolved_at = n.started_at + std::chrono::minutes(5);
  const auto j = nlohmann::json::parse(to_json(n));
  EXPECT_EQ(j.at("text"), "[RESOLVED] HIGH_CPU on pi-01 (critical): CPU 93 % for 3 intervals");
  EXPECT_EQ(j.at("alert"), "HIGH_CPU");
  EXPECT_EQ(j.at("node"), "pi-01");
  EXPECT_EQ(j.at("subject"), "pi-01");
  EXPECT_EQ(j.at("severity"), "critical");
  EXPECT_EQ(j.at("state"), "resolved");
  EXPECT_EQ(j.at("started_at"), "2023-11-14T22:13:20.123Z");
  EXPECT_EQ(j.at("started_at_ms"), 1'700'000'000'123);
  EXPECT_EQ(j.at("resolved_at"), "2023-11-14T22:18:20.123Z");
  EXPECT_EQ(j.at("labels").at("site"), "lab");
}

TEST(Notification, HostileStringsNeverBreakTheJsonOrTheHeadline) {
  Notification n = sample();
  n.node = "evil\"\n\xff\xfe";
  n.summary = "line1\r\nline2";
  const std::string text = to_json(n);  // must not throw on invalid UTF-8
  const auto j = nlohmann::json::parse(text);
  EXPECT_EQ(j.at("node").get<std::string>().find('\xff'), std::string::npos);
  EXPECT_EQ(headline(n).find('\n'), std::string::npos);
  EXPECT_EQ(j.at("text").get<std::string>().find('\n'), std::string::npos);
}

TEST(Notification, SeverityParsing) {
  Severity s = Severity::kInfo;
  EXPECT_TRUE(parse_severity("critical", s));
  EXPECT_EQ(s, Severity::kCritical);
  EXPECT_FALSE(parse_severity("CRIT", s));
}

TEST(MqttAlertTopic, NodeIdCannotAddLevelsOrWildcards) {
  EXPECT_EQ(alert_topic("edgemon/alerts", "pi-01"), "edgemon/alerts/pi-01");
  EXPECT_EQ(alert_topic("edgemon/alerts/", "a/b+#"), "edgemon/alerts/a_b__");
  EXPECT_EQ(alert_topic("edgemon/alerts", ""), "edgemon/alerts/_");
}

TEST(MqttAlertChannel, PublishesJsonThroughTheInjectedFunction) {
  std::string topic, payload;
  int qos = -1;
  bool retain = true;
  MqttAlertChannel ch({}, [&](const std::string& t, const std::string& p, int q, bool r) {
    topic = t;
    payload = p;
    qos = q;
    retain = r;
    return Status::Ok();
  });
  ASSERT_TRUE(ch.send(sample(), {}));
  EXPECT_EQ(topic, "edgemon/alerts/pi-01");
  EXPECT_EQ(qos, 1);
  EXPECT_FALSE(retain);
  EXPECT_EQ(nlohmann::json::parse(payload).at("alert"), "HIGH_CPU");

  MqttAlertChannel down({}, [](const std::string&, const std::string&, int, bool) {
    return Status(make_error(ErrorCode::kUnavailable, "not connected"));
  });
  const Status s = down.send(sample(), {});
  ASSERT_FALSE(s);
  EXPECT_TRUE(is_retryable(s.error()));
}

}  // namespace
}  // namespace edgemon::notify
