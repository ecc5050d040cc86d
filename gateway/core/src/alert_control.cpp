#include "edgemon/gateway/core/alert_control.h"

#include <algorithm>

namespace edgemon::gateway {

const char* to_string(RuleSource s) {
  switch (s) {
    case RuleSource::kConfig: return "config";
    case RuleSource::kBuiltin: return "builtin";
    case RuleSource::kApi: return "api";
  }
  return "config";
}

AlertControl::AlertControl(rules::Evaluator& evaluator) : evaluator_(evaluator) {
  for (const rules::Rule& r : evaluator_.rule_set().rules) config_names_.insert(r.name);
}

std::size_t AlertControl::restore(std::vector<std::pair<rules::Rule, std::int64_t>> stored, WallTime now) {
  std::size_t failed = 0;
  std::vector<rules::Rule> all = rules();
  std::map<std::string, std::int64_t, std::less<>> updated;
  for (auto& [rule, ms] : stored) {
    if (config_names_.contains(rule.name) || updated.contains(rule.name)) {
      ++failed;
      continue;
    }
    updated[rule.name] = ms;
    all.push_back(std::move(rule));
  }
  if (updated.empty()) return failed;
  if (Status s = evaluator_.replace_rules(std::move(all), now); !s) return failed + updated.size();
  api_rule_updated_ms_ = std::move(updated);
  return failed;
}

const rules::Rule* AlertControl::find(std::string_view name) const {
  const auto& all = rules();
  const auto it = std::find_if(all.begin(), all.end(), [&](const rules::Rule& r) { return r.name == name; });
  return it == all.end() ? nullptr : &*it;
}

RuleSource AlertControl::source(std::string_view name) const {
  if (api_rule_updated_ms_.contains(name)) return RuleSource::kApi;
  return name.starts_with(kBuiltinPrefix) ? RuleSource::kBuiltin : RuleSource::kConfig;
}

std::optional<std::int64_t> AlertControl::updated_ms(std::string_view name) const {
  const auto it = api_rule_updated_ms_.find(name);
  return it == api_rule_updated_ms_.end() ? std::nullopt : std::optional<std::int64_t>(it->second);
}

Result<StoredRule> AlertControl::swap(std::vector<rules::Rule> next, const std::string& name, std::string body,
                                      WallTime now) {
  if (Status s = evaluator_.replace_rules(std::move(next), now); !s) {
    return make_error(ErrorCode::kInternal, s.error().message);
  }
  const std::int64_t now_ms = to_unix_ms(now);
  const bool removed = body.empty();
  if (removed) {
    api_rule_updated_ms_.erase(name);
  } else {
    api_rule_updated_ms_[name] = now_ms;
  }
  return StoredRule{name, std::move(body), now_ms, removed};
}

Result<StoredRule> AlertControl::add_rule(rules::Rule rule, std::string body, WallTime now) {
  if (rule.name.starts_with(kBuiltinPrefix)) {
    return make_error(ErrorCode::kInvalidArgument, "rule names starting with _gateway are reserved");
  }
  if (find(rule.name) != nullptr) {
    return make_error(ErrorCode::kConflict,
                      "a rule named \"" + rule.name + "\" already exists (edit it, or pick another name)");
  }
  if (api_rule_updated_ms_.size() >= kMaxApiRules) {
    return make_error(ErrorCode::kInvalidArgument,
                      "too many rules added through the API (" + std::to_string(kMaxApiRules) + ")");
  }
  std::vector<rules::Rule> next = rules();
  const std::string name = rule.name;
  next.push_back(std::move(rule));
  return swap(std::move(next), name, std::move(body), now);
}

Result<StoredRule> AlertControl::replace_rule(rules::Rule rule, std::string body, WallTime now) {
  const rules::Rule* current = find(rule.name);
  if (current == nullptr) return make_error(ErrorCode::kNotFound, "no such rule");
  if (source(rule.name) != RuleSource::kApi) {
    return make_error(ErrorCode::kConflict,
                      "rule \"" + rule.name + "\" comes from the gateway's configuration file; change it there");
  }
  std::vector<rules::Rule> next = rules();
  const std::string name = rule.name;
  next[static_cast<std::size_t>(current - rules().data())] = std::move(rule);
  return swap(std::move(next), name, std::move(body), now);
}

Result<StoredRule> AlertControl::remove_rule(std::string_view name, WallTime now) {
  const rules::Rule* current = find(name);
  if (current == nullptr) return make_error(ErrorCode::kNotFound, "no such rule");
  if (source(name) != RuleSource::kApi) {
    return make_error(ErrorCode::kConflict,
                      "rule \"" + std::string(name) + "\" comes from the gateway's configuration file; change it there");
  }
  std::vector<rules::Rule> next = rules();
  next.erase(next.begin() + (current - rules().data()));
  return swap(std::move(next), std::string(name), {}, now);
}

const rules::Silence* AlertControl::find_silence(std::uint64_t id) const {
  const auto& all = silences();
  const auto it = std::find_if(all.begin(), all.end(), [id](const rules::Silence& s) { return s.id == id; });
  return it == all.end() ? nullptr : &*it;
}

Result<rules::Silence> AlertControl::add_silence(rules::Silence s) {
  if (silences().size() >= kMaxSilences) {
    return make_error(ErrorCode::kResourceExhausted, "too many silences (" + std::to_string(kMaxSilences) + ")");
  }
  s.id = 0;
  s.id = evaluator_.add_silence(s);
  return s;
}

Result<rules::Silence> AlertControl::replace_silence(rules::Silence s) {
  if (find_silence(s.id) == nullptr) return make_error(ErrorCode::kNotFound, "no such silence");
  if (!evaluator_.runtime_silence(s.id)) {
    return make_error(ErrorCode::kConflict,
                      "this silence comes from the gateway's configuration file; change it there");
  }
  if (!evaluator_.replace_silence(s)) return make_error(ErrorCode::kNotFound, "no such silence");
  return s;
}

Status AlertControl::remove_silence(std::uint64_t id) {
  // A configured silence may be ended early too (it comes back with the next start).
  if (!evaluator_.remove_silence(id)) return make_error(ErrorCode::kNotFound, "no such silence");
  return Status::Ok();
}

}  // namespace edgemon::gateway
