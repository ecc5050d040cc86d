// Gateway: silences through the API (GET/POST /api/silences, DELETE /api/silences/<id>), and the
// configured maintenance windows (GET /api/maintenance, read-only).
// The evaluator keeps them (rules::Evaluator::add_silence) and its snapshot persists them, so they
// survive a restart like alert state does (docs/rules.md, "Persistence").
#include <algorithm>
#include <charconv>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "edgemon/common/log.h"
#include "edgemon/gateway/gateway.h"
#include "edgemon/rules/rules_config.h"

namespace edgemon::gateway {
namespace {

constexpr const char* kLog = "gateway";
constexpr std::size_t kMaxSilences = 1000;

bool known_label(std::string_view key) {
  for (const char* k : {"rule", "type", "severity", "node", "subject", "metric", "target"}) {
    if (key == k) return true;
  }
  return false;
}

// A time as ms since the epoch, or a duration from now ("2h", "30m", seconds).
std::optional<WallTime> time_member(const nlohmann::json& j, const char* key, WallTime now, std::string& error) {
  if (!j.contains(key) || j[key].is_null()) return std::nullopt;
  const nlohmann::json& v = j[key];
  if (v.is_number_integer()) return WallTime(std::chrono::milliseconds(v.get<std::int64_t>()));
  if (v.is_string()) {
    auto d = rules::parse_duration(v.get<std::string>());
    if (d) return now + std::chrono::duration_cast<WallTime::duration>(*d);
    error = std::string(key) + ": " + d.error().message;
    return std::nullopt;
  }
  error = std::string(key) + ": ms since the epoch, or a duration such as \"2h\"";
  return std::nullopt;
}

// Reads the members of `j` present into `s` (match, starts, until or duration, comment); an error
// message names the member. `s.until` must end up in the future and after `starts`.
std::string read_silence(const nlohmann::json& j, WallTime now, rules::Silence& s) {
  if (j.contains("match")) {
    if (!j["match"].is_object() || j["match"].empty()) return "match: an object of at least one label -> glob";
    rules::Matchers m;
    for (const auto& [k, v] : j["match"].items()) {
      if (!known_label(k)) return "match: unknown label '" + k + "' (rule, type, severity, node, subject, metric, target)";
      if (!v.is_string() || v.get<std::string>().empty() || v.get<std::string>().size() > 200) {
        return "match." + k + ": a non-empty string of at most 200 characters";
      }
      m[k] = v.get<std::string>();
    }
    s.matchers = std::move(m);
  }
  std::string error;
  if (j.contains("starts")) s.starts = time_member(j, "starts", now, error);
  auto until = time_member(j, "until", now, error);
  if (!until) until = time_member(j, "duration", now, error);
  if (!error.empty()) return error;
  if (until) s.until = *until;
  if (s.until <= now || (s.starts && s.until <= *s.starts)) return "until must be in the future and after starts";
  if (j.contains("comment")) {
    if (!j["comment"].is_string() || j["comment"].get<std::string>().size() > 1000) {
      return "comment: a string of at most 1000 characters";
    }
    s.comment = j["comment"].get<std::string>();
  }
  return {};
}

}  // namespace

ApiReply Gateway::silences_api(const std::string& method, std::string_view path, const std::string& body,
                               const std::string& user) {
  const WallTime now = clock_.wall();
  const auto to_json = [&](const rules::Silence& s) {
    nlohmann::json m = nlohmann::json::object();
    for (const auto& [k, v] : s.matchers) m[k] = v;
    return nlohmann::json{{"id", s.id},
                          {"match", m},
                          {"starts", s.starts ? nlohmann::json(to_unix_ms(*s.starts)) : nlohmann::json(nullptr)},
                          {"until", to_unix_ms(s.until)},
                          {"comment", s.comment},
                          {"active", s.active_at(now)}};
  };
  if (path == "/api/maintenance") {  // read-only: [[maintenance]] of gateway.toml
    if (method != "GET" && method != "HEAD") {
      ApiReply r = error_reply(405, "method not allowed");
      r.headers.emplace_back("Allow", "GET, HEAD");
      return r;
    }
    static constexpr const char* kDays[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
    const auto hhmm = [](std::int32_t minute) {
      char buf[16];  // 0..1439 gives "HH:MM"
      std::snprintf(buf, sizeof buf, "%02d:%02d", minute / 60 % 100, minute % 60);
      return std::string(buf);
    };
    nlohmann::json out = nlohmann::json::array();
    for (const rules::MaintenanceWindow& w : evaluator_.rule_set().maintenance) {
      nlohmann::json days = nlohmann::json::array();
      for (unsigned d = 0; d < 7; ++d) {
        if ((w.days_mask & (1u << d)) != 0) days.push_back(kDays[d]);
      }
      nlohmann::json match = nlohmann::json::object();
      for (const auto& [k, v] : w.matchers) match[k] = v;
      out.push_back({{"name", w.name}, {"days", days}, {"start", hhmm(w.start_minute)}, {"end", hhmm(w.end_minute)},
                     {"utc_offset_minutes", w.utc_offset_minutes}, {"match", match}, {"active", w.active_at(now)}});
    }
    return json_reply(200, out);
  }
  if (path == "/api/silences") {
    if (method == "GET" || method == "HEAD") {
      nlohmann::json out = nlohmann::json::array();
      for (const rules::Silence& s : evaluator_.silences()) out.push_back(to_json(s));
      return json_reply(200, out);
    }
    if (method != "POST") {
      ApiReply r = error_reply(405, "method not allowed");
      r.headers.emplace_back("Allow", "GET, HEAD, POST");
      return r;
    }
    const auto j = nlohmann::json::parse(body, nullptr, false);
    const char* usage = "needs {\"match\": {\"node\": \"edgemon/pi-03\", ...}, \"until\": ms or \"duration\": \"2h\", "
                        "\"comment\": \"...\"}";
    if (j.is_discarded() || !j.is_object() || !j.contains("match") || !j["match"].is_object() || j["match"].empty()) {
      return error_reply(400, usage);
    }
    if (!j.contains("until") && !j.contains("duration")) return error_reply(400, usage);
    rules::Silence s;
    if (std::string error = read_silence(j, now, s); !error.empty()) return error_reply(400, error);
    if (evaluator_.silences().size() >= kMaxSilences) return error_reply(400, "too many silences (1000)");
    const std::uint64_t id = evaluator_.add_silence(s);
    s.id = id;
    log::info(kLog, "silence added", {{"id", id}, {"by", user}, {"until_ms", to_unix_ms(s.until)}});
    if (hub_.wants_frames()) hub_.broadcast("alerts", alerts_json());  // their `suppressed` changed
    else hub_.skipped();
    return json_reply(201, to_json(s));
  }
  // /api/silences/<id>
  const std::string_view id_text = path.substr(std::string_view("/api/silences/").size());
  std::uint64_t id = 0;
  const auto [ptr, ec] = std::from_chars(id_text.data(), id_text.data() + id_text.size(), id);
  if (ec != std::errc() || ptr != id_text.data() + id_text.size()) return error_reply(404, "no such silence");
  if (method == "PATCH") {  // extend, shorten or re-scope: the members given replace the silence's
    const auto& all = evaluator_.silences();
    const auto it = std::find_if(all.begin(), all.end(), [&](const rules::Silence& x) { return x.id == id; });
    if (it == all.end()) return error_reply(404, "no such silence");
    if (!evaluator_.runtime_silence(id)) {
      return error_reply(409, "this silence comes from the gateway's configuration file; change it there");
    }
    const auto j = nlohmann::json::parse(body, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return error_reply(400, "needs a JSON object with match, starts, until, duration or comment");
    rules::Silence changed = *it;
    if (std::string error = read_silence(j, now, changed); !error.empty()) return error_reply(400, error);
    evaluator_.replace_silence(changed);
    log::info(kLog, "silence changed", {{"id", id}, {"by", user}, {"until_ms", to_unix_ms(changed.until)}});
    if (hub_.wants_frames()) hub_.broadcast("alerts", alerts_json());
    else hub_.skipped();
    return json_reply(200, to_json(changed));
  }
  if (method != "DELETE") {
    ApiReply r = error_reply(405, "method not allowed");
    r.headers.emplace_back("Allow", "PATCH, DELETE");
    return r;
  }
  if (!evaluator_.remove_silence(id)) return error_reply(404, "no such silence");
  log::info(kLog, "silence removed", {{"id", id}, {"by", user}});
  if (hub_.wants_frames()) hub_.broadcast("alerts", alerts_json());
  else hub_.skipped();
  return json_reply(200, nlohmann::json{{"ok", true}});
}

}  // namespace edgemon::gateway
