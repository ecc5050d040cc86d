// Notifications delivered to real receivers on loopback: webhook (HTTP), e-mail (SMTP) and the
// MQTT alert topic, through the Dispatcher built from a gateway-style config.
#include <atomic>
#include <mutex>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "edgemon/common/mqtt_client.h"
#include "edgemon/notify/notify_config.h"
#include "receivers.h"
#include "support/mosquitto_broker.h"
#include "support/net.h"
#include "support/process.h"

namespace edgemon::notify {
namespace {

using namespace std::chrono_literals;
using test::HttpReceiver;
using test::SmtpSink;

Notification alert(AlertState state) {
  Notification n;
  n.alert = "TARGET_DOWN";
  n.node = "pi-03";
  n.subject = "pi-03/tcp:db:5432";
  n.severity = Severity::kCritical;
  n.state = state;
  n.started_at = WallTime(std::chrono::seconds(1'700'000'000));
  if (state == AlertState::kResolved) n.resolved_at = n.started_at + 90s;
  n.summary = "3 consecutive failed probes";
  n.labels = {{"site", "lab"}};
  return n;
}

NotifyConfig parse(const std::string& toml) {
  auto r = ConfigReader::parse(toml, "gateway.toml");
  EXPECT_TRUE(r.ok());
  NotifyConfig c = read_notify_config(*r);
  const Status s = r->finish();
  EXPECT_TRUE(s) << s.error().message;
  return c;
}

template <typename Pred>
bool eventually(Pred pred, std::chrono::milliseconds timeout) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return pred();
}

std::string header_of(const std::string& msg, const std::string& name) {
  const std::string head = "\r\n" + msg.substr(0, msg.find("\r\n\r\n"));
  const std::size_t at = head.find("\r\n" + name + ": ");
  if (at == std::string::npos) return "";
  const std::size_t start = at + name.size() + 4;
  return head.substr(start, head.find("\r\n", start) - start);
}

TEST(NotifyDelivery, WebhookEmailAndMqttGetFiringThenResolved) {
  test::TempDir dir("edgemon-notify");
  test::MosquittoBroker broker(dir.path());
  HttpReceiver hook;
  SmtpSink smtp;

  // The gateway's own MQTT session, which the alert channel publishes through.
  MqttOptions po;
  po.port = broker.port();
  po.client_id = "gateway-notify-test";
  MqttClient gateway_mqtt(po);
  // An operator's subscriber on the alert topic.
  MqttOptions so = po;
  so.client_id = "alert-subscriber";
  MqttClient subscriber(so);
  std::mutex m;
  std::vector<MqttIncoming> alerts;
  subscriber.subscribe("edgemon/alerts/#", 1);
  subscriber.on_message([&](MqttIncoming&& msg) {
    std::lock_guard lock(m);
    alerts.push_back(std::move(msg));
  });
  ASSERT_TRUE(subscriber.start());
  ASSERT_TRUE(gateway_mqtt.start());
  ASSERT_TRUE(eventually([&] { return subscriber.connected() && gateway_mqtt.connected(); }, 10s));
  std::this_thread::sleep_for(200ms);  // SUBACK

  const NotifyConfig config = parse(R"(
[notify]
max_attempts = 3
initial_backoff = 0.05
max_backoff = 0.2
[notify.webhook]
url = "http://127.0.0.1:)" + std::to_string(hook.port()) + R"(/hooks/edgemon"
headers = ["Authorization: Bearer t0ken", "X-Edgemon-Test: yes"]
timeout = 3
[notify.email]
url = "smtp://127.0.0.1:)" + std::to_string(smtp.port()) + R"("
from = "edgemon@example.org"
to = ["ops@example.org", "oncall@example.net", "boss@example.com"]
starttls = false
timeout = 3
[notify.mqtt]
topic_prefix = "edgemon/alerts"
)");
  ASSERT_TRUE(config.webhook && config.email && config.mqtt);
  Dispatcher d(make_channels(config,
                             [&](const std::string& t, const std::string& p, int q, bool r) {
                               return gateway_mqtt.publish(t, p, q, r);
                             }),
               config.dispatch);
  ASSERT_EQ(d.channel_count(), 3u);
  ASSERT_TRUE(d.start());
  ASSERT_TRUE(d.submit(alert(AlertState::kFiring)));
  ASSERT_TRUE(d.submit(alert(AlertState::kResolved)));

  // Webhook: two POSTs of Slack-compatible JSON, firing then resolved, with the configured headers.
  const auto reqs = hook.wait_for(2, 10s);
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].method, "POST");
  EXPECT_EQ(reqs[0].target, "/hooks/edgemon");
  EXPECT_EQ(reqs[0].headers.at("content-type"), "application/json");
  EXPECT_EQ(reqs[0].headers.at("authorization"), "Bearer t0ken");
  EXPECT_EQ(reqs[0].headers.at("x-edgemon-test"), "yes");
  const auto j0 = nlohmann::json::parse(reqs[0].body);
  const auto j1 = nlohmann::json::parse(reqs[1].body);
  EXPECT_EQ(j0.at("text"), "[FIRING] TARGET_DOWN on pi-03/tcp:db:5432 (critical): 3 consecutive failed probes");
  EXPECT_EQ(j0.at("state"), "firing");
  EXPECT_EQ(j1.at("state"), "resolved");
  EXPECT_EQ(j1.at("resolved_at"), "2023-11-14T22:14:50.000Z");
  EXPECT_EQ(j1.at("labels").at("site"), "lab");

