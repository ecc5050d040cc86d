// GET /api/alerts (the firing alerts), /api/events and /api/incidents (?limit=&offset=, newest
// first, from the history reader).
#include <algorithm>
#include <charconv>

#include "edgemon/gateway/api/alerts_json.h"
#include "edgemon/gateway/api/api_context.h"
#include "edgemon/gateway/api/json_writer.h"

namespace edgemon::gateway {
namespace {

// ?limit=N&offset=M: limit 1..1000 (default 100), offset up to 1e9; values that are not numbers
// take the defaults.
std::pair<std::size_t, std::size_t> page_of(const QueryParams& q) {
  std::size_t limit = 100;
  std::size_t offset = 0;
  const auto number = [&q](const char* key, std::size_t& out) {
    const auto it = q.find(key);
    if (it == q.end()) return false;
    const std::string& v = it->second;
    std::uint64_t n = 0;
    const auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (ec != std::errc() || ptr != v.data() + v.size()) return false;
    out = static_cast<std::size_t>(std::min<std::uint64_t>(n, 1'000'000'000));
    return true;
  };
  if (number("limit", limit)) limit = std::clamp<std::size_t>(limit, 1, 1000);
  number("offset", offset);
  return {limit, offset};
}

}  // namespace

ApiReply storage_error(const Error& e) {
  return error_reply(e.code == ErrorCode::kUnavailable ? 503 : 500, "history: " + e.message);
}

std::string alerts_json(const rules::Evaluator& evaluator, WallTime now) {
  JsonWriter w;
  w.begin_array();
  for (const rules::Alert& a : evaluator.active_alerts()) {
    w.begin_object()
        .member("subject", a.subject)
        .member("rule", a.rule)
        .member("type", a.type)
        .member("node", a.node)
        .member("metric", a.metric)
        .member("severity", rules::to_string(a.severity))
        .member("since", to_unix_ms(a.since))
        .member("reason", a.reason)
        .member("suppressed", evaluator.suppressed(a.labels, now));
    if (a.value) w.member("value", *a.value);
    w.end_object();
  }
  w.end_array();
  return w.take();
}

void add_alerts_routes(Router& router, ApiContext& api) {
  router.add("GET", "/api/alerts", [&api](const ApiRequest&) -> asio::awaitable<ApiReply> {
    co_return json_reply(200, alerts_json(api.evaluator, api.clock.wall()));
  });

  router.add("GET", "/api/events", [&api](const ApiRequest& req) -> asio::awaitable<ApiReply> {
    const auto [limit, offset] = page_of(req.query);
    auto job = [limit, offset](Store& s) -> Result<std::string> {
      auto events = s.events(limit, offset);
      if (!events) return events.error();
      JsonWriter w;
      w.begin_array();
      for (const StoredEvent& e : *events) {
        w.begin_object()
            .member("at", e.at_ms)
            .member("subject", e.subject)
            .member("rule", e.rule)
            .member("type", e.type)
            .member("from", e.from)
            .member("to", e.to)
            .member("reason", e.reason)
            .member("severity", e.severity)
            .member("suppressed", e.suppressed)
            .end_object();
      }
      w.end_array();
      return w.take();
    };
    co_return co_await stored_json(api.reader, std::move(job));
  });

  router.add("GET", "/api/incidents", [&api](const ApiRequest& req) -> asio::awaitable<ApiReply> {
    const auto [limit, offset] = page_of(req.query);
    const std::int64_t now = to_unix_ms(api.clock.wall());
    auto job = [limit, offset, now](Store& s) -> Result<std::string> {
      auto incidents = s.incidents(limit, offset);
      if (!incidents) return incidents.error();
      JsonWriter w;
      w.begin_array();
      for (const StoredIncident& i : *incidents) {
        w.begin_object()
            .member("subject", i.subject)
            .member("rule", i.rule)
            .member("type", i.type)
            .member("severity", i.severity)
            .member("start", i.start_ms)
            .member("end", i.end_ms)
            .member("duration_ms", (i.end_ms ? *i.end_ms : now) - i.start_ms)
            .end_object();
      }
      w.end_array();
      return w.take();
    };
    co_return co_await stored_json(api.reader, std::move(job));
  });
}

}  // namespace edgemon::gateway
