#include "edgemon/gateway/http/auth_service.h"

#include <cstdio>
#include <filesystem>
#include <mutex>

#include <nlohmann/json.hpp>

#include "edgemon/auth/crypto.h"
#include "edgemon/auth/http_auth.h"
#include "edgemon/common/log.h"
#include "edgemon/gateway/api/body_reader.h"

namespace edgemon::gateway {
namespace {

constexpr const char* kLog = "auth";

// The status for an edgemon_auth error (authenticator.h lists them).
unsigned status_for(const Error& e) {
  switch (e.code) {
    case ErrorCode::kPermissionDenied: return 401;
    case ErrorCode::kResourceExhausted: return 429;
    case ErrorCode::kInvalidArgument: return 400;
    case ErrorCode::kNotFound: return 404;
    default: return 500;
  }
}

ApiReply reply_for(const Error& e) {
  const unsigned status = status_for(e);
  if (status == 500) log::error(kLog, "user database error", {{"error", e.message}});
  return error_reply(status, status == 500 ? "internal error (see the gateway log)" : e.message);
}

auth::RequestCredentials credentials(const RequestAuth& r) {
  return {r.cookie, r.authorization, r.method, r.csrf, r.client_addr};
}

std::string session_cookie_value(std::string_view cookie_header) {
  const auto values = auth::cookie_values(cookie_header, auth::kSessionCookieName, 1);
  return values.empty() ? std::string() : std::string(values.front());
}

nlohmann::json user_json(const auth::UserInfo& u) {
  return {{"name", u.name}, {"role", auth::to_string(u.role)}, {"created", to_unix_ms(u.created)},
          {"password_changed", to_unix_ms(u.password_changed)}};
}

nlohmann::json token_json(const auth::TokenInfo& t) {
  nlohmann::json j = {{"name", t.name}, {"role", auth::to_string(t.role)}, {"created", to_unix_ms(t.created)},
                      {"created_by", t.created_by}, {"last_used", nullptr}};
  if (t.last_used) j["last_used"] = to_unix_ms(*t.last_used);
  return j;
}

// The body of a state-changing request: JSON only (a cross-site form cannot send it without a
// CORS preflight), read strictly (unknown members are refused: BodyReader). nullopt: answer
// `refusal` instead.
std::optional<BodyReader> json_body(const AuthApiRequest& r, std::string usage, ApiReply& refusal) {
  if (r.content_type.rfind("application/json", 0) != 0) {
    refusal = error_reply(415, "the body must be JSON (Content-Type: application/json)");
    return std::nullopt;
  }
  return BodyReader(r.body, std::move(usage));
}

std::optional<auth::Role> role_member(BodyReader& b) {
  const auto text = b.text("role", 16);
  if (!text) return std::nullopt;
  auth::Role role{};
  if (!auth::parse_role(*text, role)) {
    b.fail("role: must be \"viewer\" or \"admin\"");
    return std::nullopt;
  }
  return role;
}

}  // namespace

struct AuthService::Impl {
  auth::AuthConfig config;
  bool cookie_secure = false;
  std::unique_ptr<auth::UserStore> store;
  std::unique_ptr<auth::Authenticator> authenticator;
  std::mutex revocation_mutex;  // on_revocation() may be called from any thread
  std::function<void(const Revocation&)> revocation_handler;
  asio::thread_pool thread{1};
};

void AuthService::on_revocation(std::function<void(const Revocation&)> handler) {
  const std::lock_guard lock(impl_->revocation_mutex);
  impl_->revocation_handler = std::move(handler);
}

void AuthService::revoked(const Revocation& r) {
  const std::lock_guard lock(impl_->revocation_mutex);
  if (impl_->revocation_handler) impl_->revocation_handler(r);
}

AuthService::AuthService(const auth::AuthConfig& config, bool cookie_secure) : impl_(std::make_unique<Impl>()) {
  impl_->config = config;
  impl_->cookie_secure = cookie_secure;
}

AuthService::~AuthService() {
  impl_->thread.join();  // finishes what is queued; nothing new arrives once the io loop stopped
}

Result<std::unique_ptr<AuthService>> AuthService::open(const auth::AuthConfig& config, const std::string& state_dir,
                                                       const Clock& clock, bool listener_tls) {
  const std::string path = auth::auth_database_path(config, state_dir);
  std::error_code fs_error;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), fs_error);
  if (fs_error) return make_error(ErrorCode::kIo, "cannot create the directory of " + path + ": " + fs_error.message());
  auto store = auth::UserStore::open(path);
  if (!store) return make_error(store.error().code, "auth database " + path + ": " + store.error().message);
  std::unique_ptr<AuthService> service(new AuthService(config, auth::cookie_secure(config, listener_tls)));
  service->impl_->store = std::move(*store);
  service->impl_->authenticator =
      std::make_unique<auth::Authenticator>(*service->impl_->store, clock, auth::AuthOptions::from(config));
  auto boot = service->impl_->authenticator->bootstrap(config);
  if (!boot) return make_error(boot.error().code, "first admin: " + boot.error().message);
  if (boot->generated_password) {
    // Shown once: only its hash is stored. Deliberately not a structured log line.
    std::fprintf(stderr,
                 "\n=== edgemon: created the first admin user ===\n"
                 "  user:     %s\n  password: %s\n"
                 "  This password is shown only this once. Log in and change it, or set\n"
                 "  [auth] admin_password_file before the first start.\n\n",
                 boot->user.c_str(), boot->generated_password->c_str());
    std::fflush(stderr);
  } else if (boot->created) {
    log::info(kLog, "created the first admin from the configuration", {{"user", boot->user}});
  }
  log::info(kLog, "user database open", {{"path", path}});
  return service;
}

