#include "edgemon/gateway/api/reports_api.h"

#include <gtest/gtest.h>

#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "edgemon/gateway/api/http_api.h"
#include "edgemon/gateway/http/http_server.h"
#include "temp_dir.h"

namespace edgemon::gateway {
namespace {

using testing_support::TempDir;
constexpr std::int64_t kDay = 86'400'000;
constexpr std::int64_t kNov15 = 1'700'006'400'000;  // 2023-11-15T00:00:00Z

// reports_json's text, parsed; invalid JSON fails the test (and parses as a discarded value).
nlohmann::json parsed_reports(std::span<const DailyReport> rows, const ReportQuery& q) {
  const std::string text = reports_json(rows, q);
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << "reports_json wrote invalid JSON: " << text;
  return j;
}

std::string error_of(const QueryParams& p) {
  auto r = parse_report_query(p, kNov15 + 3600'000, 99.9);
  return r ? std::string("ok") : r.error().message;
}

TEST(ReportQuery, DefaultsToTheLastSevenCompleteDays) {
  auto q = parse_report_query({}, kNov15 + 3600'000, 99.5);
  ASSERT_TRUE(q);
  EXPECT_EQ(q->to_day, "2023-11-14");
  EXPECT_EQ(q->from_day, "2023-11-08");
  EXPECT_DOUBLE_EQ(q->sla_pct, 99.5);
  EXPECT_FALSE(q->csv);
  auto one = parse_report_query({{"from", "2023-02-28"}, {"to", "2023-03-01"}, {"format", "csv"}, {"sla", "99"}}, kNov15, 99.9);
  ASSERT_TRUE(one);
  EXPECT_EQ(one->from_day, "2023-02-28");
  EXPECT_EQ(one->to_day, "2023-03-01");
  EXPECT_TRUE(one->csv);
  EXPECT_DOUBLE_EQ(one->sla_pct, 99.0);
}

TEST(ReportQuery, BadParametersNameTheParameter) {
  EXPECT_EQ(error_of({{"from", "2023-02-30"}}).rfind("from:", 0), 0u);
  EXPECT_EQ(error_of({{"to", "yesterday"}}).rfind("to:", 0), 0u);
  EXPECT_EQ(error_of({{"to", "2023-11-14x"}}).rfind("to:", 0), 0u);
  EXPECT_EQ(error_of({{"from", "2023-11-10"}, {"to", "2023-11-09"}}).rfind("from:", 0), 0u);
  EXPECT_EQ(error_of({{"from", "2020-01-01"}, {"to", "2023-11-09"}}).rfind("from:", 0), 0u);
  EXPECT_EQ(error_of({{"sla", "0"}}).rfind("sla:", 0), 0u);
  EXPECT_EQ(error_of({{"sla", "101"}}).rfind("sla:", 0), 0u);
  EXPECT_EQ(error_of({{"format", "xml"}}).rfind("format:", 0), 0u);
}

TEST(ReportGrades, Boundaries) {
  EXPECT_STREQ(grade_of(100), "A");
  EXPECT_STREQ(grade_of(99.9), "A");
  EXPECT_STREQ(grade_of(99.89), "B");
  EXPECT_STREQ(grade_of(99), "B");
  EXPECT_STREQ(grade_of(95), "C");
  EXPECT_STREQ(grade_of(90), "D");
  EXPECT_STREQ(grade_of(89.99), "F");
}

TEST(ReportExport, CsvQuotesEveryTextCellAndDefusesFormulas) {
  ReportQuery q;
  q.sla_pct = 99.9;
  std::vector<DailyReport> rows(3);
  rows[0].day = "2023-11-14";
  rows[0].subject = "=HYPERLINK(\"x\")/n";
  rows[0].uptime_pct = 100;
  rows[1].day = "2023-11-14";
  rows[1].subject = "g/n/ping/<script>alert(1)</script>";
  rows[1].uptime_pct = 95.5;
  rows[1].avg_rtt_ms = 1.25;
  rows[1].loss_pct = 4.5;
  rows[2].day = "2023-11-14";
  rows[2].subject = "-cmd,with\nnewline";
  rows[2].uptime_pct = 50;
  const std::string csv = reports_csv(rows, q);
  EXPECT_EQ(csv,
            "day,subject,kind,uptime_pct,grade,sla_met,downtime_ms,incidents,avg_rtt_ms,loss_pct\r\n"
            "2023-11-14,\"'=HYPERLINK(\"\"x\"\")/n\",node,100.0000,A,true,0,0,,\r\n"
            "2023-11-14,\"g/n/ping/<script>alert(1)</script>\",target,95.5000,C,false,0,0,1.2500,4.5000\r\n"
            "2023-11-14,\"'-cmd,with\nnewline\",node,50.0000,F,false,0,0,,\r\n");
  const nlohmann::json j = parsed_reports(rows, q);
  EXPECT_EQ(j["reports"][1]["kind"], "target");
  EXPECT_EQ(j["reports"][1]["grade"], "C");
  EXPECT_EQ(j["reports"][0]["avg_rtt_ms"], nullptr);
  EXPECT_EQ(j["reports"][1]["subject"], "g/n/ping/<script>alert(1)</script>");  // data, rendered as text
}

TEST(ReportExport, ReportsFromTheStoreForACompleteDay) {
  TempDir dir;
  auto store = open_sqlite_store(dir.path() + "/r.db");
  ASSERT_TRUE(store) << store.error().message;
  WriteBatch batch;
  for (int h = 0; h < 24; ++h) {
    // Node: online all day but one hour. Target: 3 of 4 rounds answered every hour.
    batch.uptime.push_back({"g/n", kNov15 - kDay + h * 3600'000LL, h == 5 ? 0u : 3'600'000u, 3'600'000u});
    batch.uptime.push_back({"g/n/ping/10.0.0.1", kNov15 - kDay + h * 3600'000LL, 3, 4});
  }
  ASSERT_TRUE((*store)->write(batch));
  for (int i = 0; i < 5; ++i) ASSERT_TRUE((*store)->maintain(kNov15 + 3600'000));
  auto q = parse_report_query({}, kNov15 + 3600'000, 99.9);
  ASSERT_TRUE(q);
  auto rows = (*store)->daily_reports(q->from_day, q->to_day);
  ASSERT_TRUE(rows) << rows.error().message;
  const nlohmann::json j = parsed_reports(*rows, *q);
  ASSERT_EQ(j["reports"].size(), 2u) << j.dump();
  EXPECT_EQ(j["reports"][0]["subject"], "g/n");
  EXPECT_NEAR(j["reports"][0]["uptime_pct"].get<double>(), 100.0 * 23 / 24, 1e-9);
  EXPECT_EQ(j["reports"][0]["grade"], "C");
  EXPECT_EQ(j["reports"][0]["downtime_ms"], 3'600'000);
  EXPECT_EQ(j["reports"][1]["kind"], "target");
  EXPECT_NEAR(j["reports"][1]["uptime_pct"].get<double>(), 75.0, 1e-9);
  EXPECT_EQ(j["reports"][1]["grade"], "F");
  EXPECT_FALSE(j["reports"][1]["sla_met"].get<bool>());
}

}  // namespace
}  // namespace edgemon::gateway
