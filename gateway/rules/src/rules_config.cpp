#include "edgemon/rules/rules_config.h"

#include "edgemon/common/config_reader.h"
#include "edgemon/common/telemetry.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>

namespace edgemon::rules {
namespace {

// Reads one table's keys, recording errors in the shared list and remembering which keys it was
// asked for so the rest can be reported as unknown.
class TableReader {
 public:
  TableReader(const toml::table& table, std::string path, std::string_view source, std::vector<std::string>& errors)
      : table_(table), path_(std::move(path)), source_(source), errors_(errors) {}

  const toml::node* find(std::string_view key) {
    known_.emplace(key);
    return table_.get(key);
  }
  bool has(std::string_view key) const { return table_.get(key) != nullptr; }

  void error(std::string_view key, const toml::node* node, std::string_view message) {
    std::ostringstream out;
    out << source_;
    const toml::node* at = node != nullptr ? node : &table_;
    if (at->source().begin.line > 0) out << ':' << at->source().begin.line << ':' << at->source().begin.column;
    out << ": key '" << path_;
    if (!key.empty()) out << (path_.empty() ? "" : ".") << key;
    out << "': " << message;
    errors_.push_back(out.str());
  }
  void error(std::string_view key, std::string_view message) { error(key, table_.get(key), message); }

  std::optional<std::string> string(std::string_view key) {
    const toml::node* n = find(key);
    if (n == nullptr) return std::nullopt;
    if (const auto* s = n->as_string()) return s->get();
    error(key, n, "must be a string, got " + describe_toml_value(*n));
    return std::nullopt;
  }

  std::optional<double> number(std::string_view key) {
    const toml::node* n = find(key);
    if (n == nullptr) return std::nullopt;
    double v = 0;
    if (const auto* f = n->as_floating_point()) {
      v = f->get();
    } else if (const auto* i = n->as_integer()) {
      v = static_cast<double>(i->get());
    } else {
      error(key, n, "must be a number, got " + describe_toml_value(*n));
      return std::nullopt;
    }
    if (v != v) {
      error(key, n, "must be a number, got nan");
      return std::nullopt;
    }
    return v;
  }

  std::optional<std::int64_t> integer(std::string_view key, std::int64_t min, std::int64_t max) {
    const toml::node* n = find(key);
    if (n == nullptr) return std::nullopt;
    const auto* i = n->as_integer();
    if (i == nullptr) {
      error(key, n, "must be an integer, got " + describe_toml_value(*n));
      return std::nullopt;
    }
    if (i->get() < min || i->get() > max) {
      error(key, n, "must be between " + std::to_string(min) + " and " + std::to_string(max) + ", got " +
                        std::to_string(i->get()));
      return std::nullopt;
    }
    return i->get();
  }

  std::optional<Duration> duration(std::string_view key) {
    const toml::node* n = find(key);
    if (n == nullptr) return std::nullopt;
    if (const auto* i = n->as_integer()) {
      if (i->get() < 0 || i->get() > 100LL * 365 * 86400) {
        error(key, n, "must be a duration between 0 and 100 years, got " + describe_toml_value(*n));
        return std::nullopt;
      }
      return std::chrono::seconds(i->get());
    }
    if (const auto* s = n->as_string()) {
      auto d = parse_duration(s->get());
      if (d) return *d;
      error(key, n, d.error().message);
      return std::nullopt;
    }
    error(key, n, "must be a duration (\"30s\", \"5m\", \"4h\" or seconds), got " + describe_toml_value(*n));
    return std::nullopt;
  }

  std::optional<std::vector<std::string>> strings(std::string_view key) {
    const toml::node* n = find(key);
    if (n == nullptr) return std::nullopt;
    const auto* arr = n->as_array();
    if (arr == nullptr) {
      error(key, n, "must be an array of strings, got " + describe_toml_value(*n));
      return std::nullopt;
    }
    std::vector<std::string> out;
    for (const toml::node& item : *arr) {
      const auto* s = item.as_string();
      if (s == nullptr) {
        error(key, &item, "must be an array of strings, got element " + describe_toml_value(item));
        return std::nullopt;
      }
      out.push_back(s->get());
    }
    return out;
  }

