// AuthService: the gateway's authentication, on a thread of its own.
//
// edgemon_auth (docs/auth.md) is single-threaded and a password check costs one scrypt (~0.1 s),
// which must never stall the io thread that relays telemetry. So the Authenticator and its
// SQLite file live on one dedicated thread, and the HTTP server co_awaits each call: the io thread
// keeps serving other connections meanwhile.
//
// It also answers the authentication endpoints (reference: docs/protocol.md, "Authentication"):
//   POST /api/login      {"user","password"} -> session cookie + {"user","role","csrf_token","expires"}
//   POST /api/logout     deletes the session, clears the cookie
//   GET  /api/me         who is asking, and the CSRF token for a cookie session
//   POST /api/me/password {"current","new"}: one's own password (any role; not for a token)
//   GET/POST /api/users, PATCH/DELETE /api/users/<name>     (admin)
//   GET/POST /api/tokens, DELETE /api/tokens/<name>         (admin)
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <variant>

#include "edgemon/auth/authenticator.h"
#include "edgemon/common/clock.h"
#include "edgemon/common/result.h"
#include "edgemon/gateway/asio_prelude.h"
#include "edgemon/gateway/api/http_api.h"

namespace edgemon::gateway {

// The credential-bearing parts of one request, owned (they cross to the auth thread).
struct RequestAuth {
  std::string method;         // GET, POST, ...
  std::string cookie;         // Cookie header
  std::string authorization;  // Authorization header
  std::string csrf;           // X-CSRF-Token header
  std::string origin;         // Origin header
  std::string host;           // Host header
  std::string client_addr;    // the peer's address
};

// One request to an authentication endpoint: the path below /api, method and JSON body.
struct AuthApiRequest {
  std::string method;
  std::string path;  // e.g. "/api/users/alice"
  std::string body;
  std::string content_type;
};

// Credentials that stopped being valid: whatever they opened (WebSockets) must be closed.
struct Revocation {
  enum class Kind {
    kSession,  // a logout: `session` is the session's id hash
    kUser,     // a password change or a deleted user: every session and Basic login of `name`,
               // except the session whose id hash is `session` (own password change; may be empty)
    kToken,    // a revoked API token named `name`
  };
  Kind kind = Kind::kSession;
  std::string name;
  std::string session;
  std::string reason;  // for the close frame, e.g. "logged out"
};

class AuthService {
 public:
  // Opens the user database (config.database, default <state_dir>/auth.db) and creates the first
  // admin if there is none (Authenticator::bootstrap); a generated password is printed once, to
  // stderr. `listener_tls` decides the cookie's Secure attribute under cookie_secure = "auto".
  static Result<std::unique_ptr<AuthService>> open(const auth::AuthConfig& config, const std::string& state_dir,
                                                   const Clock& clock, bool listener_tls);
  ~AuthService();
  AuthService(const AuthService&) = delete;
  AuthService& operator=(const AuthService&) = delete;

  // Who is asking, or the reply to send instead: 401 (no or bad credentials), 403 (a cookie
  // request that changes state without the session's CSRF token), 429 with Retry-After (HTTP
  // Basic password guessing), 500 (the user database failed).
  asio::awaitable<std::variant<auth::Principal, ApiReply>> authenticate(RequestAuth request);

  // The WebSocket handshake rule (websocket_origin_ok): a browser's Origin must be ours or listed
  // in auth.allowed_origins; scripts with a token or Basic may omit it.
  bool websocket_origin_ok(const auth::Principal& who, const RequestAuth& request) const;

  // Called (on the auth thread, after the change is stored) for every revocation; the HTTP server
  // posts it to its io thread and closes the matching WebSockets. One handler; empty clears it.
  void on_revocation(std::function<void(const Revocation&)> handler);

  // POST /api/login: needs no principal. Only JSON bodies (a cross-site form cannot send one
  // without a CORS preflight) and, when an Origin header is present, our own origin.
  asio::awaitable<ApiReply> login(AuthApiRequest request, RequestAuth auth);

  // The other endpoints listed above, for an authenticated principal (CSRF already checked).
  // Nothing if `request.path` is not one of them.
  asio::awaitable<std::optional<ApiReply>> handle(AuthApiRequest request, auth::Principal who, RequestAuth auth);

 private:
  AuthService(const auth::AuthConfig& config, bool cookie_secure);
  // Runs f(authenticator) on the auth thread; the caller resumes on its own executor.
  template <typename F>
  auto run(F f) -> asio::awaitable<decltype(f(std::declval<auth::Authenticator&>()))>;
  void revoked(const Revocation& r);  // on the auth thread

  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace edgemon::gateway
