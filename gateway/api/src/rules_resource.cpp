// Alert rules:
//   GET    /api/rules          every rule (configured, built-in, added here) with its "source"
//   POST   /api/rules          a rule: a JSON object with the keys of a [[rules]] table (admin)
//   GET    /api/rules/{name}
//   PUT    /api/rules/{name}   replace a rule added here (admin; configured ones: 409)
//   DELETE /api/rules/{name}   (admin)
// A rule is read by the same code as gateway.toml (rules::read_rule), so both accept and refuse
// exactly the same things; rules from gateway.toml are read-only. Rules added here are kept in the
// store as this JSON (schema v5 `api_rules`) and swapped into the running evaluator at once.
#include "edgemon/gateway/api/rules_resource.h"

#include "edgemon/common/log.h"
#include "edgemon/gateway/api/api_context.h"
#include "edgemon/gateway/api/body_reader.h"
#include "edgemon/gateway/api/json_writer.h"
#include "edgemon/rules/rules_config.h"

namespace edgemon::gateway {
namespace {

constexpr const char* kLog = "api";

// JSON -> the TOML table read_rule() reads: strings, numbers, booleans and arrays of strings; a
// null member counts as absent (a form's empty field).
Result<toml::table> rule_table(const nlohmann::json& j) {
  if (!j.is_object()) return make_error(ErrorCode::kInvalidArgument, "a rule is a JSON object with the [[rules]] keys");
  toml::table t;
  for (const auto& [key, v] : j.items()) {
    const auto bad = [&key](const char* what) {
      return make_error(ErrorCode::kInvalidArgument, "api: key 'rule." + key.substr(0, 64) + "': " + what);
    };
    if (v.is_null()) continue;
    if (v.is_string()) {
      t.insert(key, v.get<std::string>());
    } else if (v.is_boolean()) {
      t.insert(key, v.get<bool>());
    } else if (v.is_number_unsigned()) {
      if (v.get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX)) return bad("number out of range");
      t.insert(key, static_cast<std::int64_t>(v.get<std::uint64_t>()));
    } else if (v.is_number_integer()) {
      t.insert(key, v.get<std::int64_t>());
    } else if (v.is_number_float()) {
      t.insert(key, v.get<double>());
    } else if (v.is_array()) {
      toml::array arr;
      for (const nlohmann::json& item : v) {
        if (!item.is_string()) return bad("must be an array of strings");
        arr.push_back(item.get<std::string>());
      }
      t.insert(key, std::move(arr));
    } else {
      return bad("must be a string, number, boolean or array of strings");
    }
  }
  return t;
}

// The canonical table (rules::rule_to_table) as JSON members of an open object.
void write_rule_members(JsonWriter& w, const rules::Rule& rule) {
  rules::rule_to_table(rule).for_each([&w](const toml::key& key, const auto& value) {
    using T = std::decay_t<decltype(value)>;
    if constexpr (std::is_same_v<T, toml::value<std::string>> || std::is_same_v<T, toml::value<double>> ||
                  std::is_same_v<T, toml::value<bool>>) {
      w.member(key.str(), value.get());
    } else if constexpr (std::is_same_v<T, toml::value<std::int64_t>>) {
      w.member(key.str(), static_cast<std::int64_t>(value.get()));
    } else if constexpr (std::is_same_v<T, toml::array>) {
      w.key(key.str()).begin_array();
      for (const toml::node& item : value) {
        if (const auto* s = item.as_string()) w.value(s->get());
      }
      w.end_array();
    }
  });
}

std::string rule_json(const rules::Rule& rule) {
  JsonWriter w;
  w.begin_object();
  write_rule_members(w, rule);
  w.end_object();
  return w.take();
}

std::string describe(const ApiContext& api, const rules::Rule& rule) {
  JsonWriter w;
  w.begin_object();
  write_rule_members(w, rule);
  w.member("source", to_string(api.alerts.source(rule.name)));
  if (const auto ms = api.alerts.updated_ms(rule.name)) w.member("updated_ms", *ms);
  w.end_object();
  return w.take();
}

Result<rules::Rule> read_rule_json(const nlohmann::json& j) {
  auto table = rule_table(j);
  if (!table) return table.error();
  return rules::read_rule(*table, "api", "rule");
}

ApiReply control_error(const Error& e) {
  switch (e.code) {
    case ErrorCode::kNotFound: return error_reply(404, e.message);
    case ErrorCode::kConflict: return error_reply(409, e.message);
    case ErrorCode::kInternal: return error_reply(500, e.message);
    default: return error_reply(400, e.message);
  }
}

// Stores the change and publishes what it did to the alerts.
void apply_change(ApiContext& api, StoredRule row) {
  Outbox out;
  out.store.rules.push_back(std::move(row));
  api.ingest.collect_alert_changes(out);
  out.alerts_changed = true;
  api.apply(std::move(out));
}

}  // namespace