  // A table of strings, e.g. match = { node = "pi-*", rule = "high_cpu" }.
  std::optional<std::map<std::string, std::string, std::less<>>> string_table(std::string_view key) {
    const toml::node* n = find(key);
    if (n == nullptr) return std::nullopt;
    const auto* t = n->as_table();
    if (t == nullptr) {
      error(key, n, "must be a table of strings, got " + describe_toml_value(*n));
      return std::nullopt;
    }
    std::map<std::string, std::string, std::less<>> out;
    for (const auto& [k, v] : *t) {
      const auto* s = v.as_string();
      if (s == nullptr) {
        error(std::string(key) + "." + std::string(k.str()), &v, "must be a string, got " + describe_toml_value(v));
        continue;
      }
      out.emplace(std::string(k.str()), s->get());
    }
    return out;
  }

  std::optional<WallTime> datetime(std::string_view key) {
    const toml::node* n = find(key);
    if (n == nullptr) return std::nullopt;
    const auto* dt = n->as_date_time();
    if (dt == nullptr || !dt->get().offset) {
      error(key, n, "must be a date-time with a UTC offset (2025-06-01T18:00:00Z), got " + describe_toml_value(*n));
      return std::nullopt;
    }
    const toml::date_time& v = dt->get();
    using namespace std::chrono;
    const sys_days day = year(v.date.year) / month(v.date.month) / v.date.day;
    const auto t = time_point_cast<WallClock::duration>(
        sys_seconds(day) + hours(v.time.hour) + minutes(v.time.minute) + seconds(v.time.second) +
        nanoseconds(v.time.nanosecond) - minutes(v.offset->minutes));
    return WallTime(t);
  }

  void finish() {
    for (const auto& [k, node] : table_) {
      if (known_.count(k.str()) == 0) error(k.str(), &node, "unknown key (check the spelling; see docs/rules.md)");
    }
  }

