// Daily reports for the API and for export: availability per node and target per UTC day, with the
// SLA verdict and a letter grade.
//
//   GET /api/reports?from=YYYY-MM-DD&to=YYYY-MM-DD&sla=99.9&format=json|csv
//
// `to` defaults to yesterday (the last complete UTC day), `from` to 6 days before `to`; at most 366
// days. `sla` (percent, default the gateway's reports.sla) decides `sla_met`. Grades: A >= 99.9,
// B >= 99, C >= 95, D >= 90, else F.
//
// CSV (RFC 4180) is safe to open in a spreadsheet: every text cell is quoted, quotes doubled, and
// a cell starting with = + - @ or a tab/CR is prefixed with ' so it cannot run as a formula
// (subjects come from devices and are untrusted).
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>

#include "edgemon/common/result.h"
#include "edgemon/gateway/api/http_api.h"
#include "edgemon/gateway/store/store.h"

namespace edgemon::gateway {

struct ReportQuery {
  std::string from_day;  // YYYY-MM-DD
  std::string to_day;
  double sla_pct = 99.9;
  bool csv = false;
};

// Errors: kInvalidArgument naming the parameter.
Result<ReportQuery> parse_report_query(const QueryParams& params, std::int64_t now_ms,
                                       double default_sla_pct);

const char* grade_of(double uptime_pct);

// {"from","to","sla":…,"reports":[{"day","subject","kind":"node"|"target","uptime_pct","grade","sla_met",
//  "good","total","downtime_ms","incidents","avg_rtt_ms","loss_pct"}]}
std::string reports_json(std::span<const DailyReport> reports, const ReportQuery& query);
// Header: day,subject,kind,uptime_pct,grade,sla_met,downtime_ms,incidents,avg_rtt_ms,loss_pct
std::string reports_csv(std::span<const DailyReport> reports, const ReportQuery& query);

}  // namespace edgemon::gateway
