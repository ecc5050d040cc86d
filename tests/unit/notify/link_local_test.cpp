// The real webhook and e-mail channels (libcurl) pointed at metadata addresses: refused by the
// socket-open hook before a socket exists, so no packet is sent and the result does not depend on
// this machine's routes. Literal addresses only (no DNS); names resolving to such addresses are
// covered in unit.common (CurlAddressGuard, with CURLOPT_RESOLVE).
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <thread>

#include "edgemon/notify/dispatcher.h"
#include "edgemon/notify/email_channel.h"
#include "edgemon/notify/webhook_channel.h"

namespace edgemon::notify {
namespace {

using namespace std::chrono_literals;

Notification firing() {
  Notification n;
  n.alert = "TARGET_DOWN";
  n.node = "pi-01";
  return n;
}

TEST(LinkLocalGuard, WebhookToTheMetadataServiceIsRefusedForGood) {
  const struct {
    const char* url;
    const char* message;
  } cases[] = {
      {"http://169.254.169.254/latest/meta-data/iam/security-credentials/",
       "webhook POST: refused: 169.254.169.254 is link-local "
       "(set notify.webhook.allow_link_local = true to allow)"},
      {"https://[::ffff:169.254.169.254]/",
       "webhook POST: refused: ::ffff:169.254.169.254 is link-local "
       "(set notify.webhook.allow_link_local = true to allow)"},
      {"http://[fd00:ec2::254]/latest/meta-data/",
       "webhook POST: refused: fd00:ec2::254 is a cloud metadata address "
       "(set notify.webhook.allow_link_local = true to allow)"},
  };
  for (const auto& c : cases) {
    WebhookConfig wc;
    wc.url = c.url;
    wc.timeout = 3s;
    WebhookChannel ch(wc);
    const auto t0 = std::chrono::steady_clock::now();
    const Status s = ch.send(firing(), {});
    ASSERT_FALSE(s) << c.url;
    EXPECT_EQ(s.error().code, ErrorCode::kPermissionDenied) << c.url;
    EXPECT_EQ(s.error().message, c.message);
    EXPECT_FALSE(is_retryable(s.error()));
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s) << "refused at once, not timed out";
  }
}

TEST(LinkLocalGuard, EmailRelayOnALinkLocalAddressIsRefused) {
  EmailConfig e;
  e.url = "smtp://[fe80::1%25lo]:25";
  e.from = "edgemon@example.org";
  e.to = {"ops@example.org"};
  e.starttls = false;
  e.timeout = 3s;
  const Status s = EmailChannel(e).send(firing(), {});
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, ErrorCode::kPermissionDenied);
  EXPECT_EQ(s.error().message,
            "email SMTP: refused: fe80::1 is link-local (set notify.email.allow_link_local = true "
            "to allow)");
}

TEST(LinkLocalGuard, TheDispatcherCountsARefusalAsFailedWithoutRetrying) {
  WebhookConfig wc;
  wc.url = "http://169.254.169.254/";
  wc.timeout = 3s;
  std::vector<std::unique_ptr<Channel>> chans;
  chans.push_back(std::make_unique<WebhookChannel>(wc));
  DispatcherOptions o;
  o.retry = {5, 5ms, 20ms};
  Dispatcher d(std::move(chans), o);
  ASSERT_TRUE(d.start());
  ASSERT_TRUE(d.submit(firing()));
  const auto until = std::chrono::steady_clock::now() + 5s;
  while (d.stats()[0].failed == 0 && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(1ms);
  }
  d.stop(1s);
  const ChannelStats st = d.stats()[0];
  EXPECT_EQ(st.failed, 1u);
  EXPECT_EQ(st.retries, 0u);
  EXPECT_EQ(st.sent, 0u);
}

}  // namespace
}  // namespace edgemon::notify
