#include "edgemon/gateway/live/ws_hub.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace edgemon::gateway {
namespace {

using nlohmann::json;

// The io_context only provides an executor for each client's wake-up timer; nothing touches the
// network.
class WsHubTest : public ::testing::Test {
 protected:
  std::shared_ptr<WsClient> client() { return std::make_shared<WsClient>(io_.get_executor()); }

  static std::vector<json> drain(WsClient& c) {
    std::vector<json> frames;
    while (!c.empty()) frames.push_back(json::parse(*c.pop()));
    return frames;
  }

  asio::io_context io_;
  std::string nodes_ = R"([{"id":"pi-1"}])";
  std::string cards_ = R"([{"id":"pi-1","view":"card"}])";
  std::map<std::string, std::string, std::less<>> full_;  // node key -> its full document
  ManualClock clock_;
  WsHub hub_{[this](NodeView view) { return view == NodeView::kFull ? nodes_ : cards_; },
             [this](std::string_view key) -> std::optional<std::string> {
               const auto it = full_.find(key);
               if (it == full_.end()) return std::nullopt;
               return it->second;
             },
             "run-1", clock_};
};

TEST_F(WsHubTest, AttachSendsASnapshotAtTheCurrentSeq) {
  hub_.broadcast_node(R"({"id":"x"})");
  hub_.broadcast_node(R"({"id":"x"})");
  auto c = client();
  hub_.attach(c);
  EXPECT_EQ(hub_.clients(), 1u);
  const auto frames = drain(*c);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0]["type"], "snapshot");
  EXPECT_EQ(frames[0]["seq"], 2);
  EXPECT_EQ(frames[0]["nodes"], json::parse(nodes_));
}

TEST_F(WsHubTest, BroadcastIncrementsSeqAndReachesEveryClient) {
  std::vector<std::shared_ptr<WsClient>> clients = {client(), client(), client()};
  for (auto& c : clients) {
    hub_.attach(c);
    (void)drain(*c);
  }
  hub_.broadcast_node(R"({"id":"pi-1","online":true})");
  EXPECT_EQ(hub_.seq(), 1u);
  Frame first;
  for (auto& c : clients) {
    ASSERT_FALSE(c->empty());
    Frame f = c->pop();
    EXPECT_TRUE(c->empty());
    EXPECT_EQ(json::parse(*f), json::parse(R"({"type":"node","seq":1,"node":{"id":"pi-1","online":true}})"));
    if (!first) first = f;
    EXPECT_EQ(f.get(), first.get()) << "one shared frame, not a copy per client";
  }
}

TEST_F(WsHubTest, SeqAdvancesEvenWithNoClients) {
  hub_.broadcast_node("{}");
  hub_.broadcast_node("{}");
  EXPECT_EQ(hub_.seq(), 2u);
}

TEST_F(WsHubTest, DetachedClientReceivesNothingMore) {
  auto a = client();
  auto b = client();
  hub_.attach(a);
  hub_.attach(b);
  (void)drain(*a);
  (void)drain(*b);
  hub_.detach(a);
  EXPECT_EQ(hub_.clients(), 1u);
  hub_.broadcast_node("{}");
  EXPECT_TRUE(a->empty());
  EXPECT_FALSE(b->empty());
}

TEST_F(WsHubTest, ClientAtTheQueueLimitKeepsEveryFrame) {
  auto slow = client();
  hub_.attach(slow);  // 1 queued
  for (std::size_t i = 0; i < WsHub::kMaxQueue - 1; ++i) hub_.broadcast_node("{}");
  EXPECT_EQ(slow->resyncs(), 0u);
  const auto frames = drain(*slow);
  ASSERT_EQ(frames.size(), WsHub::kMaxQueue);
  EXPECT_EQ(frames.front()["type"], "snapshot");
  for (std::size_t i = 1; i < frames.size(); ++i) {
    EXPECT_EQ(frames[i]["type"], "node");
    EXPECT_EQ(frames[i]["seq"], i);
  }
}

