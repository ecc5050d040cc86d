#include "edgemon/notify/notification.h"

#include <ctime>

#include <nlohmann/json.hpp>

namespace edgemon::notify {

const char* to_string(Severity s) {
  switch (s) {
    case Severity::kInfo: return "info";
    case Severity::kWarning: return "warning";
    case Severity::kCritical: return "critical";
  }
  return "warning";
}

const char* to_string(AlertState s) { return s == AlertState::kFiring ? "firing" : "resolved"; }

bool parse_severity(std::string_view text, Severity& out) {
  if (text == "info") out = Severity::kInfo;
  else if (text == "warning") out = Severity::kWarning;
  else if (text == "critical") out = Severity::kCritical;
  else return false;
  return true;
}

std::string format_rfc3339(WallTime t) {
  const std::int64_t ms = to_unix_ms(t);
  std::int64_t secs = ms / 1000;
  std::int64_t frac = ms % 1000;
  if (frac < 0) {
    frac += 1000;
    secs -= 1;
  }
  const auto tt = static_cast<std::time_t>(secs);
  std::tm tm{};
  ::gmtime_r(&tt, &tm);
  char buf[40];
  const std::size_t len = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char out[64];
  std::snprintf(out, sizeof out, "%.*s.%03dZ", static_cast<int>(len), buf, static_cast<int>(frac));
  return out;
}

namespace {

std::string one_line(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (const char c : s) out += (c == '\r' || c == '\n' || c == '\t') ? ' ' : c;
  return out;
}

const std::string& subject_of(const Notification& n) { return n.subject.empty() ? n.node : n.subject; }

}  // namespace

std::string headline(const Notification& n) {
  std::string s = n.state == AlertState::kFiring ? "[FIRING] " : "[RESOLVED] ";
  s += n.alert + " on " + subject_of(n) + " (" + to_string(n.severity) + ")";
  return one_line(s);
}

std::string text_body(const Notification& n) {
  std::string b = headline(n) + "\n";
  if (!n.summary.empty()) b += "\n" + n.summary + "\n";
  b += "\nalert:    " + one_line(n.alert);
  b += "\nnode:     " + one_line(n.node);
  b += "\nsubject:  " + one_line(subject_of(n));
  b += std::string("\nseverity: ") + to_string(n.severity);
  b += std::string("\nstate:    ") + to_string(n.state);
  b += "\nstarted:  " + format_rfc3339(n.started_at);
  if (n.resolved_at) b += "\nresolved: " + format_rfc3339(*n.resolved_at);
  for (const auto& [k, v] : n.labels) b += "\nlabel " + one_line(k) + "=" + one_line(v);
  b += "\n";
  return b;
}

std::string to_json(const Notification& n) {
  nlohmann::json j;
  j["text"] = headline(n) + (n.summary.empty() ? "" : ": " + one_line(n.summary));
  j["alert"] = n.alert;
  j["node"] = n.node;
  j["subject"] = subject_of(n);
  j["severity"] = to_string(n.severity);
  j["state"] = to_string(n.state);
  j["started_at"] = format_rfc3339(n.started_at);
  j["started_at_ms"] = to_unix_ms(n.started_at);
  if (n.resolved_at) {
    j["resolved_at"] = format_rfc3339(*n.resolved_at);
    j["resolved_at_ms"] = to_unix_ms(*n.resolved_at);
  }
  j["summary"] = n.summary;
  j["labels"] = nlohmann::json::object();
  for (const auto& [k, v] : n.labels) j["labels"][k] = v;
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace edgemon::notify
