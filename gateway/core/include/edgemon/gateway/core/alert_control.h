// AlertControl: the alert rules and silences that change while the gateway runs (the API).
// Single-threaded (the io thread), no I/O: changes go into the evaluator at once and come back as
// the rows to store; the caller stores them and lets Ingest::collect_alert_changes() publish what
// the change did to the alerts.
//
// Rules come from three places: the configuration file and the built-in ones (read-only here),
// and the API (kept in the store, schema v5 `api_rules`, restored at start before the alert
// state). A rule's stored form is the API's JSON: the API room writes and reads it.
//
// Silences added here are kept in the evaluator's snapshot (the alert state), so they need no
// row of their own; configured ones are read-only.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "edgemon/common/result.h"
#include "edgemon/gateway/store/store.h"
#include "edgemon/rules/evaluator.h"

namespace edgemon::gateway {

enum class RuleSource : std::uint8_t { kConfig, kBuiltin, kApi };
const char* to_string(RuleSource s);  // "config", "builtin", "api"

class AlertControl {
 public:
  static constexpr std::size_t kMaxApiRules = 500;
  static constexpr std::size_t kMaxSilences = 1000;
  static constexpr std::string_view kBuiltinPrefix = "_gateway";

  // The evaluator's rules at this point are the configured and built-in ones.
  explicit AlertControl(rules::Evaluator& evaluator);

  // At start, before the alert state is restored: the rules kept in the store (already parsed by
  // the API room, with their update times). Rules named like a configured one are skipped.
  // Returns how many could not be applied.
  std::size_t restore(std::vector<std::pair<rules::Rule, std::int64_t>> stored, WallTime now);

  const std::vector<rules::Rule>& rules() const { return evaluator_.rule_set().rules; }
  const rules::Rule* find(std::string_view name) const;
  RuleSource source(std::string_view name) const;
  std::optional<std::int64_t> updated_ms(std::string_view name) const;
  std::size_t api_rules() const { return api_rule_updated_ms_.size(); }

  // Rule changes. `body` is the rule's stored form. Errors: kInvalidArgument (reserved name, too
  // many rules), kConflict (the name exists / the rule is not the API's), kNotFound, kInternal
  // (the evaluator could not swap: nothing changed).
  Result<StoredRule> add_rule(rules::Rule rule, std::string body, WallTime now);
  Result<StoredRule> replace_rule(rules::Rule rule, std::string body, WallTime now);
  Result<StoredRule> remove_rule(std::string_view name, WallTime now);

  // Silence changes. add_silence assigns the id. Errors: kResourceExhausted (too many),
  // kNotFound, kConflict (replacing a configured silence; removing one ends it until restart).
  const std::vector<rules::Silence>& silences() const { return evaluator_.silences(); }
  Result<rules::Silence> add_silence(rules::Silence s);
  Result<rules::Silence> replace_silence(rules::Silence s);
  Status remove_silence(std::uint64_t id);
  const rules::Silence* find_silence(std::uint64_t id) const;
  bool runtime_silence(std::uint64_t id) const { return evaluator_.runtime_silence(id); }

 private:
  Result<StoredRule> swap(std::vector<rules::Rule> next, const std::string& name, std::string body, WallTime now);

  rules::Evaluator& evaluator_;
  std::set<std::string, std::less<>> config_names_;  // configured and built-in: read-only
  std::map<std::string, std::int64_t, std::less<>> api_rule_updated_ms_;
};

}  // namespace edgemon::gateway