TEST_F(WsHubTest, SlowClientIsResyncedWithOneSnapshotAndOthersAreUnaffected) {
  auto slow = client();
  auto fast = client();
  hub_.attach(slow);
  hub_.attach(fast);
  (void)drain(*fast);
  std::vector<json> fast_frames;
  for (std::size_t i = 0; i < WsHub::kMaxQueue; ++i) {
    hub_.broadcast_node(R"({"id":"pi-1"})");
    for (json& f : drain(*fast)) fast_frames.push_back(std::move(f));
  }
  nodes_ = R"([{"id":"pi-1","latest":true}])";  // the snapshot must reflect state at resync time
  hub_.broadcast_node(R"({"id":"pi-1"})");
  for (json& f : drain(*fast)) fast_frames.push_back(std::move(f));

  EXPECT_GE(slow->resyncs(), 1u);
  EXPECT_EQ(fast->resyncs(), 0u);
  ASSERT_EQ(fast_frames.size(), WsHub::kMaxQueue + 1);
  for (std::size_t i = 0; i < fast_frames.size(); ++i) {
    EXPECT_EQ(fast_frames[i]["type"], "node");
    EXPECT_EQ(fast_frames[i]["seq"], i + 1);
  }
  const auto slow_frames = drain(*slow);
  ASSERT_LE(slow_frames.size(), WsHub::kMaxQueue) << "memory per client stays bounded";
  ASSERT_FALSE(slow_frames.empty());
  EXPECT_EQ(slow_frames[0]["type"], "snapshot");
  // Everything after the snapshot is newer than it, so the client can apply frames in order.
  const auto snap_seq = slow_frames[0]["seq"].get<std::uint64_t>();
  for (std::size_t i = 1; i < slow_frames.size(); ++i) {
    EXPECT_EQ(slow_frames[i]["type"], "node");
    EXPECT_EQ(slow_frames[i]["seq"], snap_seq + i);
  }
  EXPECT_EQ(snap_seq + slow_frames.size() - 1, hub_.seq()) << "no frame lost after the snapshot";
}

TEST_F(WsHubTest, OverflowReplacesTheQueueWithExactlyOneSnapshot) {
  auto slow = client();
  hub_.attach(slow);
  for (std::size_t i = 0; i < WsHub::kMaxQueue; ++i) hub_.broadcast_node("{}");
  EXPECT_EQ(slow->resyncs(), 1u);
  const auto frames = drain(*slow);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0]["type"], "snapshot");
  EXPECT_EQ(frames[0]["seq"], hub_.seq());
  EXPECT_EQ(frames[0]["nodes"], json::parse(nodes_));
}

TEST_F(WsHubTest, ClientsOverflowingOnTheSameFrameShareOneSnapshot) {
  std::vector<std::shared_ptr<WsClient>> slow;
  for (int i = 0; i < 50; ++i) {
    slow.push_back(client());
    hub_.attach(slow.back());
  }
  for (std::size_t i = 0; i < WsHub::kMaxQueue; ++i) hub_.broadcast_node(R"({"id":"x"})");
  EXPECT_EQ(hub_.snapshots_built(), 1u) << "one snapshot for all 50 clients, not 50";
  const Frame first = slow[0]->pop();
  const Frame last = slow[49]->pop();
  EXPECT_EQ(first.get(), last.get());
  EXPECT_EQ(json::parse(*first)["type"], "snapshot");
}

TEST_F(WsHubTest, PushWakesAWaitingWriter) {
  auto c = client();
  boost::system::error_code woke_with;
  bool woke = false;
  c->signal().async_wait([&](boost::system::error_code ec) {
    woke = true;
    woke_with = ec;
  });
  io_.poll();
  EXPECT_FALSE(woke) << "nothing queued yet";
  hub_.attach(c);
  io_.poll();
  EXPECT_TRUE(woke);
  EXPECT_EQ(woke_with, asio::error::operation_aborted);
}

TEST_F(WsHubTest, ClosedClientsIgnoreFurtherFrames) {
  auto a = client();
  auto b = client();
  hub_.attach(a);
  hub_.attach(b);
  (void)drain(*a);
  (void)drain(*b);
  hub_.close_all();
  EXPECT_TRUE(a->closed());
  EXPECT_TRUE(b->closed());
  hub_.broadcast_node("{}");
  EXPECT_TRUE(a->empty());
  EXPECT_TRUE(b->empty());
}

}  // namespace
}  // namespace edgemon::gateway