template <typename F>
auto AuthService::run(F f) -> asio::awaitable<decltype(f(std::declval<auth::Authenticator&>()))> {
  using R = decltype(f(std::declval<auth::Authenticator&>()));
  // co_spawn hands the result back through a default-constructible slot: wrap it.
  std::optional<R> out = co_await asio::co_spawn(
      impl_->thread.get_executor(),
      [this, f = std::move(f)]() mutable -> asio::awaitable<std::optional<R>> {
        co_return std::optional<R>(f(*impl_->authenticator));
      },
      asio::use_awaitable);
  co_return std::move(*out);
}

asio::awaitable<std::variant<auth::Principal, ApiReply>> AuthService::authenticate(RequestAuth request) {
  using Outcome = std::variant<auth::Principal, ApiReply>;
  co_return co_await run([&request](auth::Authenticator& a) -> Outcome {
    const auth::RequestCredentials creds = credentials(request);
    auto who = a.authenticate(creds);
    if (!who) {
      ApiReply reply = reply_for(who.error());
      if (who.error().code == ErrorCode::kResourceExhausted) {
        const auth::Authorization basic = auth::parse_authorization(request.authorization);
        reply.headers.emplace_back("Retry-After",
                                   std::to_string(std::max<long long>(1, a.login_retry_after(basic.user, request.client_addr).count())));
      }
      if (reply.status == 401) reply.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"edgemon\"");
      return reply;
    }
    if (Status s = auth::Authenticator::check_csrf(*who, creds); !s) {
      return error_reply(403, "missing or wrong X-CSRF-Token (GET /api/me gives it)");
    }
    return *who;
  });
}

bool AuthService::websocket_origin_ok(const auth::Principal& who, const RequestAuth& request) const {
  return auth::websocket_origin_ok(who, request.origin, request.host, impl_->config.allowed_origins);
}

