#include "edgemon/rules/rules_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>

namespace edgemon::rules {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

RuleSet parse_ok(std::string_view text) {
  auto r = parse_rules(text, "gateway.toml");
  if (!r) ADD_FAILURE() << r.error().message;
  return r ? std::move(r).value() : RuleSet{};
}

std::string parse_error(std::string_view text) {
  auto r = parse_rules(text, "gateway.toml");
  if (r) {
    ADD_FAILURE() << "parsed, expected an error";
    return {};
  }
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  return r.error().message;
}

TEST(RulesConfig, NoAlertingKeysGivesDefaults) {
  RuleSet s = parse_ok("[gateway]\nhost_id = \"g\"\n");  // other readers' keys are ignored
  EXPECT_TRUE(s.rules.empty());
  EXPECT_EQ(s.settings.repeat_interval, 4h);
  EXPECT_EQ(s.settings.cooldown, 5min);
  EXPECT_EQ(s.settings.group_by, (std::vector<std::string>{"rule", "node"}));
}

TEST(RulesConfig, ReadsEveryKind) {
  RuleSet s = parse_ok(R"(
[alerting]
repeat_interval = "2h"
cooldown = 600
group_by = ["node"]
uplink_target = "192.168.1.1"
uplink_targets = { "pi-07" = "10.0.0.1" }

[[rules]]
name = "high_cpu"
metric = "cpu/total"
op = ">"
threshold = 85
recovery = 75
samples = 3
type = "HIGH_CPU"
severity = "critical"
nodes = ["rack1-*"]

[[rules]]
name = "slow"
metric = "ping/*/rtt"
threshold = 200
for = "1m30s"
type = "DEGRADED"
cooldown = "30m"

[[rules]]
name = "target_down"
kind = "failure"
metric = "ping/*/up"
failure_threshold = 3
success_threshold = 2

[[rules]]
name = "http_errors"
kind = "error_rate"
metric = "http/*/up"
window = 20
min_samples = 5
threshold = 10
recovery = 5

[[rules]]
name = "silent"
kind = "absence"
for = "2m"

[[rules]]
name = "no_temp"
kind = "absence"
metric = "thermal/*"
for = "5m"

[[rules]]
name = "ndeath"
kind = "node_down"
severity = "critical"

[[silences]]
match = { node = "pi-03", rule = "high_cpu" }
until = 2025-01-01T00:00:00Z
comment = "rebuilding"

[[maintenance]]
name = "backups"
days = ["sat", "sun"]
start = "23:00"
end = "02:00"
utc_offset_minutes = 60
match = { node = "nas-*" }
)");
  EXPECT_EQ(s.settings.repeat_interval, 2h);
  EXPECT_EQ(s.settings.cooldown, 10min);
  EXPECT_EQ(s.settings.group_by, (std::vector<std::string>{"node"}));
  EXPECT_EQ(s.settings.uplink_target, "192.168.1.1");
  EXPECT_EQ(s.settings.uplink_targets.at("pi-07"), "10.0.0.1");
  ASSERT_EQ(s.rules.size(), 7u);

  const Rule& cpu = s.rules[0];
  EXPECT_EQ(cpu.kind, RuleKind::kThreshold);
  EXPECT_EQ(cpu.op, Op::kGreater);
  EXPECT_EQ(cpu.threshold, 85);
  EXPECT_EQ(cpu.recovery, 75);
  EXPECT_EQ(cpu.samples, 3u);
  EXPECT_EQ(cpu.type, "HIGH_CPU");
  EXPECT_EQ(cpu.severity, Severity::kCritical);
  EXPECT_EQ(cpu.nodes, (std::vector<std::string>{"rack1-*"}));

  EXPECT_EQ(s.rules[1].for_duration, 90s);
  EXPECT_EQ(s.rules[1].cooldown, 30min);
  EXPECT_EQ(s.rules[1].severity, Severity::kWarning);

  EXPECT_EQ(s.rules[2].kind, RuleKind::kFailure);
  EXPECT_EQ(s.rules[2].samples, 3u);
  EXPECT_EQ(s.rules[2].recovery_samples, 2u);
  EXPECT_EQ(s.rules[2].type, "SERVICE_DOWN");

  EXPECT_EQ(s.rules[3].kind, RuleKind::kErrorRate);
  EXPECT_EQ(s.rules[3].window, 20u);
  EXPECT_EQ(s.rules[3].min_samples, 5u);
  EXPECT_EQ(s.rules[3].type, "HIGH_ERROR_RATE");

  EXPECT_EQ(s.rules[4].type, "NODE_DOWN");
  EXPECT_EQ(s.rules[4].for_duration, 2min);
  EXPECT_EQ(s.rules[5].type, "SERVICE_DOWN");
  EXPECT_EQ(s.rules[6].kind, RuleKind::kNodeDown);
  EXPECT_EQ(s.rules[6].type, "NODE_DOWN");

  ASSERT_EQ(s.silences.size(), 1u);
  EXPECT_EQ(s.silences[0].matchers.at("node"), "pi-03");
  EXPECT_EQ(s.silences[0].until, WallTime(std::chrono::seconds(1735689600)));
  EXPECT_EQ(s.silences[0].comment, "rebuilding");

  ASSERT_EQ(s.maintenance.size(), 1u);
  EXPECT_EQ(s.maintenance[0].days_mask, (1u << 0) | (1u << 6));
  EXPECT_EQ(s.maintenance[0].start_minute, 23 * 60);
  EXPECT_EQ(s.maintenance[0].end_minute, 120);
  EXPECT_EQ(s.maintenance[0].utc_offset_minutes, 60);
}

struct BadCase {
  const char* label;
  const char* toml;
  const char* expected;  // a substring of the error text
};

class RulesConfigErrors : public ::testing::TestWithParam<BadCase> {};

TEST_P(RulesConfigErrors, AreReportedWithFileLineAndKey) {
  EXPECT_THAT(parse_error(GetParam().toml), HasSubstr(GetParam().expected)) << GetParam().label;
}

INSTANTIATE_TEST_SUITE_P(
    Table, RulesConfigErrors,
    ::testing::Values(
        BadCase{"threshold not a number", "[[rules]]\nname = \"a\"\nmetric = \"cpu/total\"\nthreshold = \"high\"\n",
                "gateway.toml:4:13: key 'rules[0].threshold': must be a number, got \"high\""},
        BadCase{"second rule located by index",
                "[[rules]]\nname = \"a\"\nmetric = \"m\"\nthreshold = 1\n[[rules]]\nname = \"b\"\nmetric = \"m\"\nthreshold = 1\nop = \"=>\"\n",
                "gateway.toml:9:6: key 'rules[1].op': must be one of"},
        BadCase{"unknown key", "[[rules]]\nname = \"a\"\nmetric = \"m\"\nthreshold = 1\nthreshhold = 2\n",
                "gateway.toml:5:14: key 'rules[0].threshhold': unknown key"},
        BadCase{"missing threshold", "[[rules]]\nname = \"a\"\nmetric = \"m\"\n", "key 'rules[0]': missing key 'threshold'"},
        BadCase{"missing name", "[[rules]]\nkind = \"node_down\"\n", "missing key 'name'"},
        BadCase{"bad kind", "[[rules]]\nname = \"a\"\nkind = \"sometimes\"\n", "must be threshold, failure, error_rate"},
        BadCase{"key of another kind", "[[rules]]\nname = \"a\"\nkind = \"node_down\"\nwindow = 3\n",
                "key 'rules[0].window': is not used by kind 'node_down'"},
        BadCase{"for and samples", "[[rules]]\nname = \"a\"\nmetric = \"m\"\nthreshold = 1\nsamples = 2\nfor = \"1m\"\n",
                "use either 'for' or 'samples'"},
        BadCase{"bad duration", "[[rules]]\nname = \"a\"\nkind = \"absence\"\nfor = \"5 minutes\"\n",
                "key 'rules[0].for': must be a duration"},
        BadCase{"absence without for", "[[rules]]\nname = \"a\"\nkind = \"absence\"\n", "missing key 'for'"},
        BadCase{"samples out of range", "[[rules]]\nname = \"a\"\nmetric = \"m\"\nthreshold = 1\nsamples = 0\n",
                "must be between 1 and 10000, got 0"},
        BadCase{"severity", "[[rules]]\nname = \"a\"\nkind = \"node_down\"\nseverity = \"panic\"\n",
                "must be info, warning or critical"},
        BadCase{"duplicate name", "[[rules]]\nname = \"a\"\nkind = \"node_down\"\n[[rules]]\nname = \"a\"\nkind = \"node_down\"\n",
                "duplicate rule name \"a\""},
        BadCase{"rules not an array", "rules = 3\n", "key 'rules': must be an array of tables"},
        BadCase{"silence until not a datetime", "[[silences]]\nmatch = { node = \"a\" }\nuntil = \"tomorrow\"\n",
                "key 'silences[0].until': must be a date-time"},
        BadCase{"silence without matchers", "[[silences]]\nuntil = 2025-01-01T00:00:00Z\n", "needs at least one matcher"},
        BadCase{"maintenance day", "[[maintenance]]\ndays = [\"funday\"]\nstart = \"01:00\"\nend = \"02:00\"\n",
                "key 'maintenance[0].days': days are sun, mon"},
        BadCase{"maintenance time", "[[maintenance]]\nstart = \"1am\"\nend = \"02:00\"\n",
                "key 'maintenance[0].start': must be \"HH:MM\""},
        BadCase{"group_by label", "[alerting]\ngroup_by = [\"colour\"]\n", "key 'alerting.group_by': unknown label \"colour\""},
        BadCase{"alerting unknown key", "[alerting]\ncooldwn = \"1m\"\n", "key 'alerting.cooldwn': unknown key"},
        BadCase{"syntax", "[[rules]\n", "gateway.toml:1:"}),
    [](const ::testing::TestParamInfo<BadCase>& p) {
      std::string n = p.param.label;
      for (char& c : n) {
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
      }
      return n;
    });

TEST(RulesConfig, EveryProblemIsReportedOnce) {
  const std::string err = parse_error("[[rules]]\nname = \"a\"\nmetric = \"m\"\nthreshold = \"x\"\nseverity = \"y\"\n");
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
}

TEST(RulesConfig, Durations) {
  struct Case {
    const char* text;
    long long ms;  // -1: error
  };
  const Case cases[] = {{"90", 90'000}, {"500ms", 500}, {"30s", 30'000}, {"5m", 300'000}, {"4h", 14'400'000},
                        {"1d", 86'400'000}, {"1h30m", 5'400'000}, {"", -1}, {"s", -1}, {"5x", -1}, {"1h30", -1},
                        {"-5s", -1}, {"99999999999999999999s", -1}};
  for (const Case& c : cases) {
    auto d = parse_duration(c.text);
    if (c.ms < 0) {
      EXPECT_FALSE(d.ok()) << c.text;
    } else {
      ASSERT_TRUE(d.ok()) << c.text << ": " << d.error().message;
      EXPECT_EQ(d->count(), c.ms) << c.text;
    }
  }
}

TEST(RulesConfig, LoadFileReportsMissingFile) {
  auto r = load_rules_file("/nonexistent/edgemon/gateway.toml");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kNotFound);
}


// --- One rule on its own (the API's rules): read_rule(), rule_to_table(), format_duration() ---

namespace single_rule {

toml::table table_of(std::string_view toml) { return toml::parse(toml); }

TEST(ReadRule, EveryKindRoundTripsThroughItsTable) {
  const char* rules[] = {
      R"(name = "high_cpu"
metric = "cpu/total"
op = ">="
threshold = 85.5
recovery = 75
samples = 3
recovery_samples = 2
type = "HIGH_CPU"
severity = "critical"
nodes = ["rack1-*", "pi-07"]
repeat_interval = "1h30m"
cooldown = "90s")",
      R"(name = "slow"
metric = "ping/*/rtt"
threshold = 200
for = "2m")",
      R"(name = "down"
kind = "failure"
metric = "ping/*/up"
failure_threshold = 3
success_threshold = 2)",
      R"(name = "errors"
kind = "error_rate"
metric = "http/*/up"
window = 20
min_samples = 10
threshold = 10
recovery = 5)",
      R"(name = "silent"
