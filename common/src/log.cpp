#include "edgemon/common/log.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <mutex>

#include "edgemon/common/result.h"

namespace edgemon {

const char* to_string(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument: return "invalid_argument";
    case ErrorCode::kNotFound: return "not_found";
    case ErrorCode::kUnsupported: return "unsupported";
    case ErrorCode::kPermissionDenied: return "permission_denied";
    case ErrorCode::kUnavailable: return "unavailable";
    case ErrorCode::kResourceExhausted: return "resource_exhausted";
    case ErrorCode::kConflict: return "conflict";
    case ErrorCode::kIo: return "io";
    case ErrorCode::kInternal: return "internal";
  }
  return "internal";
}

}  // namespace edgemon

namespace edgemon::log {
namespace {

std::atomic<Level> g_level{Level::kInfo};
std::atomic<Sink> g_sink{nullptr};
std::mutex g_write_mutex;

bool needs_quotes(std::string_view v) {
  if (v.empty()) return true;
  for (char c : v) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || c == '"' || c == '=' || c == '\\' || u == 0x7f) return true;
  }
  return false;
}

void append_escaped(std::string& out, std::string_view v) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (char c : v) {
    const auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (u < 0x20 || u == 0x7f) {
          out += "\\x";
          out += kHex[u >> 4];
          out += kHex[u & 0xf];
        } else {
          out += c;
        }
    }
  }
}

// syslog priorities as understood by journald's stream parser.
int journal_priority(Level level) {
  switch (level) {
    case Level::kDebug: return 7;
    case Level::kInfo: return 6;
    case Level::kWarn: return 4;
    case Level::kError: return 3;
  }
  return 6;
}

bool stderr_is_journal() {
  static const bool journal = std::getenv("JOURNAL_STREAM") != nullptr;
  return journal;
}

}  // namespace

bool parse_level(std::string_view text, Level& out) {
  if (text == "debug") { out = Level::kDebug; return true; }
  if (text == "info") { out = Level::kInfo; return true; }
  if (text == "warn" || text == "warning") { out = Level::kWarn; return true; }
  if (text == "error") { out = Level::kError; return true; }
  return false;
}

const char* to_string(Level level) {
  switch (level) {
    case Level::kDebug: return "DEBUG";
    case Level::kInfo: return "INFO";
    case Level::kWarn: return "WARN";
    case Level::kError: return "ERROR";
  }
  return "INFO";
}

void set_level(Level level) { g_level.store(level); }
Level level() { return g_level.load(); }
bool enabled(Level l) { return static_cast<int>(l) >= static_cast<int>(g_level.load()); }
void set_sink(Sink sink) { g_sink.store(sink); }

Field::Field(std::string_view key, std::string_view value) : key_(key) {
  if (needs_quotes(value)) {
    value_.reserve(value.size() + 2);
    value_ += '"';
    append_escaped(value_, value);
    value_ += '"';
  } else {
    value_.assign(value);
  }
}

Field::Field(std::string_view key, bool value) : key_(key), value_(value ? "true" : "false") {}

Field::Field(std::string_view key, double value) : key_(key) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", value);
  value_ = buf;
}

std::string format(Level lvl, std::string_view component, std::string_view message, Fields fields,
                   bool journal_prefix) {
  std::string line;
  line.reserve(96);
  if (journal_prefix) {
    line += '<';
    line += static_cast<char>('0' + journal_priority(lvl));
    line += '>';
  } else {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    tm utc{};
    gmtime_r(&ts.tv_sec, &utc);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ ", utc.tm_year + 1900,
                  utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                  ts.tv_nsec / 1000000L);
    line += buf;
    line += to_string(lvl);
    line += ' ';
  }
  line += '[';
  line += component;
  line += "] ";
  append_escaped(line, message);  // never let a message break the one-line rule
  for (const Field& f : fields) {
    line += ' ';
    line += f.key();
    line += '=';
    line += f.value();
  }
  return line;
}

void write(Level lvl, std::string_view component, std::string_view message, Fields fields) {
  if (!enabled(lvl)) return;
  if (Sink sink = g_sink.load()) {
    sink(lvl, format(lvl, component, message, fields, false));
    return;
  }
  std::string line = format(lvl, component, message, fields, stderr_is_journal());
  line += '\n';
  std::lock_guard lock(g_write_mutex);
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace edgemon::log
