// The whole REST API (every route of the real route table, over a real core and a real SQLite
// store read on the reader thread) driven with extreme integers, hostile path segments and
// malformed bodies. Deterministic (a fixed seed) so a failure is reproducible; in the ASan/UBSan
// stage of .ci/test any overflow or memory error aborts the run. Every answer must be a status the
// API documents and, for JSON routes, valid JSON.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <random>
#include <set>

#include "edgemon/common/sparkplug_codec.h"
#include "edgemon/gateway/api/api_context.h"
#include "edgemon/gateway/api/rules_resource.h"
#include "temp_dir.h"

namespace edgemon::gateway {
namespace {

using testing_support::TempDir;

const std::vector<std::string>& extreme_numbers() {
  static const std::vector<std::string> v = {
      "0", "-0", "1", "-1", "9223372036854775807", "-9223372036854775808", "9223372036854775808",
      "18446744073709551615", "18446744073709551616", "99999999999999999999999999", "1e308", "-1e308", "1e-320",
      "253402300799999", "7258118399999", "7258118400000", "9223372036854", "9223372036855", "1.5", "0.0000001", "4294967295", "4294967296", "2147483648"};
  return v;
}

const std::vector<std::string>& hostile_segments() {
  static const std::vector<std::string> v = {
      "plant", "pi-1", "%00", "%2F", "..", "%2e%2e", "a%2Fb", "%ZZ", "%", "-1", "9223372036854775807",
      "18446744073709551616", "<script>", "%22%27", std::string(300, 'x'), "ping", "10.0.0.1", "fe80::1", "1"};
  return v;
}

const std::vector<std::string>& body_keys() {
  static const std::vector<std::string> v = {
      "host", "match", "until", "duration", "starts", "comment", "name", "metric", "kind", "threshold", "op",
      "samples", "for", "recovery", "window", "min_samples", "nodes", "severity", "type", "repeat_interval",
      "cooldown", "failure_threshold", "success_threshold", "expires", "role", "password", "zz"};
  return v;
}

class ApiFuzz : public ::testing::Test {
 protected:
  ApiFuzz() {
    SqliteOptions o;
    auto writer = open_sqlite_store(dir_.file("h.db"), o);
    EXPECT_TRUE(writer.ok());
    store_ = std::move(*writer);
    o.read_only = true;
    auto reader = open_sqlite_store(dir_.file("h.db"), o);
    EXPECT_TRUE(reader.ok());
    reader_ = std::make_unique<StoreReader>(std::move(*reader));
    api_ = std::make_unique<ApiContext>(ApiContext{clock_, fleet_, aggregator_, completeness_, evaluator_, alerts_, targets_, ingest_,
                                                   *reader_, 99.9,
                                                   [this](Outbox&& out) {
                                                     ++applied_;
                                                     if (!out.store.empty()) (void)store_->write(out.store);
                                                   },
                                                   [] { return GatewayStatus{}; }});
    add_api_routes(router_, *api_);
    // One node with a ping target, so node routes find something.
    TelemetryMessage b;
    b.kind = MessageKind::kBirth;
    b.timestamp_ms = to_unix_ms(clock_.wall());
    b.metrics.push_back(make_metric("ping/10.0.0.1/up", "", 1.0, b.timestamp_ms));
    b.metrics.push_back(make_metric("cpu/total", "%", 5.0, b.timestamp_ms));
    Outbox out;
    ingest_.message("spBv1.0/plant/NBIRTH/pi-1", encode_sparkplug(b), Instant::of(clock_), out);
    (void)store_->write(out.store);
  }

  ApiReply call(ApiRequest req) {
    asio::io_context io;
    ApiReply out;
    asio::co_spawn(io, [&]() -> asio::awaitable<void> { out = co_await router_.dispatch(std::move(req)); },
                   asio::detached);
    io.run();
    return out;
  }

  std::string pick(const std::vector<std::string>& v) {
    return v[std::uniform_int_distribution<std::size_t>(0, v.size() - 1)(rng_)];
  }

