#include <gtest/gtest.h>

#include "edgemon/notify/email_channel.h"

namespace edgemon::notify {
namespace {

EmailConfig config() {
  EmailConfig c;
  c.url = "smtp://127.0.0.1:2525";
  c.from = "edgemon@example.org";
  c.to = {"ops@example.org", "oncall@example.net"};
  return c;
}

Notification sample() {
  Notification n;
  n.alert = "NODE_DOWN";
  n.node = "pi-07";
  n.severity = Severity::kCritical;
  n.started_at = WallTime(std::chrono::seconds(1'700'000'000));
  n.summary = "no data for 60 s";
  return n;
}

std::string header(const std::string& msg, const std::string& name) {
  const std::size_t at = msg.find("\r\n" + name + ": ");
  if (at == std::string::npos) return msg.rfind(name + ": ", 0) == 0 ? msg.substr(name.size() + 2, msg.find("\r\n") - name.size() - 2) : "";
  const std::size_t start = at + 2 + name.size() + 2;
  return msg.substr(start, msg.find("\r\n", start) - start);
}

TEST(EmailMessage, HasTheRfc5322Headers) {
  const WallTime now = WallTime(std::chrono::seconds(1'700'000'000));
  const std::string m = build_email(sample(), config(), now, "123.1@example.org");
  EXPECT_EQ(header(m, "Date"), "Tue, 14 Nov 2023 22:13:20 +0000");
  EXPECT_EQ(header(m, "From"), "edgemon <edgemon@example.org>");
  EXPECT_EQ(header(m, "Subject"), "[FIRING] NODE_DOWN on pi-07 (critical)");
  EXPECT_EQ(header(m, "Message-ID"), "<123.1@example.org>");
  EXPECT_EQ(header(m, "MIME-Version"), "1.0");
  EXPECT_NE(m.find("To: ops@example.org,\r\n oncall@example.net\r\n"), std::string::npos);
  const std::size_t body = m.find("\r\n\r\n");
  ASSERT_NE(body, std::string::npos);
  EXPECT_NE(m.find("no data for 60 s", body), std::string::npos);
  // Every line ends in CRLF: no bare LF anywhere.
  for (std::size_t i = 0; i < m.size(); ++i) {
    if (m[i] == '\n') {
      ASSERT_TRUE(i > 0 && m[i - 1] == '\r') << "bare LF at " << i;
    }
  }
}

TEST(EmailMessage, DeviceStringsCannotInjectHeaders) {
  Notification n = sample();
  n.node = "pi\r\nBcc: victim@example.com";
  n.alert = "X\nReply-To: a@b";
  const std::string m = build_email(n, config(), WallTime{}, "1@x");
  const std::string head = m.substr(0, m.find("\r\n\r\n"));
  EXPECT_EQ(head.find("\r\nBcc:"), std::string::npos);
  EXPECT_EQ(head.find("\r\nReply-To:"), std::string::npos);
}

TEST(EmailMessage, NonAsciiSubjectIsEncodedWord) {
  Notification n = sample();
  n.node = "küche-sensor";
  const std::string m = build_email(n, config(), WallTime{}, "1@x");
  EXPECT_EQ(header(m, "Subject").rfind("=?UTF-8?B?", 0), 0u);
}

TEST(EmailMessage, Mailboxes) {
  EXPECT_TRUE(valid_mailbox("a@b.c"));
  EXPECT_FALSE(valid_mailbox("a@b.c\r\nRCPT TO:<x@y>"));
  EXPECT_FALSE(valid_mailbox("Name <a@b.c>"));
  EXPECT_FALSE(valid_mailbox("a@@b"));
  EXPECT_FALSE(valid_mailbox("@b"));
  EXPECT_FALSE(valid_mailbox("a@"));
  EXPECT_FALSE(valid_mailbox("a,b@c"));
}

}  // namespace
}  // namespace edgemon::notify
