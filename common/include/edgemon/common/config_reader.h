// Reads a TOML config file with error messages a person can act on:
//   agent.toml:7:12: key 'agent.interval': must be between 0.1 and 3600, got -1
// Every getter returns the default when the key is absent and records an error when the value is
// present but wrong (type or range). Unknown keys are errors too (a typo must not be silently
// ignored). Call finish() once after all getters: it returns every recorded problem.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <toml++/toml.h>

#include "edgemon/common/result.h"

namespace edgemon {

// How a TOML value reads in an error message: "high" (quoted), 42, true, a table, an array.
std::string describe_toml_value(const toml::node& node);

class ConfigReader {
 public:
  // An empty reader (no file): every getter returns its default.
  ConfigReader() = default;

  // Errors: kNotFound (file missing), kIo (unreadable), kInvalidArgument (TOML syntax error, with
  // file:line:column in the message).
  static Result<ConfigReader> load_file(const std::string& path);
  static Result<ConfigReader> parse(std::string_view text, std::string source_name);

  std::string get_string(std::string_view key, std::string def);
  std::int64_t get_int(std::string_view key, std::int64_t def, std::int64_t min, std::int64_t max);
  double get_double(std::string_view key, double def, double min, double max);
  bool get_bool(std::string_view key, bool def);
  std::vector<std::string> get_string_array(std::string_view key, std::vector<std::string> def);
  // A table of numbers with free-form keys, e.g. [telemetry.deadbands] "cpu/" = 1.5.
  std::map<std::string, double> get_number_table(std::string_view key, double min, double max);
  bool has(std::string_view key) const;

  // Marks a top-level key (or table) as read by another reader, so finish() does not call it
  // unknown; that reader gets root() and reports its own errors (add_raw_error).
  void claim(std::string_view key) { known_.emplace(key); }
  const toml::table& root() const { return root_; }
  void add_raw_error(std::string message) { errors_.push_back(std::move(message)); }

  // Records a problem found by the caller's own validation, located at `key` if present.
  void add_error(std::string_view key, std::string_view message);

  // Returns Ok, or kInvalidArgument with one line per problem (unknown keys included).
  Status finish();

  const std::string& source_name() const { return source_; }

 private:
  const toml::node* find(std::string_view key);
  std::string where(std::string_view key, const toml::node* node) const;
  void collect_unknown(const toml::table& table, const std::string& prefix);

  toml::table root_;
  std::string source_ = "<defaults>";
  std::set<std::string, std::less<>> known_;
  std::vector<std::string> errors_;
};

}  // namespace edgemon
