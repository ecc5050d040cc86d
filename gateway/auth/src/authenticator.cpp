#include "edgemon/auth/authenticator.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <fstream>
#include <iterator>

#include "edgemon/auth/crypto.h"
#include "edgemon/auth/http_auth.h"
#include "edgemon/common/log.h"

namespace edgemon::auth {
namespace {

constexpr const char* kLog = "auth";
constexpr const char* kBadCredentials = "invalid user name or password";
constexpr std::int64_t kMaxTouchIntervalMs = 60'000;  // last-seen/last-used writes at most this often
constexpr std::size_t kGeneratedPasswordBytes = 18;     // 24 base64url characters, 144 bits

Error denied(std::string message) { return make_error(ErrorCode::kPermissionDenied, std::move(message)); }

WallTime from_ms(std::int64_t ms) {
  return WallTime(std::chrono::duration_cast<WallClock::duration>(std::chrono::milliseconds(ms)));
}

std::int64_t ms(std::chrono::seconds s) { return std::chrono::duration_cast<std::chrono::milliseconds>(s).count(); }

UserInfo info_of(const UserRecord& u) {
  return UserInfo{u.name, u.role, from_ms(u.created_ms), from_ms(u.password_changed_ms)};
}

TokenInfo info_of(const TokenRecord& t) {
  TokenInfo i{t.name, t.role, from_ms(t.created_ms), std::nullopt, t.created_by};
  if (t.last_used_ms) i.last_used = from_ms(*t.last_used_ms);
  return i;
}

std::string user_key(std::string_view user) { return std::string(user); }

// The password file: at most 4 KiB, one trailing line ending removed.
Result<std::string> read_password_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(ErrorCode::kNotFound, path + ": cannot open the admin password file");
  std::string text;
  std::array<char, 4097> buf{};
  in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
  if (in.bad()) return make_error(ErrorCode::kIo, path + ": cannot read the admin password file");
  text.assign(buf.data(), static_cast<std::size_t>(in.gcount()));
  if (text.size() > 4096) return make_error(ErrorCode::kInvalidArgument, path + ": the admin password file is too long");
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text;
}

}  // namespace

const char* to_string(Via via) {
  switch (via) {
    case Via::kCookie: return "cookie";
    case Via::kToken: return "token";
    case Via::kBasic: return "basic";
  }
  return "?";
}

AuthOptions AuthOptions::from(const AuthConfig& config) {
  AuthOptions o;
  o.session_idle = config.session_idle;
  o.session_lifetime = config.session_lifetime;
  o.login_attempts_per_minute = config.login_attempts_per_minute;
  return o;
}

Authenticator::Authenticator(UserStore& store, const Clock& clock, AuthOptions options)
    : store_(store),
      clock_(clock),
      options_(options),
      by_client_(options.login_attempts_per_minute),
      by_user_(options.login_attempts_per_minute) {
  (void)dummy_hash();  // now, so the first unknown-user login takes no longer than the others
}

std::int64_t Authenticator::now_ms() const { return to_unix_ms(clock_.wall()); }

const std::string& Authenticator::dummy_hash() {
  if (dummy_hash_.empty()) {
    auto h = hash_password("edgemon-dummy-password", options_.password_params);
    if (h) dummy_hash_ = std::move(*h);
  }
  return dummy_hash_;
}

// ---- sessions -----------------------------------------------------------------------------------

std::chrono::seconds Authenticator::login_retry_after(std::string_view user, std::string_view client_addr) const {
  const MonoTime now = clock_.mono();
  std::chrono::seconds wait = by_client_.retry_after(client_key(client_addr), now);
  if (valid_user_name(user)) wait = std::max(wait, by_user_.retry_after(user_key(user), now));
  return wait;
}

