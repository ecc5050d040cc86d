// BodyReader: strict, range-checked request bodies; and JsonWriter, the one JSON writer.
#include "edgemon/gateway/api/body_reader.h"

#include <gtest/gtest.h>

#include <limits>

#include "edgemon/gateway/api/json_writer.h"

namespace edgemon::gateway {
namespace {

TEST(BodyReader, UnknownMembersAreRefusedByName) {
  BodyReader b(R"({"name":"ci","role":"viewer","expires":5})");
  EXPECT_TRUE(b.text("name", 64));
  EXPECT_TRUE(b.text("role", 16));
  const Status s = b.finish();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("unknown member(s): expires"), std::string::npos) << s.error().message;
}

TEST(BodyReader, StructuralErrors) {
  for (const char* body : {"", "not json", "[1,2]", "\"x\"", "5", "{\"a\":"}) {
    BodyReader b(body, "{\"a\": 1}");
    EXPECT_FALSE(b.finish().ok()) << body;
  }
  BodyReader ok("{}");
  EXPECT_TRUE(ok.finish().ok());
}

TEST(BodyReader, IntegersAreRangeCheckedAtTheExtremes) {
  struct Case {
    const char* json;
    bool ok;
  };
  const Case cases[] = {
      {R"({"t":0})", true},
      {R"({"t":7258118399999})", true},
      {R"({"t":7258118400000})", false},
      {R"({"t":253402300799999})", false},
      {R"({"t":-1})", false},
      {R"({"t":-9223372036854775808})", false},
      {R"({"t":9223372036854775807})", false},
      {R"({"t":18446744073709551615})", false},
      {R"({"t":1e300})", false},
      {R"({"t":1.5})", false},
      {R"({"t":"5"})", false},
      {R"({"t":true})", false},
      {R"({"t":99999999999999999999999999999})", false},
  };
  for (const Case& c : cases) {
    BodyReader b(c.json);
    const auto v = b.integer("t", kMinTimeMs, kMaxTimeMs);
    EXPECT_EQ(b.finish().ok(), c.ok) << c.json;
    EXPECT_EQ(v.has_value(), c.ok) << c.json;
  }
}

TEST(BodyReader, RequiredMissingAndNullAndFirstErrorWins) {
  BodyReader b(R"({"a":null,"b":"x","c":5})");
  EXPECT_FALSE(b.has("a"));
  EXPECT_TRUE(b.contains("a"));
  EXPECT_FALSE(b.text("a", 10));           // null counts as absent
  EXPECT_FALSE(b.text("zz", 10, true));    // first error
  EXPECT_FALSE(b.integer("b", 0, 10));     // a second one, not reported
  const Status s = b.finish();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("zz: required"), std::string::npos) << s.error().message;
}

TEST(BodyReader, StringsAndNumbers) {
  BodyReader b(R"({"s":"abc","n":2.5,"l":["a","b"],"x":true})");
  EXPECT_FALSE(b.text("s", 2));
  BodyReader c(R"({"s":"abc","n":2.5,"l":["a","b"],"x":true})");
  EXPECT_EQ(c.text("s", 3), "abc");
  EXPECT_EQ(c.number("n", 0, 10), 2.5);
  EXPECT_EQ(c.strings("l", 2, 1), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(c.boolean("x"), true);
  EXPECT_TRUE(c.finish().ok());
}

TEST(JsonWriter, WritesValidJsonForHostileStringsAndNumbers) {
  JsonWriter w;
  w.begin_object()
      .member("q", "a\"b\\c\n\t\x01\x7f")
      .member("bad_utf8", "pi\xFF\xC3")
      .member("ok_utf8", "Temperatur \xC2\xB0"
                         "C")
      .member("nan", std::numeric_limits<double>::quiet_NaN())
      .member("inf", std::numeric_limits<double>::infinity())
      .member("d", 0.1)
      .member("i", std::int64_t{-9223372036854775807 - 1})
      .member("u", std::uint64_t{18446744073709551615u})
      .member("none", std::optional<double>())
      .key("arr")
      .begin_array()
      .value(true)
      .null()
      .begin_object()
      .end_object()
      .end_array()
      .end_object();
  const std::string out = w.take();
  EXPECT_EQ(out,
            "{\"q\":\"a\\\"b\\\\c\\n\\t\\u0001\\u007f\",\"bad_utf8\":\"pi\xEF\xBF\xBD\xEF\xBF\xBD\","
            "\"ok_utf8\":\"Temperatur \xC2\xB0"
            "C\",\"nan\":null,\"inf\":null,\"d\":0.1,\"i\":-9223372036854775808,"
            "\"u\":18446744073709551615,\"none\":null,\"arr\":[true,null,{}]}");
}

}  // namespace
}  // namespace edgemon::gateway