namespace edgemon::gateway {
namespace {

using WsHubResumeTest = WsHubTest;

TEST_F(WsHubResumeTest, ReconnectingClientGetsExactlyTheFramesItMissed) {
  auto a = client();
  hub_.attach(a);
  const auto first = drain(*a);
  EXPECT_EQ(first[0]["epoch"], "run-1");
  hub_.broadcast_node(R"({"id":"1"})");
  hub_.broadcast_node(R"({"id":"2"})");
  hub_.broadcast("alerts", "[]");
  auto b = client();
  EXPECT_TRUE(hub_.attach(b, 1, "run-1"));
  const auto frames = drain(*b);
  ASSERT_EQ(frames.size(), 3u);
  EXPECT_EQ(frames[0]["type"], "resumed");
  EXPECT_EQ(frames[0]["since"], 1);
  EXPECT_EQ(frames[0]["seq"], 3);
  EXPECT_EQ(frames[1]["seq"], 2);
  EXPECT_EQ(frames[1]["node"]["id"], "2");
  EXPECT_EQ(frames[2]["seq"], 3);
  EXPECT_EQ(frames[2]["type"], "alerts");
  EXPECT_EQ(hub_.resumes(), 1u);
  auto c = client();
  EXPECT_TRUE(hub_.attach(c, 3, "run-1")) << "up to date: resumed with nothing to send";
  EXPECT_EQ(drain(*c).size(), 1u);
}

TEST_F(WsHubResumeTest, AnythingUncertainGetsASnapshot) {
  auto keep = client();
  hub_.attach(keep);
  for (int i = 0; i < 5; ++i) hub_.broadcast_node(R"({"id":"x"})");
  const auto snapshot_for = [&](std::optional<std::uint64_t> since, std::string_view epoch) {
    auto c = client();
    const bool resumed = hub_.attach(c, since, epoch);
    const auto frames = drain(*c);
    hub_.detach(c);
    return !resumed && frames.size() == 1 && frames[0]["type"] == "snapshot";
  };
  EXPECT_TRUE(snapshot_for(std::nullopt, "run-1")) << "no since";
  EXPECT_TRUE(snapshot_for(2, "run-0")) << "another run's seqs";
  EXPECT_TRUE(snapshot_for(2, "")) << "no epoch";
  EXPECT_TRUE(snapshot_for(9, "run-1")) << "from the future";
  // A change skipped while nobody listened (after the grace period) cuts the history.
  hub_.detach(keep);
  hub_.skipped();
  EXPECT_TRUE(snapshot_for(5, "run-1"));
}

TEST_F(WsHubResumeTest, TheOnlyClientResumesAfterItsConnectionDropped) {
  auto tab = client();
  hub_.attach(tab);
  hub_.broadcast_node("pi-1", R"({"id":"pi-1","v":1})");
  const std::uint64_t seen = hub_.seq();
  (void)drain(*tab);
  hub_.detach(tab);  // the only dashboard's connection drops
  EXPECT_TRUE(hub_.wants_frames()) << "frames are still kept for a reconnect";
  clock_.advance(WsHub::kResumeGrace - std::chrono::seconds(1));
  clock_.step_wall(-std::chrono::hours(1));  // the wall clock has no say in it
  EXPECT_TRUE(hub_.wants_frames());
  clock_.advance(std::chrono::seconds(2));
  EXPECT_FALSE(hub_.wants_frames());
  clock_.advance(-(WsHub::kResumeGrace + std::chrono::seconds(1)));  // back inside the grace for the rest
  hub_.broadcast_node("pi-1", R"({"id":"pi-1","v":2})");  // while it is away

  auto back = client();
  ASSERT_TRUE(hub_.attach(back, seen, "run-1"));
  const auto frames = drain(*back);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0]["type"], "resumed");
  EXPECT_EQ(frames[1]["node"]["v"], 2) << "the change made while it was away";
}

TEST_F(WsHubResumeTest, TooFarBehindForOneQueueGetsASnapshot) {
  auto keep = client();
  hub_.attach(keep);
  for (std::size_t i = 0; i < WsHub::kMaxQueue + 10; ++i) {
    hub_.broadcast_node(R"({"id":"x"})");
    (void)drain(*keep);
  }
  auto c = client();
  EXPECT_FALSE(hub_.attach(c, 1, "run-1"));
  auto d = client();
  EXPECT_TRUE(hub_.attach(d, hub_.seq() - 10, "run-1"));
  EXPECT_EQ(drain(*d).size(), 11u);
}

}  // namespace
}  // namespace edgemon::gateway