  // SMTP: one message per notification, each to all three recipients, with proper headers.
  const auto mails = smtp.wait_for(2, 10s);
  ASSERT_EQ(mails.size(), 2u);
  EXPECT_EQ(mails[0].mail_from, "<edgemon@example.org>");
  EXPECT_EQ(mails[0].rcpt_to,
            (std::vector<std::string>{"<ops@example.org>", "<oncall@example.net>", "<boss@example.com>"}));
  EXPECT_EQ(header_of(mails[0].data, "Subject"), "[FIRING] TARGET_DOWN on pi-03/tcp:db:5432 (critical)");
  EXPECT_EQ(header_of(mails[1].data, "Subject"), "[RESOLVED] TARGET_DOWN on pi-03/tcp:db:5432 (critical)");
  EXPECT_FALSE(header_of(mails[0].data, "Date").empty());
  EXPECT_EQ(header_of(mails[0].data, "From"), "edgemon <edgemon@example.org>");
  const std::string id0 = header_of(mails[0].data, "Message-ID");
  const std::string id1 = header_of(mails[1].data, "Message-ID");
  EXPECT_TRUE(id0.size() > 2 && id0.front() == '<' && id0.back() == '>' && id0.find("@example.org>") != std::string::npos) << id0;
  EXPECT_NE(id0, id1);
  EXPECT_NE(mails[0].data.find("3 consecutive failed probes"), std::string::npos);

  // MQTT: both notices on edgemon/alerts/pi-03, in order.
  ASSERT_TRUE(eventually([&] { std::lock_guard lock(m); return alerts.size() >= 2; }, 10s));
  {
    std::lock_guard lock(m);
    EXPECT_EQ(alerts[0].topic, "edgemon/alerts/pi-03");
    EXPECT_FALSE(alerts[0].retained);
    EXPECT_EQ(nlohmann::json::parse(alerts[0].payload).at("state"), "firing");
    EXPECT_EQ(nlohmann::json::parse(alerts[1].payload).at("state"), "resolved");
  }