Result<UserRecord> Authenticator::check_password(std::string_view user, std::string_view password) {
  // The name rule and the password policy are public: failing them early leaks nothing.
  if (!valid_user_name(user) || !check_password_policy(password)) return denied(kBadCredentials);
  auto rec = store_.find_user(user);
  if (!rec) return rec.error();
  if (!rec->has_value()) {
    (void)verify_password(password, dummy_hash());  // same work as for a real user
    return denied(kBadCredentials);
  }
  UserRecord& u = **rec;
  if (!verify_password(password, u.password_hash)) return denied(kBadCredentials);
  if (needs_rehash(u.password_hash, options_.password_params)) {
    if (auto h = hash_password(password, options_.password_params)) {
      if (store_.update_password(u.id, *h, u.password_changed_ms, /*revoke_sessions=*/false)) {
        u.password_hash = std::move(*h);
        log::info(kLog, "password re-hashed with current parameters", {{"user", u.name}});
      }
    }
  }
  return std::move(u);
}

Result<Session> Authenticator::login(std::string_view user, std::string_view password, std::string_view client_addr) {
  // Rejections are not logged one by one (that would let a flood write the log at line rate);
  // the attempt that reaches the limit is.
  if (const auto wait = login_retry_after(user, client_addr); wait.count() > 0) {
    return make_error(ErrorCode::kResourceExhausted,
                      "too many login attempts; try again in " + std::to_string(wait.count()) + " s");
  }
  by_client_.record(client_key(client_addr), clock_.mono());
  auto u = check_password(user, password);
  if (!u) {
    if (u.error().code == ErrorCode::kPermissionDenied) {
      if (valid_user_name(user)) by_user_.record(user_key(user), clock_.mono());
      log::warn(kLog, "login failed", {{"user", user}, {"client", client_addr}});
    }
  }
  if (login_retry_after(user, client_addr).count() > 0) {
    log::warn(kLog, "login rate limit reached", {{"user", user}, {"client", client_addr}});
  }
  if (!u) return u.error();
  (void)prune_sessions();
  auto id = random_token(32);
  if (!id) return id.error();
  const std::int64_t now = now_ms();
  if (Status s = store_.insert_session(sha256(*id), u->id, now); !s) return s.error();
  log::info(kLog, "login", {{"user", u->name}, {"client", client_addr}});
  Session session;
  session.csrf_token = csrf_token_for(*id);
  session.id = std::move(*id);
  session.user = u->name;
  session.role = u->role;
  session.created = from_ms(now);
  session.idle_expires = from_ms(now + ms(options_.session_idle));
  session.absolute_expires = from_ms(now + ms(options_.session_lifetime));
  return session;
}

Status Authenticator::logout(std::string_view session_id) {
  if (!is_base64url(session_id, 43)) return Status::Ok();
  return store_.delete_session(sha256(session_id));
}

Result<std::int64_t> Authenticator::prune_sessions() {
  const std::int64_t now = now_ms();
  return store_.delete_expired_sessions(now - ms(options_.session_idle), now - ms(options_.session_lifetime));
}

// ---- requests -----------------------------------------------------------------------------------

Result<Principal> Authenticator::authenticate(const RequestCredentials& request) {
  const Authorization a = parse_authorization(request.authorization);
  switch (a.scheme) {
    case Authorization::Scheme::kNone:
      break;
    case Authorization::Scheme::kBearer:
      return authenticate_token(a.bearer);
    case Authorization::Scheme::kBasic:
      if (looks_like_token(a.password)) return authenticate_token(a.password);
      if (a.password.empty() && looks_like_token(a.user)) return authenticate_token(a.user);
      return authenticate_basic(a.user, a.password, request.client_addr);
    case Authorization::Scheme::kOther:
      return denied("unsupported or malformed Authorization header");
  }
  for (const std::string_view id : cookie_values(request.cookie, kSessionCookieName)) {
    auto p = authenticate_session(id);
    if (p || p.error().code != ErrorCode::kPermissionDenied) return p;
  }
  return denied("authentication required");
}

Result<Principal> Authenticator::authenticate_session(std::string_view session_id) {
  if (!is_base64url(session_id, 43)) return denied("invalid session");
  const std::string id_hash = sha256(session_id);
  auto rec = store_.find_session(id_hash);
  if (!rec) return rec.error();
  if (!rec->has_value()) return denied("session expired or revoked");
  const SessionRecord& s = **rec;
  const std::int64_t now = now_ms();
  if (now >= s.created_ms + ms(options_.session_lifetime) || now >= s.last_seen_ms + ms(options_.session_idle)) {
    (void)store_.delete_session(id_hash);
    return denied("session expired or revoked");
  }
  const std::int64_t touch_every = std::min(kMaxTouchIntervalMs, ms(options_.session_idle) / 4);
  if (now - s.last_seen_ms >= touch_every) {
    if (Status st = store_.touch_session(id_hash, now); !st) return st.error();
  }
  return Principal{s.user, s.role, Via::kCookie, csrf_token_for(session_id), id_hash};
}

