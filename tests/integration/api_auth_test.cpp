// The gateway's API is closed to strangers: a walk over every route with a real gateway process,
// as an anonymous client, a viewer and an admin, by cookie, token and HTTP Basic (issue #7's
// acceptance; docs/auth.md describes the rules).
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/test_fleet.h"
#include "support/ws_client.h"

namespace edgemon::test {
namespace {

struct Route {
  std::string method;
  std::string path;
  std::string body;
};

// Every authenticated route, read-only and state-changing (bodies valid where one is needed).
const std::vector<Route>& protected_routes() {
  static const std::vector<Route> routes = {
      {"GET", "/api/nodes", ""},
      {"GET", "/api/fleet", ""},
      {"GET", "/api/history?node=edgemon/x&metric=cpu/total", ""},
      {"GET", "/api/reports", ""},
      {"GET", "/api/reports?format=csv", ""},
      {"GET", "/api/alerts", ""},
      {"GET", "/api/events?limit=5", ""},
      {"GET", "/api/incidents", ""},
      {"GET", "/metrics", ""},
      {"GET", "/api/me", ""},
      {"GET", "/api/users", ""},
      {"GET", "/api/tokens", ""},
      {"GET", "/api/silences", ""},
      {"GET", "/api/nodes/edgemon/x/targets", ""},
      {"GET", "/api/nodes/edgemon/x", ""},
      {"GET", "/api/targets", ""},
      {"GET", "/api/rules", ""},
      {"GET", "/api/rules/_gateway_storage", ""},
      {"GET", "/api/maintenance", ""},
      {"GET", "/api/no-such-endpoint", ""},
      {"HEAD", "/api/nodes", ""},
      {"POST", "/api/logout", ""},
      {"POST", "/api/me/password", R"({"current":"wrong-password-1","new":"new-password-123"})"},
      {"POST", "/api/users", R"({"name":"eve","password":"eve-password-123","role":"admin"})"},
      {"PATCH", "/api/users/admin", R"({"password":"taken-over-123"})"},
      {"DELETE", "/api/users/admin", ""},
      {"POST", "/api/tokens", R"({"name":"eve","role":"admin"})"},
      {"DELETE", "/api/tokens/test-harness", ""},
      {"POST", "/api/silences", R"({"match":{"node":"*"},"duration":"1h"})"},
      {"PATCH", "/api/silences/1", R"({"duration":"2h"})"},
      {"DELETE", "/api/silences/1", ""},
      {"POST", "/api/nodes/edgemon/x/targets", R"({"host":"10.0.0.1"})"},
      {"DELETE", "/api/nodes/edgemon/x/targets/10.0.0.1", ""},
      {"POST", "/api/rules", R"({"name":"evil","kind":"node_down"})"},
      {"PUT", "/api/rules/evil", R"({"kind":"node_down"})"},
      {"DELETE", "/api/rules/evil", ""},
      {"POST", "/api/nodes", "{}"},
      {"PUT", "/api/fleet", "{}"},
  };
  return routes;
}

HttpResponse call(std::uint16_t port, const Route& route, std::vector<std::pair<std::string, std::string>> headers,
                  bool default_auth = false) {
  HttpRequest r;
  r.method = route.method;
  r.path = route.path;
  r.body = route.body;
  r.headers = std::move(headers);
  r.default_auth = default_auth;
  return http_request(port, r);
}

struct Login {
  int status = 0;
  std::string cookie;  // "edgemon_session=..."
  std::string csrf;
  std::string set_cookie;
  HttpResponse response;
};

Login login(std::uint16_t port, const std::string& user, const std::string& password,
            const std::string& source_addr = "") {
  HttpRequest r;
  r.method = "POST";
  r.path = "/api/login";
  r.default_auth = false;
  r.source_addr = source_addr;
  r.body = nlohmann::json{{"user", user}, {"password", password}}.dump();
  Login out;
  out.response = http_request(port, r);
  out.status = out.response.status;
  out.set_cookie = out.response.header("set-cookie");
  out.cookie = cookie_from(out.response, "edgemon_session");
  if (out.status == 200) out.csrf = nlohmann::json::parse(out.response.body).at("csrf_token").get<std::string>();
  return out;
}

int status_of(std::uint16_t port, const std::string& method, const std::string& path,
              std::vector<std::pair<std::string, std::string>> headers, const std::string& body = "") {
  return call(port, {method, path, body}, std::move(headers)).status;
}

// An admin creates a user through the API (with the harness's token).
void create_user(std::uint16_t port, const std::string& name, const std::string& password, const std::string& role) {
  HttpRequest r;
  r.method = "POST";
  r.path = "/api/users";
  r.body = nlohmann::json{{"name", name}, {"password", password}, {"role", role}}.dump();
  const HttpResponse res = http_request(port, r);
  ASSERT_EQ(res.status, 201) << res.body;
}

TEST(ApiAuth, AnonymousClientsGet401EverywhereButTheHealthCheckLoginAndDashboardFiles) {
  TestFleet fleet;
  const std::uint16_t port = fleet.http_port();
  for (const Route& route : protected_routes()) {
    const HttpResponse res = call(port, route, {});
    EXPECT_EQ(res.status, 401) << route.method << " " << route.path << ": " << res.body;
    if (route.method != "HEAD") {
      EXPECT_NE(res.body.find("authentication required"), std::string::npos) << route.path << ": " << res.body;
    }
    // Bad credentials of every kind are no better than none.
    for (const auto& header : std::vector<std::pair<std::string, std::string>>{
             {"Authorization", "Bearer emt_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},
             {"Authorization", "Basic YWRtaW46d3Jvbmc="},  // admin:wrong
             {"Authorization", "Negotiate abc"},
             {"Cookie", "edgemon_session=forged-session-id"}}) {
      if (route.path != "/api/nodes") continue;  // once per credential kind is enough
      EXPECT_EQ(call(port, route, {header}).status, 401) << header.first << ": " << header.second;
    }
  }
  EXPECT_EQ(ws_handshake_status(port, "/ws", fleet.url().substr(0, fleet.url().size() - 1), {}, false), 401);

  HttpRequest health;
  health.path = "/api/health";
  health.default_auth = false;
  EXPECT_EQ(http_request(port, health).status, 200);
  HttpRequest page;
  page.path = "/";
  page.default_auth = false;
  const HttpResponse index = http_request(port, page);
  EXPECT_EQ(index.status, 200) << "the dashboard (and its login page) is public";
  EXPECT_NE(index.body.find("<html"), std::string::npos);
  EXPECT_EQ(login(port, "admin", "not-the-password").status, 401);
}

TEST(ApiAuth, LoginSetsAStrictHttpOnlyCookieAndLogoutRevokesIt) {
  TestFleet fleet;
  const std::uint16_t port = fleet.http_port();
  const Login admin = login(port, TestFleet::kAdminUser, TestFleet::kAdminPassword);
  ASSERT_EQ(admin.status, 200) << admin.response.body;
  EXPECT_NE(admin.set_cookie.find("HttpOnly"), std::string::npos) << admin.set_cookie;
  EXPECT_NE(admin.set_cookie.find("SameSite=Strict"), std::string::npos) << admin.set_cookie;
  EXPECT_NE(admin.set_cookie.find("Path=/"), std::string::npos) << admin.set_cookie;
  EXPECT_EQ(admin.set_cookie.find("Secure"), std::string::npos) << "no TLS on this listener: " << admin.set_cookie;

  const HttpResponse me = call(port, {"GET", "/api/me", ""}, {{"Cookie", admin.cookie}});
  ASSERT_EQ(me.status, 200);
  const auto who = nlohmann::json::parse(me.body);
  EXPECT_EQ(who["user"], "admin");
  EXPECT_EQ(who["role"], "admin");
  EXPECT_EQ(who["via"], "cookie");
  EXPECT_EQ(who["csrf_token"], admin.csrf);
  const std::string origin = "http://127.0.0.1:" + std::to_string(port);
  EXPECT_EQ(ws_handshake_status(port, "/ws", origin, {{"Cookie", admin.cookie}}, false), 101);

  EXPECT_EQ(status_of(port, "POST", "/api/logout", {{"Cookie", admin.cookie}}), 403) << "logout needs the CSRF token";
  const HttpResponse out = call(port, {"POST", "/api/logout", ""}, {{"Cookie", admin.cookie}, {"X-CSRF-Token", admin.csrf}});
  ASSERT_EQ(out.status, 200) << out.body;
  EXPECT_NE(out.header("set-cookie").find("Max-Age=0"), std::string::npos) << out.header("set-cookie");
  EXPECT_EQ(status_of(port, "GET", "/api/me", {{"Cookie", admin.cookie}}), 401) << "the old cookie no longer works";
  EXPECT_EQ(status_of(port, "GET", "/api/nodes", {{"Cookie", admin.cookie}}), 401);
  EXPECT_EQ(ws_handshake_status(port, "/ws", origin, {{"Cookie", admin.cookie}}, false), 401);
}

TEST(ApiAuth, AViewerCanReadButChangeNothing) {
  TestFleet fleet;
  const std::uint16_t port = fleet.http_port();
  create_user(port, "vera", "vera-password-1", "viewer");
  const Login vera = login(port, "vera", "vera-password-1");
  ASSERT_EQ(vera.status, 200);
  EXPECT_EQ(nlohmann::json::parse(vera.response.body)["role"], "viewer");
  const std::string basic = "Basic dmVyYTp2ZXJhLXBhc3N3b3JkLTE=";  // vera:vera-password-1

  for (const Route& route : protected_routes()) {
    const bool reads = route.method == "GET" || route.method == "HEAD";
    // Her own session and password: allowed (OwnPasswordChange... below).
    if (route.path == "/api/logout" || route.path == "/api/me/password") continue;
    const std::vector<std::pair<std::string, std::string>> cookie = {{"Cookie", vera.cookie}, {"X-CSRF-Token", vera.csrf}};
    const HttpResponse by_cookie = call(port, route, cookie);
    const HttpResponse by_basic = call(port, route, {{"Authorization", basic}});
    if (!reads) {
      EXPECT_EQ(by_cookie.status, 403) << route.method << " " << route.path << ": " << by_cookie.body;
      EXPECT_EQ(by_basic.status, 403) << route.method << " " << route.path << ": " << by_basic.body;
    } else if (route.path == "/api/users" || route.path == "/api/tokens") {
      EXPECT_EQ(by_cookie.status, 403) << "only admins see users and tokens: " << route.path;
    } else if (route.path == "/api/no-such-endpoint" || route.path.rfind("/api/nodes/edgemon/x", 0) == 0) {
      EXPECT_EQ(by_cookie.status, 404);  // no such endpoint / node
    } else {
      EXPECT_EQ(by_cookie.status, 200) << route.method << " " << route.path << ": " << by_cookie.body;
      EXPECT_EQ(by_basic.status, 200) << route.method << " " << route.path << ": " << by_basic.body;
    }
  }
  // Nothing changed: still two users, the admin's password and the harness token still work.
  HttpRequest users;
  users.path = "/api/users";
  const HttpResponse list = http_request(port, users);
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(nlohmann::json::parse(list.body).size(), 2u) << list.body;
  EXPECT_EQ(login(port, TestFleet::kAdminUser, TestFleet::kAdminPassword).status, 200);

  // A password change by an admin revokes the viewer's sessions.
  HttpRequest change;
  change.method = "PATCH";
  change.path = "/api/users/vera";
  change.body = R"({"password":"vera-password-2"})";
  ASSERT_EQ(http_request(port, change).status, 200);
  EXPECT_EQ(status_of(port, "GET", "/api/me", {{"Cookie", vera.cookie}}), 401);
  EXPECT_EQ(login(port, "vera", "vera-password-2").status, 200);
}

TEST(ApiAuth, CookieRequestsThatChangeStateNeedTheCsrfTokenScriptsDoNot) {
  TestFleet fleet;
  const std::uint16_t port = fleet.http_port();
  const Login admin = login(port, TestFleet::kAdminUser, TestFleet::kAdminPassword);
  ASSERT_EQ(admin.status, 200);
  const std::string body = R"({"name":"ci-reader","role":"viewer"})";
  EXPECT_EQ(status_of(port, "POST", "/api/tokens", {{"Cookie", admin.cookie}}, body), 403) << "no token";
  EXPECT_EQ(status_of(port, "POST", "/api/tokens", {{"Cookie", admin.cookie}, {"X-CSRF-Token", "forged"}}, body), 403);
  EXPECT_EQ(status_of(port, "POST", "/api/tokens", {{"Cookie", admin.cookie}, {"X-CSRF-Token", admin.csrf}}, body), 201);
  // A token or Basic is not sent by a browser on its own: no CSRF token needed.
  EXPECT_EQ(status_of(port, "DELETE", "/api/tokens/ci-reader", {{"Authorization", fleet.authorization()}}), 200);
  // Login only takes JSON (a cross-site form cannot send it without a preflight) from our origin.
  HttpRequest form;
  form.method = "POST";
  form.path = "/api/login";
  form.default_auth = false;
  form.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
  form.body = "user=admin&password=edgemon-test-admin-pw";
  EXPECT_EQ(http_request(port, form).status, 415);
  HttpRequest foreign;
  foreign.method = "POST";
  foreign.path = "/api/login";
  foreign.default_auth = false;
  foreign.headers = {{"Origin", "http://evil.example"}};
  foreign.body = nlohmann::json{{"user", TestFleet::kAdminUser}, {"password", TestFleet::kAdminPassword}}.dump();
  EXPECT_EQ(http_request(port, foreign).status, 403);
}

TEST(ApiAuth, WebSocketHandshakeChecksCredentialsAndOrigin) {
  TestFleet fleet;
  const std::uint16_t port = fleet.http_port();
  const Login admin = login(port, TestFleet::kAdminUser, TestFleet::kAdminPassword);
  ASSERT_EQ(admin.status, 200);
  const std::string own = "http://127.0.0.1:" + std::to_string(port);
  EXPECT_EQ(ws_handshake_status(port, "/ws", own, {{"Cookie", admin.cookie}}, false), 101);
  EXPECT_EQ(ws_handshake_status(port, "/ws", "http://evil.example", {{"Cookie", admin.cookie}}, false), 403);
  EXPECT_EQ(ws_handshake_status(port, "/ws", "http://127.0.0.1:1", {{"Cookie", admin.cookie}}, false), 403)
      << "another port is another origin";
  EXPECT_EQ(ws_handshake_status(port, "/ws", "", {{"Cookie", admin.cookie}}, false), 403)
      << "a browser always sends Origin; a cookie without one is not a browser's";
  EXPECT_EQ(ws_handshake_status(port, "/ws", "", {}, true), 101) << "a script with a token needs no Origin";
  EXPECT_EQ(ws_handshake_status(port, "/ws", "http://evil.example", {}, true), 403);
  EXPECT_EQ(ws_handshake_status(port, "/ws", own, {}, false), 401);
}

TEST(ApiAuth, TheEleventhLoginAttemptWithinAMinuteGets429) {
  TestFleet fleet;
  const std::uint16_t port = fleet.http_port();
  create_user(port, "target", "target-password-1", "viewer");
  // From an address of its own (the harness logged in from 127.0.0.1).
  for (int i = 1; i <= 10; ++i) {
    const Login attempt = login(port, "target", "guess-" + std::to_string(i), "127.0.0.2");
    ASSERT_EQ(attempt.status, 401) << "attempt " << i << ": " << attempt.response.body;
  }
  const Login eleventh = login(port, "target", "target-password-1", "127.0.0.2");
  EXPECT_EQ(eleventh.status, 429) << "even with the right password";
  const int retry_after = std::atoi(eleventh.response.header("retry-after").c_str());
  EXPECT_GE(retry_after, 1);
  EXPECT_LE(retry_after, 60);
  EXPECT_EQ(nlohmann::json::parse(eleventh.response.body)["retry_after_s"], retry_after);
  // Another client and another user are not locked out by it.
  EXPECT_EQ(login(port, TestFleet::kAdminUser, TestFleet::kAdminPassword, "127.0.0.3").status, 200);
  // Basic password guessing is limited the same way (it shares the per-client budget).
  HttpRequest basic;
  basic.path = "/api/nodes";
  basic.source_addr = "127.0.0.2";
  basic.headers = {{"Authorization", "Basic dGFyZ2V0OnRhcmdldC1wYXNzd29yZC0x"}};  // target:target-password-1
  const HttpResponse limited = http_request(port, basic);
  EXPECT_EQ(limited.status, 429) << limited.body;
  EXPECT_FALSE(limited.header("retry-after").empty());
}

// Reads until the server closes the WebSocket or `within` passes. The close frame's code and
// reason, and how long it took; nullopt if it stayed open (or ended without a close frame).
struct Closed {
  std::optional<std::pair<int, std::string>> frame;
  std::chrono::milliseconds after{0};
};

Closed wait_closed(WsClient& ws, std::chrono::milliseconds within) {
  const auto start = std::chrono::steady_clock::now();
  const auto deadline = start + within;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return {};
    if (!ws.read(left)) {
      return {ws.close_frame(), std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start)};
    }
  }
}

// A WebSocket stays open: nothing but frames (or silence) for `during`. Consumes the client.
bool stays_open(WsClient& ws, std::chrono::milliseconds during) {
  const Closed c = wait_closed(ws, during);
  return !c.frame.has_value();
}

std::unique_ptr<WsClient> open_ws(std::uint16_t port, const std::vector<std::pair<std::string, std::string>>& headers,
                                  bool with_origin = true) {
  const std::string origin = with_origin ? "http://127.0.0.1:" + std::to_string(port) : "";
  auto ws = std::make_unique<WsClient>(port, "/ws", origin, headers, false);
  const auto first = ws->read(std::chrono::seconds(5));
  EXPECT_TRUE(first.has_value());
  if (first) {
    EXPECT_EQ(nlohmann::json::parse(*first)["type"], "snapshot");
  }
  return ws;
}

void expect_revoked(WsClient& ws, const std::string& why) {
  const Closed c = wait_closed(ws, std::chrono::milliseconds(1000));
  ASSERT_TRUE(c.frame.has_value()) << why << ": the WebSocket was not closed within 1 s";
  EXPECT_EQ(c.frame->first, 4401) << why;
  EXPECT_NE(c.frame->second.find("credentials revoked"), std::string::npos) << why << ": " << c.frame->second;
}

TEST(ApiAuth, LogoutClosesThatSessionsWebSocketsAtOnce) {
  TestFleet fleet;
  const std::uint16_t port = fleet.http_port();
  const Login first = login(port, TestFleet::kAdminUser, TestFleet::kAdminPassword);
  const Login second = login(port, TestFleet::kAdminUser, TestFleet::kAdminPassword);
  ASSERT_EQ(first.status, 200);
  ASSERT_EQ(second.status, 200);
  auto ws1 = open_ws(port, {{"Cookie", first.cookie}});
  auto ws1b = open_ws(port, {{"Cookie", first.cookie}});
  auto ws2 = open_ws(port, {{"Cookie", second.cookie}});
  auto by_token = open_ws(port, {{"Authorization", fleet.authorization()}}, false);

  const HttpResponse out = call(port, {"POST", "/api/logout", ""}, {{"Cookie", first.cookie}, {"X-CSRF-Token", first.csrf}});
  ASSERT_EQ(out.status, 200) << out.body;
  expect_revoked(*ws1, "logout");
  expect_revoked(*ws1b, "logout, the session's second socket");
  EXPECT_TRUE(stays_open(*ws2, std::chrono::milliseconds(300))) << "another session of the same user";
  EXPECT_TRUE(stays_open(*by_token, std::chrono::milliseconds(100)));

  HttpRequest health;
  health.path = "/api/health";
  const auto h = nlohmann::json::parse(http_request(port, health).body);
  EXPECT_EQ(h["ws"]["clients_revoked"], 2) << h.dump();
}

TEST(ApiAuth, DeletingATokenClosesItsWebSocketsAtOnce) {
  TestFleet fleet;
  const std::uint16_t port = fleet.http_port();
  HttpRequest create;
  create.method = "POST";
  create.path = "/api/tokens";
  create.body = R"({"name":"ws-reader","role":"viewer"})";
  const HttpResponse made = http_request(port, create);
  ASSERT_EQ(made.status, 201) << made.body;
  const std::string token = nlohmann::json::parse(made.body).at("token").get<std::string>();
  auto reader = open_ws(port, {{"Authorization", "Bearer " + token}}, false);
  auto harness = open_ws(port, {{"Authorization", fleet.authorization()}}, false);

  EXPECT_EQ(status_of(port, "DELETE", "/api/tokens/ws-reader", {{"Authorization", fleet.authorization()}}), 200);
  expect_revoked(*reader, "token deleted");
  EXPECT_TRUE(stays_open(*harness, std::chrono::milliseconds(300))) << "other tokens are not affected";
}

TEST(ApiAuth, AnAdminsPasswordChangeOrDeletionClosesTheUsersWebSockets) {
  TestFleet fleet;
  const std::uint16_t port = fleet.http_port();
  create_user(port, "walt", "walt-password-1", "viewer");
  const Login walt = login(port, "walt", "walt-password-1");
  ASSERT_EQ(walt.status, 200);
  auto by_cookie = open_ws(port, {{"Cookie", walt.cookie}});
  auto by_basic = open_ws(port, {{"Authorization", "Basic d2FsdDp3YWx0LXBhc3N3b3JkLTE="}}, false);  // walt:walt-password-1
  HttpRequest change;
  change.method = "PATCH";
  change.path = "/api/users/walt";
  change.body = R"({"password":"walt-password-2"})";
  ASSERT_EQ(http_request(port, change).status, 200);
  expect_revoked(*by_cookie, "password changed by an admin");
  expect_revoked(*by_basic, "password changed by an admin (Basic)");

  const Login again = login(port, "walt", "walt-password-2");
  ASSERT_EQ(again.status, 200);
  auto ws = open_ws(port, {{"Cookie", again.cookie}});
  EXPECT_EQ(status_of(port, "DELETE", "/api/users/walt", {{"Authorization", fleet.authorization()}}), 200);
  expect_revoked(*ws, "user deleted");
}

HttpResponse change_own_password(std::uint16_t port, const std::vector<std::pair<std::string, std::string>>& headers,
                                 const std::string& current, const std::string& next,
                                 const std::string& source_addr = "") {
  HttpRequest r;
  r.method = "POST";
  r.path = "/api/me/password";
  r.headers = headers;
  r.default_auth = false;
  r.source_addr = source_addr;
  r.body = nlohmann::json{{"current", current}, {"new", next}}.dump();
  return http_request(port, r);
}

TEST(ApiAuth, OwnPasswordChangeKeepsTheCurrentSessionAndRevokesTheOthers) {
  TestFleet fleet;
  const std::uint16_t port = fleet.http_port();
  create_user(port, "vera", "vera-password-1", "viewer");
  const Login here = login(port, "vera", "vera-password-1");
  const Login elsewhere = login(port, "vera", "vera-password-1");
  ASSERT_EQ(here.status, 200);
  ASSERT_EQ(elsewhere.status, 200);
  const std::vector<std::pair<std::string, std::string>> cookie = {{"Cookie", here.cookie}, {"X-CSRF-Token", here.csrf}};
  auto ws_here = open_ws(port, {{"Cookie", here.cookie}});
  auto ws_elsewhere = open_ws(port, {{"Cookie", elsewhere.cookie}});

  EXPECT_EQ(change_own_password(port, {{"Cookie", here.cookie}}, "vera-password-1", "vera-password-2").status, 403)
      << "a cookie needs the CSRF token";
  HttpResponse res = change_own_password(port, cookie, "wrong-password", "vera-password-2");
  EXPECT_EQ(res.status, 403) << res.body;
  res = change_own_password(port, cookie, "vera-password-1", "short");
  EXPECT_EQ(res.status, 400) << "the policy of user creation: " << res.body;
  HttpRequest bad = {"POST", "/api/me/password", R"({"new":"vera-password-2"})", cookie, false, ""};
  EXPECT_EQ(http_request(port, bad).status, 400);
  HttpRequest get = {"GET", "/api/me/password", "", cookie, false, ""};
  EXPECT_EQ(http_request(port, get).status, 405);
  EXPECT_EQ(status_of(port, "GET", "/api/me", {{"Cookie", elsewhere.cookie}}), 200) << "nothing changed yet";

  res = change_own_password(port, cookie, "vera-password-1", "vera-password-2");
  ASSERT_EQ(res.status, 200) << "a viewer may change her own password: " << res.body;
  expect_revoked(*ws_elsewhere, "own password change: the other session");
  EXPECT_TRUE(stays_open(*ws_here, std::chrono::milliseconds(300))) << "the session it was made from stays";
  EXPECT_EQ(status_of(port, "GET", "/api/me", {{"Cookie", here.cookie}}), 200) << "the current session is kept";
  EXPECT_EQ(status_of(port, "GET", "/api/me", {{"Cookie", elsewhere.cookie}}), 401);
  EXPECT_EQ(login(port, "vera", "vera-password-1").status, 401);
  EXPECT_EQ(login(port, "vera", "vera-password-2").status, 200);

  // Basic may change it too (then no session is kept); a token has no password.
  res = change_own_password(port, {{"Authorization", "Basic dmVyYTp2ZXJhLXBhc3N3b3JkLTI="}},  // vera:vera-password-2
                            "vera-password-2", "vera-password-3");
  EXPECT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(status_of(port, "GET", "/api/me", {{"Cookie", here.cookie}}), 401);
  EXPECT_EQ(change_own_password(port, {{"Authorization", fleet.authorization()}}, "x-password-1", "y-password-1").status, 403);
}

TEST(ApiAuth, WrongCurrentPasswordsCountTowardTheLoginRateLimit) {
  TestFleet fleet;
  const std::uint16_t port = fleet.http_port();
  create_user(port, "target", "target-password-1", "viewer");
  const Login target = login(port, "target", "target-password-1", "127.0.0.6");  // its own budget
  ASSERT_EQ(target.status, 200);
  const std::vector<std::pair<std::string, std::string>> cookie = {{"Cookie", target.cookie}, {"X-CSRF-Token", target.csrf}};
  for (int i = 1; i <= 10; ++i) {
    const HttpResponse res = change_own_password(port, cookie, "guess-" + std::to_string(i) + "-pw", "target-password-2", "127.0.0.4");
    ASSERT_EQ(res.status, 403) << "attempt " << i << ": " << res.body;
  }
  const HttpResponse limited = change_own_password(port, cookie, "target-password-1", "target-password-2", "127.0.0.4");
  EXPECT_EQ(limited.status, 429) << "even with the right password: " << limited.body;
  EXPECT_FALSE(limited.header("retry-after").empty());
  EXPECT_EQ(login(port, "target", "target-password-1", "127.0.0.5").status, 429) << "the user's budget is spent";
}

TEST(ApiAuth, OversizedRequestsAreRefusedBeforeAnyWork) {
  TestFleet fleet;
  HttpRequest big;
  big.method = "POST";
  big.path = "/api/login";
  big.default_auth = false;
  big.body = std::string(100 * 1024, 'x');
  EXPECT_EQ(http_request(fleet.http_port(), big).status, 413);
  HttpRequest huge_header;
  huge_header.path = "/api/health";
  huge_header.headers = {{"X-Filler", std::string(20 * 1024, 'y')}};
  EXPECT_EQ(http_request(fleet.http_port(), huge_header).status, 431);
  EXPECT_EQ(http_get(fleet.http_port(), "/api/health").empty(), false) << "and the gateway keeps serving";
}

}  // namespace
}  // namespace edgemon::test
