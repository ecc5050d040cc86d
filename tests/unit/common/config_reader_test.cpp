#include "edgemon/common/config_reader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "temp_dir.h"

namespace edgemon {
namespace {

using ::testing::HasSubstr;

ConfigReader parse_ok(std::string_view text) {
  auto r = ConfigReader::parse(text, "agent.toml");
  if (!r) ADD_FAILURE() << r.error().message;
  return r ? std::move(r).value() : ConfigReader();
}

// Every error line of finish(), in order.
std::vector<std::string> finish_errors(ConfigReader& r) {
  Status s = r.finish();
  std::vector<std::string> lines;
  if (s) return lines;
  EXPECT_EQ(s.error().code, ErrorCode::kInvalidArgument);
  std::string_view all = s.error().message;
  while (!all.empty()) {
    const std::size_t nl = all.find('\n');
    lines.emplace_back(all.substr(0, nl));
    if (nl == std::string_view::npos) break;
    all.remove_prefix(nl + 1);
  }
  return lines;
}

TEST(ConfigReader, EmptyReaderReturnsEveryDefault) {
  ConfigReader r;
  EXPECT_EQ(r.source_name(), "<defaults>");
  EXPECT_EQ(r.get_string("a.s", "dflt"), "dflt");
  EXPECT_EQ(r.get_int("a.i", 7, 0, 10), 7);
  EXPECT_EQ(r.get_double("a.d", 2.5, 0, 10), 2.5);
  EXPECT_TRUE(r.get_bool("a.b", true));
  EXPECT_EQ(r.get_string_array("a.l", {"x", "y"}), (std::vector<std::string>{"x", "y"}));
  EXPECT_FALSE(r.has("a.s"));
  EXPECT_TRUE(r.finish().ok());
}

TEST(ConfigReader, AbsentKeysInAFileReturnDefaults) {
  ConfigReader r = parse_ok("[agent]\ngroup = \"g\"\n");
  EXPECT_EQ(r.get_string("agent.group", "x"), "g");
  EXPECT_EQ(r.get_string("agent.node_id", "n"), "n");
  EXPECT_EQ(r.get_int("mqtt.port", 1883, 1, 65535), 1883);
  EXPECT_EQ(r.get_double("agent.interval", 5.0, 0.1, 3600), 5.0);
  EXPECT_FALSE(r.get_bool("agent.debug", false));
  EXPECT_TRUE(r.finish().ok());
}

TEST(ConfigReader, ReadsEveryTypeAndAcceptsIntegerForDouble) {
  ConfigReader r = parse_ok(R"(
[t]
s = "text"
i = 42
d = 0.5
whole = 3
b = true
l = ["a", "b"]
)");
  EXPECT_TRUE(r.has("t.s"));
  EXPECT_EQ(r.get_string("t.s", ""), "text");
  EXPECT_EQ(r.get_int("t.i", 0, 0, 100), 42);
  EXPECT_EQ(r.get_double("t.d", 0, 0, 1), 0.5);
  EXPECT_EQ(r.get_double("t.whole", 0, 0, 10), 3.0);
  EXPECT_TRUE(r.get_bool("t.b", false));
  EXPECT_EQ(r.get_string_array("t.l", {}), (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(r.finish().ok());
}

TEST(ConfigReader, RangeBoundsAreInclusive) {
  ConfigReader r = parse_ok("lo = 1\nhi = 65535\nflo = 0.1\nfhi = 3600\n");
  EXPECT_EQ(r.get_int("lo", 0, 1, 65535), 1);
  EXPECT_EQ(r.get_int("hi", 0, 1, 65535), 65535);
  EXPECT_EQ(r.get_double("flo", 0, 0.1, 3600), 0.1);
  EXPECT_EQ(r.get_double("fhi", 0, 0.1, 3600), 3600.0);
  EXPECT_TRUE(r.finish().ok());
}

TEST(ConfigReader, WrongTypeNamesFileLineColumnAndKeyAndKeepsDefault) {
  ConfigReader r = parse_ok("[mqtt]\nport = \"1883\"\n");
  EXPECT_EQ(r.get_int("mqtt.port", 1883, 1, 65535), 1883);
  const auto errors = finish_errors(r);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0], "agent.toml:2:8: key 'mqtt.port': must be an integer, got \"1883\"");
}

TEST(ConfigReader, OutOfRangeNamesFileLineColumnAndKey) {
  ConfigReader r = parse_ok("[agent]\ninterval = -1\n");
  EXPECT_EQ(r.get_double("agent.interval", 5.0, 0.1, 3600), 5.0);
  const auto errors = finish_errors(r);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0], "agent.toml:2:12: key 'agent.interval': must be between 0.1 and 3600, got -1");
}

