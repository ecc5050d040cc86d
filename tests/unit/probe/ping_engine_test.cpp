// The engine against FakeSocketApi and a ManualClock: every time is injected, nothing sleeps.
#include "edgemon/probe/ping_engine.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <functional>
#include <new>

#include "fake_socket_api.h"
#include "icmp_packets.h"

// Counts heap allocations so a test can assert a steady-state round allocates nothing.
namespace {
std::atomic<long> g_allocations{0};
}
void* operator new(std::size_t n) {
  if (!edgemon::probe::testing::g_in_fake) ++g_allocations;
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}

namespace edgemon::probe {
namespace {

using namespace std::chrono_literals;
using testing::Bytes;
using testing::FakeSocketApi;

const std::uint8_t kUs[4] = {10, 0, 0, 1};
const std::uint8_t kRouter[4] = {10, 0, 0, 254};

// What the fake network does with an echo request: answer it, answer "unreachable", or nothing.
enum class Answer { kReply, kUnreachable, kTimeExceeded, kNothing, kForeignIdent, kWrongSource };

Bytes answer_for(const testing::Datagram& req, Answer a) {
  const auto& dst = reinterpret_cast<const sockaddr_in&>(req.peer);
  std::uint8_t them[4];
  std::memcpy(them, &dst.sin_addr, 4);
  Bytes icmp = req.bytes;
  switch (a) {
    case Answer::kReply:
    case Answer::kWrongSource:
    case Answer::kForeignIdent: {
      icmp[0] = 0;
      if (a == Answer::kForeignIdent) icmp[4] ^= 0xff;
      icmp[2] = icmp[3] = 0;
      const std::uint16_t sum = internet_checksum(icmp);
      icmp[2] = static_cast<std::uint8_t>(sum >> 8);
      icmp[3] = static_cast<std::uint8_t>(sum & 0xff);
      return testing::ipv4(them, kUs, 57, icmp);
    }
    case Answer::kUnreachable:
      return testing::ipv4(kRouter, kUs, 64,
                           testing::icmp4_error(3, 1, testing::ipv4(kUs, them, 64, icmp)));
    case Answer::kTimeExceeded:
      return testing::ipv4(kRouter, kUs, 64,
                           testing::icmp4_error(11, 0, testing::ipv4(kUs, them, 1, icmp)));
    case Answer::kNothing:
      break;
  }
  return {};
}

struct Harness {
  FakeSocketApi api;
  ManualClock clock;
  std::unique_ptr<PingEngine> engine;
  std::size_t answered = 0;
  std::function<Answer(const testing::Datagram&)> network = [](const testing::Datagram&) {
    return Answer::kReply;
  };
  std::chrono::nanoseconds delay = 5ms;

  explicit Harness(EngineOptions o, std::vector<std::string> hosts) {
    auto e = PingEngine::create(api, clock, o);
    EXPECT_TRUE(e.ok());
    engine = std::move(*e);
    EXPECT_TRUE(engine->set_targets(hosts).ok());
  }
  // Replies in flight: they reach the inbox when the clock passes their arrival time.
  std::vector<std::pair<MonoTime, testing::Datagram>> in_flight;

