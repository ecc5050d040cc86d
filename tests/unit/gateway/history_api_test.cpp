#include "edgemon/gateway/api/history_api.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "edgemon/gateway/api/http_api.h"
#include "edgemon/gateway/http/http_server.h"
#include "temp_dir.h"

namespace edgemon::gateway {
namespace {

using testing_support::TempDir;
constexpr std::int64_t kT0 = 1'700'000'040'000;  // 2023-11-14T22:14:00Z, a minute boundary

// history_json's text, parsed (a failure to parse is a test failure: null).
Result<nlohmann::json> history(Store& store, const HistoryQuery& q) {
  auto text = history_json(store, q);
  if (!text) return text.error();
  nlohmann::json j = nlohmann::json::parse(*text, nullptr, false);
  if (j.is_discarded()) ADD_FAILURE() << "history_json wrote invalid JSON: " << *text;
  return j;
}

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
  EXPECT_EQ(error({{"node", "g/n"}, {"metric", "m"}, {"step", "x"}}).rfind("step:", 0), 0u);
  // 30 days at minute resolution is 43,200 points: too many.
  EXPECT_EQ(error({{"node", "g/n"}, {"metric", "m"}, {"from", "0"}, {"to", std::to_string(30 * 86'400'000LL)}, {"step", "60"}})
                .rfind("step:", 0),
            0u);
}

TEST(HistoryQuery, TimesOutsideTheYears1970To2199AreRefusedWithoutOverflow) {
  constexpr std::int64_t kMax = 7'258'118'399'999;  // 2199-12-31T23:59:59.999Z
  const auto error = [](const std::string& from, const std::string& to) {
    QueryParams p{{"node", "g/n"}, {"metric", "m"}};
    if (!from.empty()) p["from"] = from;
    if (!to.empty()) p["to"] = to;
    auto r = parse_history_query(p, kT0);
    if (r) return std::string("ok");
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument) << r.error().message;  // a 400, not a 500
    return r.error().message;
  };
  const std::string min64 = std::to_string(std::numeric_limits<std::int64_t>::min());
  const std::string max64 = std::to_string(std::numeric_limits<std::int64_t>::max());
  const std::string kOk = std::to_string(kT0);
  for (const std::string& bad : {min64, max64, std::string("-1"), std::to_string(kMax + 1),
                                 std::string("9223372036854775808"), std::string("-9223372036854775809")}) {
    EXPECT_EQ(error(bad, kOk).rfind("from:", 0), 0u) << "from=" << bad;
    EXPECT_EQ(error("0", bad).rfind("to:", 0), 0u) << "to=" << bad;
    EXPECT_EQ(error("", bad).rfind("to:", 0), 0u) << "to=" << bad << " (from defaults to a day before to)";
  }
  // Both ends at once: the first one read is named, and nothing wraps into an accepted range.
  EXPECT_NE(error(min64, max64), "ok");
  EXPECT_NE(error(max64, min64), "ok");

  // The limits themselves are accepted.
  auto low = parse_history_query({{"node", "g/n"}, {"metric", "m"}, {"from", "0"}, {"to", "1000"}}, kT0);
  ASSERT_TRUE(low) << low.error().message;
  EXPECT_EQ(low->from_ms, 0);
  EXPECT_EQ(low->to_ms, 1000);
  auto high = parse_history_query(
      {{"node", "g/n"}, {"metric", "m"}, {"from", std::to_string(kMax - 3'600'000)}, {"to", std::to_string(kMax)}}, kT0);
  ASSERT_TRUE(high) << high.error().message;
  EXPECT_EQ(high->to_ms, kMax);
  EXPECT_EQ(high->from_ms, kMax - 3'600'000);
  // `to` defaults to now, `from` to a day before it: a clock outside the range is clamped to it.
  auto early = parse_history_query({{"node", "g/n"}, {"metric", "m"}}, std::numeric_limits<std::int64_t>::min());
  ASSERT_TRUE(early) << early.error().message;
  EXPECT_EQ(early->to_ms, 0);
  EXPECT_EQ(early->from_ms, 0);
  auto late = parse_history_query({{"node", "g/n"}, {"metric", "m"}}, std::numeric_limits<std::int64_t>::max());
  ASSERT_TRUE(late) << late.error().message;
  EXPECT_EQ(late->to_ms, kMax);
  EXPECT_EQ(late->from_ms, kMax - 86'400'000LL);
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
  auto j = history(**store, q);
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
  auto j = history(**store, HistoryQuery{"g", "n", "cpu/total", kT0 - 1, kT0 + 1, Resolution::kRaw});
  ASSERT_TRUE(j);
  EXPECT_EQ((*j)["columns"].size(), 5u);
  EXPECT_DOUBLE_EQ((*j)["data"][1][0].get<double>(), 12.5);
  auto none = history(**store, HistoryQuery{"g", "n", "no/such", kT0 - 1, kT0 + 1, Resolution::kRaw});
  ASSERT_TRUE(none);
  EXPECT_EQ((*none)["data"][0].size(), 0u);
}

}  // namespace
}  // namespace edgemon::gateway
