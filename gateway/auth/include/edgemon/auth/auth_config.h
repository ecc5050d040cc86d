// The [auth] section of gateway.toml (reference: docs/auth.md).
//
//   [auth]
//   admin_user = "admin"                 # the first admin (created only if no such user exists)
//   admin_password = "..."               # or admin_password_file = "/etc/edgemon/admin-password"
//   session_idle = "1h"                  # "30m", "8h", or seconds
//   session_lifetime = "24h"
//   login_attempts_per_minute = 10       # per client address, and failures per user name
//   allowed_origins = ["https://dash.example.org"]   # besides the Host header's own origin
//   cookie_secure = "auto"               # "auto" (Secure when the listener has TLS), true, false
//   database = ""                        # default <state_dir>/auth.db
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "edgemon/common/config_reader.h"

namespace edgemon::auth {

enum class CookieSecure { kAuto, kAlways, kNever };

struct AuthConfig {
  std::string admin_user = "admin";
  std::string admin_password;          // empty: not configured
  std::string admin_password_file;     // empty: not configured; read by Authenticator::bootstrap
  std::chrono::seconds session_idle = std::chrono::hours(1);
  std::chrono::seconds session_lifetime = std::chrono::hours(24);
  int login_attempts_per_minute = 10;
  std::vector<std::string> allowed_origins;  // normalised "scheme://host:port"
  CookieSecure cookie_secure = CookieSecure::kAuto;
  std::string database;  // empty: <state_dir>/auth.db
};

// Reads the keys above. Problems are recorded in `r` with file:line:column (bad types, ranges,
// a short admin_password, both admin_password and admin_password_file, idle > lifetime, malformed
// origins); the caller calls r.finish() once after all its readers.
AuthConfig read_auth_config(ConfigReader& r);

// Whether session cookies carry the Secure attribute on a listener with or without TLS.
bool cookie_secure(const AuthConfig& config, bool listener_has_tls);

std::string auth_database_path(const AuthConfig& config, const std::string& state_dir);

}  // namespace edgemon::auth
