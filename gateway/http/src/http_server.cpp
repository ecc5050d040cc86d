#include "edgemon/gateway/http/http_server.h"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <optional>
#include <sstream>
#include <variant>

#include <type_traits>

#include <boost/asio/ssl.hpp>
#include <boost/beast/ssl.hpp>

#include "edgemon/common/log.h"

namespace edgemon::gateway {
namespace {

constexpr const char* kLog = "http";
constexpr std::size_t kHeaderLimit = 16 * 1024;
constexpr std::size_t kBodyLimit = 64 * 1024;
constexpr auto kIdleTimeout = std::chrono::seconds(30);
constexpr std::size_t kWsMessageLimit = 16384;  // a watch message of kMaxWatch long node keys

using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

std::string_view mime_type(std::string_view path) {
  const auto dot = path.rfind('.');
  const std::string_view ext = dot == std::string_view::npos ? std::string_view() : path.substr(dot);
  if (ext == ".html") return "text/html; charset=utf-8";
  if (ext == ".js" || ext == ".mjs") return "text/javascript; charset=utf-8";
  if (ext == ".css") return "text/css; charset=utf-8";
  if (ext == ".json" || ext == ".map") return "application/json";
  if (ext == ".svg") return "image/svg+xml";
  if (ext == ".png") return "image/png";
  if (ext == ".ico") return "image/x-icon";
  if (ext == ".woff2") return "font/woff2";
  if (ext == ".txt") return "text/plain; charset=utf-8";
  return "application/octet-stream";
}

// Accepts only plain relative paths: no "..", no backslashes, no NUL, no percent-escapes.
bool safe_path(std::string_view path) {
  if (path.empty() || path.front() != '/') return false;
  if (path.find("..") != std::string_view::npos) return false;
  for (char c : path) {
    if (c == '\\' || c == '\0' || c == '%' || static_cast<unsigned char>(c) < 0x20) return false;
  }
  return true;
}

Response make_response(const Request& req, http::status status, std::string_view type, std::string body) {
  Response res{status, req.version()};
  res.set(http::field::server, "edgemon-gateway");
  res.set(http::field::content_type, type);
  res.set("X-Content-Type-Options", "nosniff");
  res.set("Referrer-Policy", "no-referrer");
  res.body() = std::move(body);
  return res;
}

Response api_response(const Request& req, const ApiReply& reply) {
  Response res = make_response(req, static_cast<http::status>(reply.status), reply.content_type, reply.body);
  res.set(http::field::cache_control, "no-store");
  for (const auto& [name, value] : reply.headers) res.insert(name, value);
  // The file name is ours (never from a request), but keep it to a safe alphabet anyway.
  if (!reply.attachment.empty() &&
      reply.attachment.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") ==
          std::string::npos) {
    res.set(http::field::content_disposition, "attachment; filename=\"" + reply.attachment + "\"");
  }
  return res;
}

Response error_response(const Request& req, http::status status, std::string_view message) {
  return api_response(req, error_reply(static_cast<unsigned>(status), message));
}

std::string header(const Request& req, std::string_view name) {
  const auto it = req.find(name);
  return it == req.end() ? std::string() : std::string(it->value());
}

RequestAuth request_auth(const Request& req, const std::string& peer) {
  return {std::string(req.method_string()), header(req, "Cookie"), header(req, "Authorization"),
          header(req, "X-CSRF-Token"), header(req, "Origin"), header(req, "Host"), peer};
}

AuthApiRequest api_request(const Request& req, std::string_view path) {
  return {std::string(req.method_string()), std::string(path), req.body(), header(req, "Content-Type")};
}

bool is_safe(const Request& req) {
  return req.method() == http::verb::get || req.method() == http::verb::head || req.method() == http::verb::options;
}

// /ws?view=card|full (ws_hub.h, Views); absent: full. nullopt for anything else.
std::optional<NodeView> ws_view(const Request& req) {
  const QueryParams query = parse_query(req.target());
  const auto it = query.find("view");
  if (it == query.end() || it->second == "full") return NodeView::kFull;
  if (it->second == "card") return NodeView::kCard;
  return std::nullopt;
}

}  // namespace

// The close code for a WebSocket whose credentials were revoked: 4401 (application range; "401"
// as in HTTP: authenticate again).
constexpr std::uint16_t kWsRevokedCode = 4401;

HttpServer::HttpServer(asio::io_context& io, HttpOptions options, const Router& router, WsHub& hub, AuthService& auth)
    : io_(io), options_(std::move(options)), router_(router), hub_(hub), auth_(auth), acceptor_(io) {
  auth_.on_revocation([this](const Revocation& r) { asio::post(io_, [this, r] { revoke(r); }); });
}

HttpServer::~HttpServer() { auth_.on_revocation({}); }

void HttpServer::revoke(const Revocation& r) {
  const auto match = [&r](const WsIdentity& id) {
    switch (r.kind) {
      case Revocation::Kind::kSession:
        return id.via == WsIdentity::Via::kSession && id.session == r.session;
      case Revocation::Kind::kUser:
        return id.name == r.name && (id.via == WsIdentity::Via::kBasic ||
                                     (id.via == WsIdentity::Via::kSession && id.session != r.session));
      case Revocation::Kind::kToken:
        return id.via == WsIdentity::Via::kToken && id.name == r.name;
    }
    return false;
  };
  const std::size_t n = hub_.close_if(match, kWsRevokedCode, "credentials revoked: " + r.reason);
  if (n > 0) log::info(kLog, "websockets closed: credentials revoked", {{"count", n}, {"reason", r.reason}});
}

Result<std::uint16_t> HttpServer::start() {
  boost::system::error_code ec;
  if (!options_.tls_cert_file.empty() || !options_.tls_key_file.empty()) {
    if (options_.tls_cert_file.empty() || options_.tls_key_file.empty()) {
      return make_error(ErrorCode::kInvalidArgument, "http.tls_cert_file and http.tls_key_file go together");
    }
    tls_ = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
    // TLS 1.2 and 1.3 only.
    tls_->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                      asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1 |
                      asio::ssl::context::single_dh_use);
    tls_->use_certificate_chain_file(options_.tls_cert_file, ec);
    if (ec) return make_error(ErrorCode::kInvalidArgument, "http.tls_cert_file " + options_.tls_cert_file + ": " + ec.message());
    tls_->use_private_key_file(options_.tls_key_file, asio::ssl::context::pem, ec);
    if (ec) return make_error(ErrorCode::kInvalidArgument, "http.tls_key_file " + options_.tls_key_file + ": " + ec.message());
  }
  const auto address = asio::ip::make_address(options_.bind, ec);
  if (ec) return make_error(ErrorCode::kInvalidArgument, "http.bind: not an IP address: " + options_.bind);
  const tcp::endpoint endpoint(address, options_.port);
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return make_error(ErrorCode::kUnavailable, "cannot listen on " + options_.bind + ":" +
                                                   std::to_string(options_.port) + ": " + ec.message());
  }
  asio::co_spawn(io_, accept_loop(), asio::detached);
  return acceptor_.local_endpoint().port();
}