TEST(ConfigReader, IntegerOutOfRange) {
  ConfigReader r = parse_ok("port = 70000\n");
  EXPECT_EQ(r.get_int("port", 1883, 1, 65535), 1883);
  const auto errors = finish_errors(r);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0], "agent.toml:1:8: key 'port': must be between 1 and 65535, got 70000");
}

TEST(ConfigReader, NanAndInfinityAreRejected) {
  ConfigReader r = parse_ok("a = nan\nb = inf\nc = -inf\n");
  EXPECT_EQ(r.get_double("a", 1.0, 0, 1e9), 1.0);
  EXPECT_EQ(r.get_double("b", 2.0, 0, 1e9), 2.0);
  EXPECT_EQ(r.get_double("c", 3.0, -1e9, 1e9), 3.0);
  const auto errors = finish_errors(r);
  ASSERT_EQ(errors.size(), 3u);
  EXPECT_THAT(errors[0], HasSubstr("agent.toml:1:5: key 'a': must be between"));
  EXPECT_THAT(errors[1], HasSubstr("agent.toml:2:5: key 'b': must be between"));
  EXPECT_THAT(errors[2], HasSubstr("agent.toml:3:5: key 'c': must be between"));
}

struct TypeCase {
  const char* label;
  const char* toml;
  const char* expected;  // the whole message after "agent.toml:"
};

TEST(ConfigReader, EachGetterNamesTheTypeItWanted) {
  const TypeCase cases[] = {
      {"string given a number", "k = 5", "1:5: key 'k': must be a string, got 5"},
      {"string given a table", "[k]\nx = 1", "1:1: key 'k': must be a string, got a table"},
      {"int given a float", "k = 1.5", "1:5: key 'k': must be an integer, got 1.5"},
      {"double given a bool", "k = true", "1:5: key 'k': must be a number, got true"},
      {"bool given a string", "k = \"yes\"", "1:5: key 'k': must be true or false, got \"yes\""},
      {"array given a string", "k = \"a\"", "1:5: key 'k': must be an array of strings, got \"a\""},
      {"array with a number", "k = [\"a\", 2]", "1:11: key 'k': must be an array of strings, got element 2"},
  };
  for (const TypeCase& c : cases) {
    SCOPED_TRACE(c.label);
    ConfigReader r = parse_ok(c.toml);
    const std::string_view which = c.label;
    if (which.starts_with("string")) (void)r.get_string("k", "");
    if (which.starts_with("int")) (void)r.get_int("k", 0, 0, 10);
    if (which.starts_with("double")) (void)r.get_double("k", 0, 0, 10);
    if (which.starts_with("bool")) (void)r.get_bool("k", false);
    if (which.starts_with("array")) {
      EXPECT_EQ(r.get_string_array("k", {"dflt"}), std::vector<std::string>{"dflt"});
    }
    const auto errors = finish_errors(r);
    ASSERT_EQ(errors.size(), 1u);
    EXPECT_EQ(errors[0], std::string("agent.toml:") + c.expected);
  }
}

TEST(ConfigReader, UnknownTopLevelKeyIsAnError) {
  ConfigReader r = parse_ok("[agent]\ngroup = \"g\"\n\nintervall = 5\n");
  (void)r.get_string("agent.group", "");
  const auto errors = finish_errors(r);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_THAT(errors[0], HasSubstr("agent.toml:4:"));
  EXPECT_THAT(errors[0], HasSubstr("key 'agent.intervall': unknown key"));
}

TEST(ConfigReader, UnknownNestedKeyIsNamedByItsFullPath) {
  ConfigReader r = parse_ok("[mqtt]\nhost = \"h\"\nprot = 1\n");
  (void)r.get_string("mqtt.host", "");
  (void)r.get_int("mqtt.port", 1883, 1, 65535);
  const auto errors = finish_errors(r);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_THAT(errors[0], HasSubstr("agent.toml:3:8: key 'mqtt.prot': unknown key"));
}

TEST(ConfigReader, UnknownTableIsReportedOnceNotPerKey) {
  ConfigReader r = parse_ok("[mqt]\nhost = \"h\"\nport = 1\n");
  (void)r.get_string("mqtt.host", "");
  const auto errors = finish_errors(r);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_THAT(errors[0], HasSubstr("key 'mqt': unknown key"));
}