  std::string random_value() {
    switch (std::uniform_int_distribution<int>(0, 7)(rng_)) {
      case 0: return pick(extreme_numbers());
      case 1: return "\"" + pick(extreme_numbers()) + "\"";
      case 2: return "\"" + pick({"2h", "1d", "100000d", "36500d36500d", "0s", "-5m", "999999999999999999ms", "x"}) + "\"";
      case 3: return pick({"null", "true", "false", "[]", "{}", "[1,\"a\"]"});
      case 4: return R"({"node":")" + pick(hostile_segments()) + R"("})";
      case 5: return "\"" + std::string(std::uniform_int_distribution<std::size_t>(0, 3000)(rng_), 'a') + "\"";
      case 6: return R"(["*","plant/*"])";
      default: return R"("threshold")";
    }
  }

  std::string random_body() {
    switch (std::uniform_int_distribution<int>(0, 9)(rng_)) {
      case 0: return "";
      case 1: return "not json";
      case 2: return "[" + random_value() + "]";
      default: break;
    }
    std::string out = "{";
    const int n = std::uniform_int_distribution<int>(0, 6)(rng_);
    for (int i = 0; i < n; ++i) {
      if (i > 0) out += ",";
      out += "\"" + pick(body_keys()) + "\":" + random_value();
    }
    return out + "}";
  }

  QueryParams random_query() {
    QueryParams q;
    for (const char* key : {"from", "to", "step", "limit", "offset", "sla"}) {
      if (std::uniform_int_distribution<int>(0, 2)(rng_) == 0) q[key] = pick(extreme_numbers());
    }
    if (std::uniform_int_distribution<int>(0, 1)(rng_) == 0) q["node"] = "plant/pi-1";
    if (std::uniform_int_distribution<int>(0, 1)(rng_) == 0) q["metric"] = "cpu/total";
    if (std::uniform_int_distribution<int>(0, 3)(rng_) == 0) q["format"] = pick({"csv", "json", "xml"});
    if (std::uniform_int_distribution<int>(0, 3)(rng_) == 0) {
      q["from"] = pick({"2023-02-29", "0000-01-01", "9999-12-31", "2026-13-01", "-2026-01-01"});
      q["to"] = pick({"2023-03-01", "9999-12-31", "1970-01-01"});
    }
    return q;
  }

  // A concrete path for a route pattern, its parameters replaced by hostile segments.
  std::string path_for(const std::string& pattern) {
    std::string out;
    std::size_t i = 0;
    while (i < pattern.size()) {
      if (pattern[i] == '{') {
        const std::size_t end = pattern.find('}', i);
        out += pick(hostile_segments());
        i = end + 1;
      } else {
        out += pattern[i++];
      }
    }
    return out;
  }

  // Every third request: a body the handler accepts but for one extreme member, so the change
  // paths (not only the validation) see extreme values.
  void well_formed(ApiRequest& req, int i) {
    const std::string n = pick(extreme_numbers());
    if (req.method == "POST" && req.path == "/api/silences") {
      req.body = R"({"match":{"node":")" + pick(hostile_segments()) + R"("},"duration":)" +
                 pick({"\"2h\"", "\"36500d\"", "\"1ms\"", n}) + R"(,"comment":"c"})";
    } else if (req.method == "POST" && req.path.starts_with("/api/nodes/")) {
      req.path = "/api/nodes/plant/pi-1/targets";
      req.body = R"({"host":")" + pick(hostile_segments()) + R"("})";
    } else if (req.method == "DELETE" && req.path.starts_with("/api/nodes/")) {
      req.path = "/api/nodes/plant/pi-1/targets/" + pick({"10.0.0.1", "%2F", "-1"});
    } else if (req.method == "POST" && req.path == "/api/rules") {
      req.body = R"({"name":"r)" + std::to_string(i) + R"(","kind":"threshold","metric":"cpu/total","type":"X","threshold":)" +
                 n + R"(,"samples":)" + pick({"1", "10000", n}) + "}";
    } else if (req.method == "PATCH" || req.method == "DELETE" || req.method == "PUT") {
      const std::size_t last = req.path.rfind('/');
      if (req.path.starts_with("/api/silences/")) req.path = req.path.substr(0, last + 1) + pick({"1", "2", "3", n});
      if (req.path.starts_with("/api/rules/")) req.path = req.path.substr(0, last + 1) + "r" + std::to_string(i - 3);
      req.body = R"({"until":)" + n + R"(,"threshold":)" + n + R"(,"name":"r)" + std::to_string(i - 3) +
                 R"(","kind":"threshold","metric":"cpu/total","type":"X"})";
    }
  }

  TempDir dir_;
  ManualClock clock_{WallTime(std::chrono::milliseconds(1'796'000'000'000))};
  FleetState fleet_;
  Aggregator aggregator_;
  Completeness completeness_;
  rules::Evaluator evaluator_{rules::RuleSet{}};
  AlertControl alerts_{evaluator_};
  ManagedTargets targets_;
  Ingest ingest_{IngestConfig{}, fleet_, aggregator_, completeness_, evaluator_, targets_};
  std::unique_ptr<Store> store_;
  std::unique_ptr<StoreReader> reader_;
  std::unique_ptr<ApiContext> api_;
  Router router_;
  std::mt19937_64 rng_{20261207};
  std::uint64_t applied_ = 0;
};

TEST_F(ApiFuzz, ExtremeIntegersHostileSegmentsAndBadBodiesGetDocumentedAnswers) {
  const std::set<unsigned> allowed = {200, 201, 202, 400, 404, 405, 409, 503};
  std::vector<std::pair<std::string, std::string>> routes;  // method, pattern
  for (const std::string& r : router_.routes()) {
    const auto space = r.find(' ');
    routes.emplace_back(r.substr(0, space), r.substr(space + 1));
  }
  ASSERT_GE(routes.size(), 20u);
  std::map<unsigned, int> statuses;
  for (int i = 0; i < 12000; ++i) {
    const auto& [method, pattern] = routes[std::uniform_int_distribution<std::size_t>(0, routes.size() - 1)(rng_)];
    ApiRequest req;
    req.method = std::uniform_int_distribution<int>(0, 9)(rng_) == 0 ? pick({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"})
                                                                     : method;
    req.path = path_for(pattern);
    req.query = random_query();
    req.body = random_body();
    req.user = "fuzz";
    if (i % 3 == 0) well_formed(req, i);
    const ApiReply r = call(req);
    ++statuses[r.status];

    ASSERT_TRUE(allowed.contains(r.status)) << req.method << " " << req.path << " " << req.body << " -> " << r.status
                                            << " " << r.body;
    const bool json = r.content_type == "application/json";
    if (json) {
      ASSERT_FALSE(nlohmann::json::parse(r.body, nullptr, false).is_discarded()) << req.path << ": " << r.body;
    }
    if (i % 97 == 0) clock_.advance(std::chrono::seconds(7));
  }
  // The run reached the handlers, not just the router's 404/405.
  EXPECT_GT(statuses[200], 100);
  EXPECT_GT(statuses[400], 100);
  EXPECT_GT(statuses[201], 10) << "silences and rules were added";
  EXPECT_GT(applied_, 20u) << "changes went through (silences, rules, targets)";
}

TEST_F(ApiFuzz, StoredRulesSurviveAReloadAfterTheFuzzedChanges) {
  // Rules added with extreme values are stored in a form the reader of the store accepts again.
  ApiRequest add;
  add.method = "POST";
  add.path = "/api/rules";
  add.body = R"({"name":"big","kind":"threshold","metric":"cpu/total","threshold":1e308,"type":"X","op":">",
                "for":"36500d","repeat_interval":"36500d"})";
  const ApiReply r = call(add);
  ASSERT_EQ(r.status, 201u) << r.body;
  rules::Evaluator fresh{rules::RuleSet{}};
  AlertControl again(fresh);
  EXPECT_EQ(restore_api_rules(*store_, again, clock_.wall()), 0u);
  ASSERT_NE(again.find("big"), nullptr);
  EXPECT_EQ(again.find("big")->threshold, 1e308);
}

}  // namespace
}  // namespace edgemon::gateway