kind = "absence"
for = "2m")",
      R"(name = "death"
kind = "node_down"
for = "1500ms"
severity = "info")",
  };
  for (const char* text : rules) {
    auto first = read_rule(table_of(text), "api");
    ASSERT_TRUE(first.ok()) << text << "\n" << first.error().message;
    const toml::table canonical = rule_to_table(*first);
    auto second = read_rule(canonical, "api");
    ASSERT_TRUE(second.ok()) << second.error().message;
    // The canonical form is a fixed point, and the rule is the same.
    std::ostringstream a, b;
    a << canonical;
    b << rule_to_table(*second);
    EXPECT_EQ(a.str(), b.str());
    EXPECT_EQ(second->name, first->name);
    EXPECT_EQ(second->kind, first->kind);
    EXPECT_EQ(second->metric, first->metric);
    EXPECT_EQ(second->nodes, first->nodes);
    EXPECT_EQ(second->type, first->type);
    EXPECT_EQ(second->severity, first->severity);
    EXPECT_EQ(second->op, first->op);
    EXPECT_EQ(second->threshold, first->threshold);
    EXPECT_EQ(second->recovery, first->recovery);
    EXPECT_EQ(second->samples, first->samples);
    EXPECT_EQ(second->for_duration, first->for_duration);
    EXPECT_EQ(second->recovery_samples, first->recovery_samples);
    EXPECT_EQ(second->window, first->window);
    EXPECT_EQ(second->min_samples, first->min_samples);
    EXPECT_EQ(second->repeat_interval, first->repeat_interval);
    EXPECT_EQ(second->cooldown, first->cooldown);
  }
}

