// The same PingEngine on the lwIP backend: lwIP (Debian liblwip-dev) runs its own IP stack on a
// TAP device inside a test namespace and pings the namespace's kernel side (10.78.0.1) through
// it. One lwIP stack per process, so this binary holds one test (ctest runs each in its own
// process anyway). Needs root for the namespace and TAP device.
#include <gtest/gtest.h>

#include <chrono>

#include "edgemon/probe/lwip_socket_api.h"
#include "edgemon/probe/ping_engine.h"
#include "netns.h"

namespace edgemon::probe {
namespace {

using namespace std::chrono_literals;

TEST(LwipBackend, PingsANamespaceHostOverTap) {
  if (!testing::running_as_root()) GTEST_SKIP() << "needs root";
  testing::NetnsSet net;
  const std::string ns = net.add("lwip");
  net.exec(ns,
           "ip tuntap add dev etap0 mode tap && ip addr add 10.78.0.1/24 dev etap0 && ip link set "
           "etap0 up");
  net.enter(ns);  // tapif opens the TAP by name in this thread's namespace
  ASSERT_TRUE(start_lwip_tap_stack({"etap0", "10.78.0.2", "255.255.255.0", ""}).ok());

  LwipSocketApi api;
  EngineOptions o;
  o.count = 5;
  o.period = 20ms;
  o.timeout = 1000ms;
  o.family = AF_INET;
  o.health.failure_threshold = 1;
  auto e = PingEngine::create(api, SystemClock::instance(), o);
  ASSERT_TRUE(e.ok()) << e.error().message;
  EXPECT_EQ((*e)->mode(), SocketMode::kRaw);
  EXPECT_TRUE((*e)->fds().empty());  // lwIP descriptors are not for the kernel's poll()
  const std::vector<std::string> hosts{"10.78.0.1", "10.78.0.9"};
  ASSERT_TRUE((*e)->set_targets(hosts).ok());
  ASSERT_TRUE((*e)->run_round().ok());
  const TargetReport& host = (*e)->results()[0];
  const TargetReport& nobody = (*e)->results()[1];
  std::printf("lwIP -> 10.78.0.1: %u/%u, avg %.3f ms, ttl %d\n", host.stats.sent,
              host.stats.received, host.stats.avg_ms, host.stats.ttl);
  EXPECT_EQ(host.stats.sent, 5u);
  EXPECT_GE(host.stats.received, 4u);  // the first may wait for ARP
  EXPECT_EQ(host.stats.ttl, 64);
  EXPECT_EQ(host.health, Health::kUp);
  EXPECT_EQ(nobody.stats.received, 0u);
  EXPECT_EQ(nobody.health, Health::kDown);
  net.leave();
}

}  // namespace
}  // namespace edgemon::probe