  d.stop(5s);
  for (const ChannelStats& s : d.stats()) {
    EXPECT_EQ(s.sent, 2u) << s.channel;
    EXPECT_EQ(s.failed, 0u) << s.channel;
  }
  subscriber.stop();
  gateway_mqtt.stop();
}

TEST(NotifyDelivery, DownReceiverIsRetriedWithBackoffThenFailedWithoutBlockingSubmit) {
  HttpReceiver live;
  const std::uint16_t dead_port = test::free_tcp_port();  // nothing listens: connection refused
  std::vector<std::unique_ptr<Channel>> channels;
  WebhookConfig dead;
  dead.url = "http://127.0.0.1:" + std::to_string(dead_port) + "/";
  dead.timeout = 1s;
  channels.push_back(std::make_unique<WebhookChannel>(dead));
  WebhookConfig ok;
  ok.url = "http://127.0.0.1:" + std::to_string(live.port()) + "/";
  channels.push_back(std::make_unique<WebhookChannel>(ok));
  DispatcherOptions o;
  o.queue_capacity = 16;
  o.retry = {3, 100ms, 400ms};
  Dispatcher d(std::move(channels), o);
  ASSERT_TRUE(d.start());

  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(d.submit(alert(i % 2 == 0 ? AlertState::kFiring : AlertState::kResolved)));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 50ms) << "submit must not wait for delivery";
  EXPECT_EQ(live.wait_for(3, 5s).size(), 3u) << "the healthy receiver is not held up";

  ASSERT_TRUE(eventually([&] { return d.stats()[0].failed == 3; }, 10s));
  const auto elapsed = std::chrono::steady_clock::now() - t0;
  const ChannelStats st = d.stats()[0];
  EXPECT_EQ(st.retries, 6u);  // 3 attempts each
  EXPECT_EQ(st.sent, 0u);
  // Backoff really waited: per notification 100 ms + 200 ms, one notification after another.
  EXPECT_GE(elapsed, 850ms);
  // Still accepting after all that.
  EXPECT_TRUE(d.submit(alert(AlertState::kFiring)));
  d.stop(0ms);
}

TEST(NotifyDelivery, LinkLocalMetadataAddressesAreRefusedBeforeConnecting) {
  for (const std::string url : {"http://169.254.169.254/latest/meta-data/", "http://[fe80::1%25lo]:9/",
                                "http://[::ffff:169.254.169.254]/"}) {
    WebhookConfig c;
    c.url = url;
    c.timeout = 2s;
    WebhookChannel ch(c);
    const auto t0 = std::chrono::steady_clock::now();
    const Status s = ch.send(alert(AlertState::kFiring), {});
    ASSERT_FALSE(s) << url;
    EXPECT_EQ(s.error().code, ErrorCode::kPermissionDenied) << url << ": " << s.error().message;
    EXPECT_FALSE(is_retryable(s.error()));
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 1s) << "refused, not timed out";
  }
  EmailConfig e;
  e.url = "smtp://169.254.169.254:25";
  e.from = "a@b.c";
  e.to = {"d@e.f"};
  e.starttls = false;
  EmailChannel mail(e);
  const Status s = mail.send(alert(AlertState::kFiring), {});
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, ErrorCode::kPermissionDenied) << s.error().message;
}

TEST(NotifyDelivery, WebhookStatusCodesDecideRetry) {
  HttpReceiver rejecting(400);
  HttpReceiver overloaded(503);
  WebhookConfig c;
  c.url = "http://127.0.0.1:" + std::to_string(rejecting.port()) + "/";
  const Status s400 = WebhookChannel(c).send(alert(AlertState::kFiring), {});
  ASSERT_FALSE(s400);
  EXPECT_FALSE(is_retryable(s400.error())) << s400.error().message;
  c.url = "http://127.0.0.1:" + std::to_string(overloaded.port()) + "/";
  const Status s503 = WebhookChannel(c).send(alert(AlertState::kFiring), {});
  ASSERT_FALSE(s503);
  EXPECT_TRUE(is_retryable(s503.error())) << s503.error().message;
}

}  // namespace
}  // namespace edgemon::notify
