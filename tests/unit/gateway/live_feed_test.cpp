// LiveFeed: node changes become WebSocket frames and readable MQTT, coalesced on the monotonic
// clock; nothing is built when nobody watches.
#include "edgemon/gateway/live/live_feed.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace edgemon::gateway {
namespace {

using namespace std::chrono_literals;

class LiveFeedTest : public ::testing::Test {
 protected:
  LiveFeedTest() {
    TelemetryMessage b;
    b.kind = MessageKind::kBirth;
    b.metrics.push_back(make_metric("cpu/total", "%", 5.0, 1));
    (void)fleet_.apply(Topic{"plant", MessageKind::kBirth, "pi-1"}, std::move(b), 1);
    node_ = fleet_.find("plant", "pi-1");
  }

  LiveFeed feed(bool republish) {
    LiveConfig c;
    c.republish.enabled = republish;
    c.republish.homeassistant = true;
    return LiveFeed(c, fleet_, aggregator_, evaluator_, hub_, clock_, [this](const MqttMessage& m, int) {
      published_.push_back(m.topic);
      return connected_;
    });
  }

  std::vector<std::string> frames(WsClient& c) {
    std::vector<std::string> out;
    while (!c.empty()) out.push_back(nlohmann::json::parse(*c.pop()).value("type", ""));
    return out;
  }

  ManualClock clock_;
  FleetState fleet_;
  Aggregator aggregator_;
  rules::Evaluator evaluator_{rules::RuleSet{}};
  asio::io_context io_;
  WsHub hub_{[] { return std::string("[]"); }, "e", clock_};
  const NodeState* node_ = nullptr;
  std::vector<std::string> published_;
  bool connected_ = true;
};

TEST_F(LiveFeedTest, ValuesAreCoalescedToOneFramePerIntervalOnTheMonotonicClock) {
  LiveFeed f = feed(false);
  auto c = std::make_shared<WsClient>(io_.get_executor());
  hub_.attach(c);
  (void)frames(*c);  // the snapshot
  f.node_changed({node_, false});
  f.flush();
  EXPECT_EQ(frames(*c), std::vector<std::string>{"node"}) << "the first change goes out at the next flush";
  f.node_changed({node_, false});
  f.node_changed({node_, false});
  clock_.advance(500ms);
  clock_.step_wall(1h);  // the wall clock does not make an interval pass
  f.flush();
  EXPECT_TRUE(frames(*c).empty());
  clock_.advance(500ms);
  f.flush();
  EXPECT_EQ(frames(*c), std::vector<std::string>{"node"}) << "two changes, one frame";
  EXPECT_EQ(f.pending(), 0u);
}

TEST_F(LiveFeedTest, UrgentChangesGoOutAtOnce) {
  LiveFeed f = feed(false);
  auto c = std::make_shared<WsClient>(io_.get_executor());
  hub_.attach(c);
  (void)frames(*c);
  f.node_changed({node_, true});
  f.node_changed({node_, true});
  EXPECT_EQ(frames(*c), (std::vector<std::string>{"node", "node"}));
  f.alerts_changed();
  EXPECT_EQ(frames(*c), std::vector<std::string>{"alerts"});
}

TEST_F(LiveFeedTest, NobodyWatchingBuildsNothing) {
  LiveFeed f = feed(false);
  const std::uint64_t seq = hub_.seq();
  f.node_changed({node_, true});
  f.node_changed({node_, false});
  f.flush();
  EXPECT_EQ(hub_.seq(), seq + 2) << "each change is skipped (a gap for resumes), none queued";
  EXPECT_EQ(f.pending(), 0u);
}

TEST_F(LiveFeedTest, RepublishSendsStateAvailabilityAndDiscoveryOnceEach) {
  LiveFeed f = feed(true);
  f.node_changed({node_, true});
  EXPECT_EQ(published_, (std::vector<std::string>{"edgemon/nodes/plant/pi-1/state",
                                                  "edgemon/nodes/plant/pi-1/availability",
                                                  "homeassistant/device/plant_pi-1/config"}));
  published_.clear();
  clock_.advance(2s);
  f.node_changed({node_, true});
  EXPECT_EQ(published_, std::vector<std::string>{"edgemon/nodes/plant/pi-1/state"}) << "unchanged: not again";
  published_.clear();
  f.broker_reconnected();
  f.node_changed({node_, true});
  EXPECT_EQ(published_.size(), 3u) << "a broker without persistence gets everything again";
}

}  // namespace
}  // namespace edgemon::gateway
