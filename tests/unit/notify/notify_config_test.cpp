#include "edgemon/notify/notify_config.h"

#include <gtest/gtest.h>

namespace edgemon::notify {
namespace {

using namespace std::chrono_literals;

TEST(NotifyConfig, ReadsEverySection) {
  auto r = ConfigReader::parse(R"(
[notify]
queue_capacity = 64
max_attempts = 3
initial_backoff = 0.5
max_backoff = 30

[notify.webhook]
url = "https://hooks.example.org/T000/B000"
headers = ["Authorization: Bearer abc"]
timeout = 2.5

[notify.email]
url = "smtp://mail.example.org:587"
from = "edgemon@example.org"
to = ["ops@example.org", "oncall@example.org"]
username = "edgemon"
password = "secret"

[notify.mqtt]
topic_prefix = "site1/alerts"
qos = 2
)", "gateway.toml");
  ASSERT_TRUE(r.ok());
  const NotifyConfig c = read_notify_config(*r);
  ASSERT_TRUE(r->finish()) << r->finish().error().message;
  EXPECT_EQ(c.dispatch.queue_capacity, 64u);
  EXPECT_EQ(c.dispatch.retry.max_attempts, 3);
  EXPECT_EQ(c.dispatch.retry.initial_backoff, 500ms);
  EXPECT_EQ(c.dispatch.retry.max_backoff, 30s);
  ASSERT_TRUE(c.webhook);
  EXPECT_EQ(c.webhook->timeout, 2500ms);
  EXPECT_EQ(c.webhook->headers.size(), 1u);
  EXPECT_FALSE(c.webhook->allow_link_local);
  ASSERT_TRUE(c.email);
  EXPECT_EQ(c.email->to.size(), 2u);
  EXPECT_TRUE(c.email->starttls);
  ASSERT_TRUE(c.mqtt);
  EXPECT_EQ(c.mqtt->topic_prefix, "site1/alerts");
  EXPECT_EQ(c.mqtt->qos, 2);
  EXPECT_EQ(make_channels(c, nullptr).size(), 3u);
}

TEST(NotifyConfig, AbsentSectionsMeanNoChannels) {
  ConfigReader r;
  const NotifyConfig c = read_notify_config(r);
  EXPECT_FALSE(c.any());
  EXPECT_TRUE(make_channels(c, nullptr).empty());
}

TEST(NotifyConfig, ErrorsPointAtFileAndLine) {
  auto r = ConfigReader::parse(R"([notify.webhook]
url = "ftp://x"
headers = ["no colon here"]
[notify.email]
url = "smtp://m:25"
from = "Edgemon <e@x>"
to = ["a@b", "bad address"]
typo = 1
)", "gw.toml");
  ASSERT_TRUE(r.ok());
  (void)read_notify_config(*r);
  const Status s = r->finish();
  ASSERT_FALSE(s);
  const std::string& m = s.error().message;
  EXPECT_NE(m.find("gw.toml:2:"), std::string::npos) << m;
  EXPECT_NE(m.find("http:// or https://"), std::string::npos) << m;
  EXPECT_NE(m.find("gw.toml:3:"), std::string::npos) << m;
  EXPECT_NE(m.find("gw.toml:6:"), std::string::npos) << m;
  EXPECT_NE(m.find("bad address"), std::string::npos) << m;
  EXPECT_NE(m.find("gw.toml:8:"), std::string::npos) << m;  // unknown key
}

}  // namespace
}  // namespace edgemon::notify
