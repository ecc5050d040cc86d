#include "edgemon/gateway/api/reports_api.h"

#include <charconv>
#include <chrono>
#include <cstdio>

#include "edgemon/gateway/api/json_writer.h"

namespace edgemon::gateway {
namespace {

constexpr std::int64_t kDayMs = 86'400'000;

std::string day_of(std::int64_t ms) {
  const std::chrono::sys_days d{std::chrono::days{(ms >= 0 ? ms : ms - kDayMs + 1) / kDayMs}};
  const std::chrono::year_month_day ymd{d};
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()));
  return buf;
}

// "YYYY-MM-DD" -> days since the epoch, if it is a real date.
std::optional<std::int64_t> parse_day(const std::string& text) {
  int y = 0;
  unsigned m = 0;
  unsigned d = 0;
  char tail = 0;
  if (text.size() != 10 || std::sscanf(text.c_str(), "%4d-%2u-%2u%c", &y, &m, &d, &tail) != 3) return std::nullopt;
  const std::chrono::year_month_day ymd{std::chrono::year{y}, std::chrono::month{m}, std::chrono::day{d}};
  if (!ymd.ok()) return std::nullopt;
  return std::chrono::sys_days{ymd}.time_since_epoch().count();
}

// A target's subject is "<group>/<node>/<family>/<target>"; a node's "<group>/<node>".
const char* kind_of(const std::string& subject) {
  std::size_t slashes = 0;
  for (char c : subject) slashes += c == '/' ? 1 : 0;
  return slashes >= 3 ? "target" : "node";
}

std::string csv_text(const std::string& text) {
  std::string out = "\"";
  if (!text.empty() && (text[0] == '=' || text[0] == '+' || text[0] == '-' || text[0] == '@' || text[0] == '\t' ||
                        text[0] == '\r')) {
    out += '\'';
  }
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

std::string csv_number(std::optional<double> v) {
  if (!v) return "";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4f", *v);
  return buf;
}

}  // namespace

const char* grade_of(double pct) {
  if (pct >= 99.9) return "A";
  if (pct >= 99.0) return "B";
  if (pct >= 95.0) return "C";
  if (pct >= 90.0) return "D";
  return "F";
}

Result<ReportQuery> parse_report_query(const QueryParams& params, std::int64_t now_ms,
                                       double default_sla_pct) {
  ReportQuery q;
  q.sla_pct = default_sla_pct;
  const auto get = [&params](const char* key) -> const std::string* {
    const auto it = params.find(key);
    return it == params.end() || it->second.empty() ? nullptr : &it->second;
  };
  std::int64_t to = (now_ms >= 0 ? now_ms : now_ms - kDayMs + 1) / kDayMs - 1;  // yesterday
  if (const std::string* t = get("to")) {
    const auto d = parse_day(*t);
    if (!d) return make_error(ErrorCode::kInvalidArgument, "to: must be a date YYYY-MM-DD");
    to = *d;
  }
  std::int64_t from = to - 6;
  if (const std::string* f = get("from")) {
    const auto d = parse_day(*f);
    if (!d) return make_error(ErrorCode::kInvalidArgument, "from: must be a date YYYY-MM-DD");
    from = *d;
  }
  if (from > to) return make_error(ErrorCode::kInvalidArgument, "from: must not be after to");
  if (to - from >= 366) return make_error(ErrorCode::kInvalidArgument, "from: at most 366 days per request");
  if (const std::string* s = get("sla")) {
    double v = 0;
    const auto [ptr, ec] = std::from_chars(s->data(), s->data() + s->size(), v);
    if (ec != std::errc() || ptr != s->data() + s->size() || !(v > 0 && v <= 100)) {
      return make_error(ErrorCode::kInvalidArgument, "sla: must be a percentage in (0, 100]");
    }
    q.sla_pct = v;
  }
  if (const std::string* f = get("format")) {
    if (*f != "json" && *f != "csv") return make_error(ErrorCode::kInvalidArgument, "format: must be json or csv");
    q.csv = *f == "csv";
  }
  q.from_day = day_of(from * kDayMs);
  q.to_day = day_of(to * kDayMs);
  return q;
}

std::string reports_json(std::span<const DailyReport> reports, const ReportQuery& q) {
  JsonWriter w;
  w.begin_object().member("from", q.from_day).member("to", q.to_day).member("sla", q.sla_pct).key("reports").begin_array();
  for (const DailyReport& r : reports) {
    w.begin_object()
        .member("day", r.day)
        .member("subject", r.subject)
        .member("kind", kind_of(r.subject))
        .member("uptime_pct", r.uptime_pct)
        .member("grade", grade_of(r.uptime_pct))
        .member("sla_met", r.uptime_pct >= q.sla_pct)
        .member("good", r.good)
        .member("total", r.total)
        .member("downtime_ms", r.downtime_ms)
        .member("incidents", r.incidents)
        .member("avg_rtt_ms", r.avg_rtt_ms)
        .member("loss_pct", r.loss_pct)
        .end_object();
  }
  w.end_array().end_object();
  return w.take();
}

std::string reports_csv(std::span<const DailyReport> reports, const ReportQuery& q) {
  std::string out = "day,subject,kind,uptime_pct,grade,sla_met,downtime_ms,incidents,avg_rtt_ms,loss_pct\r\n";
  for (const DailyReport& r : reports) {
    out += r.day + "," + csv_text(r.subject) + "," + kind_of(r.subject) + "," + csv_number(r.uptime_pct) + "," +
           grade_of(r.uptime_pct) + "," + (r.uptime_pct >= q.sla_pct ? "true" : "false") + "," +
           std::to_string(r.downtime_ms) + "," + std::to_string(r.incidents) + "," + csv_number(r.avg_rtt_ms) + "," +
           csv_number(r.loss_pct) + "\r\n";
  }
  return out;
}

}  // namespace edgemon::gateway
