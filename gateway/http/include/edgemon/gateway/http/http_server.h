// HttpServer: Boost.Beast on Asio (C++20 coroutines), on the gateway's io thread. The transport
// only: it reads requests, authenticates them (AuthService), and hands the REST API to the Router
// (api/router.h, the routes in api/src/routes.cpp); it serves GET /ws (the live room's WsHub) and
// the dashboard's static files from web_root (GET/HEAD only, no path escapes, index.html for "/").
// Public: GET /api/health, POST /api/login and the static files (the login page is part of the
// dashboard). Everything else needs a session cookie, an API token or HTTP Basic (AuthService,
// on its own thread); state-changing requests need an admin, or the user's own session for
// /api/logout. The WebSocket handshake must also pass the Origin rule.
// Limits: 16 KiB headers, 64 KiB bodies, 30 s idle timeout.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string_view>
#include <memory>
#include <string>

#include "edgemon/common/result.h"
#include "edgemon/gateway/asio_prelude.h"

#include <boost/asio/ssl/context.hpp>

#include "edgemon/gateway/http/auth_service.h"
#include "edgemon/gateway/api/router.h"
#include "edgemon/gateway/live/ws_hub.h"

namespace edgemon::gateway {

struct HttpOptions {
  std::string bind = "127.0.0.1";
  std::uint16_t port = 8080;
  std::string web_root;
  std::string tls_cert_file;  // both set: HTTPS (and WSS) only, TLS 1.2+
  std::string tls_key_file;
};

class HttpServer {
 public:
  // Registers for the AuthService's revocations: a logout, password change, deleted user or
  // deleted token closes that principal's WebSockets at once (close code 4401 with a reason).
  HttpServer(asio::io_context& io, HttpOptions options, const Router& router, WsHub& hub, AuthService& auth);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;
  // Binds and starts accepting. Returns the bound port. Errors: kUnavailable (address in use),
  // kInvalidArgument (bad bind address).
  Result<std::uint16_t> start();
  void stop();

 private:
  asio::awaitable<void> accept_loop();
  asio::awaitable<void> serve(tcp::socket socket);
  // One connection's requests over a plain or TLS stream.
  template <class Stream>
  asio::awaitable<void> serve_stream(Stream stream);
  template <class Stream>
  asio::awaitable<void> serve_websocket(Stream stream, http::request<http::string_body> req, WsIdentity identity);
  // On the io thread: closes the WebSockets opened with revoked credentials.
  void revoke(const Revocation& r);
  // The answer to one (non-upgrade) request: authentication first, then the route.
  asio::awaitable<http::response<http::string_body>> respond(const http::request<http::string_body>& req,
                                                            const std::string& peer);
  // The dashboard's static files.
  http::response<http::string_body> static_file(const http::request<http::string_body>& req) const;
  // The request as the router sees it.
  static ApiRequest api_request_of(const http::request<http::string_body>& req, std::string user);

  asio::io_context& io_;
  HttpOptions options_;
  const Router& router_;
  WsHub& hub_;
  AuthService& auth_;
  tcp::acceptor acceptor_;
  std::unique_ptr<asio::ssl::context> tls_;  // set when the listener has TLS
  std::uint64_t tls_handshake_failures_ = 0;

 public:
  bool has_tls() const { return tls_ != nullptr; }
  std::uint64_t tls_handshake_failures() const { return tls_handshake_failures_; }
};

}  // namespace edgemon::gateway
