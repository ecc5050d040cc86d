#include "edgemon/probe/ping_stats.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace edgemon::probe {
namespace {

ProbeRecord reply(double ms, int ttl = 64) {
  return {ProbeOutcome::kReply, ms, ttl};
}
ProbeRecord lost() {
  return {ProbeOutcome::kTimeout, 0, -1};
}

RoundStats stats_of(const std::vector<ProbeRecord>& recs) {
  std::vector<double> scratch(recs.size());
  RoundStats s;
  compute_round_stats(recs, scratch, s);
  return s;
}

TEST(PingStats, ExactFiguresForAKnownRound) {
  // 10 probes, 2 lost; replies 1..8 ms in a shuffled order.
  const RoundStats s = stats_of({reply(3), reply(1), lost(), reply(8), reply(2), reply(7), lost(),
                                 reply(4), reply(6), reply(5, 55)});
  EXPECT_EQ(s.sent, 10u);
  EXPECT_EQ(s.received, 8u);
  EXPECT_DOUBLE_EQ(s.loss_pct, 20.0);
  EXPECT_DOUBLE_EQ(s.min_ms, 1);
  EXPECT_DOUBLE_EQ(s.max_ms, 8);
  EXPECT_DOUBLE_EQ(s.avg_ms, 4.5);
  EXPECT_DOUBLE_EQ(s.median_ms, 4.5);
  EXPECT_DOUBLE_EQ(s.p95_ms, 8);  // nearest rank ceil(7.6) = 8th
  EXPECT_NEAR(s.stddev_ms, std::sqrt(5.25), 1e-12);
  // consecutive replies: 3,1,8,2,7,4,6,5 -> |diffs| 2,7,6,5,3,2,1 -> 26/7
  EXPECT_NEAR(s.jitter_ms, 26.0 / 7.0, 1e-12);
  EXPECT_EQ(s.ttl, 55);
  ASSERT_EQ(s.rtt_ms.size(), 10u);
  EXPECT_DOUBLE_EQ(s.rtt_ms[0], 3);
  EXPECT_TRUE(std::isnan(s.rtt_ms[2]));
}

TEST(PingStats, OddCountMedianAndP95) {
  std::vector<ProbeRecord> recs;
  for (int i = 1; i <= 21; ++i) recs.push_back(reply(i));
  const RoundStats s = stats_of(recs);
  EXPECT_DOUBLE_EQ(s.median_ms, 11);
  EXPECT_DOUBLE_EQ(s.p95_ms, 20);  // ceil(19.95) = 20th
}

TEST(PingStats, AllLostAndErrorsCounted) {
  const RoundStats s = stats_of({lost(),
                                 {ProbeOutcome::kUnreachable, 0, 64},
                                 {ProbeOutcome::kTimeExceeded, 0, 1},
                                 {ProbeOutcome::kSendFailed, 0, -1}});
  EXPECT_EQ(s.sent, 3u);
  EXPECT_EQ(s.received, 0u);
  EXPECT_EQ(s.unreachable, 1u);
  EXPECT_EQ(s.time_exceeded, 1u);
  EXPECT_DOUBLE_EQ(s.loss_pct, 100);
  EXPECT_DOUBLE_EQ(s.avg_ms, 0);
  EXPECT_EQ(s.ttl, -1);
}

TEST(PingStats, ReservedVectorIsReusedWithoutAllocation) {
  RoundStats s;
  s.rtt_ms.reserve(4);
  const double* before = s.rtt_ms.data();
  std::vector<double> scratch(4);
  std::vector<ProbeRecord> recs{reply(1), reply(2), lost(), reply(3)};
  for (int i = 0; i < 3; ++i) compute_round_stats(recs, scratch, s);
  EXPECT_EQ(s.rtt_ms.data(), before);
}

RoundStats round(std::uint32_t sent, std::uint32_t received, double avg = 1.0,
                 std::uint32_t unreachable = 0) {
  RoundStats s;
  s.sent = sent;
  s.received = received;
  s.unreachable = unreachable;
  s.loss_pct = sent ? 100.0 * (sent - received) / sent : 100;
  s.avg_ms = avg;
  return s;
}

TEST(HealthTracker, DownAfterExactlyTheFailureThresholdAndBackAfterTheSuccessThreshold) {
  HealthTracker h(HealthPolicy{3, 2, 20.0, 0.0});
  EXPECT_EQ(h.update(round(5, 5)), Health::kUp);
  EXPECT_EQ(h.update(round(5, 0)), Health::kUp);
  EXPECT_EQ(h.update(round(5, 0)), Health::kUp);
  EXPECT_EQ(h.update(round(5, 0)), Health::kDown);
  EXPECT_EQ(h.last_failure(), FailureKind::kTimeout);
  EXPECT_EQ(h.update(round(5, 5)), Health::kDown);  // 1 of 2 good rounds
  EXPECT_EQ(h.update(round(5, 0)), Health::kDown);  // streak broken
  EXPECT_EQ(h.update(round(5, 5)), Health::kDown);
  EXPECT_EQ(h.update(round(5, 5)), Health::kUp);
  EXPECT_EQ(h.last_failure(), FailureKind::kNone);
}

TEST(HealthTracker, UnknownUntilTheFirstVerdict) {
  HealthTracker h(HealthPolicy{2, 1, 20.0, 0.0});
  EXPECT_EQ(h.health(), Health::kUnknown);
  EXPECT_EQ(h.update(round(1, 0)), Health::kUnknown);
  EXPECT_EQ(h.update(round(1, 0)), Health::kDown);
}

TEST(HealthTracker, UnreachableIsReportedAsSuch) {
  HealthTracker h(HealthPolicy{1, 1, 20.0, 0.0});
  EXPECT_EQ(h.update(round(3, 0, 0, 3)), Health::kDown);
  EXPECT_EQ(h.last_failure(), FailureKind::kUnreachable);
  EXPECT_EQ(h.update(round(3, 0, 0, 0)), Health::kDown);
  EXPECT_EQ(h.last_failure(), FailureKind::kTimeout);
}

TEST(HealthTracker, DegradedOnLossOrLatency) {
  HealthTracker h(HealthPolicy{3, 2, 20.0, 50.0});
  EXPECT_EQ(h.update(round(10, 10, 10)), Health::kUp);
  EXPECT_EQ(h.update(round(10, 8, 10)), Health::kUp);         // 20 % is not above 20 %
  EXPECT_EQ(h.update(round(10, 7, 10)), Health::kDegraded);   // 30 %
  EXPECT_EQ(h.update(round(10, 10, 60)), Health::kDegraded);  // slow
  EXPECT_EQ(h.update(round(10, 10, 10)), Health::kUp);
}

}  // namespace
}  // namespace edgemon::probe