namespace edgemon::gateway {
namespace {

using WsHubCoalesceTest = WsHubTest;

std::string node(const std::string& id, int v) { return R"({"id":")" + id + R"(","v":)" + std::to_string(v) + "}"; }

TEST_F(WsHubCoalesceTest, BelowTheThresholdEveryFrameIsQueued) {
  auto c = client();
  hub_.attach(c);
  for (std::size_t i = 0; i + 2 < WsHub::kCoalesceAt; ++i) hub_.broadcast_node("edgemon/a", node("a", static_cast<int>(i)));
  const auto frames = drain(*c);
  ASSERT_EQ(frames.size(), WsHub::kCoalesceAt - 1);
  for (std::size_t i = 1; i < frames.size(); ++i) EXPECT_EQ(frames[i]["seq"], i);
  EXPECT_EQ(hub_.stats().coalesced, 0u);
}

TEST_F(WsHubCoalesceTest, AboveTheThresholdTheQueuedFrameOfTheSameNodeIsReplacedInPlace) {
  auto slow = client();
  auto fast = client();
  hub_.attach(slow);  // snapshot: 1 queued
  hub_.attach(fast);
  (void)drain(*fast);
  std::vector<json> all;  // what a reader that keeps up gets
  const auto broadcast = [&](const std::string& key, const std::string& body) {
    hub_.broadcast_node(key, body);
    for (json& f : drain(*fast)) all.push_back(std::move(f));
  };
  broadcast("edgemon/a", node("a", 1));  // seq 1
  for (std::size_t i = 2; i < WsHub::kCoalesceAt; ++i) {
    broadcast("edgemon/n" + std::to_string(i), node("n" + std::to_string(i), 0));
  }
  ASSERT_EQ(slow->queued(), WsHub::kCoalesceAt);
  broadcast("edgemon/a", node("a", 2));  // seq kCoalesceAt: replaces seq 1's content
  broadcast("edgemon/a", node("a", 3));  // and again
  broadcast("edgemon/new", node("new", 0));  // a node with nothing queued is appended
  EXPECT_EQ(slow->queued(), WsHub::kCoalesceAt + 1);
  EXPECT_EQ(slow->coalesced(), 2u);
  EXPECT_EQ(hub_.stats().coalesced, 2u);
  EXPECT_EQ(hub_.stats().resyncs, 0u);

  const auto frames = drain(*slow);
  ASSERT_EQ(frames.size(), WsHub::kCoalesceAt + 1);
  EXPECT_EQ(frames[0]["type"], "snapshot");
  EXPECT_EQ(frames[1]["seq"], 1) << "the slot keeps its seq and position";
  EXPECT_EQ(frames[1]["node"]["v"], 3) << "with the newest state of the node";
  std::uint64_t last = 0;
  for (std::size_t i = 1; i < frames.size(); ++i) {
    EXPECT_GT(frames[i]["seq"].get<std::uint64_t>(), last) << "seqs stay strictly increasing";
    last = frames[i]["seq"].get<std::uint64_t>();
  }
  EXPECT_EQ(frames.back()["node"]["id"], "new");
  EXPECT_EQ(last, hub_.seq());
  // A reader that keeps up got every frame, uncoalesced.
  ASSERT_EQ(all.size(), hub_.seq());
  EXPECT_EQ(all[WsHub::kCoalesceAt - 1]["node"]["v"], 2);
  EXPECT_EQ(fast->coalesced(), 0u);
}

TEST_F(WsHubCoalesceTest, ACoalescedClientResumesFromTheLastSeqItProcessed) {
  auto slow = client();
  hub_.attach(slow);
  (void)drain(*slow);
  // Fill to the threshold, then keep updating the same 4 nodes: those are coalesced.
  for (std::size_t i = 0; i < WsHub::kCoalesceAt; ++i) hub_.broadcast_node("edgemon/f" + std::to_string(i), node("f", 0));
  for (int round = 1; round <= 10; ++round) {
    for (int n = 0; n < 4; ++n) hub_.broadcast_node("edgemon/f" + std::to_string(n), node("f" + std::to_string(n), round));
  }
  EXPECT_EQ(slow->coalesced(), 40u);
  // The client processes half its queue, then loses the connection.
  std::uint64_t last = 0;
  for (std::size_t i = 0; i < WsHub::kCoalesceAt / 2; ++i) last = json::parse(*slow->pop())["seq"].get<std::uint64_t>();
  hub_.detach(slow);
  auto again = client();
  ASSERT_TRUE(hub_.attach(again, last, "run-1"));
  const auto frames = drain(*again);
  ASSERT_EQ(frames[0]["type"], "resumed");
  // Exactly every frame after `last`, as broadcast (the history is never coalesced).
  ASSERT_EQ(frames.size(), 1 + hub_.seq() - last);
  for (std::size_t i = 1; i < frames.size(); ++i) EXPECT_EQ(frames[i]["seq"], last + i);
  EXPECT_EQ(frames.back()["node"]["v"], 10);
}

TEST_F(WsHubCoalesceTest, AlertsFramesAreCoalescedByType) {
  auto slow = client();
  hub_.attach(slow);
  for (std::size_t i = 1; i < WsHub::kCoalesceAt; ++i) hub_.broadcast("alerts", "[" + std::to_string(i) + "]");
  hub_.broadcast("alerts", "[999]");
  EXPECT_EQ(hub_.stats().coalesced, 1u);
  const auto frames = drain(*slow);
  ASSERT_EQ(frames.size(), WsHub::kCoalesceAt);
  EXPECT_EQ(frames.back()["seq"], WsHub::kCoalesceAt - 1);
  EXPECT_EQ(frames.back()["data"], json::parse("[999]"));
}

TEST_F(WsHubCoalesceTest, ASilentClientStaysBoundedByTheNodeCountWithoutResyncs) {
  auto silent = client();
  hub_.attach(silent);
  for (int round = 0; round < 100; ++round) {
    for (int n = 0; n < 200; ++n) hub_.broadcast_node("edgemon/n" + std::to_string(n), node("n", round));
  }
  EXPECT_LE(silent->queued(), WsHub::kCoalesceAt + 200);
  EXPECT_EQ(hub_.stats().resyncs, 0u);
  EXPECT_EQ(hub_.stats().dropped, 0u);
  EXPECT_FALSE(silent->closed());
}

TEST_F(WsHubCoalesceTest, OverflowResyncsOnceThenDropsAClientThatReadsNothing) {
  auto stuck = client();
  bool aborted = false;
  stuck->set_abort([&] { aborted = true; });
  hub_.attach(stuck);
  for (std::size_t i = 0; i < WsHub::kMaxQueue; ++i) hub_.broadcast_node("{}");  // no key: never coalesced
  EXPECT_EQ(hub_.stats().resyncs, 1u);
  EXPECT_FALSE(stuck->closed());
  for (std::size_t i = 0; i < WsHub::kMaxQueue; ++i) hub_.broadcast_node("{}");
  EXPECT_EQ(hub_.stats().dropped, 1u);
  EXPECT_TRUE(stuck->closed());
  EXPECT_TRUE(aborted);
  EXPECT_EQ(stuck->close_code(), 1008);
  EXPECT_TRUE(stuck->empty());

  // A client that read its resync snapshot is resynced again instead.
  auto slow = client();
  hub_.attach(slow);
  for (std::size_t i = 0; i < WsHub::kMaxQueue; ++i) hub_.broadcast_node("{}");
  (void)slow->pop();  // the resync snapshot went out
  for (std::size_t i = 0; i <= WsHub::kMaxQueue; ++i) hub_.broadcast_node("{}");
  EXPECT_FALSE(slow->closed());
  EXPECT_EQ(slow->resyncs(), 2u);
  EXPECT_EQ(hub_.stats().dropped, 1u);
}

TEST_F(WsHubCoalesceTest, CloseIfClosesOnlyMatchingIdentitiesAndCountsThem) {
  auto alice = std::make_shared<WsClient>(io_.get_executor(), WsIdentity{WsIdentity::Via::kSession, "alice", "s1"});
  auto alice2 = std::make_shared<WsClient>(io_.get_executor(), WsIdentity{WsIdentity::Via::kSession, "alice", "s2"});
  auto token = std::make_shared<WsClient>(io_.get_executor(), WsIdentity{WsIdentity::Via::kToken, "alice", ""});
  for (const auto& c : {alice, alice2, token}) hub_.attach(c);
  const auto n = hub_.close_if([](const WsIdentity& id) { return id.via == WsIdentity::Via::kSession && id.session == "s1"; },
                               4401, "credentials revoked: logged out");
  EXPECT_EQ(n, 1u);
  EXPECT_TRUE(alice->closed());
  EXPECT_EQ(alice->close_code(), 4401);
  EXPECT_EQ(alice->close_reason(), "credentials revoked: logged out");
  EXPECT_FALSE(alice2->closed());
  EXPECT_FALSE(token->closed());
  EXPECT_EQ(hub_.stats().revoked, 1u);
}

TEST_F(WsHubCoalesceTest, FramesSentAreCountedByTheWriter) {
  hub_.frame_sent();
  hub_.frame_sent();
  EXPECT_EQ(hub_.stats().frames_sent, 2u);
}

}  // namespace
}  // namespace edgemon::gateway

