// Silences and maintenance windows:
//   GET    /api/silences        every silence (configured and added here), with "active"
//   POST   /api/silences        {"match":{label: glob}, "until": ms | "duration": "2h", "starts"?, "comment"?} (admin)
//   PATCH  /api/silences/{id}   the members given replace the silence's (admin; configured ones: 409)
//   DELETE /api/silences/{id}   (admin)
//   GET    /api/maintenance     the configured [[maintenance]] windows (read-only)
// The evaluator keeps them and its snapshot persists them (docs/rules.md, "Persistence").
#include <charconv>
#include <cstdio>

#include "edgemon/common/log.h"
#include "edgemon/gateway/api/api_context.h"
#include "edgemon/gateway/api/body_reader.h"
#include "edgemon/gateway/api/json_writer.h"
#include "edgemon/rules/rules_config.h"

namespace edgemon::gateway {
namespace {

constexpr const char* kLog = "api";
constexpr const char* kUsage =
    "{\"match\": {\"node\": \"edgemon/pi-03\", ...}, \"until\": ms or \"duration\": \"2h\", \"comment\": \"...\"}";

bool known_label(std::string_view key) {
  for (const char* k : {"rule", "type", "severity", "node", "subject", "metric", "target"}) {
    if (key == k) return true;
  }
  return false;
}

// A time as ms since the epoch (1970..9999), or a duration from now ("2h", "30m", seconds).
std::optional<WallTime> time_member(BodyReader& b, const char* key, WallTime now) {
  const nlohmann::json* v = b.member(key);
  if (v == nullptr) return std::nullopt;
  if (v->is_number_integer()) {
    const auto ms = b.integer(key, kMinTimeMs, kMaxTimeMs);
    if (!ms) return std::nullopt;
    return WallTime(std::chrono::milliseconds(*ms));
  }
  if (v->is_string()) {
    auto d = rules::parse_duration(v->get<std::string>());
    if (d) return now + std::chrono::duration_cast<WallTime::duration>(*d);
    b.fail(std::string(key) + ": " + d.error().message);
    return std::nullopt;
  }
  b.fail(std::string(key) + ": ms since the epoch, or a duration such as \"2h\"");
  return std::nullopt;
}

// Reads the members present into `s` (match, starts, until or duration, comment). `s.until` must
// end up in the future and after `starts`.
void read_silence(BodyReader& b, WallTime now, rules::Silence& s) {
  if (const nlohmann::json* match = b.member("match")) {
    if (!match->is_object() || match->empty()) {
      b.fail("match: an object of at least one label -> glob");
      return;
    }
    rules::Matchers m;
    for (const auto& [k, v] : match->items()) {
      if (!known_label(k)) {
        b.fail("match: unknown label '" + k.substr(0, 64) + "' (rule, type, severity, node, subject, metric, target)");
        return;
      }
      if (!v.is_string() || v.get<std::string>().empty() || v.get<std::string>().size() > 200) {
        b.fail("match." + k + ": a non-empty string of at most 200 characters");
        return;
      }
      m[k] = v.get<std::string>();
    }
    s.matchers = std::move(m);
  }
  if (b.contains("starts")) s.starts = time_member(b, "starts", now);  // null clears it
  b.allow("starts");
  std::optional<WallTime> until = time_member(b, "until", now);
  if (!until) until = time_member(b, "duration", now);
  if (until) s.until = *until;
  if (auto comment = b.text("comment", 1000)) s.comment = std::move(*comment);
  if (b.ok() && (s.until <= now || (s.starts && s.until <= *s.starts))) {
    b.fail("until must be in the future and after starts");
  }
}

std::string silence_json(const rules::Silence& s, WallTime now) {
  JsonWriter w;
  w.begin_object().member("id", s.id).key("match").begin_object();
  for (const auto& [k, v] : s.matchers) w.member(k, v);
  w.end_object().key("starts");
  if (s.starts) {
    w.value(to_unix_ms(*s.starts));
  } else {
    w.null();
  }
  w.member("until", to_unix_ms(s.until)).member("comment", s.comment).member("active", s.active_at(now)).end_object();
  return w.take();
}

ApiReply control_error(const Error& e) {
  switch (e.code) {
    case ErrorCode::kNotFound: return error_reply(404, e.message);
    case ErrorCode::kConflict: return error_reply(409, e.message);
    default: return error_reply(400, e.message);
  }
}

// The silences' `suppressed` flags on the alerts changed: the alerts frame goes out.
void alerts_changed(ApiContext& api) {
  Outbox out;
  api.ingest.collect_alert_changes(out);
  out.alerts_changed = true;
  api.apply(std::move(out));
}

std::optional<std::uint64_t> silence_id(const std::string& text) {
  std::uint64_t id = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  return id;
}

}  // namespace

void add_silences_routes(Router& router, ApiContext& api) {
  router.add("GET", "/api/maintenance", [&api](const ApiRequest&) -> asio::awaitable<ApiReply> {
    static constexpr const char* kDays[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
    const auto hhmm = [](std::int32_t minute) {
      char buf[16];  // 0..1439 gives "HH:MM"
      std::snprintf(buf, sizeof buf, "%02d:%02d", minute / 60 % 100, minute % 60);
      return std::string(buf);
    };
    const WallTime now = api.clock.wall();
    JsonWriter w;
    w.begin_array();
    for (const rules::MaintenanceWindow& m : api.evaluator.rule_set().maintenance) {
      w.begin_object().member("name", m.name).key("days").begin_array();
      for (unsigned d = 0; d < 7; ++d) {
        if ((m.days_mask & (1u << d)) != 0) w.value(kDays[d]);
      }
      w.end_array()
          .member("start", hhmm(m.start_minute))
          .member("end", hhmm(m.end_minute))
          .member("utc_offset_minutes", m.utc_offset_minutes)
          .key("match")
          .begin_object();
      for (const auto& [k, v] : m.matchers) w.member(k, v);
      w.end_object().member("active", m.active_at(now)).end_object();
    }
    w.end_array();
    co_return json_reply(200, w.take());
  });

  router.add("GET", "/api/silences", [&api](const ApiRequest&) -> asio::awaitable<ApiReply> {
    const WallTime now = api.clock.wall();
    JsonWriter w;
    w.begin_array();
    for (const rules::Silence& s : api.alerts.silences()) w.raw(silence_json(s, now));
    w.end_array();
    co_return json_reply(200, w.take());
  });

  router.add("POST", "/api/silences", [&api](const ApiRequest& req) -> asio::awaitable<ApiReply> {
    const WallTime now = api.clock.wall();
    BodyReader body(req.body, kUsage);
    if (body.ok() && !body.has("match")) body.fail(std::string("match: required; needs ") + kUsage);
    if (body.ok() && !body.has("until") && !body.has("duration")) {
      body.fail(std::string("until or duration: required; needs ") + kUsage);
    }
    rules::Silence s;
    read_silence(body, now, s);
    if (Status st = body.finish(); !st) co_return error_reply(400, st.error().message);
    auto added = api.alerts.add_silence(std::move(s));
    if (!added) co_return control_error(added.error());
    log::info(kLog, "silence added", {{"id", added->id}, {"by", req.user}, {"until_ms", to_unix_ms(added->until)}});
    alerts_changed(api);
    co_return json_reply(201, silence_json(*added, now));
  });

  router.add("PATCH", "/api/silences/{id}", [&api](const ApiRequest& req) -> asio::awaitable<ApiReply> {
    const auto id = silence_id(req.param("id"));
    const rules::Silence* current = id ? api.alerts.find_silence(*id) : nullptr;
    if (current == nullptr) co_return error_reply(404, "no such silence");
    if (!api.alerts.runtime_silence(*id)) {
      co_return error_reply(409, "this silence comes from the gateway's configuration file; change it there");
    }
    const WallTime now = api.clock.wall();
    BodyReader body(req.body, "a JSON object with match, starts, until, duration or comment");
    rules::Silence changed = *current;
    read_silence(body, now, changed);
    if (Status st = body.finish(); !st) co_return error_reply(400, st.error().message);
    auto replaced = api.alerts.replace_silence(changed);
    if (!replaced) co_return control_error(replaced.error());
    log::info(kLog, "silence changed", {{"id", *id}, {"by", req.user}, {"until_ms", to_unix_ms(changed.until)}});
    alerts_changed(api);
    co_return json_reply(200, silence_json(*replaced, now));
  });

  router.add("DELETE", "/api/silences/{id}", [&api](const ApiRequest& req) -> asio::awaitable<ApiReply> {
    const auto id = silence_id(req.param("id"));
    if (!id) co_return error_reply(404, "no such silence");
    if (Status s = api.alerts.remove_silence(*id); !s) co_return control_error(s.error());
    log::info(kLog, "silence removed", {{"id", *id}, {"by", req.user}});
    alerts_changed(api);
    co_return json_reply(200, std::string(R"({"ok":true})"));
  });
}

}  // namespace edgemon::gateway
