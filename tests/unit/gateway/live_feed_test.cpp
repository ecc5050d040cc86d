// LiveFeed: node changes become WebSocket frames and readable MQTT, coalesced on the monotonic
// clock; nothing is built when nobody watches.
#include "edgemon/gateway/live/live_feed.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <map>

namespace edgemon::gateway {
namespace {

using namespace std::chrono_literals;

class LiveFeedTest : public ::testing::Test {
 protected:
  LiveFeedTest() {
    TelemetryMessage b;
    b.kind = MessageKind::kBirth;
    b.metrics.push_back(make_metric("cpu/total", "%", 5.0, 1));
    b.metrics.push_back(make_metric("mem/used_pct", "%", 40.0, 1));
    b.metrics.push_back(make_metric("ping/10.0.0.1/rtt", "ms", 1.5, 1));
    b.metrics.push_back(make_metric("ping/10.0.0.1/loss", "%", 0.0, 1));
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
  WsHub hub_{[](NodeView) { return std::string("[]"); },
             [this](std::string_view key) -> std::optional<std::string> {
               const NodeState* n = fleet_.find(key);
               if (n == nullptr) return std::nullopt;
               return node_json(*n, nullptr);
             },
             "e", clock_};
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

TEST_F(LiveFeedTest, CardClientsGetTheCardMetricsAndWatchedNodesInFull) {
  LiveFeed f = feed(false);
  auto full = std::make_shared<WsClient>(io_.get_executor());
  auto card = std::make_shared<WsClient>(io_.get_executor());
  card->set_view(NodeView::kCard);
  hub_.attach(full);
  hub_.attach(card);
  (void)frames(*full);
  (void)frames(*card);
  const auto names = [](const nlohmann::json& node) {
    std::vector<std::string> out;
    for (const auto& m : node["metrics"]) out.push_back(m["name"]);
    return out;
  };
  f.node_changed({node_, true});
  const auto full_frame = nlohmann::json::parse(*full->pop());
  const auto card_frame = nlohmann::json::parse(*card->pop());
  EXPECT_EQ(full_frame["seq"], card_frame["seq"]);
  EXPECT_EQ(names(full_frame["node"]).size(), 4u);
  EXPECT_FALSE(full_frame["node"].contains("view"));
  EXPECT_EQ(card_frame["node"]["view"], "card");
  EXPECT_EQ(names(card_frame["node"]), (std::vector<std::string>{"cpu/total", "ping/10.0.0.1/rtt"}));

  hub_.client_message(card, R"({"type":"watch","nodes":["plant/pi-1"]})");
  const auto detail = nlohmann::json::parse(*card->pop());
  EXPECT_EQ(detail["type"], "detail");
  EXPECT_EQ(names(detail["node"]).size(), 4u);
  f.node_changed({node_, true});
  EXPECT_EQ(names(nlohmann::json::parse(*card->pop())["node"]).size(), 4u) << "watched: in full";
}

TEST_F(LiveFeedTest, FlushesSpreadNodesThatCameDueTogether) {
  for (int i = 0; i < 99; ++i) {
    TelemetryMessage b;
    b.kind = MessageKind::kBirth;
    b.metrics.push_back(make_metric("cpu/total", "%", 5.0, 1));
    (void)fleet_.apply(Topic{"plant", MessageKind::kBirth, "n" + std::to_string(i)}, std::move(b), 1);
  }
  LiveFeed f = feed(false);  // flush_every 50 ms, node_interval 1 s
  ASSERT_EQ(f.flush_share(), 8u) << "ceil(1.25 x 100 x 50 / 1000) + 1";
  auto c = std::make_shared<WsClient>(io_.get_executor());
  hub_.attach(c);
  (void)frames(*c);
  std::vector<const NodeState*> all;
  for (const auto& [key, n] : fleet_.nodes()) all.push_back(&n);
  ASSERT_EQ(all.size(), 100u);
  // Every node changes at once, again and again: no flush sends more than its share, and every
  // node still goes out about once a second, none starved.
  std::map<std::string, int> per_node;
  std::size_t most = 0;
  for (int step = 0; step < 100; ++step) {  // 5 s of 50 ms flushes
    for (const NodeState* n : all) f.node_changed({n, false});
    while (f.flush()) {
    }
    std::size_t n = 0;
    for (; !c->empty(); ++n) ++per_node[nlohmann::json::parse(*c->pop())["node"]["id"].get<std::string>()];
    most = std::max(most, n);
    clock_.advance(50ms);
  }
  EXPECT_LE(most, 8u);
  ASSERT_EQ(per_node.size(), 100u) << "every node went out";
  for (const auto& [id, n] : per_node) {
    EXPECT_GE(n, 4) << id << ": about once a second over 5 s";
    EXPECT_LE(n, 5) << id << ": never more than once a second";
  }
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