namespace edgemon::gateway {
namespace {

class WsHubViewTest : public WsHubTest {
 protected:
  std::shared_ptr<WsClient> card_client() {
    auto c = client();
    c->set_view(NodeView::kCard);
    return c;
  }
  // What LiveFeed does: only the variants some client needs.
  void change(const std::string& key, int v) {
    const WsHub::Variants need = hub_.node_variants(key);
    const std::string full = R"({"id":")" + key + R"(","v":)" + std::to_string(v) + R"(,"metrics":["all"]})";
    const std::string card = R"({"id":")" + key + R"(","v":)" + std::to_string(v) + R"(,"view":"card"})";
    full_[key] = full;
    hub_.broadcast_node(key, need.full ? full : std::string(), need.card ? card : std::string());
  }
};

TEST_F(WsHubViewTest, CardClientsGetCardsAndFullClientsTheWholeDocumentUnderTheSameSeq) {
  auto full = client();
  auto card = card_client();
  hub_.attach(full);
  hub_.attach(card);
  EXPECT_EQ(drain(*full)[0]["nodes"], json::parse(nodes_));
  EXPECT_EQ(drain(*card)[0]["nodes"], json::parse(cards_)) << "the snapshot in the client's view";
  change("g/a", 1);
  const auto f = drain(*full);
  const auto c = drain(*card);
  ASSERT_EQ(f.size(), 1u);
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(f[0]["seq"], 1);
  EXPECT_EQ(c[0]["seq"], 1);
  EXPECT_TRUE(f[0]["node"].contains("metrics"));
  EXPECT_EQ(c[0]["node"]["view"], "card");
}

TEST_F(WsHubViewTest, OnlyTheVariantsSomeClientNeedsAreAsked) {
  auto card = card_client();
  hub_.attach(card);
  auto need = hub_.node_variants("g/a");
  EXPECT_TRUE(need.card);
  EXPECT_FALSE(need.full) << "nobody wants g/a in full";
  hub_.client_message(card, R"({"type":"watch","nodes":["g/a"]})");
  need = hub_.node_variants("g/a");
  EXPECT_TRUE(need.full);
  EXPECT_FALSE(need.card);
  EXPECT_TRUE(hub_.node_variants("g/b").card);
  EXPECT_FALSE(hub_.node_variants("g/b").full);
  hub_.detach(card);
  need = hub_.node_variants("g/b");
  EXPECT_TRUE(need.card) << "within the resume grace: the view of the client that left";
  EXPECT_FALSE(need.full);
}

TEST_F(WsHubViewTest, WatchingANodeSendsItsFullDocumentAtOnceAndThenInFull) {
  change("g/a", 1);  // no clients: g/a known
  auto card = card_client();
  hub_.attach(card);
  (void)drain(*card);
  hub_.client_message(card, R"({"type":"watch","nodes":["g/a","g/unknown"]})");
  auto frames = drain(*card);
  ASSERT_EQ(frames.size(), 1u) << "a detail frame for the known node only";
  EXPECT_EQ(frames[0]["type"], "detail");
  EXPECT_FALSE(frames[0].contains("seq")) << "unsequenced";
  EXPECT_EQ(frames[0]["node"]["v"], 1);
  EXPECT_TRUE(frames[0]["node"].contains("metrics"));
  change("g/a", 2);
  change("g/b", 1);
  frames = drain(*card);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_TRUE(frames[0]["node"].contains("metrics")) << "g/a is watched: in full";
  EXPECT_EQ(frames[1]["node"]["view"], "card") << "g/b is not";
  EXPECT_EQ(hub_.stats().watches, 1u);
  // Watching the same node again sends nothing new; unwatching returns it to cards.
  hub_.client_message(card, R"({"type":"watch","nodes":["g/a"]})");
  EXPECT_TRUE(card->empty());
  hub_.client_message(card, R"({"type":"watch","nodes":[]})");
  change("g/a", 3);
  frames = drain(*card);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0]["node"]["view"], "card");
}

