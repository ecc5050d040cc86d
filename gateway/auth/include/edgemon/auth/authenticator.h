// Authentication for the gateway's HTTP API and WebSocket (reference: docs/auth.md).
//
// Three ways in, all answered by authenticate():
//   - a session cookie (edgemon_session) from login(): for the dashboard. State-changing requests
//     (anything but GET/HEAD/OPTIONS) must also carry the session's CSRF token in X-CSRF-Token;
//   - an API token ("emt_..."), as "Authorization: Bearer <token>" or as HTTP Basic with the token
//     as password (any user name) or as user name with an empty password;
//   - HTTP Basic user:password, for scripts (rate limited like login; every request costs one
//     scrypt, so scripts that poll should use a token).
//
// Error codes and what the HTTP layer answers:
//   kPermissionDenied   401 from login()/authenticate() (no or bad credentials; one message for
//                       unknown user and wrong password), 403 from check_csrf()
//   kResourceExhausted  429 with Retry-After: login_retry_after()
//   kInvalidArgument    400 (bad user name, password policy, duplicate name, last admin)
//   kNotFound           404 (no such user or token)
//   kIo / kInternal     500
//
// Single-threaded: one owner calls it from one thread (or serialises calls). Time comes from the
// Clock: wall time for everything stored (session expiry survives a restart), monotonic time for
// the in-memory rate limiter.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "edgemon/auth/auth_config.h"
#include "edgemon/auth/password.h"
#include "edgemon/auth/rate_limiter.h"
#include "edgemon/auth/user_store.h"
#include "edgemon/common/clock.h"
#include "edgemon/common/result.h"

namespace edgemon::auth {

struct AuthOptions {
  std::chrono::seconds session_idle = std::chrono::hours(1);
  std::chrono::seconds session_lifetime = std::chrono::hours(24);
  int login_attempts_per_minute = 10;
  PasswordParams password_params = kDefaultPasswordParams;

  static AuthOptions from(const AuthConfig& config);
};

// A new session, as login() returns it. `id` goes into the cookie and nowhere else; the store
// keeps only its SHA-256.
struct Session {
  std::string id;          // 43 base64url characters (32 random bytes)
  std::string csrf_token;  // for the X-CSRF-Token header; derived from the id, see csrf_token_for()
  std::string user;
  Role role = Role::kViewer;
  WallTime created;
  WallTime idle_expires;      // moves forward while the session is used
  WallTime absolute_expires;  // never moves
};

// What the HTTP layer hands over for one request (header values as received; empty if absent).
struct RequestCredentials {
  std::string_view cookie;         // Cookie
  std::string_view authorization;  // Authorization
  std::string_view method;         // GET, POST, ...
  std::string_view csrf;           // X-CSRF-Token
  std::string_view client_addr;    // peer address (after any trusted proxy handling)
};

enum class Via { kCookie, kToken, kBasic };
const char* to_string(Via via);

struct Principal {
  std::string user;  // the user's name; for kToken the token's name
  Role role = Role::kViewer;
  Via via = Via::kCookie;
  std::string csrf_token;  // kCookie only: what X-CSRF-Token must carry (the dashboard can fetch it)
  std::string session;     // kCookie only: the session's id hash (SHA-256, raw), to name it in a revocation

  bool is_admin() const { return role == Role::kAdmin; }
};

struct UserInfo {
  std::string name;
  Role role = Role::kViewer;
  WallTime created;
  WallTime password_changed;
};

struct TokenInfo {
  std::string name;
  Role role = Role::kViewer;
  WallTime created;
  std::optional<WallTime> last_used;
  std::string created_by;
};

// create_token()'s answer: the plaintext is shown to the user once and is not recoverable.
struct NewToken {
  TokenInfo info;
  std::string token;
};

struct BootstrapResult {
  bool created = false;                           // an admin was created now
  std::string user;                               // its name, when created
  std::optional<std::string> generated_password;  // set when the password was generated: print it once
};

class Authenticator {
 public:
  Authenticator(UserStore& store, const Clock& clock, AuthOptions options);

  // ---- sessions -------------------------------------------------------------------------------
  // Rate limit first (kResourceExhausted), then the credentials: kPermissionDenied with the same
  // message, and about the same time (an unknown user is checked against a dummy hash), whether
  // the user is unknown or the password is wrong. Every attempt counts against client_addr;
  // failed ones also against the user name. A hash made with other parameters than the current
  // ones is replaced after a successful login.
  Result<Session> login(std::string_view user, std::string_view password, std::string_view client_addr);
  // How long until the next login attempt (or Basic password check) for this pair is allowed;
  // zero if it is allowed now. For the Retry-After header after kResourceExhausted.
  std::chrono::seconds login_retry_after(std::string_view user, std::string_view client_addr) const;
  // Deletes the session; an unknown, expired or malformed id is not an error.
  Status logout(std::string_view session_id);
  // Deletes expired sessions (login() does this too). Returns how many.
  Result<std::int64_t> prune_sessions();

