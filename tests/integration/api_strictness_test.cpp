// Issue 13's API findings against a real gateway over HTTP: unknown members are refused (a token
// "expires" that was silently ignored gave a token that never expired), extreme integers are
// refused instead of overflowing, a PATCH is all or nothing, a failed history read is an error.
#include <sqlite3.h>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support/test_fleet.h"
#include "support/ws_client.h"

namespace edgemon::test {
namespace {

using nlohmann::json;

json body_of(const HttpResponse& r) { return json::parse(r.body, nullptr, false); }

TEST(ApiStrictness, UnknownMembersAreRefusedByNameAndChangeNothing) {
  TestFleet fleet;
  const std::uint16_t port = fleet.http_port();
  HttpResponse token = http_send(port, "POST", "/api/tokens", R"({"name":"ci","role":"viewer","expires":5})");
  EXPECT_EQ(token.status, 400) << token.body;
  EXPECT_NE(token.body.find("unknown member(s): expires"), std::string::npos) << token.body;
  EXPECT_EQ(http_get(port, "/api/tokens").find("\"ci\""), std::string::npos) << "no token was made";

  HttpResponse user = http_send(port, "POST", "/api/users",
                                R"({"name":"bob","password":"a-long-password","role":"viewer","admin":true})");
  EXPECT_EQ(user.status, 400) << user.body;
  EXPECT_EQ(http_get(port, "/api/users").find("\"bob\""), std::string::npos);

  HttpResponse silence =
      http_send(port, "POST", "/api/silences", R"({"match":{"node":"x/y"},"duration":"1h","reason":"typo of comment"})");
  EXPECT_EQ(silence.status, 400) << silence.body;
  EXPECT_EQ(body_of(http_send(port, "GET", "/api/silences")).size(), 0u);
}

TEST(ApiStrictness, ExtremeIntegersAreRefusedNotOverflowed) {
  TestFleet fleet;
  const std::uint16_t port = fleet.http_port();
  for (const char* bad : {"-9223372036854775808", "9223372036854775807", "-1", "18446744073709551616", "1e300"}) {
    int status = 0;
    http_get(port, std::string("/api/history?node=edgemon/pi&metric=cpu/total&from=") + bad, &status);
    EXPECT_EQ(status, 400) << "from=" << bad;
    http_get(port, std::string("/api/history?node=edgemon/pi&metric=cpu/total&to=") + bad, &status);
    EXPECT_EQ(status, 400) << "to=" << bad;
    const HttpResponse s =
        http_send(port, "POST", "/api/silences", std::string(R"({"match":{"node":"x/y"},"until":)") + bad + "}");
    EXPECT_EQ(s.status, 400) << "until=" << bad << ": " << s.body;
  }
  const HttpResponse d = http_send(port, "POST", "/api/silences", R"({"match":{"node":"x/y"},"duration":"36500d36500d"})");
  EXPECT_EQ(d.status, 400) << d.body;  // two centuries: refused, not a time point past the clock's range
  EXPECT_EQ(http_send(port, "GET", "/api/health").status, 200) << "still answering";
}

TEST(ApiStrictness, PatchOfAUserIsAllOrNothing) {
  TestFleet fleet;
  const std::uint16_t port = fleet.http_port();
  ASSERT_EQ(http_send(port, "POST", "/api/users", R"({"name":"carol","password":"a-long-password","role":"viewer"})").status,
            201);
  // The role is fine, the password is too short: nothing may change.
  const HttpResponse patch = http_send(port, "PATCH", "/api/users/carol", R"({"role":"admin","password":"short"})");
  EXPECT_EQ(patch.status, 400) << patch.body;
  const json users = body_of(http_send(port, "GET", "/api/users"));
  bool found = false;
  for (const json& u : users) {
    if (u.value("name", "") != "carol") continue;
    found = true;
    EXPECT_EQ(u.value("role", ""), "viewer") << "the role change was applied before the password was refused";
  }
  EXPECT_TRUE(found);
  // Both valid: both applied.
  EXPECT_EQ(http_send(port, "PATCH", "/api/users/carol", R"({"role":"admin","password":"another-long-one"})").status, 200);
}

TEST(ApiStrictness, AFailedHistoryReadIsAnErrorNotAnEmptyList) {
  TestFleet fleet;
  const std::uint16_t port = fleet.http_port();
  ASSERT_EQ(http_send(port, "GET", "/api/events").status, 200);
  // Take the events table away under the running gateway's reader.
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(fleet.database().c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "ALTER TABLE events RENAME TO events_gone;", nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
  }
  const HttpResponse events = http_send(port, "GET", "/api/events");
  EXPECT_EQ(events.status, 500) << events.body;
  EXPECT_NE(events.body.find("events"), std::string::npos) << "the reason names what failed: " << events.body;
  EXPECT_EQ(http_send(port, "GET", "/api/health").status, 200);
}

}  // namespace
}  // namespace edgemon::test