TEST(ReadRule, ErrorsNameTheKeyUnderThePath) {
  auto r = read_rule(table_of(R"(name = "x"
threshold = "high"
colour = "red")"), "api", "rule");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error().message, HasSubstr("key 'rule.threshold': must be a number"));
  EXPECT_THAT(r.error().message, HasSubstr("rule.colour"));
  EXPECT_THAT(r.error().message, HasSubstr("missing key 'metric'"));
  EXPECT_FALSE(read_rule(table_of(R"(kind = "node_down")"), "api").ok());  // no name
}

TEST(FormatDuration, ShortestExactText) {
  using std::chrono::milliseconds;
  EXPECT_EQ(format_duration(milliseconds(0)), "0s");
  EXPECT_EQ(format_duration(milliseconds(90'000)), "90s");
  EXPECT_EQ(format_duration(milliseconds(7'200'000)), "2h");
  EXPECT_EQ(format_duration(milliseconds(5'400'000)), "90m");
  EXPECT_EQ(format_duration(milliseconds(86'400'000)), "1d");
  EXPECT_EQ(format_duration(milliseconds(1'500)), "1500ms");
  for (std::int64_t ms : {1LL, 999LL, 60'000LL, 3'601'000LL, 172'800'000LL}) {
    auto back = parse_duration(format_duration(milliseconds(ms)));
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(back->count(), ms);
  }
}

}  // namespace single_rule

}  // namespace
}  // namespace edgemon::rules
