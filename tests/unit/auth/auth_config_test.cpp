#include "edgemon/auth/auth_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace edgemon::auth {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

struct Read {
  AuthConfig config;
  Status status;
};

Read read(std::string_view text) {
  auto r = ConfigReader::parse(text, "gateway.toml");
  if (!r) {
    ADD_FAILURE() << r.error().message;
    return {};
  }
  Read out;
  out.config = read_auth_config(*r);
  out.status = r->finish();
  return out;
}

std::string error_of(std::string_view text) {
  Read r = read(text);
  if (r.status) {
    ADD_FAILURE() << "accepted, expected an error";
    return {};
  }
  return r.status.error().message;
}

TEST(AuthConfig, Defaults) {
  Read r = read("");
  ASSERT_TRUE(r.status);
  EXPECT_EQ(r.config.admin_user, "admin");
  EXPECT_EQ(r.config.admin_password, "");
  EXPECT_EQ(r.config.session_idle, 1h);
  EXPECT_EQ(r.config.session_lifetime, 24h);
  EXPECT_EQ(r.config.login_attempts_per_minute, 10);
  EXPECT_TRUE(r.config.allowed_origins.empty());
  EXPECT_EQ(r.config.cookie_secure, CookieSecure::kAuto);
  EXPECT_EQ(auth_database_path(r.config, "/var/lib/edgemon"), "/var/lib/edgemon/auth.db");
}

TEST(AuthConfig, ReadsEveryKey) {
  Read r = read(R"(
[auth]
admin_user = "root@site-1"
admin_password = "s3cret-enough"
session_idle = "30m"
session_lifetime = 43200
login_attempts_per_minute = 5
allowed_origins = ["https://Dash.Example.org", "http://10.0.0.5:3000"]
cookie_secure = true
database = "/tmp/a.db"
)");
  ASSERT_TRUE(r.status) << r.status.error().message;
  EXPECT_EQ(r.config.admin_user, "root@site-1");
  EXPECT_EQ(r.config.admin_password, "s3cret-enough");
  EXPECT_EQ(r.config.session_idle, 30min);
  EXPECT_EQ(r.config.session_lifetime, 12h);
  EXPECT_EQ(r.config.login_attempts_per_minute, 5);
  EXPECT_THAT(r.config.allowed_origins, ::testing::ElementsAre("https://dash.example.org:443", "http://10.0.0.5:3000"));
  EXPECT_EQ(r.config.cookie_secure, CookieSecure::kAlways);
  EXPECT_EQ(auth_database_path(r.config, "/var/lib/edgemon"), "/tmp/a.db");
}

TEST(AuthConfig, CookieSecure) {
  EXPECT_EQ(read("[auth]\ncookie_secure = false\n").config.cookie_secure, CookieSecure::kNever);
  EXPECT_EQ(read("[auth]\ncookie_secure = \"auto\"\n").config.cookie_secure, CookieSecure::kAuto);
  AuthConfig c;
  EXPECT_TRUE(cookie_secure(c, true));
  EXPECT_FALSE(cookie_secure(c, false));
  c.cookie_secure = CookieSecure::kAlways;
  EXPECT_TRUE(cookie_secure(c, false));
  c.cookie_secure = CookieSecure::kNever;
  EXPECT_FALSE(cookie_secure(c, true));
}

TEST(AuthConfig, PasswordFile) {
  Read r = read("[auth]\nadmin_password_file = \"/etc/edgemon/admin-password\"\n");
  ASSERT_TRUE(r.status);
  EXPECT_EQ(r.config.admin_password_file, "/etc/edgemon/admin-password");
}

TEST(AuthConfig, Errors) {
  EXPECT_THAT(error_of("[auth]\nadmin_password = \"short\"\n"), HasSubstr("gateway.toml:2:18: key 'auth.admin_password': a password must be 8 to 1024"));
  EXPECT_THAT(error_of("[auth]\nadmin_password = \"long enough\"\nadmin_password_file = \"/x\"\n"), HasSubstr("not both"));
  EXPECT_THAT(error_of("[auth]\nadmin_user = \"a b\"\n"), HasSubstr("auth.admin_user"));
  EXPECT_THAT(error_of("[auth]\nsession_idle = \"soon\"\n"), HasSubstr("key 'auth.session_idle': must be a duration"));
  EXPECT_THAT(error_of("[auth]\nsession_idle = true\n"), HasSubstr("must be a duration"));
  EXPECT_THAT(error_of("[auth]\nsession_idle = 10\n"), HasSubstr("between 1 minute and 365 days"));
  EXPECT_THAT(error_of("[auth]\nsession_idle = \"2d\"\nsession_lifetime = \"1d\"\n"), HasSubstr("must not be longer"));
  EXPECT_THAT(error_of("[auth]\nlogin_attempts_per_minute = 0\n"), HasSubstr("auth.login_attempts_per_minute"));
  EXPECT_THAT(error_of("[auth]\nallowed_origins = [\"https://x.org/path\"]\n"), HasSubstr("http(s)://host[:port]"));
  EXPECT_THAT(error_of("[auth]\ncookie_secure = \"yes\"\n"), HasSubstr("must be \"auto\", true or false"));
  EXPECT_THAT(error_of("[auth]\nadmin_pasword = \"typo typo\"\n"), HasSubstr("unknown key"));
}

}  // namespace
}  // namespace edgemon::auth