std::size_t restore_api_rules(Store& store, AlertControl& alerts, WallTime now) {
  auto stored = store.rules();
  if (!stored) {
    log::error(kLog, "cannot read the rules added through the API", {{"error", stored.error().message}});
    return 1;
  }
  std::size_t failed = 0;
  std::vector<std::pair<rules::Rule, std::int64_t>> parsed;
  for (const StoredRule& s : *stored) {
    const auto j = nlohmann::json::parse(s.body, nullptr, false);
    auto rule = j.is_discarded() ? Result<rules::Rule>(make_error(ErrorCode::kInvalidArgument, "not JSON"))
                                 : read_rule_json(j);
    if (!rule) {
      ++failed;
      log::error(kLog, "stored API rule unreadable; ignored", {{"rule", s.name}, {"error", rule.error().message}});
      continue;
    }
    parsed.emplace_back(std::move(*rule), s.updated_ms);
  }
  const std::size_t count = parsed.size();
  const std::size_t not_applied = alerts.restore(std::move(parsed), now);
  if (not_applied > 0) log::error(kLog, "API rules not applied", {{"rules", not_applied}});
  if (count > not_applied) log::info(kLog, "API rules restored", {{"rules", count - not_applied}});
  return failed + not_applied;
}

void add_rules_routes(Router& router, ApiContext& api) {
  router.add("GET", "/api/rules", [&api](const ApiRequest&) -> asio::awaitable<ApiReply> {
    JsonWriter w;
    w.begin_array();
    for (const rules::Rule& r : api.alerts.rules()) w.raw(describe(api, r));
    w.end_array();
    co_return json_reply(200, w.take());
  });

  router.add("POST", "/api/rules", [&api](const ApiRequest& req) -> asio::awaitable<ApiReply> {
    BodyReader body(req.body, "a JSON object with the [[rules]] keys");
    const nlohmann::json& j = body.all();
    if (Status s = body.finish(); !s) co_return error_reply(400, s.error().message);
    auto rule = read_rule_json(j);
    if (!rule) co_return error_reply(400, rule.error().message);
    std::string stored = rule_json(*rule);
    const std::string name = rule->name;
    auto row = api.alerts.add_rule(std::move(*rule), std::move(stored), api.clock.wall());
    if (!row) co_return control_error(row.error());
    log::info(kLog, "rule added", {{"rule", name}, {"by", req.user}});
    apply_change(api, std::move(*row));
    co_return json_reply(201, describe(api, *api.alerts.find(name)));
  });

  router.add("GET", "/api/rules/{name}", [&api](const ApiRequest& req) -> asio::awaitable<ApiReply> {
    const rules::Rule* rule = api.alerts.find(req.param("name"));
    if (rule == nullptr) co_return error_reply(404, "no such rule");
    co_return json_reply(200, describe(api, *rule));
  });

  router.add("PUT", "/api/rules/{name}", [&api](const ApiRequest& req) -> asio::awaitable<ApiReply> {
    const std::string& name = req.param("name");
    if (api.alerts.find(name) == nullptr) co_return error_reply(404, "no such rule");
    if (api.alerts.source(name) != RuleSource::kApi) {
      co_return error_reply(409, "rule \"" + name + "\" comes from the gateway's configuration file; change it there");
    }
    BodyReader body(req.body, "a JSON object with the [[rules]] keys");
    nlohmann::json j = body.all();
    if (Status s = body.finish(); !s) co_return error_reply(400, s.error().message);
    if (!j.contains("name")) j["name"] = name;  // the path names it
    auto rule = read_rule_json(j);
    if (!rule) co_return error_reply(400, rule.error().message);
    if (rule->name != name) {
      co_return error_reply(400, "the body's name must be the path's (\"" + name + "\"); renaming is delete + add");
    }
    std::string stored = rule_json(*rule);
    auto row = api.alerts.replace_rule(std::move(*rule), std::move(stored), api.clock.wall());
    if (!row) co_return control_error(row.error());
    log::info(kLog, "rule replaced", {{"rule", name}, {"by", req.user}});
    apply_change(api, std::move(*row));
    co_return json_reply(200, describe(api, *api.alerts.find(name)));
  });

  router.add("DELETE", "/api/rules/{name}", [&api](const ApiRequest& req) -> asio::awaitable<ApiReply> {
    const std::string& name = req.param("name");
    auto row = api.alerts.remove_rule(name, api.clock.wall());
    if (!row) co_return control_error(row.error());
    log::info(kLog, "rule removed", {{"rule", name}, {"by", req.user}});
    apply_change(api, std::move(*row));
    co_return json_reply(200, std::string(R"({"ok":true})"));
  });
}

}  // namespace edgemon::gateway
