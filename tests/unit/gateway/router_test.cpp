// The API router, table-tested: which handler a method and path reach, with which parameters,
// and the router's own answers (404, 405 + Allow).
#include "edgemon/gateway/api/router.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace edgemon::gateway {
namespace {

// A handler that answers with its own name and the parameters it got.
ApiHandler named(std::string name) {
  return [name](const ApiRequest& r) -> asio::awaitable<ApiReply> {
    nlohmann::json j = {{"handler", name}};
    for (const auto& [k, v] : r.params) j["params"][k] = v;
    co_return json_reply(200, j);
  };
}

class RouterTest : public ::testing::Test {
 protected:
  RouterTest() {
    router_.add("GET", "/api/nodes", named("nodes"));
    router_.add("GET", "/api/nodes/{group}/{node}", named("node"));
    router_.add("GET", "/api/nodes/{group}/{node}/targets", named("targets"));
    router_.add("POST", "/api/nodes/{group}/{node}/targets", named("add-target"));
    router_.add("DELETE", "/api/nodes/{group}/{node}/targets/{host}", named("remove-target"));
    router_.add("GET", "/api/silences/{id}", named("silence"));
    router_.add("GET", "/api/silences/active", named("active"));
    router_.add("GET", "/metrics", named("metrics"));
  }

  ApiReply call(const std::string& method, const std::string& path) {
    ApiRequest req;
    req.method = method;
    req.path = path;
    asio::io_context io;
    ApiReply out;
    asio::co_spawn(io, [&]() -> asio::awaitable<void> { out = co_await router_.dispatch(req); }, asio::detached);
    io.run();
    return out;
  }

  Router router_;
};

struct Row {
  const char* method;
  const char* path;
  unsigned status;
  const char* handler;  // "" for the router's own answers
  const char* params;   // JSON of the params, "" for none
  const char* allow;    // the Allow header of a 405
};

TEST_F(RouterTest, Table) {
  const Row rows[] = {
      {"GET", "/api/nodes", 200, "nodes", "", ""},
      {"HEAD", "/api/nodes", 200, "nodes", "", ""},
      {"GET", "/api/nodes/plant/pi-1", 200, "node", R"({"group":"plant","node":"pi-1"})", ""},
      {"GET", "/api/nodes/plant/pi%2D1", 200, "node", R"({"group":"plant","node":"pi-1"})", ""},
      {"GET", "/api/nodes/a%2Fb/c", 200, "node", R"({"group":"a/b","node":"c"})", ""},  // never splits
      {"GET", "/api/nodes/plant/pi-1/targets", 200, "targets", R"({"group":"plant","node":"pi-1"})", ""},
      {"POST", "/api/nodes/plant/pi-1/targets", 200, "add-target", R"({"group":"plant","node":"pi-1"})", ""},
      {"DELETE", "/api/nodes/g/n/targets/fe80::1", 200, "remove-target", R"({"group":"g","host":"fe80::1","node":"n"})", ""},
      {"GET", "/api/silences/7", 200, "silence", R"({"id":"7"})", ""},
      {"GET", "/api/silences/active", 200, "active", "", ""},  // a literal beats a parameter
      {"GET", "/metrics", 200, "metrics", "", ""},
      {"DELETE", "/api/nodes", 405, "", "", "GET, HEAD"},
      {"PUT", "/api/nodes/g/n/targets", 405, "", "", "GET, HEAD, POST"},
      {"GET", "/api/nodes/g/n/targets/h", 405, "", "", "DELETE"},
      {"GET", "/api/nodes/g", 404, "", "", ""},
      {"GET", "/api/nodes/g/n/x", 404, "", "", ""},
      {"GET", "/api/nodes//n", 404, "", "", ""},  // an empty segment is no parameter
      {"GET", "/api/nodes/", 404, "", "", ""},
      {"GET", "/api/nodes/g/n/targets/h/more", 404, "", "", ""},
      {"GET", "", 404, "", "", ""},
      {"GET", "api/nodes", 404, "", "", ""},
      {"GET", "/", 404, "", "", ""},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(std::string(row.method) + " " + row.path);
    const ApiReply r = call(row.method, row.path);
    EXPECT_EQ(r.status, row.status);
    const auto j = nlohmann::json::parse(r.body);
    if (*row.handler != '\0') {
      EXPECT_EQ(j.value("handler", ""), row.handler);
      if (*row.params != '\0') {
        EXPECT_EQ(j["params"], nlohmann::json::parse(row.params));
      } else {
        EXPECT_FALSE(j.contains("params"));
      }
    } else {
      EXPECT_TRUE(j.contains("error"));
    }
    std::string allow;
    for (const auto& [k, v] : r.headers) {
      if (k == "Allow") allow = v;
    }
    EXPECT_EQ(allow, row.allow);
  }
}

TEST_F(RouterTest, RoutesListEveryMethodOnce) {
  const auto routes = router_.routes();
  EXPECT_EQ(routes.size(), 8u);
  EXPECT_EQ(routes[3], "POST /api/nodes/{group}/{node}/targets");
}

TEST(RouterDeath, AmbiguousOrRepeatedRoutesAreBugs) {
  EXPECT_DEATH(
      {
        Router r;
        r.add("GET", "/api/x/{a}", named("a"));
        r.add("GET", "/api/x/{b}", named("b"));
      },
      "ambiguous");
  EXPECT_DEATH(
      {
        Router r;
        r.add("GET", "/api/x", named("a"));
        r.add("GET", "/api/x", named("b"));
      },
      "twice");
  EXPECT_DEATH(
      {
        Router r;
        r.add("GET", "/api/{x", named("a"));
      },
      "malformed");
}

}  // namespace
}  // namespace edgemon::gateway
