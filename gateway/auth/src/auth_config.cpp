#include "edgemon/auth/auth_config.h"

#include "edgemon/auth/http_auth.h"
#include "edgemon/auth/password.h"
#include "edgemon/auth/user_store.h"
#include "edgemon/rules/rules_config.h"

namespace edgemon::auth {
namespace {

constexpr std::int64_t kMinSession = 60;                  // 1 minute
constexpr std::int64_t kMaxSession = 365LL * 24 * 3600;  // 1 year

// A duration key: a TOML integer (seconds) or a string rules::parse_duration understands.
std::chrono::seconds read_duration(ConfigReader& r, std::string_view key, std::chrono::seconds def) {
  r.claim(key);
  const toml::node* n = r.root().at_path(key).node();
  if (n == nullptr) return def;
  std::int64_t seconds = -1;
  if (const auto* i = n->as_integer()) {
    seconds = i->get();
  } else if (const auto* s = n->as_string()) {
    auto d = rules::parse_duration(s->get());
    if (!d) {
      r.add_error(key, d.error().message);
      return def;
    }
    seconds = std::chrono::duration_cast<std::chrono::seconds>(*d).count();
  } else {
    r.add_error(key, "must be a duration (\"30m\", \"8h\", \"7d\" or seconds), got " + describe_toml_value(*n));
    return def;
  }
  if (seconds < kMinSession || seconds > kMaxSession) {
    r.add_error(key, "must be between 1 minute and 365 days");
    return def;
  }
  return std::chrono::seconds(seconds);
}

}  // namespace

AuthConfig read_auth_config(ConfigReader& r) {
  AuthConfig c;
  c.admin_user = r.get_string("auth.admin_user", c.admin_user);
  if (!valid_user_name(c.admin_user)) {
    r.add_error("auth.admin_user", "must be 1-64 characters of A-Z a-z 0-9 _ . @ -");
  }
  c.admin_password = r.get_string("auth.admin_password", "");
  if (r.has("auth.admin_password")) {
    if (Status s = check_password_policy(c.admin_password); !s) r.add_error("auth.admin_password", s.error().message);
  }
  c.admin_password_file = r.get_string("auth.admin_password_file", "");
  if (r.has("auth.admin_password_file") && c.admin_password_file.empty()) {
    r.add_error("auth.admin_password_file", "must not be empty");
  }
  if (r.has("auth.admin_password") && r.has("auth.admin_password_file")) {
    r.add_error("auth.admin_password_file", "set admin_password or admin_password_file, not both");
  }
  c.session_idle = read_duration(r, "auth.session_idle", c.session_idle);
  c.session_lifetime = read_duration(r, "auth.session_lifetime", c.session_lifetime);
  if (c.session_idle > c.session_lifetime) {
    r.add_error(r.has("auth.session_idle") ? "auth.session_idle" : "auth.session_lifetime",
                "session_idle must not be longer than session_lifetime");
  }
  c.login_attempts_per_minute =
      static_cast<int>(r.get_int("auth.login_attempts_per_minute", c.login_attempts_per_minute, 1, 10000));
  for (const std::string& o : r.get_string_array("auth.allowed_origins", {})) {
    if (auto n = normalize_origin(o)) {
      c.allowed_origins.push_back(*n);
    } else {
      r.add_error("auth.allowed_origins", "each origin must be http(s)://host[:port] without a path, got '" + o + "'");
    }
  }
  r.claim("auth.cookie_secure");
  if (const toml::node* n = r.root().at_path("auth.cookie_secure").node()) {
    if (const auto* b = n->as_boolean()) {
      c.cookie_secure = b->get() ? CookieSecure::kAlways : CookieSecure::kNever;
    } else if (const auto* s = n->as_string(); s != nullptr && s->get() == "auto") {
      c.cookie_secure = CookieSecure::kAuto;
    } else {
      r.add_error("auth.cookie_secure", "must be \"auto\", true or false, got " + describe_toml_value(*n));
    }
  }
  c.database = r.get_string("auth.database", "");
  return c;
}

bool cookie_secure(const AuthConfig& config, bool listener_has_tls) {
  switch (config.cookie_secure) {
    case CookieSecure::kAlways: return true;
    case CookieSecure::kNever: return false;
    case CookieSecure::kAuto: return listener_has_tls;
  }
  return true;
}

std::string auth_database_path(const AuthConfig& config, const std::string& state_dir) {
  if (!config.database.empty()) return config.database;
  return state_dir + "/auth.db";
}

}  // namespace edgemon::auth
