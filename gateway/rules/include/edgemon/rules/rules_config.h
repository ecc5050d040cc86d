// Reads the alerting part of the gateway TOML: [alerting], [[rules]], [[silences]] and
// [[maintenance]] (reference: docs/rules.md). Errors name file, line, column and key, in the
// style of edgemon::ConfigReader:
//   gateway.toml:31:13: key 'rules[2].threshold': must be a number, got "high"
// Indexes in keys are 0-based, as in toml++ paths. Unknown keys inside these tables are errors.
//
// ConfigReader has no array-of-tables getter, so this reads the toml::table directly. The gateway
// reads its own keys with ConfigReader and these four with read_rules(); ConfigReader's unknown-key
// check must be told that kRuleConfigKeys are owned here.
#pragma once

#include <array>
#include <string>
#include <string_view>

#include <toml++/toml.h>

#include "edgemon/common/result.h"
#include "edgemon/rules/rule.h"

namespace edgemon::rules {

inline constexpr std::array<std::string_view, 4> kRuleConfigKeys{"alerting", "rules", "silences", "maintenance"};

// Errors: kInvalidArgument with one "<source>:<line>:<col>: key '...': ..." line per problem.
// Keys of `root` other than kRuleConfigKeys are ignored (they belong to other readers).
Result<RuleSet> read_rules(const toml::table& root, std::string_view source_name);

// Parses TOML text first. Errors: kInvalidArgument (syntax, with file:line:column, or as above).
Result<RuleSet> parse_rules(std::string_view text, std::string source_name);

// Errors: kNotFound (no file), kIo (unreadable), kInvalidArgument (as parse_rules).
Result<RuleSet> load_rules_file(const std::string& path);

// One [[rules]] table on its own (the API's rules arrive as JSON converted to a table): the same
// keys, defaults and checks as read_rules(). Errors: kInvalidArgument, keys named "<path>.<key>".
Result<Rule> read_rule(const toml::table& table, std::string_view source_name, std::string_view path = "rule");

// The inverse of read_rule(): a table with the rule's keys (defaults spelled out, durations as
// format_duration() text) that read_rule() turns back into the same rule.
toml::table rule_to_table(const Rule& rule);

// "90" (seconds, also a TOML integer), "500ms", "30s", "5m", "4h", "1d", "1h30m".
// Errors: kInvalidArgument.
Result<Duration> parse_duration(std::string_view text);
// The shortest text parse_duration() reads back exactly: 90 s -> "90s", 2 h -> "2h", 1.5 s -> "1500ms".
std::string format_duration(Duration d);

}  // namespace edgemon::rules
