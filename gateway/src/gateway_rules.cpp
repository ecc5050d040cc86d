// Gateway: alert rules through the API (GET/POST /api/rules, GET/PUT/DELETE /api/rules/<name>).
// A rule is a JSON object with the keys of a [[rules]] table (docs/rules.md), read by the same
// code as gateway.toml (rules::read_rule), so both accept and refuse exactly the same things.
// Rules from gateway.toml are read-only here; rules added through the API are kept in the store
// (schema v5 `api_rules`) and swapped into the running evaluator at once
// (rules::Evaluator::replace_rules): unchanged rules keep their alerts, removed ones end theirs.
#include <algorithm>
#include <cstdint>

#include <nlohmann/json.hpp>

#include "edgemon/common/log.h"
#include "edgemon/gateway/gateway.h"
#include "edgemon/rules/rules_config.h"

namespace edgemon::gateway {
namespace {

constexpr const char* kLog = "gateway";
constexpr std::size_t kMaxApiRules = 500;
constexpr const char* kBuiltinPrefix = "_gateway";

// JSON -> the TOML table read_rule() reads: strings, numbers, booleans and arrays of them; a null
// member counts as absent (a form's empty field).
Result<toml::table> rule_table(const nlohmann::json& j) {
  if (!j.is_object()) return make_error(ErrorCode::kInvalidArgument, "a rule is a JSON object with the [[rules]] keys");
  toml::table t;
  for (const auto& [key, v] : j.items()) {
    const auto bad = [&key](const char* what) {
      return make_error(ErrorCode::kInvalidArgument, "api: key 'rule." + key + "': " + what);
    };
    if (v.is_null()) continue;
    if (v.is_string()) t.insert(key, v.get<std::string>());
    else if (v.is_boolean()) t.insert(key, v.get<bool>());
    else if (v.is_number_integer() && !v.is_number_unsigned()) t.insert(key, v.get<std::int64_t>());
    else if (v.is_number_unsigned()) {
      if (v.get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX)) return bad("number out of range");
      t.insert(key, static_cast<std::int64_t>(v.get<std::uint64_t>()));
    } else if (v.is_number_float()) t.insert(key, v.get<double>());
    else if (v.is_array()) {
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

// The canonical table (rules::rule_to_table) as JSON.
nlohmann::json rule_json(const rules::Rule& rule) {
  nlohmann::json out = nlohmann::json::object();
  rules::rule_to_table(rule).for_each([&out](const toml::key& key, const auto& value) {
    using T = std::decay_t<decltype(value)>;
    if constexpr (std::is_same_v<T, toml::value<std::string>>) out[std::string(key.str())] = value.get();
    else if constexpr (std::is_same_v<T, toml::value<std::int64_t>>) out[std::string(key.str())] = value.get();
    else if constexpr (std::is_same_v<T, toml::value<double>>) out[std::string(key.str())] = value.get();
    else if constexpr (std::is_same_v<T, toml::value<bool>>) out[std::string(key.str())] = value.get();
    else if constexpr (std::is_same_v<T, toml::array>) {
      nlohmann::json arr = nlohmann::json::array();
      for (const toml::node& item : value) {
        if (const auto* s = item.as_string()) arr.push_back(s->get());
      }
      out[std::string(key.str())] = std::move(arr);
    }
  });
  return out;
}

// A rule from a request or the store; errors name the key ("api: key 'rule.threshold': ...").
Result<rules::Rule> parse_rule(std::string_view text) {
  const auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded()) return make_error(ErrorCode::kInvalidArgument, "the body is not JSON");
  auto table = rule_table(j);
  if (!table) return table.error();
  return rules::read_rule(*table, "api", "rule");
}

ApiReply method_not_allowed(const char* allow) {
  ApiReply r = error_reply(405, "method not allowed");
  r.headers.emplace_back("Allow", allow);
  return r;
}

}  // namespace

void Gateway::restore_rules(Store& store) {
  const std::vector<rules::Rule>& configured = evaluator_.rule_set().rules;
  for (const rules::Rule& r : configured) config_rule_names_.insert(r.name);
  auto stored = store.rules();
  if (!stored) {
    ++restore_failures_;
    log::error(kLog, "cannot read the rules added through the API", {{"error", stored.error().message}});
    return;
  }
  std::vector<rules::Rule> all = configured;
  for (const StoredRule& s : *stored) {
    auto rule = parse_rule(s.body);
    if (!rule) {
      ++restore_failures_;
      log::error(kLog, "stored API rule unreadable; ignored", {{"rule", s.name}, {"error", rule.error().message}});
      continue;
    }
    if (config_rule_names_.contains(rule->name)) {
      log::warn(kLog, "stored API rule has the name of a configured rule; the configured one applies",
                {{"rule", rule->name}});
      continue;
    }
    api_rule_updated_ms_[rule->name] = s.updated_ms;
    all.push_back(std::move(*rule));
  }
  if (api_rule_updated_ms_.empty()) return;
  if (Status st = evaluator_.replace_rules(std::move(all), clock_.wall()); !st) {
    ++restore_failures_;
    api_rule_updated_ms_.clear();
    log::error(kLog, "API rules not applied", {{"error", st.error().message}});
    return;
  }
  log::info(kLog, "API rules restored", {{"rules", api_rule_updated_ms_.size()}});
}

ApiReply Gateway::rules_api(const std::string& method, std::string_view path, const std::string& body,
                            const std::string& user) {
  const std::vector<rules::Rule>& current = evaluator_.rule_set().rules;
  const auto describe = [&](const rules::Rule& r) {
    nlohmann::json j = rule_json(r);
    const auto api = api_rule_updated_ms_.find(r.name);
    j["source"] = api != api_rule_updated_ms_.end() ? "api" : r.name.rfind(kBuiltinPrefix, 0) == 0 ? "builtin" : "config";
    if (api != api_rule_updated_ms_.end()) j["updated_ms"] = api->second;
    return j;
  };
  const auto find = [&](std::string_view name) {
    return std::find_if(current.begin(), current.end(), [&](const rules::Rule& r) { return r.name == name; });
  };
  // Swaps `next` in, keeps it, and answers with `subject`'s description (or {"ok":true}).
  const auto apply = [&](std::vector<rules::Rule> next, const std::string& name, const rules::Rule* kept,
                         unsigned status, const char* what) -> ApiReply {
    const std::int64_t now_ms = to_unix_ms(clock_.wall());
    if (Status st = evaluator_.replace_rules(std::move(next), clock_.wall()); !st) {
      return error_reply(500, st.error().message);
    }
    StoredRule stored{name, "", now_ms, kept == nullptr};
    if (kept != nullptr) {
      stored.body = rule_json(*kept).dump();
      api_rule_updated_ms_[name] = now_ms;
    } else {
      api_rule_updated_ms_.erase(name);
    }
    WriteBatch batch;
    batch.rules.push_back(std::move(stored));
    writer_->submit(std::move(batch));
    log::info(kLog, what, {{"rule", name}, {"by", user}});
    if (kept == nullptr) return json_reply(status, nlohmann::json{{"ok", true}});
    const auto it = find(name);
    return json_reply(status, it != current.end() ? describe(*it) : nlohmann::json::object());
  };

  if (path == "/api/rules") {
    if (method == "GET" || method == "HEAD") {
      nlohmann::json out = nlohmann::json::array();
      for (const rules::Rule& r : current) out.push_back(describe(r));
      return json_reply(200, out);
    }
    if (method != "POST") return method_not_allowed("GET, HEAD, POST");
    auto rule = parse_rule(body);
    if (!rule) return error_reply(400, rule.error().message);
    if (rule->name.rfind(kBuiltinPrefix, 0) == 0) return error_reply(400, "rule names starting with _gateway are reserved");
    if (find(rule->name) != current.end()) {
      return error_reply(409, "a rule named \"" + rule->name + "\" already exists (edit it, or pick another name)");
    }
    if (api_rule_updated_ms_.size() >= kMaxApiRules) return error_reply(400, "too many rules added through the API (500)");
    std::vector<rules::Rule> next = current;
    next.push_back(*rule);
    return apply(std::move(next), rule->name, &*rule, 201, "rule added");
  }

  // /api/rules/<name>
  const std::string name(path.substr(std::string_view("/api/rules/").size()));
  const auto it = find(name);
  if (it == current.end()) return error_reply(404, "no such rule");
  if (method == "GET" || method == "HEAD") return json_reply(200, describe(*it));
  if (method != "PUT" && method != "DELETE") return method_not_allowed("GET, HEAD, PUT, DELETE");
  if (!api_rule_updated_ms_.contains(name)) {
    return error_reply(409, "rule \"" + name + "\" comes from the gateway's configuration file; change it there");
  }
  std::vector<rules::Rule> next = current;
  const auto pos = next.begin() + (it - current.begin());
  if (method == "DELETE") {
    next.erase(pos);
    return apply(std::move(next), name, nullptr, 200, "rule removed");
  }
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_object() && !j.contains("name")) j["name"] = name;  // the path names it
  auto rule = j.is_discarded() ? Result<rules::Rule>(make_error(ErrorCode::kInvalidArgument, "the body is not JSON"))
                               : parse_rule(j.dump());
  if (!rule) return error_reply(400, rule.error().message);
  if (rule->name != name) return error_reply(400, "the body's name must be the path's (\"" + name + "\"); renaming is delete + add");
  *pos = *rule;
  return apply(std::move(next), name, &*rule, 200, "rule replaced");
}

}  // namespace edgemon::gateway
