// Completeness: received / duplicate / missing accounting of agent/sample_seq, the reasons the
// agent's counters give, resets, bounds, persistence rows. No clock: every call carries its time.
#include "edgemon/gateway/core/completeness.h"

#include <gtest/gtest.h>

namespace edgemon::gateway {
namespace {

using V = Completeness::Verdict;
constexpr std::int64_t kT = 1'796'000'000'000;
const std::string kNode = "plant/pi-1";

// Holes settle at the first live sample (no minimum wait) unless a test says otherwise.
Completeness::Config immediate() {
  Completeness::Config c;
  c.settle_min = std::chrono::milliseconds(0);
  return c;
}

// A live sample (the agent's backlog has drained): holes settle.
V feed(Completeness& c, std::uint64_t seq, std::optional<std::uint64_t> dropped = 0,
       std::optional<std::uint64_t> damaged = 0, std::int64_t at = kT) {
  return c.sample(kNode, seq, dropped, damaged, /*live=*/true, at);
}
// A replayed sample from the agent's buffer.
V replay(Completeness& c, std::uint64_t seq, std::optional<std::uint64_t> dropped = 0,
         std::optional<std::uint64_t> damaged = 0, std::int64_t at = kT) {
  return c.sample(kNode, seq, dropped, damaged, /*live=*/false, at);
}

TEST(Completeness, ConsecutiveSamplesAreReceivedAndNothingIsMissing) {
  Completeness c(immediate());
  for (std::uint64_t s = 100; s < 110; ++s) EXPECT_EQ(feed(c, s), V::kNew);
  const auto* n = c.find(kNode);
  ASSERT_NE(n, nullptr);
  EXPECT_EQ(n->received, 10u);
  EXPECT_EQ(n->missing, 0u);
  EXPECT_EQ(n->high, std::optional<std::uint64_t>(109));
  EXPECT_TRUE(c.take_losses().empty());
  EXPECT_EQ(c.totals().nodes, 1u);
}

TEST(Completeness, AReplayOfReceivedSamplesIsADuplicate) {
  Completeness c(immediate());
  for (std::uint64_t s = 0; s <= 50; ++s) feed(c, s);
  // The agent's confirm window replays 40..50, then goes on with 51.
  for (std::uint64_t s = 40; s <= 50; ++s) EXPECT_EQ(feed(c, s), V::kDuplicate) << s;
  EXPECT_EQ(feed(c, 51), V::kNew);
  EXPECT_EQ(c.find(kNode)->duplicates, 11u);
  EXPECT_EQ(c.find(kNode)->received, 52u);
  EXPECT_TRUE(c.take_losses().empty());
}

TEST(Completeness, AHoleIsOneLossWithItsExactRangeAndNoReasonWhenTheAgentLostNothing) {
  Completeness c(immediate());
  for (std::uint64_t s = 0; s <= 50; ++s) feed(c, s);
  EXPECT_EQ(feed(c, 66, 0, 0, kT + 40'000), V::kNew);
  const auto losses = c.take_losses();
  ASSERT_EQ(losses.size(), 1u);
  EXPECT_EQ(losses[0].node, kNode);
  EXPECT_EQ(losses[0].first, 51u);
  EXPECT_EQ(losses[0].last, 65u);
  EXPECT_EQ(losses[0].count(), 15u);
  EXPECT_EQ(losses[0].unexplained(), 15u);
  EXPECT_EQ(losses[0].at_ms, kT + 40'000);
  EXPECT_EQ(losses[0].describe(), "sample_seq 51-65 missing (15 samples): not delivered (the agent reported no loss of its own)");
  EXPECT_EQ(c.find(kNode)->missing, 15u);
  EXPECT_EQ(c.find(kNode)->losses, 1u);
  EXPECT_EQ(c.totals().missing, 15u);
}

TEST(Completeness, TheAgentsCountersNameOverflowAndDamage) {
  Completeness c(immediate());
  feed(c, 9, 3, 1);
  // 474 dropped by a full ring: the counter grew by exactly that.
  feed(c, 484, 3 + 474, 1);
  // Then 10 lost to a damaged file and 2 more that the agent does not account for.
  feed(c, 497, 477, 11);
  const auto losses = c.take_losses();
  ASSERT_EQ(losses.size(), 2u);
  EXPECT_EQ(losses[0].count(), 474u);
  EXPECT_EQ(losses[0].overflow, 474u);
  EXPECT_EQ(losses[0].damaged, 0u);
  EXPECT_EQ(losses[0].describe(), "sample_seq 10-483 missing (474 samples): 474 dropped by the agent's full buffer");
  EXPECT_EQ(losses[1].count(), 12u);
  EXPECT_EQ(losses[1].overflow, 0u);
  EXPECT_EQ(losses[1].damaged, 10u);
  EXPECT_EQ(losses[1].describe(),
            "sample_seq 485-496 missing (12 samples): 10 lost to a damaged buffer file on the agent, 2 not delivered");
}

TEST(Completeness, ACounterThatGrewMoreThanTheHoleExplainsOnlyTheHole) {
  Completeness c(immediate());
  feed(c, 0, 0, 0);
  // The agent dropped 30 records, 20 of which the gateway had already received (they were in its
  // confirm window): the hole is 10, all explained.
  feed(c, 11, 30, 0);
  const auto losses = c.take_losses();
  ASSERT_EQ(losses.size(), 1u);
  EXPECT_EQ(losses[0].count(), 10u);
  EXPECT_EQ(losses[0].overflow, 10u);
  EXPECT_EQ(losses[0].unexplained(), 0u);
}

TEST(Completeness, HolesSettleWhenTheBacklogHasDrainedWithEveryDropTheAgentCountedMeanwhile) {
  Completeness c(immediate());
  feed(c, 24, 0, 0);  // live, before a broker outage
  // The outage overflowed the ring; the birth announced 234 drops, but while the still-full ring
  // drains, new samples evict 2 more (260, 261) before they are sent.
  EXPECT_EQ(replay(c, 259, 234, 0), V::kNew);  // hole 25..258 seen, not yet reported
  EXPECT_EQ(c.find(kNode)->missing, 234u);
  EXPECT_TRUE(c.take_losses().empty());
  EXPECT_EQ(replay(c, 262, 234, 0), V::kNew);  // hole 260..261
  EXPECT_EQ(replay(c, 263, 236, 0), V::kNew);
  EXPECT_TRUE(c.take_losses().empty());
  EXPECT_EQ(feed(c, 264, 237, 0), V::kNew);  // live again (237: the record in flight at the outage)
  const auto losses = c.take_losses();
  ASSERT_EQ(losses.size(), 2u);
  EXPECT_EQ(losses[0].first, 25u);
  EXPECT_EQ(losses[0].overflow, 234u);
  EXPECT_EQ(losses[1].first, 260u);
  EXPECT_EQ(losses[1].overflow, 2u);
  EXPECT_EQ(c.find(kNode)->losses, 2u);
  // The next hole starts from the counters as they were when these settled.
  feed(c, 266, 237, 0);
  const auto next = c.take_losses();
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0].unexplained(), 1u);
}

TEST(Completeness, ADamagedRingsCountIsNotUsedUpBySamplesThatArriveBeforeTheHole) {
  Completeness c(immediate());
  for (std::uint64_t s = 0; s <= 30; ++s) feed(c, s, 0, 0);
  // Restart after damage: the birth says 60 were lost; salvaged samples 31..44 arrive (new to the
  // gateway) before the hole 45..104 shows.
  for (std::uint64_t s = 31; s <= 44; ++s) EXPECT_EQ(replay(c, s, 0, 60), V::kNew);
  EXPECT_EQ(replay(c, 105, 0, 60), V::kNew);
  EXPECT_EQ(feed(c, 106, 0, 60), V::kNew);
  const auto losses = c.take_losses();
  ASSERT_EQ(losses.size(), 1u);
  EXPECT_EQ(losses[0].count(), 60u);
  EXPECT_EQ(losses[0].damaged, 60u);
}

TEST(Completeness, AHoleFilledBeforeItSettlesIsNeverReported) {
  Completeness c(immediate());
  feed(c, 0);
  replay(c, 3);
  EXPECT_EQ(replay(c, 1), V::kLate);
  EXPECT_EQ(replay(c, 2), V::kLate);
  feed(c, 4);
  EXPECT_TRUE(c.take_losses().empty());
  EXPECT_EQ(c.find(kNode)->missing, 0u);
  EXPECT_EQ(c.find(kNode)->losses, 0u);
}

TEST(Completeness, HolesWaitTheMinimumSettleTimeForALiveSample) {
  Completeness c;  // settle_min 5 s
  feed(c, 0, 0, 0, kT);
  replay(c, 10, 3, 0, kT + 100);
  feed(c, 11, 5, 0, kT + 1000);  // live, but too soon: a restarted drain may still drop more
  EXPECT_TRUE(c.take_losses().empty());
  feed(c, 12, 9, 0, kT + 5100);
  const auto losses = c.take_losses();
  ASSERT_EQ(losses.size(), 1u);
  EXPECT_EQ(losses[0].overflow, 9u);
  EXPECT_EQ(losses[0].at_ms, kT + 5100);
}

TEST(Completeness, WithoutALiveSampleHolesSettleAfterTheSettleTime) {
  Completeness::Config cfg;
  cfg.settle = std::chrono::seconds(60);
  Completeness c(cfg);
  feed(c, 0, 0, 0, kT);
  replay(c, 10, 9, 0, kT + 1000);
  c.settle(kT + 59'000);
  EXPECT_TRUE(c.take_losses().empty());
  c.settle(kT + 61'000);
  const auto losses = c.take_losses();
  ASSERT_EQ(losses.size(), 1u);
  EXPECT_EQ(losses[0].overflow, 9u);
  EXPECT_EQ(losses[0].at_ms, kT + 61'000);
}

TEST(Completeness, UnknownCountersExplainNothing) {
  Completeness c(immediate());
  feed(c, 0, std::nullopt, std::nullopt);
  feed(c, 5, std::nullopt, std::nullopt);
  const auto losses = c.take_losses();
  ASSERT_EQ(losses.size(), 1u);
  EXPECT_EQ(losses[0].unexplained(), 4u);
}

TEST(Completeness, ALateSampleShrinksItsHoleAndIsNotADuplicate) {
  Completeness c(immediate());
  feed(c, 0);
  feed(c, 10);  // hole 1..9
  ASSERT_EQ(c.take_losses().size(), 1u);
  EXPECT_EQ(feed(c, 5), V::kLate);
  EXPECT_EQ(feed(c, 5), V::kDuplicate);
  EXPECT_EQ(feed(c, 1), V::kLate);
  EXPECT_EQ(feed(c, 9), V::kLate);
  EXPECT_EQ(c.find(kNode)->missing, 6u);
  EXPECT_EQ(c.find(kNode)->late, 3u);
  EXPECT_EQ(c.find(kNode)->duplicates, 1u);
  EXPECT_EQ(c.find(kNode)->received, 5u);
  EXPECT_EQ(feed(c, 0), V::kDuplicate);
  EXPECT_EQ(feed(c, 10), V::kDuplicate);
}

TEST(Completeness, HolesAreBoundedPerNode) {
  Completeness::Config cfg = immediate();
  cfg.max_holes = 4;
  cfg.max_recent = 3;
  Completeness c(cfg);
  std::uint64_t s = 0;
  for (int i = 0; i < 10; ++i) {
    feed(c, s);
    s += 2;  // every other number missing: a hole each time
  }
  EXPECT_EQ(c.take_losses().size(), 9u);
  EXPECT_EQ(c.find(kNode)->missing, 9u);
  // The oldest holes were forgotten: a sample arriving in one counts as a duplicate.
  EXPECT_EQ(feed(c, 1), V::kDuplicate);
  EXPECT_EQ(feed(c, 17), V::kLate);
  // The loss window holds at most max_recent entries.
  EXPECT_EQ(c.missing_within(kNode, kT), 3u);
}

TEST(Completeness, ABirthAnnouncingFewerNumbersRestartsTheAccounting) {
  Completeness c(immediate());
  for (std::uint64_t s = 1000; s < 1010; ++s) feed(c, s);
  c.birth(kNode, 2000);  // more than received: nothing happens (samples are still on their way)
  EXPECT_EQ(c.find(kNode)->resets, 0u);
  c.birth(kNode, 4);  // the agent's state was wiped: its numbers started over
  EXPECT_EQ(c.find(kNode)->resets, 1u);
  EXPECT_FALSE(c.find(kNode)->high);
  EXPECT_EQ(feed(c, 0), V::kNew);
  EXPECT_EQ(feed(c, 1), V::kNew);
  EXPECT_TRUE(c.take_losses().empty());
  c.birth(kNode, std::nullopt);  // a birth with no sample yet, after samples: also a restart
  EXPECT_EQ(c.find(kNode)->resets, 2u);
  c.birth("plant/unknown", 5);  // never seen: nothing to restart
  EXPECT_EQ(c.find("plant/unknown"), nullptr);
}

TEST(Completeness, MissingWithinTheWindowExpires) {
  Completeness::Config cfg = immediate();
  cfg.loss_window = std::chrono::minutes(10);
  Completeness c(cfg);
  feed(c, 0, 0, 0, kT);
  feed(c, 4, 0, 0, kT);  // 3 missing at kT
  EXPECT_EQ(c.missing_within(kNode, kT + 1000), 3u);
  EXPECT_TRUE(c.take_expired(kT + 9 * 60'000).empty());
  EXPECT_EQ(c.take_expired(kT + 10 * 60'000), std::vector<std::string>{kNode});
  EXPECT_EQ(c.missing_within(kNode, kT + 10 * 60'000), 0u);
  EXPECT_TRUE(c.take_expired(kT + 11 * 60'000).empty());  // reported once
}

TEST(Completeness, ProgressRowsRoundTripAndAccountingContinuesAfterARestart) {
  Completeness c(immediate());
  for (std::uint64_t s = 0; s <= 20; ++s) feed(c, s, 2, 0);
  feed(c, 25, 2, 0);
  const auto rows = c.take_progress(kT);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_TRUE(c.take_progress(kT).empty());  // only changed nodes
  EXPECT_EQ(rows[0].high, std::optional<std::uint64_t>(25));
  EXPECT_EQ(rows[0].received, 22u);
  EXPECT_EQ(rows[0].missing, 4u);
  EXPECT_EQ(rows[0].dropped, std::optional<std::uint64_t>(2));

  Completeness after(immediate());  // a restarted gateway
  after.restore(rows);
  EXPECT_EQ(after.totals().missing, 4u);
  EXPECT_EQ(after.totals().nodes, 1u);
  // The agent replays its window: what the gateway had is a duplicate; then a ring overflow of 5.
  EXPECT_EQ(after.sample(kNode, 24, 2, 0, true, kT), V::kDuplicate);
  EXPECT_EQ(after.sample(kNode, 26, 2, 0, true, kT), V::kNew);
  EXPECT_EQ(after.sample(kNode, 32, 7, 0, true, kT), V::kNew);
  const auto losses = after.take_losses();
  ASSERT_EQ(losses.size(), 1u);
  EXPECT_EQ(losses[0].first, 27u);
  EXPECT_EQ(losses[0].overflow, 5u);
}

TEST(Completeness, NodesAreTrackedApart) {
  Completeness c(immediate());
  c.sample("g/a", 0, 0, 0, true, kT);
  c.sample("g/b", 7, 0, 0, true, kT);
  c.sample("g/a", 1, 0, 0, true, kT);
  c.sample("g/b", 8, 0, 0, true, kT);
  EXPECT_TRUE(c.take_losses().empty());
  EXPECT_EQ(c.totals().nodes, 2u);
  EXPECT_EQ(c.totals().received, 4u);
}

}  // namespace
}  // namespace edgemon::gateway