  void deliver(bool all = false) {
    testing::g_in_fake = true;
    for (auto it = in_flight.begin(); it != in_flight.end();) {
      if (all || it->first <= clock.mono()) {
        api.inbox.push_back(std::move(it->second));
        it = in_flight.erase(it);
      } else {
        ++it;
      }
    }
    testing::g_in_fake = false;
  }
  // Answers each request `delay` after it was sent and drives the engine until the round ends.
  void run_round(std::function<void()> between = {}) {
    engine->start_round(clock.mono());
    int guard = 0;
    while (engine->round_active() && ++guard < 100000) {
      deliver();
      engine->drain(clock.mono());
      testing::g_in_fake = true;
      for (; answered < api.sent.size(); ++answered) {
        const testing::Datagram& req = api.sent[answered];
        const Answer a = network(req);
        if (a == Answer::kNothing) continue;
        testing::Datagram d;
        d.fd = req.fd;
        d.bytes = answer_for(req, a);
        d.peer = a == Answer::kWrongSource ? testing::v4("10.9.9.9") : req.peer;
        if (a == Answer::kUnreachable || a == Answer::kTimeExceeded)
          d.peer = testing::v4("10.0.0.254");
        in_flight.emplace_back(clock.mono() + delay, std::move(d));
      }
      testing::g_in_fake = false;
      if (!engine->round_active()) break;
      if (between) between();
      std::optional<MonoTime> next = engine->next_deadline();
      for (const auto& f : in_flight) next = next ? std::min(*next, f.first) : f.first;
      ASSERT_TRUE(next.has_value());
      if (*next > clock.mono()) clock.advance(*next - clock.mono());
    }
    ASSERT_FALSE(engine->round_active());
  }
};

EngineOptions opts(std::uint32_t count, std::uint32_t failure = 3, std::uint32_t success = 2) {
  EngineOptions o;
  o.count = count;
  o.period = 100ms;
  o.interval = 1ms;
  o.timeout = 500ms;
  o.family = AF_INET;
  o.health.failure_threshold = failure;
  o.health.success_threshold = success;
  return o;
}

TEST(IcmpSocketOpen, FallsBackToUnprivilegedThenNamesTheCapabilityAndSysctl) {
  FakeSocketApi api;
  api.allow_raw = false;
  auto s = IcmpSocket::open(api, AF_INET);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ((*s)->mode(), SocketMode::kUnprivileged);
  EXPECT_FALSE((*s)->ip_header_included());

  api.allow_dgram = false;
  auto none = IcmpSocket::open(api, AF_INET);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code, ErrorCode::kPermissionDenied);
  EXPECT_NE(none.error().message.find("CAP_NET_RAW"), std::string::npos);
  EXPECT_NE(none.error().message.find("net.ipv4.ping_group_range"), std::string::npos);
}

TEST(PingEngine, RejectsBadOptions) {
  FakeSocketApi api;
  ManualClock clock;
  EngineOptions o;
  o.count = 0;
  EXPECT_FALSE(PingEngine::create(api, clock, o).ok());
}

TEST(PingEngine, MeasuresRttFromTheMonotonicClockAndFillsStats) {
  Harness h(opts(5), {"10.0.0.2", "10.0.0.3"});
  h.delay = 7ms;
  h.run_round();
  ASSERT_EQ(h.engine->results().size(), 2u);
  for (const TargetReport& r : h.engine->results()) {
    EXPECT_EQ(r.stats.sent, 5u) << r.name;
    EXPECT_EQ(r.stats.received, 5u);
    EXPECT_DOUBLE_EQ(r.stats.min_ms, 7.0);
    EXPECT_DOUBLE_EQ(r.stats.max_ms, 7.0);
    EXPECT_EQ(r.stats.ttl, 57);
    EXPECT_EQ(r.health, Health::kUp);
    EXPECT_EQ(r.address, r.name);
  }
  EXPECT_EQ(h.engine->counters().replies, 10u);
  EXPECT_TRUE(h.engine->take_round_complete());
  EXPECT_FALSE(h.engine->take_round_complete());
}

TEST(PingEngine, SendsOnAnAbsoluteSchedule) {
  Harness h(opts(4), {"10.0.0.2", "10.0.0.3"});
  std::vector<MonoTime> at;
  const MonoTime start = h.clock.mono();
  h.network = [&](const testing::Datagram&) {
    at.push_back(h.clock.mono());
    return Answer::kReply;
  };
  h.run_round();
  ASSERT_EQ(at.size(), 8u);
  // target 0 at 0,100,200,300 ms; target 1 one interval (1 ms) later.
  EXPECT_EQ(at[0] - start, 0ms);
  EXPECT_EQ(at[1] - start, 1ms);
  EXPECT_EQ(at[6] - start, 300ms);
  EXPECT_EQ(at[7] - start, 301ms);
}

TEST(PingEngine, SteppingTheWallClockChangesNoRtt) {
  Harness h(opts(3), {"10.0.0.2"});
  h.delay = 4ms;
  h.run_round([&] { h.clock.step_wall(-3600s); });
  const RoundStats& s = h.engine->results()[0].stats;
  EXPECT_EQ(s.received, 3u);
  EXPECT_DOUBLE_EQ(s.min_ms, 4.0);
  EXPECT_DOUBLE_EQ(s.max_ms, 4.0);
  h.run_round([&] { h.clock.step_wall(7200s); });
  EXPECT_DOUBLE_EQ(h.engine->results()[0].stats.avg_ms, 4.0);
}

TEST(PingEngine, DownTargetIsDownAfterExactlyTheFailureThresholdThenRecovers) {
  Harness h(opts(2, 3, 2), {"10.0.0.2", "10.0.0.3"});
  bool down = true;
  h.network = [&](const testing::Datagram& d) {
    const sockaddr_storage two = testing::v4("10.0.0.2");
    const bool is_2 = reinterpret_cast<const sockaddr_in&>(d.peer).sin_addr.s_addr ==
                      reinterpret_cast<const sockaddr_in&>(two).sin_addr.s_addr;
    return (is_2 && down) ? Answer::kNothing : Answer::kReply;
  };
  const Health expect_down[] = {Health::kUnknown, Health::kUnknown, Health::kDown, Health::kDown};
  for (Health want : expect_down) {
    h.run_round();
    EXPECT_EQ(h.engine->results()[0].health, want);
    EXPECT_EQ(h.engine->results()[0].stats.loss_pct, 100.0);
    EXPECT_EQ(h.engine->results()[1].health, Health::kUp);
  }
  EXPECT_EQ(h.engine->results()[0].failure, FailureKind::kTimeout);
  down = false;
  h.run_round();
  EXPECT_EQ(h.engine->results()[0].health, Health::kDown);  // 1 of 2
  h.run_round();
  EXPECT_EQ(h.engine->results()[0].health, Health::kUp);
}

TEST(PingEngine, UnreachableIsDistinguishedFromTimeout) {
  Harness h(opts(3, 1, 1), {"10.0.0.2"});
  h.network = [](const testing::Datagram&) { return Answer::kUnreachable; };
  const MonoTime start = h.clock.mono();
  h.run_round();
  const TargetReport& r = h.engine->results()[0];
  EXPECT_EQ(r.health, Health::kDown);
  EXPECT_EQ(r.failure, FailureKind::kUnreachable);
  EXPECT_EQ(r.stats.unreachable, 3u);
  // The round ends as soon as the errors arrive, without waiting for the timeout.
  EXPECT_LT(h.clock.mono() - start, 300ms);
  EXPECT_EQ(h.engine->counters().errors_matched, 3u);

  h.network = [](const testing::Datagram&) { return Answer::kTimeExceeded; };
  h.run_round();
  EXPECT_EQ(h.engine->results()[0].failure, FailureKind::kTimeExceeded);
}

TEST(PingEngine, ForeignIdentAndWrongSourceAreIgnoredAndCounted) {
  Harness h(opts(2, 1, 1), {"10.0.0.2"});
  h.network = [](const testing::Datagram&) { return Answer::kForeignIdent; };
  h.run_round();
  EXPECT_EQ(h.engine->results()[0].stats.received, 0u);
  EXPECT_EQ(h.engine->counters().foreign, 2u);
  h.network = [](const testing::Datagram&) { return Answer::kWrongSource; };
  h.run_round();
  EXPECT_EQ(h.engine->results()[0].stats.received, 0u);
  EXPECT_EQ(h.engine->counters().foreign, 4u);
}

TEST(PingEngine, MalformedDatagramsAreCountedByReason) {
  Harness h(opts(1), {"10.0.0.2"});
  h.engine->start_round(h.clock.mono());
  h.engine->drain(h.clock.mono());
  testing::Datagram junk;
  junk.fd = h.api.sent[0].fd;
  junk.peer = h.api.sent[0].peer;
  junk.bytes = {0x45, 0, 0};
  h.api.inbox.push_back(junk);
  junk.bytes = Bytes(28, 0);
  junk.bytes[0] = 0x41;
  h.api.inbox.push_back(junk);
  h.engine->drain(h.clock.mono());
  EXPECT_EQ(h.engine->counters().malformed[static_cast<std::size_t>(DecodeStatus::kTruncated)], 1u);
  EXPECT_EQ(h.engine->counters().malformed[static_cast<std::size_t>(DecodeStatus::kBadIpHeader)],
            1u);
  h.engine->finish_round();
  EXPECT_EQ(h.engine->results()[0].stats.received, 0u);
}

TEST(PingEngine, LateReplyAfterTimeoutIsNotCounted) {
  Harness h(opts(1, 5, 1), {"10.0.0.2"});
  h.delay = 600ms;  // beyond the 500 ms timeout
  h.run_round();
  EXPECT_EQ(h.engine->results()[0].stats.received, 0u);
  h.deliver(true);
  h.engine->start_round(h.clock.mono());
  h.engine->drain(h.clock.mono());
  EXPECT_GE(h.engine->counters().late, 1u);
  h.engine->finish_round();
}

TEST(PingEngine, SendFailureIsRecorded) {
  Harness h(opts(2, 1, 1), {"10.0.0.2"});
  h.api.send_errno = ENETUNREACH;
  h.run_round();
  EXPECT_EQ(h.engine->results()[0].failure, FailureKind::kSendFailed);
  EXPECT_EQ(h.engine->counters().send_failures, 2u);
}

TEST(PingEngine, UnresolvableNameIsReportedNotFatalAndRetriedEachRound) {
  // The resolver seam: no DNS traffic from a unit test.
  EngineOptions o = opts(1);
  int calls = 0;
  bool known = false;
  o.resolver = [&](const std::string& host, int, sockaddr_storage& out, socklen_t& len) {
    ++calls;
    if (host != "gw.example" || !known) return false;
    out = testing::v4("10.0.0.7");
    len = sizeof(sockaddr_in);
    return true;
  };
  Harness h(o, {"gw.example", "10.0.0.2"});
  h.run_round();
  EXPECT_FALSE(h.engine->results()[0].resolved);
  EXPECT_TRUE(h.engine->results()[1].resolved);
  EXPECT_EQ(h.engine->results()[1].stats.received, 1u);
  EXPECT_EQ(calls, 2);  // set_targets + the first round's retry; numeric hosts never resolve
  known = true;
  h.run_round();
  EXPECT_TRUE(h.engine->results()[0].resolved);
  EXPECT_EQ(h.engine->results()[0].address, "10.0.0.7");
  EXPECT_EQ(h.engine->results()[0].stats.received, 1u);
}

TEST(PingEngine, ASteadyStateRoundAllocatesNothing) {
  std::vector<std::string> hosts;
  for (int i = 1; i <= 50; ++i) hosts.push_back("10.0.1." + std::to_string(i));
  Harness h(opts(4), hosts);
  h.run_round();  // warm-up
  const long before = g_allocations.load();
  h.run_round();
  EXPECT_EQ(g_allocations.load() - before, 0);
  EXPECT_EQ(h.engine->results()[0].stats.sent, 4u);
}

TEST(PingEngine, SeqMapIsSizedToTheRound) {
  Harness small(opts(1), {"10.0.0.2"});
  EXPECT_EQ(small.engine->seq_map_size(), 64u);
  std::vector<std::string> hosts(1000, "127.0.0.1");
  Harness big(opts(60), hosts);
  EXPECT_EQ(big.engine->seq_map_size(), 65536u);
}

}  // namespace
}  // namespace edgemon::probe