Result<Principal> Authenticator::authenticate_token(std::string_view token) {
  if (!looks_like_token(token)) return denied("invalid token");
  auto rec = store_.find_token_by_hash(sha256(token));
  if (!rec) return rec.error();
  if (!rec->has_value()) return denied("invalid token");
  const TokenRecord& t = **rec;
  const std::int64_t now = now_ms();
  if (!t.last_used_ms || now - *t.last_used_ms >= kMaxTouchIntervalMs) {
    if (Status st = store_.touch_token(t.id, now); !st) return st.error();
  }
  return Principal{t.name, t.role, Via::kToken, {}, {}};
}

Result<Principal> Authenticator::authenticate_basic(std::string_view user, std::string_view password,
                                                    std::string_view client_addr) {
  // Same limiter as login(), but only failures count: a script may send Basic on every request.
  if (const auto wait = login_retry_after(user, client_addr); wait.count() > 0) {
    return make_error(ErrorCode::kResourceExhausted,
                      "too many failed attempts; try again in " + std::to_string(wait.count()) + " s");
  }
  auto u = check_password(user, password);
  if (!u) {
    if (u.error().code == ErrorCode::kPermissionDenied) {
      by_client_.record(client_key(client_addr), clock_.mono());
      if (valid_user_name(user)) by_user_.record(user_key(user), clock_.mono());
      log::warn(kLog, "basic authentication failed", {{"user", user}, {"client", client_addr}});
      if (login_retry_after(user, client_addr).count() > 0) {
        log::warn(kLog, "login rate limit reached", {{"user", user}, {"client", client_addr}});
      }
    }
    return u.error();
  }
  return Principal{u->name, u->role, Via::kBasic, {}, {}};
}

Status Authenticator::check_csrf(const Principal& principal, const RequestCredentials& request) {
  if (principal.via != Via::kCookie || is_safe_method(request.method)) return Status::Ok();
  if (principal.csrf_token.empty() || !equal_constant_time(request.csrf, principal.csrf_token)) {
    return make_error(ErrorCode::kPermissionDenied, "missing or wrong X-CSRF-Token header");
  }
  return Status::Ok();
}

// ---- users --------------------------------------------------------------------------------------

Result<UserRecord> Authenticator::require_user(std::string_view name) {
  if (!valid_user_name(name)) return make_error(ErrorCode::kNotFound, "no such user");
  auto rec = store_.find_user(name);
  if (!rec) return rec.error();
  if (!rec->has_value()) return make_error(ErrorCode::kNotFound, "no user '" + std::string(name) + "'");
  return std::move(**rec);
}

Result<UserInfo> Authenticator::create_user(std::string_view name, std::string_view password, Role role) {
  if (!valid_user_name(name)) {
    return make_error(ErrorCode::kInvalidArgument, "a user name must be 1-64 characters of A-Z a-z 0-9 _ . @ -");
  }
  if (Status s = check_password_policy(password); !s) return s.error();
  auto hash = hash_password(password, options_.password_params);
  if (!hash) return hash.error();
  UserRecord u;
  u.name = std::string(name);
  u.role = role;
  u.password_hash = std::move(*hash);
  u.created_ms = u.password_changed_ms = now_ms();
  auto id = store_.insert_user(u);
  if (!id) return id.error();
  log::info(kLog, "user created", {{"user", u.name}, {"role", to_string(role)}});
  return info_of(u);
}

Status Authenticator::set_password(std::string_view name, std::string_view new_password) {
  if (Status s = check_password_policy(new_password); !s) return s;
  auto u = require_user(name);
  if (!u) return u.error();
  auto hash = hash_password(new_password, options_.password_params);
  if (!hash) return hash.error();
  if (Status s = store_.update_password(u->id, *hash, now_ms(), /*revoke_sessions=*/true); !s) return s;
  log::info(kLog, "password changed; sessions revoked", {{"user", u->name}});
  return Status::Ok();
}