TEST(ConfigReader, KnownTableWithOnlyKnownKeysIsClean) {
  ConfigReader r = parse_ok("[log]\nlevel = \"debug\"\n");
  EXPECT_EQ(r.get_string("log.level", "info"), "debug");
  EXPECT_TRUE(r.finish().ok());
}

TEST(ConfigReader, SeveralErrorsAreReportedTogetherInOrder) {
  ConfigReader r = parse_ok(R"([agent]
interval = 0
group = 7
[mqtt]
port = 0
typo = true
)");
  (void)r.get_double("agent.interval", 5, 0.1, 3600);
  (void)r.get_string("agent.group", "g");
  (void)r.get_int("mqtt.port", 1883, 1, 65535);
  const auto errors = finish_errors(r);
  ASSERT_EQ(errors.size(), 4u);
  EXPECT_THAT(errors[0], HasSubstr("agent.toml:2:12: key 'agent.interval'"));
  EXPECT_THAT(errors[1], HasSubstr("agent.toml:3:9: key 'agent.group'"));
  EXPECT_THAT(errors[2], HasSubstr("agent.toml:5:8: key 'mqtt.port'"));
  EXPECT_THAT(errors[3], HasSubstr("agent.toml:6:8: key 'mqtt.typo': unknown key"));
}

TEST(ConfigReader, AddErrorLocatesAPresentKeyAndNamesAnAbsentOne) {
  ConfigReader r = parse_ok("[agent]\nnode_id = \"bad id\"\n");
  (void)r.get_string("agent.node_id", "");
  r.add_error("agent.node_id", "must be 1-64 characters");
  r.add_error("agent.group", "cannot be derived");
  const auto errors = finish_errors(r);
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0], "agent.toml:2:11: key 'agent.node_id': must be 1-64 characters");
  EXPECT_EQ(errors[1], "agent.toml: key 'agent.group': cannot be derived");
}

struct SyntaxCase {
  const char* label;
  const char* toml;
  const char* location;  // "agent.toml:<line>:"
};

TEST(ConfigReader, TomlSyntaxErrorsNameFileLineAndColumn) {
  const SyntaxCase cases[] = {
      {"unterminated string", "[agent]\ngroup = \"g\n", "agent.toml:2:"},
      {"missing value", "a = 1\nb =\n", "agent.toml:2:"},
      {"duplicate key", "a = 1\na = 2\n", "agent.toml:2:"},
      {"unclosed table header", "a = 1\n\n[mqtt\n", "agent.toml:3:"},
      {"bare word value", "a = yes\n", "agent.toml:1:"},
  };
  for (const SyntaxCase& c : cases) {
    SCOPED_TRACE(c.label);
    auto r = ConfigReader::parse(c.toml, "agent.toml");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
    EXPECT_THAT(r.error().message, HasSubstr(c.location));
    EXPECT_THAT(r.error().message, HasSubstr("TOML syntax error"));
    // file:line:column: the column follows the line number.
    const std::string& m = r.error().message;
    const std::size_t col = std::string_view(c.location).size();
    ASSERT_GT(m.size(), col);
    EXPECT_TRUE(m[col] >= '1' && m[col] <= '9') << m;
  }
}

TEST(ConfigReader, LoadFileUsesThePathInMessages) {
  testing_support::TempDir dir;
  const std::string path = dir.write("edgemon.toml", "[mqtt]\nport = 0\n");
  auto r = ConfigReader::load_file(path);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->source_name(), path);
  (void)r->get_int("mqtt.port", 1883, 1, 65535);
  const auto errors = finish_errors(*r);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_THAT(errors[0], HasSubstr(path + ":2:8: key 'mqtt.port'"));
}

TEST(ConfigReader, LoadFileSyntaxErrorNamesThePath) {
  testing_support::TempDir dir;
  const std::string path = dir.write("bad.toml", "a = 1\nb = [1,\n");
  auto r = ConfigReader::load_file(path);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  EXPECT_THAT(r.error().message, HasSubstr(path + ":"));
}

TEST(ConfigReader, MissingFileIsNotFoundAndNamesThePath) {
  testing_support::TempDir dir;
  const std::string path = dir.file("absent.toml");
  auto r = ConfigReader::load_file(path);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kNotFound);
  EXPECT_THAT(r.error().message, HasSubstr(path));
}

}  // namespace
}  // namespace edgemon