void HttpServer::stop() {
  boost::system::error_code ec;
  acceptor_.close(ec);
  hub_.close_all();
}

asio::awaitable<void> HttpServer::accept_loop() {
  for (;;) {
    boost::system::error_code ec;
    tcp::socket socket = co_await acceptor_.async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor_.is_open()) co_return;
      log::warn(kLog, "accept failed", {{"error", ec.message()}});
      continue;
    }
    // No Nagle: a small frame (an urgent WebSocket update, a short answer) written while an
    // earlier one is unacknowledged would otherwise wait for the peer's delayed ACK — up to 40 ms
    // on Linux, measured as the spread between clients receiving the same frame (ws_bench).
    boost::system::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    asio::co_spawn(io_, serve(std::move(socket)), asio::detached);
  }
}

asio::awaitable<void> HttpServer::serve(tcp::socket socket) {
  if (!tls_) {
    co_await serve_stream(beast::tcp_stream(std::move(socket)));
    co_return;
  }
  beast::ssl_stream<beast::tcp_stream> stream(beast::tcp_stream(std::move(socket)), *tls_);
  boost::system::error_code ec;
  beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(10));
  co_await stream.async_handshake(asio::ssl::stream_base::server, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    ++tls_handshake_failures_;
    log::debug(kLog, "TLS handshake failed", {{"error", ec.message()}});
    co_return;
  }
  co_await serve_stream(std::move(stream));
}