Status Authenticator::change_own_password(std::string_view name, std::string_view current,
                                          std::string_view new_password, std::string_view client_addr,
                                          std::string_view keep_session) {
  if (Status s = check_password_policy(new_password); !s) return s;
  if (const auto wait = login_retry_after(name, client_addr); wait.count() > 0) {
    return make_error(ErrorCode::kResourceExhausted,
                      "too many failed attempts; try again in " + std::to_string(wait.count()) + " s");
  }
  auto u = check_password(name, current);
  if (!u) {
    if (u.error().code == ErrorCode::kPermissionDenied) {
      by_client_.record(client_key(client_addr), clock_.mono());
      if (valid_user_name(name)) by_user_.record(user_key(name), clock_.mono());
      log::warn(kLog, "password change: wrong current password", {{"user", name}, {"client", client_addr}});
      if (login_retry_after(name, client_addr).count() > 0) {
        log::warn(kLog, "login rate limit reached", {{"user", name}, {"client", client_addr}});
      }
      return denied("the current password is wrong");
    }
    return u.error();
  }
  auto hash = hash_password(new_password, options_.password_params);
  if (!hash) return hash.error();
  if (Status s = store_.update_password(u->id, *hash, now_ms(), /*revoke_sessions=*/true, keep_session); !s) return s;
  log::info(kLog, "own password changed; other sessions revoked", {{"user", u->name}});
  return Status::Ok();
}

Status Authenticator::set_role(std::string_view name, Role role) {
  auto u = require_user(name);
  if (!u) return u.error();
  if (u->role == Role::kAdmin && role != Role::kAdmin) {
    auto admins = store_.count_admins();
    if (!admins) return admins.error();
    if (*admins <= 1) return make_error(ErrorCode::kInvalidArgument, "cannot demote the last admin");
  }
  return store_.update_role(u->id, role);
}

Status Authenticator::update_user(std::string_view name, std::optional<std::string_view> new_password,
                                  std::optional<Role> role) {
  if (new_password) {
    if (Status s = check_password_policy(*new_password); !s) return s;
  }
  auto u = require_user(name);
  if (!u) return u.error();
  if (role && u->role == Role::kAdmin && *role != Role::kAdmin) {
    auto admins = store_.count_admins();
    if (!admins) return admins.error();
    if (*admins <= 1) return make_error(ErrorCode::kInvalidArgument, "cannot demote the last admin");
  }
  std::optional<std::string> hash;
  if (new_password) {
    auto h = hash_password(*new_password, options_.password_params);
    if (!h) return h.error();
    hash = std::move(*h);
  }
  // Only storage errors remain possible from here on.
  if (hash) {
    if (Status s = store_.update_password(u->id, *hash, now_ms(), /*revoke_sessions=*/true); !s) return s;
    log::info(kLog, "password changed; sessions revoked", {{"user", u->name}});
  }
  if (role) return store_.update_role(u->id, *role);
  return Status::Ok();
}

Status Authenticator::delete_user(std::string_view name) {
  auto u = require_user(name);
  if (!u) return u.error();
  if (u->role == Role::kAdmin) {
    auto admins = store_.count_admins();
    if (!admins) return admins.error();
    if (*admins <= 1) return make_error(ErrorCode::kInvalidArgument, "cannot delete the last admin");
  }
  if (Status s = store_.delete_user(u->id); !s) return s;
  log::info(kLog, "user deleted", {{"user", u->name}});
  return Status::Ok();
}

Result<std::vector<UserInfo>> Authenticator::list_users() {
  auto users = store_.list_users();
  if (!users) return users.error();
  std::vector<UserInfo> out;
  out.reserve(users->size());
  for (const UserRecord& u : *users) out.push_back(info_of(u));
  return out;
}

// ---- API tokens ---------------------------------------------------------------------------------

