// Structured logging: one line per event, `[component] message key=value ...`.
// Under systemd (JOURNAL_STREAM set, or forced) each line starts with the sd-daemon priority
// prefix `<N>` so journald records the level; otherwise `LEVEL` and a UTC timestamp lead.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <type_traits>

namespace edgemon::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

// Parses "debug", "info", "warn"/"warning", "error". Returns false on anything else.
bool parse_level(std::string_view text, Level& out);
const char* to_string(Level level);

void set_level(Level level);
Level level();
bool enabled(Level level);

// One key=value pair. Values are formatted on construction; strings with spaces, quotes, `=` or
// control characters are quoted and escaped so that a line is always one parseable record.
class Field {
 public:
  Field(std::string_view key, std::string_view value);
  Field(std::string_view key, const char* value) : Field(key, std::string_view(value)) {}
  Field(std::string_view key, const std::string& value) : Field(key, std::string_view(value)) {}
  Field(std::string_view key, bool value);
  Field(std::string_view key, double value);
  template <typename I>
    requires(std::is_integral_v<I> && !std::is_same_v<I, bool>)
  Field(std::string_view key, I value) : key_(key), value_(std::to_string(value)) {}

  std::string_view key() const { return key_; }
  const std::string& value() const { return value_; }

 private:
  std::string_view key_;
  std::string value_;
};

using Fields = std::initializer_list<Field>;

void write(Level level, std::string_view component, std::string_view message, Fields fields = {});

inline void debug(std::string_view c, std::string_view m, Fields f = {}) {
  if (enabled(Level::kDebug)) write(Level::kDebug, c, m, f);
}
inline void info(std::string_view c, std::string_view m, Fields f = {}) { write(Level::kInfo, c, m, f); }
inline void warn(std::string_view c, std::string_view m, Fields f = {}) { write(Level::kWarn, c, m, f); }
inline void error(std::string_view c, std::string_view m, Fields f = {}) { write(Level::kError, c, m, f); }

// Formats a record without writing it (used by write(), exposed for tests).
std::string format(Level level, std::string_view component, std::string_view message, Fields fields,
                   bool journal_prefix);

// Routes output to a callback instead of stderr (tests). Pass nullptr to restore stderr.
using Sink = void (*)(Level, const std::string& line);
void set_sink(Sink sink);

}  // namespace edgemon::log
