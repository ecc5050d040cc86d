#include "edgemon/auth/http_auth.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>

#include "edgemon/auth/crypto.h"

namespace edgemon::auth {
namespace {

using ::testing::ElementsAre;
using Scheme = Authorization::Scheme;

TEST(HttpAuth, CookieValues) {
  EXPECT_THAT(cookie_values("edgemon_session=abc", "edgemon_session"), ElementsAre("abc"));
  EXPECT_THAT(cookie_values("a=1; edgemon_session=abc ;b=2", "edgemon_session"), ElementsAre("abc"));
  EXPECT_THAT(cookie_values("edgemon_session=x; edgemon_session=y", "edgemon_session"), ElementsAre("x", "y"));
  EXPECT_THAT(cookie_values("xedgemon_session=abc; edgemon_sessionx=1", "edgemon_session"), ElementsAre());
  EXPECT_THAT(cookie_values("", "edgemon_session"), ElementsAre());
  EXPECT_THAT(cookie_values(";;;==;edgemon_session", "edgemon_session"), ElementsAre());
  EXPECT_THAT(cookie_values("edgemon_session=", "edgemon_session"), ElementsAre(""));
  EXPECT_EQ(cookie_values("edgemon_session=a;edgemon_session=a;edgemon_session=a;edgemon_session=a;edgemon_session=a",
                          "edgemon_session")
                .size(),
            4u);  // bounded
  EXPECT_THAT(cookie_values("edgemon_session=abc; " + std::string(kMaxHeaderBytes, 'x'), "edgemon_session"), ElementsAre());
}

TEST(HttpAuth, ParsesBearer) {
  const Authorization a = parse_authorization("Bearer emt_abc");
  EXPECT_EQ(a.scheme, Scheme::kBearer);
  EXPECT_EQ(a.bearer, "emt_abc");
  EXPECT_EQ(parse_authorization("  bearer   tok  ").bearer, "tok");
  EXPECT_EQ(parse_authorization("BEARER tok").scheme, Scheme::kBearer);
}

TEST(HttpAuth, ParsesBasic) {
  const Authorization a = parse_authorization("Basic " + base64_encode("alice:pa:ss word"));
  EXPECT_EQ(a.scheme, Scheme::kBasic);
  EXPECT_EQ(a.user, "alice");
  EXPECT_EQ(a.password, "pa:ss word");  // split at the first ':'
  const Authorization empty = parse_authorization("basic " + base64_encode(":"));
  EXPECT_EQ(empty.scheme, Scheme::kBasic);
  EXPECT_EQ(empty.user, "");
  EXPECT_EQ(empty.password, "");
}

TEST(HttpAuth, MalformedAuthorizationIsOtherOrNone) {
  EXPECT_EQ(parse_authorization("").scheme, Scheme::kNone);
  EXPECT_EQ(parse_authorization("   ").scheme, Scheme::kNone);
  for (const std::string& bad : {std::string("Bearer"), std::string("Bearer "), std::string("Bearer a b"),
                                std::string("Basic !!!!"), std::string("Basic ") + base64_encode("nocolon"),
                                std::string("Digest username=x"), std::string("Basic"), std::string("Negotiate abc")}) {
    EXPECT_EQ(parse_authorization(bad).scheme, Scheme::kOther) << bad;
  }
  EXPECT_EQ(parse_authorization("Bearer " + std::string(kMaxHeaderBytes, 'a')).scheme, Scheme::kOther);
}

TEST(HttpAuth, TokenShape) {
  auto t = random_token(32);
  ASSERT_TRUE(t);
  EXPECT_TRUE(looks_like_token("emt_" + *t));
  EXPECT_FALSE(looks_like_token(*t));
  EXPECT_FALSE(looks_like_token("emt_" + t->substr(1)));
  EXPECT_FALSE(looks_like_token("emt_" + t->substr(1) + "!"));
}

TEST(HttpAuth, SafeMethods) {
  for (const char* m : {"GET", "HEAD", "OPTIONS"}) EXPECT_TRUE(is_safe_method(m)) << m;
  for (const char* m : {"POST", "PUT", "PATCH", "DELETE", "get", "", "PROPFIND", "TRACE"}) EXPECT_FALSE(is_safe_method(m)) << m;
}

TEST(HttpAuth, OriginSameHost) {
  const std::vector<std::string> none;
  EXPECT_TRUE(origin_allowed("http://gw.lan:8080", "gw.lan:8080", none));
  EXPECT_TRUE(origin_allowed("http://GW.lan:8080", "gw.LAN:8080", none));
  EXPECT_TRUE(origin_allowed("https://gw.lan", "gw.lan", none));
  EXPECT_TRUE(origin_allowed("https://gw.lan", "gw.lan:443", none));
  EXPECT_TRUE(origin_allowed("http://gw.lan:80", "gw.lan", none));
  EXPECT_TRUE(origin_allowed("http://127.0.0.1:8080", "127.0.0.1:8080", none));
  EXPECT_TRUE(origin_allowed("http://[::1]:8080", "[::1]:8080", none));
}

TEST(HttpAuth, OriginOtherHostOrPortIsRejected) {
  const std::vector<std::string> none;
  EXPECT_FALSE(origin_allowed("http://evil.example:8080", "gw.lan:8080", none));
  EXPECT_FALSE(origin_allowed("http://gw.lan:8081", "gw.lan:8080", none));
  EXPECT_FALSE(origin_allowed("https://gw.lan", "gw.lan:80", none));  // https default 443
  EXPECT_FALSE(origin_allowed("http://gw.lan.evil.example", "gw.lan", none));
  EXPECT_FALSE(origin_allowed("http://gw.lan/path", "gw.lan", none));
  EXPECT_FALSE(origin_allowed("http://user@gw.lan", "gw.lan", none));
  EXPECT_FALSE(origin_allowed("ws://gw.lan", "gw.lan", none));
  EXPECT_FALSE(origin_allowed("file://", "gw.lan", none));
}

TEST(HttpAuth, MissingOrNullOriginIsRejected) {
  const std::vector<std::string> all{"http://gw.lan"};
  EXPECT_FALSE(origin_allowed("", "gw.lan", all));
  EXPECT_FALSE(origin_allowed("null", "gw.lan", all));
  EXPECT_FALSE(origin_allowed("http://", "", all));
}

TEST(HttpAuth, ConfiguredOrigins) {
  const std::vector<std::string> allowed{"https://dash.example.org", "http://10.0.0.5:3000"};
  EXPECT_TRUE(origin_allowed("https://dash.example.org", "gw.lan:8080", allowed));
  EXPECT_TRUE(origin_allowed("https://DASH.example.org:443", "gw.lan:8080", allowed));
  EXPECT_TRUE(origin_allowed("http://10.0.0.5:3000", "gw.lan:8080", allowed));
  EXPECT_FALSE(origin_allowed("http://dash.example.org", "gw.lan:8080", allowed));  // scheme differs
  EXPECT_FALSE(origin_allowed("http://10.0.0.5:3001", "gw.lan:8080", allowed));
}

TEST(HttpAuth, NormalizeOrigin) {
  EXPECT_EQ(normalize_origin("HTTPS://Dash.Example.org").value(), "https://dash.example.org:443");
  EXPECT_EQ(normalize_origin("http://h:8080").value(), "http://h:8080");
  EXPECT_FALSE(normalize_origin("http://h:8080/"));
  EXPECT_FALSE(normalize_origin("http://h:0"));
  EXPECT_FALSE(normalize_origin("http://h:99999"));
  EXPECT_FALSE(normalize_origin("h:8080"));
}

TEST(HttpAuth, ClientKey) {
  EXPECT_EQ(client_key("192.0.2.7"), "192.0.2.7");
  EXPECT_EQ(client_key("192.0.2.7:51234"), "192.0.2.7");
  EXPECT_EQ(client_key("::ffff:192.0.2.7"), "192.0.2.7");
  EXPECT_EQ(client_key("2001:db8:1:2:3:4:5:6"), "2001:db8:1:2::/64");
  EXPECT_EQ(client_key("[2001:db8:1:2::9]:443"), "2001:db8:1:2::/64");
  EXPECT_EQ(client_key("2001:db8:1:2:ffff::1"), client_key("2001:db8:1:2::2"));
  EXPECT_EQ(client_key(std::string(200, 'x')).size(), 64u);
}

// Random bytes and mutated near-valid headers into every parser: no crash, no hang, and nothing
// that is not well formed is ever accepted as a token.
TEST(HttpAuth, GarbageNeverCrashes) {
  std::mt19937 rng(12345);
  const std::vector<std::string> seeds = {"Basic " + base64_encode("admin:password1"), "Bearer emt_x",
                                          "a=1; edgemon_session=abc", "http://[::1]:8080", "[fe80::1]:80"};
  const std::vector<std::string> allowed{"https://dash.example.org"};
  for (int i = 0; i < 20000; ++i) {
    std::string s;
    if (i % 2 == 0) {
      s.resize(rng() % 300);
      for (char& c : s) c = static_cast<char>(rng());
    } else {
      s = seeds[rng() % seeds.size()];
      for (int m = 0; m < 4; ++m) {
        const std::size_t at = s.empty() ? 0 : rng() % s.size();
        switch (rng() % 3) {
          case 0:
            if (!s.empty()) s[at] = static_cast<char>(rng());
            break;
          case 1:
            s.insert(at, 1, static_cast<char>(rng()));
            break;
          default:
            if (!s.empty()) s.erase(at, 1);
            break;
        }
      }
    }
    (void)cookie_values(s, "edgemon_session");
    const Authorization a = parse_authorization(s);
    if (a.scheme == Scheme::kBasic) {
      EXPECT_LE(a.user.size() + a.password.size(), s.size());
    }
    (void)origin_allowed(s, s, allowed);
    (void)origin_allowed("http://gw.lan", s, allowed);
    (void)normalize_origin(s);
    (void)client_key(s);
    (void)is_safe_method(s);
    (void)base64_decode(s);
    EXPECT_FALSE(looks_like_token(s) && s.size() != 47);
  }
}

}  // namespace
}  // namespace edgemon::auth
