#include "edgemon/probe/ping_metrics.h"

#include <gtest/gtest.h>

#include <map>

namespace edgemon::probe {
namespace {

TEST(PingMetrics, OneTargetUpOneDown) {
  std::vector<TargetReport> reports(2);
  reports[0].name = "gw";
  reports[0].stats.sent = 5;
  reports[0].stats.received = 4;
  reports[0].stats.loss_pct = 20;
  reports[0].stats.avg_ms = 1.5;
  reports[0].stats.ttl = 64;
  reports[0].health = Health::kUp;
  reports[1].name = "10.0.0.9";
  reports[1].stats.sent = 5;
  reports[1].stats.loss_pct = 100;
  reports[1].health = Health::kDown;
  std::vector<Metric> out;
  append_ping_metrics(reports, 1234, out);
  std::map<std::string, std::optional<double>> m;
  for (const Metric& x : out) {
    m[x.name] = x.value;
    EXPECT_EQ(x.ts_ms, 1234);
  }
  EXPECT_EQ(m.at("ping/gw/rtt"), 1.5);
  EXPECT_EQ(m.at("ping/gw/loss"), 20.0);
  EXPECT_EQ(m.at("ping/gw/ttl"), 64.0);
  EXPECT_EQ(m.at("ping/gw/up"), 1.0);
  EXPECT_EQ(m.at("ping/gw/state"), 1.0);
  EXPECT_FALSE(m.at("ping/10.0.0.9/rtt").has_value());
  EXPECT_FALSE(m.at("ping/10.0.0.9/ttl").has_value());
  EXPECT_EQ(m.at("ping/10.0.0.9/up"), 0.0);
  EXPECT_EQ(m.at("ping/10.0.0.9/state"), 3.0);
}

TEST(PingMetrics, UpIsThisRoundStateIsTheDebouncedHealth) {
  // One failed round is not yet DOWN (failure threshold): up says what this round saw.
  std::vector<TargetReport> reports(1);
  reports[0].name = "gw";
  reports[0].resolved = true;
  reports[0].stats.sent = 1;
  reports[0].stats.loss_pct = 100;
  reports[0].health = Health::kUp;
  std::vector<Metric> out;
  append_ping_metrics(reports, 1, out);
  std::map<std::string, std::optional<double>> m;
  for (const Metric& x : out) m[x.name] = x.value;
  EXPECT_EQ(m.at("ping/gw/up"), 0.0);
  EXPECT_EQ(m.at("ping/gw/state"), static_cast<double>(static_cast<int>(Health::kUp)));
}

}  // namespace
}  // namespace edgemon::probe