template <class Stream>
asio::awaitable<void> HttpServer::serve_stream(Stream stream) {
  beast::flat_buffer buffer;
  boost::system::error_code ec;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(kHeaderLimit);
    parser.body_limit(kBodyLimit);
    beast::get_lowest_layer(stream).expires_after(kIdleTimeout);
    co_await http::async_read(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
    if (ec == http::error::body_limit || ec == http::error::header_limit) {
      Request dummy;
      Response res = error_response(dummy, ec == http::error::body_limit ? http::status::payload_too_large
                                                                        : http::status::request_header_fields_too_large,
                                    "request too large");
      res.keep_alive(false);
      res.prepare_payload();
      co_await http::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
      break;
    }
    if (ec) break;  // end of stream, timeout, reset, or malformed request: just close
    Request req = parser.release();
    std::string peer;
    if (const auto remote = beast::get_lowest_layer(stream).socket().remote_endpoint(ec); !ec) {
      peer = remote.address().to_string();
    }
    if (websocket::is_upgrade(req)) {
      std::optional<Response> refused;
      WsIdentity identity;
      std::string_view ws_path = req.target();
      ws_path = ws_path.substr(0, ws_path.find('?'));
      if (ws_path != "/ws") {
        refused = error_response(req, http::status::not_found, "no WebSocket here");
      } else if (!ws_view(req)) {
        refused = error_response(req, http::status::bad_request, "view: must be card or full");
      } else {
        const RequestAuth ra = request_auth(req, peer);
        auto outcome = co_await auth_.authenticate(ra);
        if (const auto* reply = std::get_if<ApiReply>(&outcome)) {
          refused = api_response(req, *reply);
        } else if (!auth_.websocket_origin_ok(std::get<auth::Principal>(outcome), ra)) {
          log::warn(kLog, "websocket refused: foreign origin", {{"origin", ra.origin}, {"client", peer}});
          refused = error_response(req, http::status::forbidden, "WebSocket from a foreign Origin");
        } else {
          // What authenticated it, so that revoking that closes it (revoke()).
          const auto& who = std::get<auth::Principal>(outcome);
          identity.name = who.user;
          identity.session = who.session;
          identity.via = who.via == auth::Via::kCookie  ? WsIdentity::Via::kSession
                         : who.via == auth::Via::kToken ? WsIdentity::Via::kToken
                                                        : WsIdentity::Via::kBasic;
        }
      }
      if (!refused) {
        beast::get_lowest_layer(stream).expires_never();
        co_await serve_websocket(std::move(stream), std::move(req), std::move(identity));
        co_return;
      }
      refused->keep_alive(false);
      refused->prepare_payload();
      co_await http::async_write(stream, *refused, asio::redirect_error(asio::use_awaitable, ec));
      break;
    }
    Response res = co_await respond(req, peer);
    res.keep_alive(req.keep_alive());
    res.prepare_payload();
    if (req.method() == http::verb::head) res.body().clear();
    const bool keep = res.keep_alive();
    co_await http::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
    if (ec || !keep) break;
  }
  if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
    stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  } else {
    beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(5));
    co_await stream.async_shutdown(asio::redirect_error(asio::use_awaitable, ec));
  }
}

ApiRequest HttpServer::api_request_of(const Request& req, std::string user) {
  ApiRequest r;
  r.method = std::string(req.method_string());
  std::string_view path = req.target();
  if (const auto q = path.find('?'); q != std::string_view::npos) path = path.substr(0, q);
  r.path = std::string(path);
  r.query = parse_query(req.target());
  r.body = req.body();
  r.user = std::move(user);
  return r;
}

asio::awaitable<Response> HttpServer::respond(const Request& req, const std::string& peer) {
  std::string_view path = req.target();
  if (const auto q = path.find('?'); q != std::string_view::npos) path = path.substr(0, q);
  const bool api = path.rfind("/api/", 0) == 0 || path == "/metrics" || path == "/ws";

  // Public: the health check, the login itself, and the dashboard's files (its login page).
  if (path == "/api/login") {
    if (req.method() != http::verb::post) co_return api_response(req, method_not_allowed("POST"));
    AuthApiRequest login = api_request(req, path);
    RequestAuth credentials = request_auth(req, peer);
    co_return api_response(req, co_await auth_.login(std::move(login), std::move(credentials)));
  }
  if (!api) co_return static_file(req);
  // Requests to the router are named locals, not temporaries inside the co_await expression
  // (GCC 12 destroys such temporaries twice when they own memory).
  if (path == "/api/health" && is_safe(req)) {
    ApiRequest health = api_request_of(req, {});
    co_return api_response(req, co_await router_.dispatch(std::move(health)));
  }

  const RequestAuth ra = request_auth(req, peer);
  auto outcome = co_await auth_.authenticate(ra);
  if (const auto* reply = std::get_if<ApiReply>(&outcome)) co_return api_response(req, *reply);
  const auth::Principal who = std::get<auth::Principal>(std::move(outcome));
  AuthApiRequest auth_request = api_request(req, path);
  if (auto reply = co_await auth_.handle(std::move(auth_request), who, ra)) co_return api_response(req, *reply);
  if (!is_safe(req) && !who.is_admin()) {
    co_return error_response(req, http::status::forbidden, "a viewer cannot change anything");
  }
  ApiRequest request = api_request_of(req, who.user);
  co_return api_response(req, co_await router_.dispatch(std::move(request)));
}