TEST_F(WsHubViewTest, BadMessagesAreAnsweredWithAnErrorAndChangeNothing) {
  auto card = card_client();
  hub_.attach(card);
  (void)drain(*card);
  hub_.client_message(card, R"({"type":"watch","nodes":["g/a"]})");
  const std::string too_many = [] {
    std::string m = R"({"type":"watch","nodes":[)";
    for (std::size_t i = 0; i <= WsHub::kMaxWatch; ++i) m += (i ? ",\"g/n" : "\"g/n") + std::to_string(i) + "\"";
    return m + "]}";
  }();
  const std::string long_key = R"({"type":"watch","nodes":[")" + std::string(WsHub::kMaxNodeKey + 1, 'x') + R"("]})";
  for (const std::string& bad : {std::string("not json"), std::string("[]"), std::string(R"({"type":"subscribe","nodes":[]})"),
                                std::string(R"({"type":"watch"})"), std::string(R"({"type":"watch","nodes":[1]})"),
                                std::string(R"({"type":"watch","nodes":[],"extra":1})"), too_many, long_key}) {
    hub_.client_message(card, bad);
    const auto frames = drain(*card);
    ASSERT_EQ(frames.size(), 1u) << bad;
    EXPECT_EQ(frames[0]["type"], "error") << bad;
    EXPECT_FALSE(frames[0]["error"].get<std::string>().empty()) << bad;
  }
  EXPECT_EQ(hub_.stats().bad_messages, 8u);
  EXPECT_EQ(card->watched(), std::vector<std::string>{"g/a"}) << "the last good watch stays";
}