asio::awaitable<ApiReply> AuthService::login(AuthApiRequest request, RequestAuth ra) {
  if (!ra.origin.empty() && !auth::origin_allowed(ra.origin, ra.host, impl_->config.allowed_origins)) {
    co_return error_reply(403, "login from a foreign origin");
  }
  ApiReply refusal;
  auto body = json_body(request, "{\"user\": \"...\", \"password\": \"...\"}", refusal);
  if (!body) co_return refusal;
  const auto user = body->text("user", 256, true);
  const auto password = body->text("password", 4096, true);
  if (Status s = body->finish(); !s) co_return error_reply(400, "login: " + s.error().message);
  const bool secure = impl_->cookie_secure;
  co_return co_await run([&](auth::Authenticator& a) -> ApiReply {
    auto session = a.login(*user, *password, ra.client_addr);
    if (!session) {
      ApiReply reply = reply_for(session.error());
      if (session.error().code == ErrorCode::kResourceExhausted) {
        const auto wait = std::max<long long>(1, a.login_retry_after(*user, ra.client_addr).count());
        reply = json_reply(429, {{"error", session.error().message}, {"retry_after_s", wait}});
        reply.headers.emplace_back("Retry-After", std::to_string(wait));
      }
      log::warn(kLog, "login failed", {{"user", *user}, {"client", ra.client_addr}, {"status", reply.status}});
      return reply;
    }
    log::info(kLog, "login", {{"user", session->user}, {"client", ra.client_addr}});
    ApiReply reply = json_reply(200, {{"user", session->user},
                                      {"role", auth::to_string(session->role)},
                                      {"csrf_token", session->csrf_token},
                                      {"expires", to_unix_ms(std::min(session->idle_expires, session->absolute_expires))}});
    reply.headers.emplace_back("Set-Cookie", auth::session_cookie(*session, secure));
    return reply;
  });
}