  // ---- requests ---------------------------------------------------------------------------------
  // Order: Authorization header (Bearer, or Basic with a token or user:password) if present, else
  // the session cookie. A present but bad Authorization header fails even if a cookie would pass.
  // Does NOT check CSRF: call check_csrf() for the request's method afterwards.
  Result<Principal> authenticate(const RequestCredentials& request);
  // Ok for token and Basic principals and for safe methods; for a cookie principal and any other
  // method, the request's X-CSRF-Token must equal principal.csrf_token (constant-time).
  // Error: kPermissionDenied (403).
  static Status check_csrf(const Principal& principal, const RequestCredentials& request);

  // ---- users (the HTTP layer checks that the caller is an admin) ---------------------------------
  Result<UserInfo> create_user(std::string_view name, std::string_view password, Role role);
  // Revokes all the user's sessions (the caller's included: log in again).
  Status set_password(std::string_view name, std::string_view new_password);
  // A user's own change (POST /api/me/password): `current` must be the user's password, checked
  // and rate limited like a login (kResourceExhausted; a wrong one counts against the user and
  // client_addr and is kPermissionDenied). `new_password` follows the policy (kInvalidArgument,
  // checked first). Revokes all the user's sessions except `keep_session` (an id hash: the session
  // the change was made from; empty keeps none).
  Status change_own_password(std::string_view name, std::string_view current, std::string_view new_password,
                             std::string_view client_addr, std::string_view keep_session);
  // Refuses to demote the last admin (kInvalidArgument).
  Status set_role(std::string_view name, Role role);
  // PATCH /api/users/<name>: a new password and/or role, all or nothing. Everything that can be
  // refused (password policy, unknown user, demoting the last admin) is checked before anything
  // changes. Errors: as set_password() and set_role().
  Status update_user(std::string_view name, std::optional<std::string_view> new_password, std::optional<Role> role);
  // Refuses to delete the last admin (kInvalidArgument). Deletes the user's sessions.
  Status delete_user(std::string_view name);
  Result<std::vector<UserInfo>> list_users();

  // ---- API tokens -------------------------------------------------------------------------------
  // `name` follows the user-name rules and is unique. Error: kInvalidArgument.
  Result<NewToken> create_token(std::string_view name, Role role, std::string_view created_by = "");
  Status revoke_token(std::string_view name);  // kNotFound if there is none
  Result<std::vector<TokenInfo>> list_tokens();

  // ---- first start ------------------------------------------------------------------------------
  // If config names a password (admin_password or admin_password_file) and config.admin_user does
  // not exist, creates it as admin with that password. Otherwise, if there is no user at all,
  // creates config.admin_user as admin with a random password and returns it (once; only its hash
  // is stored). Otherwise does nothing: an existing user's password is never overwritten.
  // Errors: kNotFound/kIo (password file), kInvalidArgument (password policy), store errors.
  Result<BootstrapResult> bootstrap(const AuthConfig& config);

  const AuthOptions& options() const { return options_; }

 private:
  Result<Principal> authenticate_session(std::string_view session_id);
  Result<Principal> authenticate_token(std::string_view token);
  Result<Principal> authenticate_basic(std::string_view user, std::string_view password, std::string_view client_addr);
  // Checks user:password (with the dummy hash for unknown users); re-hashes on success if needed.
  Result<UserRecord> check_password(std::string_view user, std::string_view password);
  Result<UserRecord> require_user(std::string_view name);
  const std::string& dummy_hash();
  std::int64_t now_ms() const;

  UserStore& store_;
  const Clock& clock_;
  AuthOptions options_;
  RateLimiter by_client_;
  RateLimiter by_user_;
  std::string dummy_hash_;
};

// The CSRF token of a session: base64url(HMAC-SHA256(key = session id, "edgemon-csrf-v1")).
// Recomputable from the cookie on every request, nothing stored; knowing it reveals nothing
// about the session id.
std::string csrf_token_for(std::string_view session_id);

// Set-Cookie values. session_cookie: "edgemon_session=<id>; Path=/; Max-Age=<lifetime left>;
// HttpOnly; SameSite=Strict[; Secure]". expired_cookie clears it (logout, or a stale cookie).
std::string session_cookie(const Session& session, bool secure);
std::string expired_cookie(bool secure);

// The WebSocket handshake rule: a present Origin must pass origin_allowed() (http_auth.h); a
// missing one is accepted only for token and Basic principals (scripts; a browser always sends
// Origin, and only cookies are sent by a browser on its own).
bool websocket_origin_ok(const Principal& principal, std::string_view origin, std::string_view host,
                         const std::vector<std::string>& allowed_origins);

}  // namespace edgemon::auth