TEST_F(WsHubViewTest, ADetailFrameIsABarrierForCoalescing) {
  // A slow client's queued card of g/a must not be replaced by a newer full frame ahead of the
  // detail frame: the client would end with the detail's older state.
  auto slow = card_client();
  hub_.attach(slow);  // snapshot queued
  change("g/a", 1);
  for (std::size_t i = 2; i < WsHub::kCoalesceAt; ++i) change("g/n" + std::to_string(i), 0);
  hub_.client_message(slow, R"({"type":"watch","nodes":["g/a"]})");
  change("g/a", 2);
  const auto frames = drain(*slow);
  int last_v = 0;
  for (const json& f : frames) {
    if (f.contains("node") && f["node"]["id"] == "g/a") last_v = f["node"]["v"];
  }
  EXPECT_EQ(last_v, 2) << "the newest state of g/a arrives last";
  EXPECT_EQ(frames.back()["node"]["v"], 2);
}

TEST_F(WsHubViewTest, ResumeReplaysTheClientsVariantAndAFullClientNeverGetsCards) {
  auto card = card_client();
  hub_.attach(card);
  (void)drain(*card);
  change("g/a", 1);  // built as a card only
  hub_.detach(card);
  auto again = card_client();
  EXPECT_TRUE(hub_.attach(again, 0, "run-1"));
  auto frames = drain(*again);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[1]["node"]["view"], "card");
  auto full = client();
  EXPECT_FALSE(hub_.attach(full, 0, "run-1")) << "the missed frame exists only as a card: a snapshot";
  frames = drain(*full);
  EXPECT_EQ(frames[0]["type"], "snapshot");
  EXPECT_EQ(frames[0]["nodes"], json::parse(nodes_));
}

TEST_F(WsHubViewTest, AResyncedCardClientGetsCardsAndItsWatchedNodesInFull) {
  change("g/a", 1);
  auto slow = card_client();
  hub_.attach(slow);
  hub_.client_message(slow, R"({"type":"watch","nodes":["g/a"]})");
  for (std::size_t i = 0; i < WsHub::kMaxQueue + 1; ++i) change("g/n" + std::to_string(i), 0);
  EXPECT_EQ(hub_.stats().resyncs, 1u);
  const auto frames = drain(*slow);
  ASSERT_GE(frames.size(), 2u);
  EXPECT_EQ(frames[0]["type"], "snapshot");
  EXPECT_EQ(frames[0]["nodes"], json::parse(cards_));
  EXPECT_EQ(frames[1]["type"], "detail");
  EXPECT_EQ(frames[1]["node"]["id"], "g/a");
}

}  // namespace
}  // namespace edgemon::gateway