Result<NewToken> Authenticator::create_token(std::string_view name, Role role, std::string_view created_by) {
  if (!valid_user_name(name)) {
    return make_error(ErrorCode::kInvalidArgument, "a token name must be 1-64 characters of A-Z a-z 0-9 _ . @ -");
  }
  auto secret = random_token(32);
  if (!secret) return secret.error();
  NewToken out;
  out.token = std::string(kTokenPrefix) + *secret;
  TokenRecord t;
  t.name = std::string(name);
  t.role = role;
  t.token_hash = sha256(out.token);
  t.created_ms = now_ms();
  t.created_by = std::string(created_by);
  auto id = store_.insert_token(t);
  if (!id) return id.error();
  log::info(kLog, "API token created", {{"token", t.name}, {"role", to_string(role)}, {"by", t.created_by}});
  out.info = info_of(t);
  return out;
}

Status Authenticator::revoke_token(std::string_view name) {
  if (!valid_user_name(name)) return make_error(ErrorCode::kNotFound, "no such token");
  if (Status s = store_.delete_token(name); !s) return s;
  log::info(kLog, "API token revoked", {{"token", name}});
  return Status::Ok();
}

Result<std::vector<TokenInfo>> Authenticator::list_tokens() {
  auto tokens = store_.list_tokens();
  if (!tokens) return tokens.error();
  std::vector<TokenInfo> out;
  out.reserve(tokens->size());
  for (const TokenRecord& t : *tokens) out.push_back(info_of(t));
  return out;
}

// ---- first start --------------------------------------------------------------------------------

Result<BootstrapResult> Authenticator::bootstrap(const AuthConfig& config) {
  BootstrapResult result;
  std::optional<std::string> configured;
  if (!config.admin_password.empty()) {
    configured = config.admin_password;
  } else if (!config.admin_password_file.empty()) {
    auto text = read_password_file(config.admin_password_file);
    if (!text) return text.error();
    configured = std::move(*text);
  }
  if (configured) {
    if (Status s = check_password_policy(*configured); !s) {
      return make_error(ErrorCode::kInvalidArgument, "auth.admin_password: " + s.error().message);
    }
    auto existing = store_.find_user(config.admin_user);
    if (!existing) return existing.error();
    if (existing->has_value()) return result;  // never overwrite: it may have been changed since
    auto u = create_user(config.admin_user, *configured, Role::kAdmin);
    if (!u) return u.error();
    result.created = true;
    result.user = config.admin_user;
    return result;
  }
  auto count = store_.count_users();
  if (!count) return count.error();
  if (*count > 0) return result;
  auto password = random_token(kGeneratedPasswordBytes);
  if (!password) return password.error();
  auto u = create_user(config.admin_user, *password, Role::kAdmin);
  if (!u) return u.error();
  result.created = true;
  result.user = config.admin_user;
  result.generated_password = std::move(*password);
  return result;
}

// ---- free functions -----------------------------------------------------------------------------

std::string csrf_token_for(std::string_view session_id) {
  static constexpr std::string_view kLabel = "edgemon-csrf-v1";
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  unsigned int len = 0;
  HMAC(EVP_sha256(), session_id.data(), static_cast<int>(session_id.size()),
       reinterpret_cast<const unsigned char*>(kLabel.data()), kLabel.size(), mac.data(), &len);
  return base64url_encode(std::string_view(reinterpret_cast<const char*>(mac.data()), len));
}

std::string session_cookie(const Session& session, bool secure) {
  const auto max_age =
      std::max<std::int64_t>(0, std::chrono::duration_cast<std::chrono::seconds>(session.absolute_expires - session.created).count());
  std::string c = std::string(kSessionCookieName) + "=" + session.id + "; Path=/; Max-Age=" + std::to_string(max_age) +
                  "; HttpOnly; SameSite=Strict";
  if (secure) c += "; Secure";
  return c;
}

std::string expired_cookie(bool secure) {
  std::string c = std::string(kSessionCookieName) + "=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict";
  if (secure) c += "; Secure";
  return c;
}

bool websocket_origin_ok(const Principal& principal, std::string_view origin, std::string_view host,
                         const std::vector<std::string>& allowed_origins) {
  if (origin.empty()) return principal.via != Via::kCookie;
  return origin_allowed(origin, host, allowed_origins);
}

}  // namespace edgemon::auth