Response HttpServer::static_file(const Request& req) const {
  std::string_view target = req.target();
  if (const auto q = target.find('?'); q != std::string_view::npos) target = target.substr(0, q);
  if (req.method() != http::verb::get && req.method() != http::verb::head) {
    Response res = error_response(req, http::status::method_not_allowed, "method not allowed");
    res.set(http::field::allow, "GET, HEAD");
    return res;
  }
  if (!safe_path(target)) return error_response(req, http::status::bad_request, "bad path");
  std::string path = options_.web_root + std::string(target);
  if (target.back() == '/') path += "index.html";
  std::ifstream in(path, std::ios::binary);
  if (!in) return error_response(req, http::status::not_found, "not found");
  std::ostringstream body;
  body << in.rdbuf();
  Response res = make_response(req, http::status::ok, mime_type(path), body.str());
  res.set("Content-Security-Policy",
          "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self'; "
          "script-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'");
  // Vite puts content hashes in asset names: those can be cached; index.html must not be.
  res.set(http::field::cache_control,
          target.rfind("/assets/", 0) == 0 ? "public, max-age=31536000, immutable" : "no-cache");
  return res;
}

template <class Stream>
asio::awaitable<void> HttpServer::serve_websocket(Stream stream, Request req, WsIdentity identity) {
  auto ws = std::make_shared<websocket::stream<Stream>>(std::move(stream));
  ws->set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
  ws->read_message_max(kWsMessageLimit);
  boost::system::error_code ec;
  co_await ws->async_accept(req, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return;
  ws->text(true);

  auto client = std::make_shared<WsClient>(ws->get_executor(), std::move(identity));
  client->set_view(ws_view(req).value_or(NodeView::kFull));  // checked before the upgrade
  // A client dropped for not reading (ws_hub.h, rule 4): its writer may be stuck in a write that
  // never completes, so the connection is cut instead of waiting for a close handshake.
  client->set_abort([ws] {
    boost::system::error_code ignored;
    beast::get_lowest_layer(*ws).socket().close(ignored);
  });
  // ?epoch=E&since=N: resume after frame N of run E (ws_hub.h), else a snapshot.
  const QueryParams query = parse_query(req.target());
  std::optional<std::uint64_t> since;
  if (const auto it = query.find("since"); it != query.end()) {
    std::uint64_t n = 0;
    const auto [ptr, err] = std::from_chars(it->second.data(), it->second.data() + it->second.size(), n);
    if (err == std::errc() && ptr == it->second.data() + it->second.size()) since = n;
  }
  const auto epoch = query.find("epoch");
  hub_.attach(client, since, epoch == query.end() ? std::string_view() : std::string_view(epoch->second));
  log::debug(kLog, "websocket client attached", {{"clients", hub_.clients()}});

  // Reader: the client's messages (a watch) go to the hub; reading also keeps control frames
  // (ping/close) flowing.
  asio::co_spawn(io_, [this, ws, client]() -> asio::awaitable<void> {
    beast::flat_buffer in;
    boost::system::error_code rec;
    for (;;) {
      co_await ws->async_read(in, asio::redirect_error(asio::use_awaitable, rec));
      if (rec) break;
      const auto data = in.cdata();
      hub_.client_message(client, std::string_view(static_cast<const char*>(data.data()), data.size()));
      in.consume(in.size());
    }
    client->close();
  }, asio::detached);

  while (!client->closed()) {
    if (client->empty()) {
      client->signal().expires_at(asio::steady_timer::time_point::max());
      co_await client->signal().async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    const Frame frame = client->pop();
    co_await ws->async_write(asio::buffer(*frame), asio::redirect_error(asio::use_awaitable, ec));
    if (ec) break;
    hub_.frame_sent();
  }
  hub_.detach(client);
  client->close();
  client->set_abort({});  // it holds `ws`
  if (ws->is_open()) {
    const websocket::close_reason reason(static_cast<websocket::close_code>(client->close_code()), client->close_reason());
    co_await ws->async_close(reason, asio::redirect_error(asio::use_awaitable, ec));
  }
  log::debug(kLog, "websocket client detached", {{"clients", hub_.clients()}});
}

}  // namespace edgemon::gateway
