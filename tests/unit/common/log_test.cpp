#include "edgemon/common/log.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <regex>
#include <string>
#include <vector>

namespace edgemon::log {
namespace {

TEST(LogFormat, ComponentMessageAndFieldsOnOneLine) {
  const std::string line = format(Level::kWarn, "mqtt", "connect failed", {{"broker", "tcp://h:1"}, {"rc", 5}}, true);
  EXPECT_EQ(line, "<4>[mqtt] connect failed broker=tcp://h:1 rc=5");
}

TEST(LogFormat, HostileValuesAreQuotedAndEscaped) {
  const std::string line = format(Level::kInfo, "x", "m\nforged", {{"name", "a b\"c\nd"}}, true);
  EXPECT_EQ(line, "<6>[x] m\\nforged name=\"a b\\\"c\\nd\"");
  EXPECT_EQ(line.find('\n'), std::string::npos);
}

TEST(LogFormat, JournalPrefixCarriesSyslogPriorityOfEachLevel) {
  EXPECT_EQ(format(Level::kDebug, "c", "m", {}, true), "<7>[c] m");
  EXPECT_EQ(format(Level::kInfo, "c", "m", {}, true), "<6>[c] m");
  EXPECT_EQ(format(Level::kWarn, "c", "m", {}, true), "<4>[c] m");
  EXPECT_EQ(format(Level::kError, "c", "m", {}, true), "<3>[c] m");
}

TEST(LogFormat, WithoutJournalLineStartsWithUtcTimestampAndLevelName) {
  const std::string line = format(Level::kError, "store", "disk full", {{"free", 0}}, false);
  EXPECT_TRUE(std::regex_match(line, std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z ERROR \[store\] disk full free=0)")))
      << line;
}

TEST(LogFormat, ControlCharactersInMessageAreEscaped) {
  const std::string line = format(Level::kInfo, "c", "a\rb\tc\x01" "d\x7f", {}, true);
  EXPECT_EQ(line, "<6>[c] a\\rb\\tc\\x01d\\x7f");
}

struct LevelCase {
  const char* text;
  bool ok;
  Level level;
};

TEST(LogLevel, ParsesOnlyTheDocumentedNames) {
  const LevelCase cases[] = {
      {"debug", true, Level::kDebug},  {"info", true, Level::kInfo},  {"warn", true, Level::kWarn},
      {"warning", true, Level::kWarn}, {"error", true, Level::kError}, {"", false, Level::kInfo},
      {"INFO", false, Level::kInfo},   {"Debug", false, Level::kInfo}, {" info", false, Level::kInfo},
      {"info ", false, Level::kInfo},  {"trace", false, Level::kInfo}, {"err", false, Level::kInfo},
      {"fatal", false, Level::kInfo},
  };
  for (const LevelCase& c : cases) {
    SCOPED_TRACE(std::string("text='") + c.text + "'");
    Level out = Level::kInfo;
    const bool ok = parse_level(c.text, out);
    EXPECT_EQ(ok, c.ok);
    EXPECT_EQ(out, c.level);  // a rejected name leaves the output untouched
  }
}

TEST(LogLevel, NamesRoundTrip) {
  for (Level l : {Level::kDebug, Level::kInfo, Level::kWarn, Level::kError}) {
    std::string lower = to_string(l);
    for (char& ch : lower) ch = static_cast<char>(ch - 'A' + 'a');
    Level parsed = Level::kInfo;
    ASSERT_TRUE(parse_level(lower, parsed)) << lower;
    EXPECT_EQ(parsed, l);
  }
}

TEST(LogField, DoublesUseShortestReadableForm) {
  EXPECT_EQ(Field("v", 12.5).value(), "12.5");
  EXPECT_EQ(Field("v", 0.25).value(), "0.25");
  EXPECT_EQ(Field("v", -3.0).value(), "-3");
  EXPECT_EQ(Field("v", 0.0).value(), "0");
  EXPECT_EQ(Field("v", 1e-7).value(), "1e-07");
}

TEST(LogField, IntegersAndBools) {
  EXPECT_EQ(Field("n", -5).value(), "-5");
  EXPECT_EQ(Field("n", std::numeric_limits<std::uint64_t>::max()).value(), "18446744073709551615");
  EXPECT_EQ(Field("b", true).value(), "true");
  EXPECT_EQ(Field("b", false).value(), "false");
}

TEST(LogField, EmptyStringIsQuotedSoTheFieldIsStillVisible) {
  EXPECT_EQ(Field("k", "").value(), "\"\"");
  EXPECT_EQ(format(Level::kInfo, "c", "m", {{"user", ""}}, true), "<6>[c] m user=\"\"");
}

struct QuoteCase {
  const char* label;
  std::string input;
  std::string expected;
};

TEST(LogField, StringsThatCouldBreakTheRecordAreQuotedAndEscaped) {
  const QuoteCase cases[] = {
      {"plain word stays bare", "abc", "abc"},
      {"path stays bare", "/var/lib/edgemon", "/var/lib/edgemon"},
      {"space", "a b", "\"a b\""},
      {"equals sign", "a=b", "\"a=b\""},
      {"double quote", "a\"b", "\"a\\\"b\""},
      {"backslash", "a\\b", "\"a\\\\b\""},
      {"newline", "a\nb", "\"a\\nb\""},
      {"carriage return", "a\rb", "\"a\\rb\""},
      {"tab", "a\tb", "\"a\\tb\""},
      {"SOH control char", "a\x01" "b", "\"a\\x01b\""},
      {"escape char", "\x1b[31m", "\"\\x1b[31m\""},
      {"DEL", "a\x7f", "\"a\\x7f\""},
      {"NUL byte", std::string("a\0b", 3), "\"a\\x00b\""},
      {"UTF-8 passes through bare", "\xc2\xb0" "C", "\xc2\xb0" "C"},
  };
  for (const QuoteCase& c : cases) {
    SCOPED_TRACE(c.label);
    EXPECT_EQ(Field("k", c.input).value(), c.expected);
  }
}

std::vector<std::string>& captured() {
  static std::vector<std::string> lines;
  return lines;
}

void capture(Level, const std::string& line) { captured().push_back(line); }

class LogSinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    saved_ = level();
    captured().clear();
    set_sink(&capture);
  }
  void TearDown() override {
    set_sink(nullptr);
    set_level(saved_);
  }
  Level saved_ = Level::kInfo;
};

TEST_F(LogSinkTest, LevelFiltersWhatReachesTheSink) {
  set_level(Level::kWarn);
  EXPECT_FALSE(enabled(Level::kInfo));
  EXPECT_TRUE(enabled(Level::kWarn));
  EXPECT_TRUE(enabled(Level::kError));
  debug("c", "d");
  info("c", "i");
  warn("c", "w", {{"n", 1}});
  error("c", "e");
  ASSERT_EQ(captured().size(), 2u);
  EXPECT_NE(captured()[0].find("WARN [c] w n=1"), std::string::npos) << captured()[0];
  EXPECT_NE(captured()[1].find("ERROR [c] e"), std::string::npos) << captured()[1];
}

TEST_F(LogSinkTest, DebugLevelLetsEverythingThrough) {
  set_level(Level::kDebug);
  debug("c", "d");
  info("c", "i");
  EXPECT_EQ(captured().size(), 2u);
}

}  // namespace
}  // namespace edgemon::log
