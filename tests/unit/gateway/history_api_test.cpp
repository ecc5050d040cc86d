#include "edgemon/gateway/api/history_api.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "edgemon/gateway/http/http_server.h"
#include "temp_dir.h"

namespace edgemon::gateway {
namespace {

using testing_support::TempDir;
constexpr std::int64_t kT0 = 1'700'000'040'000;  // 2023-11-14T22:14:00Z, a minute boundary

TEST(QueryParams, DecodesPercentEscapesAndPlus) {
  const QueryParams p = parse_query("/api/history?node=edgemon%2Fpi-01&metric=ping/10.0.0.1/rtt&x=a+b&bad=%zz&flag");
  EXPECT_EQ(p.at("node"), "edgemon/pi-01");
  EXPECT_EQ(p.at("metric"), "ping/10.0.0.1/rtt");
  EXPECT_EQ(p.at("x"), "a b");
  EXPECT_EQ(p.at("bad"), "%zz");
  EXPECT_EQ(p.at("flag"), "");
  EXPECT_TRUE(parse_query("/api/history").empty());
}

TEST(HistoryQuery, StepAndRangeChooseTheResolution) {
  const std::int64_t now = kT0 + 10 * 86'400'000LL;
  const auto q = [now](QueryParams p) { return parse_history_query(p, now); };
  auto raw = q({{"node", "g/n"}, {"metric", "m"}, {"from", std::to_string(now - 600'000)}});
  ASSERT_TRUE(raw) << raw.error().message;
  EXPECT_EQ(raw->resolution, Resolution::kRaw);
  EXPECT_EQ(raw->to_ms, now);
  auto day = q({{"node", "g/n"}, {"metric", "m"}});
  ASSERT_TRUE(day);
  EXPECT_EQ(day->resolution, Resolution::kMinute);
  EXPECT_EQ(day->from_ms, now - 86'400'000LL);
  auto month = q({{"node", "g/n"}, {"metric", "m"}, {"from", std::to_string(now - 30 * 86'400'000LL)}});
  ASSERT_TRUE(month);
  EXPECT_EQ(month->resolution, Resolution::kHour);
  auto stepped = q({{"node", "g/n"}, {"metric", "m"}, {"step", "3600"}});
  ASSERT_TRUE(stepped);
  EXPECT_EQ(stepped->resolution, Resolution::kHour);
}

TEST(HistoryQuery, BadParametersNameTheParameter) {
  const auto error = [](QueryParams p) {
    auto r = parse_history_query(p, kT0);
    return r ? std::string("ok") : r.error().message;
  };
  EXPECT_EQ(error({{"metric", "m"}}).rfind("node:", 0), 0u);
  EXPECT_EQ(error({{"node", "nogroup"}, {"metric", "m"}}).rfind("node:", 0), 0u);
  EXPECT_EQ(error({{"node", "g/n"}}).rfind("metric:", 0), 0u);
  EXPECT_EQ(error({{"node", "g/n"}, {"metric", "m"}, {"from", "yesterday"}}).rfind("from:", 0), 0u);
  EXPECT_EQ(error({{"node", "g/n"}, {"metric", "m"}, {"from", "10"}, {"to", "5"}}).rfind("from:", 0), 0u);
  EXPECT_EQ(error({{"node", "g/n"}, {"metric", "m"}, {"step", "-1"}}).rfind("step:", 0), 0u);
  // 30 days at minute resolution is 43,200 points: too many.
  EXPECT_EQ(error({{"node", "g/n"}, {"metric", "m"}, {"from", "0"}, {"to", std::to_string(30 * 86'400'000LL)}, {"step", "60"}})
                .rfind("step:", 0),
            0u);
}

TEST(HistoryJson, MinuteRollupsOfALatencySeriesComeAsUplotColumnsWithQuantiles) {
  TempDir dir;
  auto store = open_sqlite_store(dir.path() + "/h.db");
  ASSERT_TRUE(store) << store.error().message;
  WriteBatch batch;
  NodeSamples s{"g", "n", {}};
  for (int minute = 0; minute < 3; ++minute) {
    for (int i = 0; i < 10; ++i) {
      Metric m;
      m.name = "ping/t/rtt";
      m.unit = "ms";
      m.ts_ms = kT0 + minute * 60'000 + i * 1000;
      m.value = minute == 1 ? std::optional<double>() : std::optional<double>(1.0 + i);  // minute 1: no replies
      s.metrics.push_back(m);
    }
  }
  batch.samples.push_back(s);
  ASSERT_TRUE((*store)->write(batch));
  for (int i = 0; i < 5; ++i) ASSERT_TRUE((*store)->maintain(kT0 + 3600'000));

  HistoryQuery q{"g", "n", "ping/t/rtt", kT0, kT0 + 180'000, Resolution::kMinute};
  auto j = history_json(**store, q);
  ASSERT_TRUE(j) << j.error().message;
  EXPECT_EQ((*j)["resolution"], "minute");
  EXPECT_EQ((*j)["step"], 60);
  EXPECT_EQ((*j)["columns"], nlohmann::json({"time", "avg", "min", "max", "count", "p10", "p25", "p50", "p75", "p90"}));
  const auto& data = (*j)["data"];
  ASSERT_EQ(data.size(), 10u);
  ASSERT_EQ(data[0].size(), 3u);
  EXPECT_DOUBLE_EQ(data[0][0].get<double>(), static_cast<double>(kT0) / 1000.0);
  EXPECT_DOUBLE_EQ(data[1][0].get<double>(), 5.5);  // avg of 1..10
  EXPECT_DOUBLE_EQ(data[2][0].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(data[3][0].get<double>(), 10.0);
  EXPECT_EQ(data[4][0], 10);
  EXPECT_TRUE(data[1][1].is_null()) << "a minute without replies is a gap, not zero";
  EXPECT_EQ(data[4][1], 0);
  EXPECT_NEAR(data[7][0].get<double>(), 5.0, 5.0 * 0.1);  // nearest-rank p50 of 1..10, within the bucket error
}

TEST(HistoryJson, RawSamplesHaveNoQuantileColumns) {
  TempDir dir;
  auto store = open_sqlite_store(dir.path() + "/h.db");
  ASSERT_TRUE(store);
  WriteBatch batch;
  Metric m;
  m.name = "cpu/total";
  m.unit = "%";
  m.ts_ms = kT0;
  m.value = 12.5;
  batch.samples.push_back(NodeSamples{"g", "n", {m}});
  ASSERT_TRUE((*store)->write(batch));
  auto j = history_json(**store, HistoryQuery{"g", "n", "cpu/total", kT0 - 1, kT0 + 1, Resolution::kRaw});
  ASSERT_TRUE(j);
  EXPECT_EQ((*j)["columns"].size(), 5u);
  EXPECT_DOUBLE_EQ((*j)["data"][1][0].get<double>(), 12.5);
  auto none = history_json(**store, HistoryQuery{"g", "n", "no/such", kT0 - 1, kT0 + 1, Resolution::kRaw});
  ASSERT_TRUE(none);
  EXPECT_EQ((*none)["data"][0].size(), 0u);
}

}  // namespace
}  // namespace edgemon::gateway