 private:
  const toml::table& table_;
  std::string path_;
  std::string_view source_;
  std::vector<std::string>& errors_;
  std::set<std::string, std::less<>> known_;
};

bool parse_hhmm(std::string_view s, std::int32_t& minute) {
  if (s.size() != 5 || s[2] != ':') return false;
  for (std::size_t i : {0u, 1u, 3u, 4u}) {
    if (s[i] < '0' || s[i] > '9') return false;
  }
  const int h = (s[0] - '0') * 10 + (s[1] - '0');
  const int m = (s[3] - '0') * 10 + (s[4] - '0');
  if (h > 24 || m > 59 || (h == 24 && m != 0)) return false;
  minute = h * 60 + m;
  return true;
}

bool parse_day(std::string_view s, unsigned& day) {
  static constexpr std::string_view kDays[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
  for (unsigned i = 0; i < 7; ++i) {
    if (s == kDays[i]) {
      day = i;
      return true;
    }
  }
  return false;
}

void read_settings(TableReader& r, AlertingSettings& s) {
  if (auto d = r.duration("repeat_interval")) s.repeat_interval = *d;
  if (auto d = r.duration("cooldown")) s.cooldown = *d;
  if (auto g = r.strings("group_by")) {
    static const std::set<std::string_view> kLabels = {"rule", "type", "severity", "node", "subject", "metric", "target"};
    for (const std::string& l : *g) {
      if (kLabels.count(l) == 0) r.error("group_by", "unknown label \"" + l + "\" (rule, type, severity, node, subject, metric, target)");
    }
    s.group_by = *g;
  }
  if (auto u = r.string("uplink_target")) s.uplink_target = *u;
  if (auto t = r.string_table("uplink_targets")) s.uplink_targets = *t;
  r.finish();
}

void read_rule(TableReader& r, Rule& rule, const AlertingSettings& settings) {
  (void)settings;
  if (auto n = r.string("name")) {
    if (!valid_id(*n)) r.error("name", "must be 1-64 characters of A-Z a-z 0-9 _ . -");
    rule.name = *n;
  } else if (!r.has("name")) {
    r.error("", "missing key 'name'");
  }
  std::string kind = "threshold";
  if (auto k = r.string("kind")) kind = *k;
  if (kind == "threshold") rule.kind = RuleKind::kThreshold;
  else if (kind == "failure") rule.kind = RuleKind::kFailure;
  else if (kind == "error_rate") rule.kind = RuleKind::kErrorRate;
  else if (kind == "absence") rule.kind = RuleKind::kAbsence;
  else if (kind == "node_down") rule.kind = RuleKind::kNodeDown;
  else r.error("kind", "must be threshold, failure, error_rate, absence or node_down, got \"" + kind + "\"");

  if (auto m = r.string("metric")) rule.metric = *m;
  if (auto n = r.strings("nodes")) rule.nodes = *n;
  if (auto sev = r.string("severity")) {
    if (!parse_severity(*sev, rule.severity)) r.error("severity", "must be info, warning or critical, got \"" + *sev + "\"");
  }
  if (auto d = r.duration("repeat_interval")) rule.repeat_interval = *d;
  if (auto d = r.duration("cooldown")) rule.cooldown = *d;

  // Keys by kind; one present on the wrong kind is an error rather than silently unused.
  const auto only_for = [&](std::string_view key, std::initializer_list<RuleKind> kinds) {
    if (!r.has(key)) return false;
    for (RuleKind k : kinds) {
      if (k == rule.kind) return true;
    }
    r.find(key);
    r.error(key, std::string("is not used by kind '") + to_string(rule.kind) + "'");
    return false;
  };
  using K = RuleKind;
  if (only_for("op", {K::kThreshold})) {
    if (auto op = r.string("op")) {
      if (!parse_op(*op, rule.op)) r.error("op", "must be one of > >= < <= == !=, got \"" + *op + "\"");
    }
  }
  if (only_for("threshold", {K::kThreshold, K::kErrorRate})) {
    if (auto t = r.number("threshold")) rule.threshold = *t;
  } else if ((rule.kind == K::kThreshold || rule.kind == K::kErrorRate) && !r.has("threshold")) {
    r.error("", "missing key 'threshold'");
  }
  if (only_for("recovery", {K::kThreshold, K::kErrorRate})) {
    if (auto t = r.number("recovery")) rule.recovery = *t;
  }
  if (only_for("samples", {K::kThreshold})) {
    if (auto n = r.integer("samples", 1, 10000)) rule.samples = static_cast<std::uint32_t>(*n);
  }
  if (only_for("failure_threshold", {K::kFailure})) {
    if (auto n = r.integer("failure_threshold", 1, 10000)) rule.samples = static_cast<std::uint32_t>(*n);
  }
  if (only_for("recovery_samples", {K::kThreshold})) {
    if (auto n = r.integer("recovery_samples", 1, 10000)) rule.recovery_samples = static_cast<std::uint32_t>(*n);
  }
  if (only_for("success_threshold", {K::kFailure})) {
    if (auto n = r.integer("success_threshold", 1, 10000)) rule.recovery_samples = static_cast<std::uint32_t>(*n);
  }
  if (only_for("for", {K::kThreshold, K::kAbsence, K::kNodeDown})) {
    rule.for_duration = r.duration("for");
    if (rule.kind == K::kThreshold && r.has("samples")) r.error("for", "use either 'for' or 'samples', not both");
  }
  if (rule.kind == K::kAbsence && !r.has("for")) r.error("", "missing key 'for' (how long without data)");
  if (only_for("window", {K::kErrorRate})) {
    if (auto n = r.integer("window", 1, 10000)) rule.window = static_cast<std::uint32_t>(*n);
  }
  rule.min_samples = rule.window;
  if (only_for("min_samples", {K::kErrorRate})) {
    if (auto n = r.integer("min_samples", 1, 10000)) rule.min_samples = static_cast<std::uint32_t>(*n);
  }
  if (rule.min_samples > rule.window) r.error("min_samples", "must not exceed 'window'");

  const bool needs_metric = rule.kind == K::kThreshold || rule.kind == K::kFailure || rule.kind == K::kErrorRate;
  if (needs_metric && rule.metric.empty() && !r.has("metric")) r.error("", "missing key 'metric'");
  if (rule.kind == K::kNodeDown && r.has("metric")) r.error("metric", "is not used by kind 'node_down'");

  std::string default_type;
  switch (rule.kind) {
    case K::kThreshold: default_type = "THRESHOLD"; break;
    case K::kFailure: default_type = "SERVICE_DOWN"; break;
    case K::kErrorRate: default_type = "HIGH_ERROR_RATE"; break;
    case K::kAbsence: default_type = rule.metric.empty() ? "NODE_DOWN" : "SERVICE_DOWN"; break;
    case K::kNodeDown: default_type = "NODE_DOWN"; break;
  }
  rule.type = default_type;
  if (auto t = r.string("type")) {
    if (!valid_id(*t)) r.error("type", "must be 1-64 characters of A-Z a-z 0-9 _ . -");
    rule.type = *t;
  }
  if (rule.kind == K::kFailure) {
    rule.op = Op::kEqual;  // failed sample: value == 0
    rule.threshold = 0;
  }
  r.finish();
}

void read_matchers(TableReader& r, Matchers& m) {
  if (auto t = r.string_table("match")) m = *t;
}

void read_maintenance(TableReader& r, MaintenanceWindow& w) {
  if (auto n = r.string("name")) w.name = *n;
  if (auto days = r.strings("days")) {
    w.days_mask = 0;
    for (const std::string& d : *days) {
      unsigned day = 0;
      if (!parse_day(d, day)) {
        r.error("days", "days are sun, mon, tue, wed, thu, fri, sat; got \"" + d + "\"");
        continue;
      }
      w.days_mask = static_cast<std::uint8_t>(w.days_mask | (1u << day));
    }
  }
  const auto time_of_day = [&](std::string_view key, std::int32_t& out) {
    if (auto s = r.string(key)) {
      if (!parse_hhmm(*s, out)) r.error(key, "must be \"HH:MM\" (00:00-24:00), got \"" + *s + "\"");
    } else if (!r.has(key)) {
      r.error("", "missing key '" + std::string(key) + "'");
    }
  };
  time_of_day("start", w.start_minute);
  time_of_day("end", w.end_minute);
  if (w.end_minute == 1440) w.end_minute = 0;
  if (w.start_minute == 1440) w.start_minute = 0;
  if (auto o = r.integer("utc_offset_minutes", -14 * 60, 14 * 60)) w.utc_offset_minutes = static_cast<std::int32_t>(*o);
  read_matchers(r, w.matchers);
  r.finish();
}

// Calls fn(TableReader&, index) for each table of the array `key` of root.
template <typename Fn>
void each_table(const toml::table& root, std::string_view key, std::string_view source, std::vector<std::string>& errors,
                Fn fn) {
  const toml::node* n = root.get(key);
  if (n == nullptr) return;
  const auto* arr = n->as_array();
  if (arr == nullptr) {
    TableReader(root, "", source, errors).error(key, n, "must be an array of tables ([[" + std::string(key) + "]]), got " + describe_toml_value(*n));
    return;
  }
  std::size_t i = 0;
  for (const toml::node& item : *arr) {
    const std::string path = std::string(key) + "[" + std::to_string(i) + "]";
    if (const auto* t = item.as_table()) {
      TableReader r(*t, path, source, errors);
      fn(r, i);
    } else {
      TableReader(root, "", source, errors).error(path, &item, "must be a table, got " + describe_toml_value(item));
    }
    ++i;
  }
}

// kInvalidArgument with one line per problem.
Error invalid(const std::vector<std::string>& errors) {
  std::string all;
  for (const std::string& e : errors) {
    if (!all.empty()) all += '\n';
    all += e;
  }
  return make_error(ErrorCode::kInvalidArgument, all);
}

}  // namespace

Result<Duration> parse_duration(std::string_view text) {
  const std::string bad = "must be a duration like \"500ms\", \"30s\", \"5m\", \"4h\", \"1d\" or \"1h30m\", got \"" +
                          std::string(text) + "\"";
  if (text.empty()) return make_error(ErrorCode::kInvalidArgument, bad);
  Duration total{0};
  std::size_t i = 0;
  while (i < text.size()) {
    std::int64_t n = 0;
    const std::size_t digits = i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      if (n > std::numeric_limits<std::int64_t>::max() / 10 - 10) return make_error(ErrorCode::kInvalidArgument, bad);
      n = n * 10 + (text[i] - '0');
      ++i;
    }
    if (i == digits) return make_error(ErrorCode::kInvalidArgument, bad);
    const std::size_t unit_start = i;
    while (i < text.size() && (text[i] < '0' || text[i] > '9')) ++i;
    const std::string_view unit = text.substr(unit_start, i - unit_start);
    std::int64_t ms_per = 0;
    if (unit.empty() && unit_start == text.size() && digits == 0) ms_per = 1000;  // bare seconds
    else if (unit == "ms") ms_per = 1;
    else if (unit == "s") ms_per = 1000;
    else if (unit == "m") ms_per = 60'000;
    else if (unit == "h") ms_per = 3'600'000;
    else if (unit == "d") ms_per = 86'400'000;
    else return make_error(ErrorCode::kInvalidArgument, bad);
    // At most 100 years, per part and in all ("1000d1000d..." must not overflow a time point).
    constexpr std::int64_t kMaxMs = 100LL * 365 * 86'400'000;
    if (n > kMaxMs / ms_per || total.count() > kMaxMs - n * ms_per) return make_error(ErrorCode::kInvalidArgument, bad);
    total += Duration(n * ms_per);
  }
  return total;
}

std::string format_duration(Duration d) {
  const std::int64_t ms = d.count();
  if (ms == 0) return "0s";
  for (const auto& [unit, per] : {std::pair{"d", 86'400'000LL}, {"h", 3'600'000LL}, {"m", 60'000LL}, {"s", 1000LL}}) {
    if (ms % per == 0) return std::to_string(ms / per) + unit;
  }
  return std::to_string(ms) + "ms";
}

Result<Rule> read_rule(const toml::table& table, std::string_view source_name, std::string_view path) {
  std::vector<std::string> errors;
  TableReader r(table, std::string(path), source_name, errors);
  Rule rule;
  read_rule(r, rule, AlertingSettings{});
  if (errors.empty()) return rule;
  return invalid(errors);
}

toml::table rule_to_table(const Rule& rule) {
  using K = RuleKind;
  toml::table t;
  t.insert("name", rule.name);
  t.insert("kind", to_string(rule.kind));
  if (!rule.metric.empty()) t.insert("metric", rule.metric);
  if (!rule.nodes.empty()) {
    toml::array nodes;
    for (const std::string& n : rule.nodes) nodes.push_back(n);
    t.insert("nodes", std::move(nodes));
  }
  t.insert("type", rule.type);
  t.insert("severity", to_string(rule.severity));
  if (rule.kind == K::kThreshold) t.insert("op", to_string(rule.op));
  if (rule.kind == K::kThreshold || rule.kind == K::kErrorRate) {
    t.insert("threshold", rule.threshold);
    if (rule.recovery) t.insert("recovery", *rule.recovery);
  }
  if (rule.kind == K::kThreshold) {
    if (rule.for_duration) t.insert("for", format_duration(*rule.for_duration));
    else t.insert("samples", static_cast<std::int64_t>(rule.samples));
    t.insert("recovery_samples", static_cast<std::int64_t>(rule.recovery_samples));
  }
  if (rule.kind == K::kFailure) {
    t.insert("failure_threshold", static_cast<std::int64_t>(rule.samples));
    t.insert("success_threshold", static_cast<std::int64_t>(rule.recovery_samples));
  }
  if (rule.kind == K::kErrorRate) {
    t.insert("window", static_cast<std::int64_t>(rule.window));
    t.insert("min_samples", static_cast<std::int64_t>(rule.min_samples));
  }
  if ((rule.kind == K::kAbsence || rule.kind == K::kNodeDown) && rule.for_duration) {
    t.insert("for", format_duration(*rule.for_duration));
  }
  if (rule.repeat_interval) t.insert("repeat_interval", format_duration(*rule.repeat_interval));
  if (rule.cooldown) t.insert("cooldown", format_duration(*rule.cooldown));
  return t;
}

Result<RuleSet> read_rules(const toml::table& root, std::string_view source_name) {
  RuleSet set;
  std::vector<std::string> errors;
  if (const toml::node* n = root.get("alerting")) {
    if (const auto* t = n->as_table()) {
      TableReader r(*t, "alerting", source_name, errors);
      read_settings(r, set.settings);
    } else {
      TableReader(root, "", source_name, errors).error("alerting", n, "must be a table, got " + describe_toml_value(*n));
    }
  }
  std::set<std::string, std::less<>> names;
  each_table(root, "rules", source_name, errors, [&](TableReader& r, std::size_t) {
    Rule rule;
    read_rule(r, rule, set.settings);
    if (!rule.name.empty() && !names.insert(rule.name).second) r.error("name", "duplicate rule name \"" + rule.name + "\"");
    set.rules.push_back(std::move(rule));
  });
  each_table(root, "silences", source_name, errors, [&](TableReader& r, std::size_t i) {
    Silence s;
    s.id = i + 1;
    read_matchers(r, s.matchers);
    if (s.matchers.empty()) r.error("match", "a silence needs at least one matcher (match = { node = \"pi-03\" })");
    s.starts = r.datetime("starts");
    if (auto u = r.datetime("until")) s.until = *u;
    else if (!r.has("until")) r.error("", "missing key 'until'");
    if (auto c = r.string("comment")) s.comment = *c;
    r.finish();
    set.silences.push_back(std::move(s));
  });
  each_table(root, "maintenance", source_name, errors, [&](TableReader& r, std::size_t) {
    MaintenanceWindow w;
    read_maintenance(r, w);
    set.maintenance.push_back(std::move(w));
  });
  if (errors.empty()) return set;
  return invalid(errors);
}

Result<RuleSet> parse_rules(std::string_view text, std::string source_name) {
  toml::table root;
  try {
    root = toml::parse(text, source_name);
  } catch (const toml::parse_error& err) {
    std::ostringstream msg;
    msg << source_name << ':' << err.source().begin.line << ':' << err.source().begin.column
        << ": TOML syntax error: " << err.description();
    return make_error(ErrorCode::kInvalidArgument, msg.str());
  }
  return read_rules(root, source_name);
}

Result<RuleSet> load_rules_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int err = errno;
    return make_error(err == ENOENT ? ErrorCode::kNotFound : ErrorCode::kIo,
                      path + ": cannot open config file: " + std::strerror(err));
  }
  std::ostringstream text;
  text << in.rdbuf();
  return parse_rules(text.str(), path);
}

}  // namespace edgemon::rules