asio::awaitable<std::optional<ApiReply>> AuthService::handle(AuthApiRequest r, auth::Principal who, RequestAuth ra) {
  const bool get = r.method == "GET" || r.method == "HEAD";
  const auto not_allowed = [](const char* allow) {
    ApiReply reply = error_reply(405, "method not allowed");
    reply.headers.emplace_back("Allow", allow);
    return reply;
  };

  if (r.path == "/api/me") {
    if (!get) co_return not_allowed("GET, HEAD");
    co_return json_reply(200, {{"user", who.user}, {"role", auth::to_string(who.role)},
                               {"via", auth::to_string(who.via)}, {"csrf_token", who.csrf_token}});
  }
  if (r.path == "/api/logout") {
    if (r.method != "POST") co_return not_allowed("POST");
    const std::string id = session_cookie_value(ra.cookie);
    const bool secure = impl_->cookie_secure;
    co_return co_await run([&](auth::Authenticator& a) -> ApiReply {
      if (Status s = a.logout(id); !s) return reply_for(s.error());
      if (!id.empty()) revoked({Revocation::Kind::kSession, who.user, auth::sha256(id), "logged out"});
      ApiReply reply = json_reply(200, {{"ok", true}});
      reply.headers.emplace_back("Set-Cookie", auth::expired_cookie(secure));
      return reply;
    });
  }

  if (r.path == "/api/me/password") {
    // Any role may change its own password (http_server.cpp asks handle() before its admin-only
    // rule); a cookie request has passed the CSRF check in authenticate().
    if (r.method != "POST") co_return not_allowed("POST");
    if (who.via == auth::Via::kToken) co_return error_reply(403, "an API token has no password to change");
    ApiReply refusal;
    auto body = json_body(r, "{\"current\": \"...\", \"new\": \"...\"}", refusal);
    if (!body) co_return refusal;
    const auto current = body->text("current", 4096, true);
    const auto next = body->text("new", 4096, true);
    if (Status s = body->finish(); !s) co_return error_reply(400, s.error().message);
    co_return co_await run([&](auth::Authenticator& a) -> ApiReply {
      const Status s = a.change_own_password(who.user, *current, *next, ra.client_addr, who.session);
      if (!s) {
        switch (s.error().code) {
          case ErrorCode::kPermissionDenied:  // the caller is authenticated: 403, not 401
            return error_reply(403, s.error().message);
          case ErrorCode::kResourceExhausted: {
            const auto wait = std::max<long long>(1, a.login_retry_after(who.user, ra.client_addr).count());
            ApiReply reply = json_reply(429, {{"error", s.error().message}, {"retry_after_s", wait}});
            reply.headers.emplace_back("Retry-After", std::to_string(wait));
            return reply;
          }
          default:
            return reply_for(s.error());
        }
      }
      log::info(kLog, "own password changed", {{"user", who.user}, {"client", ra.client_addr}});
      revoked({Revocation::Kind::kUser, who.user, who.session, "password changed"});
      return json_reply(200, {{"ok", true}});
    });
  }

  const bool users = r.path == "/api/users" || r.path.rfind("/api/users/", 0) == 0;
  const bool tokens = r.path == "/api/tokens" || r.path.rfind("/api/tokens/", 0) == 0;
  if (!users && !tokens) co_return std::nullopt;
  if (!who.is_admin()) co_return error_reply(403, "only an admin manages users and tokens");
  const std::string prefix = users ? "/api/users" : "/api/tokens";
  const std::string name = r.path.size() > prefix.size() + 1 ? r.path.substr(prefix.size() + 1) : std::string();
  if (r.path.size() == prefix.size() + 1) co_return error_reply(404, "no such endpoint");

  if (name.empty()) {
    if (get) {
      co_return co_await run([users](auth::Authenticator& a) -> ApiReply {
        nlohmann::json list = nlohmann::json::array();
        if (users) {
          auto all = a.list_users();
          if (!all) return reply_for(all.error());
          for (const auth::UserInfo& u : *all) list.push_back(user_json(u));
        } else {
          auto all = a.list_tokens();
          if (!all) return reply_for(all.error());
          for (const auth::TokenInfo& t : *all) list.push_back(token_json(t));
        }
        return json_reply(200, list);
      });
    }
    if (r.method != "POST") co_return not_allowed("GET, HEAD, POST");
    ApiReply refusal;
    auto body = json_body(r, users ? "{\"name\", \"password\", \"role\": \"viewer\"|\"admin\"}"
                                   : "{\"name\", \"role\": \"viewer\"|\"admin\"}",
                          refusal);
    if (!body) co_return refusal;
    const auto new_name = body->text("name", 256, true);
    const auto password = users ? body->text("password", 4096, true) : std::nullopt;
    const auto role = role_member(*body);
    if (Status s = body->finish(); !s) co_return error_reply(400, s.error().message);
    co_return co_await run([&](auth::Authenticator& a) -> ApiReply {
      if (users) {
        auto u = a.create_user(*new_name, *password, role.value_or(auth::Role::kViewer));
        if (!u) return reply_for(u.error());
        log::info(kLog, "user created", {{"user", u->name}, {"role", auth::to_string(u->role)}, {"by", who.user}});
        return json_reply(201, user_json(*u));
      }
      auto t = a.create_token(*new_name, role.value_or(auth::Role::kViewer), who.user);
      if (!t) return reply_for(t.error());
      log::info(kLog, "token created", {{"token", t->info.name}, {"role", auth::to_string(t->info.role)}, {"by", who.user}});
      nlohmann::json out = token_json(t->info);
      out["token"] = t->token;  // shown once
      return json_reply(201, out);
    });
  }

  if (r.method == "DELETE") {
    co_return co_await run([&](auth::Authenticator& a) -> ApiReply {
      const Status s = users ? a.delete_user(name) : a.revoke_token(name);
      if (!s) return reply_for(s.error());
      if (users) {
        revoked({Revocation::Kind::kUser, name, {}, "user deleted"});
      } else {
        revoked({Revocation::Kind::kToken, name, {}, "token revoked"});
      }
      log::info(kLog, users ? "user deleted" : "token revoked", {{"name", name}, {"by", who.user}});
      return json_reply(200, {{"ok", true}});
    });
  }
  if (users && r.method == "PATCH") {
    ApiReply refusal;
    auto body = json_body(r, "{\"password\"} and/or {\"role\": \"viewer\"|\"admin\"}", refusal);
    if (!body) co_return refusal;
    const auto password = body->text("password", 4096);
    const auto role = role_member(*body);
    if (body->ok() && !password && !role) body->fail("needs {\"password\"} and/or {\"role\": \"viewer\"|\"admin\"}");
    if (Status s = body->finish(); !s) co_return error_reply(400, s.error().message);
    co_return co_await run([&](auth::Authenticator& a) -> ApiReply {
      // All or nothing: a refused password leaves the role as it was (and the other way round).
      const std::optional<std::string_view> pw = password ? std::optional<std::string_view>(*password) : std::nullopt;
      if (Status s = a.update_user(name, pw, role); !s) return reply_for(s.error());
      if (password) revoked({Revocation::Kind::kUser, name, {}, "password changed"});
      log::info(kLog, "user changed", {{"user", name}, {"by", who.user}, {"password", password.has_value()}});
      return json_reply(200, {{"ok", true}});
    });
  }
  co_return not_allowed(users ? "PATCH, DELETE" : "DELETE");
}

}  // namespace edgemon::gateway
