#include "edgemon/rules/rule.h"

#include "edgemon/common/metric_key.h"

namespace edgemon::rules {

const char* to_string(Severity s) {
  switch (s) {
    case Severity::kInfo: return "info";
    case Severity::kWarning: return "warning";
    case Severity::kCritical: return "critical";
  }
  return "?";
}

bool parse_severity(std::string_view text, Severity& out) {
  if (text == "info") { out = Severity::kInfo; return true; }
  if (text == "warning") { out = Severity::kWarning; return true; }
  if (text == "critical") { out = Severity::kCritical; return true; }
  return false;
}

const char* to_string(RuleKind k) {
  switch (k) {
    case RuleKind::kThreshold: return "threshold";
    case RuleKind::kFailure: return "failure";
    case RuleKind::kErrorRate: return "error_rate";
    case RuleKind::kAbsence: return "absence";
    case RuleKind::kNodeDown: return "node_down";
  }
  return "?";
}

const char* to_string(Op op) {
  switch (op) {
    case Op::kGreater: return ">";
    case Op::kGreaterEqual: return ">=";
    case Op::kLess: return "<";
    case Op::kLessEqual: return "<=";
    case Op::kEqual: return "==";
    case Op::kNotEqual: return "!=";
  }
  return "?";
}

bool parse_op(std::string_view text, Op& out) {
  static constexpr Op kAll[] = {Op::kGreater, Op::kGreaterEqual, Op::kLess, Op::kLessEqual, Op::kEqual, Op::kNotEqual};
  for (Op op : kAll) {
    if (text == to_string(op)) {
      out = op;
      return true;
    }
  }
  return false;
}

bool compare(Op op, double value, double threshold) {
  switch (op) {
    case Op::kGreater: return value > threshold;
    case Op::kGreaterEqual: return value >= threshold;
    case Op::kLess: return value < threshold;
    case Op::kLessEqual: return value <= threshold;
    case Op::kEqual: return value == threshold;
    case Op::kNotEqual: return value != threshold;
  }
  return false;
}

bool recovered(Op op, double value, double recovery) {
  switch (op) {
    case Op::kGreater: return value <= recovery;
    case Op::kGreaterEqual: return value < recovery;
    case Op::kLess: return value >= recovery;
    case Op::kLessEqual: return value > recovery;
    case Op::kEqual: return value != recovery;
    case Op::kNotEqual: return value == recovery;
  }
  return true;
}

bool glob_match(std::string_view pattern, std::string_view text, bool segmented) {
  // Iterative wildcard match with one backtrack point (the classic linear algorithm); with
  // `segmented` a star may not swallow '/'.
  std::size_t p = 0;
  std::size_t t = 0;
  std::size_t star = std::string_view::npos;
  std::size_t star_t = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      star_t = t;
    } else if (p < pattern.size() && pattern[p] == text[t]) {
      ++p;
      ++t;
    } else if (star != std::string_view::npos && !(segmented && text[star_t] == '/')) {
      p = star + 1;
      t = ++star_t;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

bool matches(const Matchers& matchers, const Labels& labels) {
  for (const auto& [key, pattern] : matchers) {
    const auto it = labels.find(key);
    const std::string_view value = it == labels.end() ? std::string_view() : std::string_view(it->second);
    if (!glob_match(pattern, value, false)) return false;
  }
  return true;
}

std::string_view target_of(std::string_view metric) { return parse_metric_name(metric).target; }

bool MaintenanceWindow::active_at(WallTime t) const {
  using namespace std::chrono;
  const auto local = time_point_cast<minutes>(t) + minutes(utc_offset_minutes);
  const sys_days day = floor<days>(local);
  const auto minute = static_cast<std::int32_t>((local - day).count());
  const unsigned today = weekday(day).c_encoding();  // 0 = Sunday
  const unsigned yesterday = (today + 6) % 7;
  const auto listed = [this](unsigned d) { return (days_mask & (1u << d)) != 0; };
  if (start_minute < end_minute) return listed(today) && minute >= start_minute && minute < end_minute;
  if (start_minute == end_minute) return listed(today);  // the whole day
  // Crosses midnight: the part after start today, or the part before end of a window opened yesterday.
  return (listed(today) && minute >= start_minute) || (listed(yesterday) && minute < end_minute);
}

}  // namespace edgemon::rules
