#include "edgemon/common/telemetry_json.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

#include <nlohmann/json.hpp>

#include "edgemon/common/telemetry.h"

namespace edgemon {
namespace {

using ::testing::HasSubstr;

// ---- topics -------------------------------------------------------------------------------------

TEST(Topic, FormatsSparkplugNamespaceGroupTypeNode) {
  EXPECT_EQ(format_topic("plant-1", MessageKind::kBirth, "pi.kitchen_2"), "spBv1.0/plant-1/NBIRTH/pi.kitchen_2");
  EXPECT_EQ(format_topic("g", MessageKind::kData, "n"), "spBv1.0/g/NDATA/n");
  EXPECT_EQ(format_topic("g", MessageKind::kDeath, "n"), "spBv1.0/g/NDEATH/n");
  EXPECT_EQ(format_topic("g", MessageKind::kCommand, "n"), "spBv1.0/g/NCMD/n");
}

TEST(Topic, ParseInvertsFormatForEveryKind) {
  for (MessageKind k : {MessageKind::kBirth, MessageKind::kData, MessageKind::kDeath, MessageKind::kCommand}) {
    SCOPED_TRACE(to_topic_word(k));
    auto t = parse_topic(format_topic("Group_A", k, "node-7.local"));
    ASSERT_TRUE(t.ok()) << t.error().message;
    EXPECT_EQ(t->group, "Group_A");
    EXPECT_EQ(t->kind, k);
    EXPECT_EQ(t->node, "node-7.local");
  }
}

TEST(Topic, IdsOfExactly64CharactersAreValid) {
  const std::string id64(64, 'a');
  EXPECT_TRUE(valid_id(id64));
  EXPECT_FALSE(valid_id(id64 + "a"));
  EXPECT_FALSE(valid_id(""));
  auto t = parse_topic(format_topic(id64, MessageKind::kData, id64));
  ASSERT_TRUE(t.ok()) << t.error().message;
}

struct BadTopic {
  const char* label;
  std::string topic;
  const char* reason;
};

TEST(Topic, RejectsMalformedTopicsSayingWhy) {
  const std::string id65(65, 'n');
  const BadTopic cases[] = {
      {"empty", "", "spBv1.0/<group>/<type>/<node>"},
      {"namespace only", "spBv1.0", "spBv1.0/<group>/<type>/<node>"},
      {"three levels", "spBv1.0/g/NDATA", "spBv1.0/<group>/<type>/<node>"},
      {"five levels", "spBv1.0/g/NDATA/n/x", "more than 4 levels"},
      {"trailing slash", "spBv1.0/g/NDATA/n/", "more than 4 levels"},
      {"many levels", "spBv1.0/a/b/c/d/e/f/g", "more than 4 levels"},
      {"wrong namespace", "spAv1.0/g/NDATA/n", "namespace"},
      {"namespace case", "SPBV1.0/g/NDATA/n", "namespace"},
      {"empty group", "spBv1.0//NDATA/n", "invalid group id"},
      {"group with space", "spBv1.0/my group/NDATA/n", "invalid group id"},
      {"group with MQTT wildcard", "spBv1.0/+/NDATA/n", "invalid group id"},
      {"group of 65 chars", "spBv1.0/" + id65 + "/NDATA/n", "invalid group id"},
      {"empty node", "spBv1.0/g/NDATA/", "invalid node id"},
      {"node with wildcard", "spBv1.0/g/NDATA/#", "invalid node id"},
      {"node with UTF-8", "spBv1.0/g/NDATA/n\xc3\xa9", "invalid node id"},
      {"node of 65 chars", "spBv1.0/g/NDATA/" + id65, "invalid node id"},
      {"device-level type", "spBv1.0/g/DDATA/n", "unknown message type"},
      {"lower-case type", "spBv1.0/g/ndata/n", "unknown message type"},
      {"STATE type", "spBv1.0/g/STATE/n", "unknown message type"},
      {"empty type", "spBv1.0/g//n", "unknown message type"},
  };
  for (const BadTopic& c : cases) {
    SCOPED_TRACE(c.label);
    auto t = parse_topic(c.topic);
    ASSERT_FALSE(t.ok());
    EXPECT_EQ(t.error().code, ErrorCode::kInvalidArgument);
    EXPECT_THAT(t.error().message, HasSubstr(c.reason));
  }
}

// ---- payload round trip -------------------------------------------------------------------------

Metric mk(std::string name, std::string unit, std::optional<double> value, std::int64_t ts) {
  Metric m;
  m.name = std::move(name);
  m.unit = std::move(unit);
  m.value = value;
  m.ts_ms = ts;
  return m;
}

TelemetryMessage sample_birth() {
  TelemetryMessage m;
  m.kind = MessageKind::kBirth;
  m.timestamp_ms = 1'763'700'000'123;
  m.seq = 255;
  m.bd_seq = 7;
  m.metrics = {
      mk("cpu/total", "%", 12.5, 1'763'700'000'120),
      mk("ping/127.0.0.1/rtt", "ms", std::nullopt, 1'763'700'000'121),
      mk("temp/soc", "\xc2\xb0" "C", -0.125, 0),
      mk("mem/used", "B", 123456789012.0, 1'763'700'000'119),
      mk("up", "", 1.0, 1'763'700'000'119),
  };
  m.metrics[0].alias = 1;
  m.metrics[3].type = MetricType::kUInt64;
  m.metrics[4].type = MetricType::kBoolean;
  m.metrics[4].historical = true;
  Metric text = mk("os/release", "", std::nullopt, 1'763'700'000'100);
  text.type = MetricType::kString;
  text.text = "Debian GNU/Linux 12 (\"bookworm\")";
  m.metrics.push_back(text);
  return m;
}

void expect_same(const TelemetryMessage& a, const TelemetryMessage& b) {
  EXPECT_EQ(a.kind, b.kind);
  EXPECT_EQ(a.timestamp_ms, b.timestamp_ms);
  EXPECT_EQ(a.seq, b.seq);
  EXPECT_EQ(a.bd_seq, b.bd_seq);
  ASSERT_EQ(a.metrics.size(), b.metrics.size());
  for (std::size_t i = 0; i < a.metrics.size(); ++i) {
    SCOPED_TRACE(a.metrics[i].name);
    EXPECT_EQ(a.metrics[i].name, b.metrics[i].name);
    EXPECT_EQ(a.metrics[i].unit, b.metrics[i].unit);
    EXPECT_EQ(a.metrics[i].value, b.metrics[i].value);
    EXPECT_EQ(a.metrics[i].ts_ms, b.metrics[i].ts_ms);
    EXPECT_EQ(a.metrics[i].type, b.metrics[i].type);
    EXPECT_EQ(a.metrics[i].text, b.metrics[i].text);
    EXPECT_EQ(a.metrics[i].alias, b.metrics[i].alias);
    EXPECT_EQ(a.metrics[i].historical, b.metrics[i].historical);
  }
}

TEST(TelemetryJson, BirthRoundTripsExactly) {
  const TelemetryMessage in = sample_birth();
  const std::string wire = encode_json(in);
  auto out = decode_json(wire, MessageKind::kBirth);
  ASSERT_TRUE(out.ok()) << out.error().message << "\n" << wire;
  expect_same(in, *out);
}

TEST(TelemetryJson, DataRoundTripsAndOmitsBdSeq) {
  TelemetryMessage in = sample_birth();
  in.kind = MessageKind::kData;
  in.bd_seq = 0;
  const std::string wire = encode_json(in);
  EXPECT_EQ(wire.find("bdSeq"), std::string::npos) << wire;
  auto out = decode_json(wire, MessageKind::kData);
  ASSERT_TRUE(out.ok()) << out.error().message;
  expect_same(in, *out);
}

TEST(TelemetryJson, EncodesTheDocumentedShape) {
  TelemetryMessage m;
  m.kind = MessageKind::kBirth;
  m.timestamp_ms = 1763700000123;
  m.seq = 4;
  m.metrics = {mk("cpu/total", "%", 12.5, 1763700000120)};
  m.metrics[0].alias = 1;
  m.metrics[0].historical = true;
  EXPECT_EQ(nlohmann::json::parse(encode_json(m)), nlohmann::json::parse(R"({
      "timestamp":1763700000123,"seq":4,"bdSeq":0,
      "metrics":[{"name":"cpu/total","alias":1,"unit":"%","value":12.5,"timestamp":1763700000120,
                  "historical":true}]})"));
}

TEST(TelemetryJson, DeathCarriesBdSeqButNoSeq) {
  TelemetryMessage m;
  m.kind = MessageKind::kDeath;
  m.timestamp_ms = 5;
  m.seq = 9;
  m.bd_seq = 3;
  const auto j = nlohmann::json::parse(encode_json(m));
  EXPECT_FALSE(j.contains("seq"));
  EXPECT_EQ(j["bdSeq"], 3);
  auto back = decode_json(encode_json(m), MessageKind::kDeath);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->bd_seq, 3u);
}

TEST(TelemetryJson, NonFiniteValuesAreEncodedAsNull) {
  TelemetryMessage m;
  m.timestamp_ms = 1;
  m.metrics = {mk("a", "", std::numeric_limits<double>::quiet_NaN(), 1),
               mk("b", "", std::numeric_limits<double>::infinity(), 1)};
  const std::string wire = encode_json(m);
  const auto j = nlohmann::json::parse(wire);
  EXPECT_TRUE(j["metrics"][0]["value"].is_null()) << wire;
  EXPECT_TRUE(j["metrics"][1]["value"].is_null()) << wire;
  auto out = decode_json(wire, MessageKind::kData);
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_FALSE(out->metrics[0].value.has_value());
  EXPECT_FALSE(out->metrics[1].value.has_value());
}

// ---- decoding details ---------------------------------------------------------------------------

TEST(TelemetryJson, NullValueDecodesAsNoValue) {
  auto m = decode_json(R"({"timestamp":5,"seq":0,"metrics":[{"name":"ping/h/rtt","value":null}]})", MessageKind::kData);
  ASSERT_TRUE(m.ok()) << m.error().message;
  ASSERT_EQ(m->metrics.size(), 1u);
  EXPECT_FALSE(m->metrics[0].value.has_value());
}

TEST(TelemetryJson, MissingValueDecodesAsNoValue) {
  auto m = decode_json(R"({"timestamp":5,"seq":0,"metrics":[{"name":"x"}]})", MessageKind::kData);
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_FALSE(m->metrics[0].value.has_value());
  EXPECT_EQ(m->metrics[0].unit, "");
}

TEST(TelemetryJson, BoolValuesDecodeAsOneAndZero) {
  auto m = decode_json(R"({"timestamp":5,"seq":0,"metrics":[{"name":"up","value":true},{"name":"down","value":false}]})",
                       MessageKind::kData);
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(m->metrics[0].value, 1.0);
  EXPECT_EQ(m->metrics[1].value, 0.0);
}

TEST(TelemetryJson, MetricTimestampDefaultsToMessageTimestamp) {
  auto m = decode_json(R"({"timestamp":1700000000000,"seq":0,"metrics":[{"name":"a","value":1},{"name":"b","value":2,"timestamp":42}]})",
                       MessageKind::kData);
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(m->metrics[0].ts_ms, 1700000000000);
  EXPECT_EQ(m->metrics[1].ts_ms, 42);
}

TEST(TelemetryJson, KindComesFromTheCaller) {
  auto m = decode_json(R"({"timestamp":1,"seq":0,"metrics":[]})", MessageKind::kBirth);
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(m->kind, MessageKind::kBirth);
}

TEST(TelemetryJson, DeathWithoutMetricsIsAccepted) {
  auto m = decode_json(R"({"timestamp":9,"bdSeq":3})", MessageKind::kDeath);
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(m->kind, MessageKind::kDeath);
  EXPECT_EQ(m->bd_seq, 3u);
  EXPECT_TRUE(m->metrics.empty());
}

TEST(TelemetryJson, SeqBoundariesAndUnknownFieldsIgnored) {
  auto a = decode_json(R"({"timestamp":1,"seq":0,"metrics":[],"extra":{"x":[1,2]}})", MessageKind::kData);
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_EQ(a->seq, 0u);
  auto b = decode_json(R"({"timestamp":1,"seq":255,"metrics":[]})", MessageKind::kData);
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_EQ(b->seq, 255u);
}

TEST(TelemetryJson, NameAndUnitLengthLimitsAreInclusive) {
  const std::string name(kMaxMetricNameBytes, 'n');
  const std::string unit(kMaxUnitBytes, 'u');
  auto m = decode_json(R"({"timestamp":1,"seq":0,"metrics":[{"name":")" + name + R"(","unit":")" + unit + R"("}]})",
                       MessageKind::kData);
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(m->metrics[0].name, name);
  EXPECT_EQ(m->metrics[0].unit, unit);
}

TEST(TelemetryJson, EightLevelsOfNestingAreAllowed) {
  // object > extra[] x7 = 8 levels; brackets inside strings do not count.
  auto m = decode_json(R"({"timestamp":1,"seq":0,"metrics":[{"name":"[[[[{{{{[[[["}],"x":[[[[[[[1]]]]]]]})",
                       MessageKind::kData);
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(m->metrics[0].name, "[[[[{{{{[[[[");
}

TEST(TelemetryJson, EscapedQuoteInsideStringDoesNotConfuseTheDepthScan) {
  auto m = decode_json(R"({"timestamp":1,"seq":0,"metrics":[{"name":"a\"[[[[[[[[[[[[b"}]})", MessageKind::kData);
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(m->metrics[0].name, "a\"[[[[[[[[[[[[b");
}

TEST(TelemetryJson, PayloadOfExactlyTheLimitIsAccepted) {
  std::string p = R"({"timestamp":1,"seq":0,"metrics":[]})";
  p.append(kMaxPayloadBytes - p.size(), ' ');
  ASSERT_EQ(p.size(), kMaxPayloadBytes);
  auto m = decode_json(p, MessageKind::kData);
  EXPECT_TRUE(m.ok()) << m.error().message;
}

std::string many_metrics(std::size_t n) {
  std::string p = R"({"timestamp":1,"seq":0,"metrics":[)";
  for (std::size_t i = 0; i < n; ++i) {
    if (i != 0) p += ',';
    p += R"({"name":"m"})";
  }
  return p + "]}";
}

TEST(TelemetryJson, MetricCountLimitIsInclusive) {
  auto ok = decode_json(many_metrics(kMaxMetrics), MessageKind::kData);
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(ok->metrics.size(), kMaxMetrics);
  auto bad = decode_json(many_metrics(kMaxMetrics + 1), MessageKind::kData);
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.error().message, HasSubstr("too many metrics"));
}

TEST(TelemetryJson, AliasOnlyMetricIsAcceptedForNdata) {
  auto m = decode_json(R"({"timestamp":1,"seq":1,"metrics":[{"alias":7,"value":2}]})", MessageKind::kData);
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(m->metrics[0].name, "");
  EXPECT_EQ(m->metrics[0].alias, 7u);
  EXPECT_EQ(m->metrics[0].value, 2.0);
}

// ---- malformed payloads -------------------------------------------------------------------------

struct Malformed {
  const char* label;
  std::string payload;
  const char* reason;
  MessageKind kind = MessageKind::kData;
};

std::string metric(std::string_view fields) {
  return R"({"timestamp":1,"seq":0,"metrics":[{)" + std::string(fields) + "}]}";
}

TEST(TelemetryJson, RejectsMalformedPayloadsWithAReason) {
  const std::string long_name(kMaxMetricNameBytes + 1, 'n');
  const std::string long_unit(kMaxUnitBytes + 1, 'u');
  const std::string long_text(kMaxTextBytes + 1, 't');
  std::string oversized = R"({"timestamp":1,"seq":0,"metrics":[]})";
  oversized.append(kMaxPayloadBytes + 1 - oversized.size(), ' ');

  const Malformed cases[] = {
      {"empty payload", "", "not JSON"},
      {"plain text", "hello", "not JSON"},
      {"truncated object", R"({"timestamp":1,"seq":0,"metrics":[)", "not JSON"},
      {"trailing garbage", R"({"timestamp":1,"seq":0,"metrics":[]} x)", "not JSON"},
      {"single quotes", R"({'timestamp':1})", "not JSON"},
      {"trailing comma", R"({"timestamp":1,"seq":0,"metrics":[],})", "not JSON"},
      {"top-level array", "[]", "not a JSON object"},
      {"top-level string", R"("x")", "not a JSON object"},
      {"top-level number", "42", "not a JSON object"},
      {"top-level null", "null", "not a JSON object"},
      {"missing timestamp", R"({"seq":0,"metrics":[]})", "missing timestamp"},
      {"timestamp string", R"({"timestamp":"1","seq":0,"metrics":[]})", "timestamp must be an integer"},
      {"timestamp fractional", R"({"timestamp":1.5,"seq":0,"metrics":[]})", "timestamp must be an integer"},
      {"timestamp null", R"({"timestamp":null,"seq":0,"metrics":[]})", "timestamp must be an integer"},
      {"negative timestamp", R"({"timestamp":-1,"seq":0,"metrics":[]})", "timestamp must not be negative"},
      {"timestamp above int64", R"({"timestamp":9223372036854775808,"seq":0,"metrics":[]})", "timestamp out of range"},
      {"NDATA missing seq", R"({"timestamp":1,"metrics":[]})", "missing seq"},
      {"NBIRTH missing seq", R"({"timestamp":1,"bdSeq":0,"metrics":[]})", "missing seq", MessageKind::kBirth},
      {"seq 256", R"({"timestamp":1,"seq":256,"metrics":[]})", "seq must be 0..255"},
      {"seq -1", R"({"timestamp":1,"seq":-1,"metrics":[]})", "seq must not be negative"},
      {"seq 2^64-1", R"({"timestamp":1,"seq":18446744073709551615,"metrics":[]})", "seq must be 0..255"},
      {"seq string", R"({"timestamp":1,"seq":"4","metrics":[]})", "seq must be an integer"},
      {"seq fractional", R"({"timestamp":1,"seq":1.5,"metrics":[]})", "seq must be an integer"},
      {"negative bdSeq", R"({"timestamp":1,"bdSeq":-2})", "bdSeq must not be negative", MessageKind::kDeath},
      {"bdSeq bool", R"({"timestamp":1,"bdSeq":true})", "bdSeq must be an integer", MessageKind::kDeath},
      {"NDATA without metrics", R"({"timestamp":1,"seq":0})", "missing metrics"},
      {"NBIRTH without metrics", R"({"timestamp":1,"seq":0,"bdSeq":0})", "missing metrics", MessageKind::kBirth},
      {"metrics not array", R"({"timestamp":1,"seq":0,"metrics":{"name":"a"}})", "metrics must be an array"},
      {"metrics null", R"({"timestamp":1,"seq":0,"metrics":null})", "metrics must be an array"},
      {"metric not object", R"({"timestamp":1,"seq":0,"metrics":[1]})", "metrics[0] is not an object"},
      {"second metric not object", R"({"timestamp":1,"seq":0,"metrics":[{"name":"a"},"b"]})", "metrics[1] is not an object"},
      {"name and alias missing", metric(R"("value":1)"), "metrics[0] has neither name nor alias"},
      {"name number", metric(R"("name":5)"), "metrics[0].name not a string"},
      {"name empty", metric(R"("name":"")"), "metrics[0].name invalid"},
      {"name too long", metric(R"("name":")" + long_name + "\""), "metrics[0].name invalid"},
      {"name control char", metric(R"("name":"cpu\u0001")"), "metrics[0].name invalid"},
      {"name newline", metric(R"("name":"cpu\ntotal")"), "metrics[0].name invalid"},
      {"name DEL", metric(R"("name":"cpu\u007f")"), "metrics[0].name invalid"},
      {"name non-ASCII", metric(R"("name":"temp\u00e9")"), "metrics[0].name invalid"},
      {"alias negative", metric(R"("alias":-1)"), "alias must not be negative"},
      {"alias string", metric(R"("alias":"1")"), "alias must be an integer"},
      {"unit not string", metric(R"("name":"a","unit":1)"), "metrics[0].unit not a string"},
      {"unit too long", metric(R"("name":"a","unit":")" + long_unit + "\""), "metrics[0].unit invalid"},
      {"unit control char", metric(R"("name":"a","unit":"m\u0000s")"), "metrics[0].unit invalid"},
      {"type unknown", metric(R"("name":"a","type":"Float128")"), "metrics[0].type unknown"},
      {"type not a string", metric(R"("name":"a","type":10)"), "metrics[0].type unknown"},
      {"historical not bool", metric(R"("name":"a","historical":1)"), "metrics[0].historical not a boolean"},
      {"value string", metric(R"("name":"a","value":"12")"), "metrics[0].value not a number"},
      {"value array", metric(R"("name":"a","value":[1])"), "metrics[0].value not a number"},
      {"value object", metric(R"("name":"a","value":{"v":1})"), "metrics[0].value not a number"},
      {"String metric with number value", metric(R"("name":"a","type":"String","value":1)"), "metrics[0].value not a string"},
      {"String value too long", metric(R"("name":"a","type":"String","value":")" + long_text + "\""), "metrics[0].value too long"},
      // nlohmann refuses to parse a number that overflows a double, so this never becomes inf.
      {"value 1e999 overflows double", metric(R"("name":"a","value":1e999)"), "not JSON"},
      {"value NaN literal", metric(R"("name":"a","value":NaN)"), "not JSON"},
      {"metric timestamp negative", metric(R"("name":"a","timestamp":-5)"), "metric timestamp must not be negative"},
      {"metric timestamp string", metric(R"("name":"a","timestamp":"5")"), "metric timestamp must be an integer"},
      {"nesting 9 deep", R"({"timestamp":1,"seq":0,"metrics":[],"x":[[[[[[[[1]]]]]]]]})", "nested too deeply"},
      {"deep nesting before anything else", std::string(100000, '['), "nested too deeply"},
      {"payload over 256 KiB", oversized, "payload too large"},
      {"invalid UTF-8 byte", metric("\"name\":\"a\xff\""), "not JSON"},
      {"overlong UTF-8 encoding", metric("\"name\":\"a\xc0\xaf\""), "not JSON"},
      {"truncated UTF-8 sequence", metric("\"name\":\"a\xe2\x82\""), "not JSON"},
      {"lone surrogate escape", metric(R"("name":"a\ud800")"), "not JSON"},
      {"raw NUL in string", metric(std::string("\"name\":\"a\0b\"", 12)), "not JSON"},
      {"raw newline in string", metric("\"name\":\"a\nb\""), "not JSON"},
  };
  for (const Malformed& c : cases) {
    SCOPED_TRACE(c.label);
    auto m = decode_json(c.payload, c.kind);
    ASSERT_FALSE(m.ok());
    EXPECT_EQ(m.error().code, ErrorCode::kInvalidArgument);
    EXPECT_THAT(m.error().message, HasSubstr(c.reason));
  }
}

}  // namespace
}  // namespace edgemon
