#include <utility>  // before Boost.Asio (see gateway/include/edgemon/gateway/asio_prelude.h)

#include "support/ws_client.h"

#include <boost/asio.hpp>
#include <boost/beast.hpp>
#include <cctype>
#include <stdexcept>

namespace edgemon::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;

struct WsClient::Impl {
  asio::io_context io;
  websocket::stream<beast::tcp_stream> ws{io};
  beast::flat_buffer buffer;
  bool open = false;
  std::optional<websocket::close_reason> close;  // the server's close frame, once read
};

namespace {

std::string& default_auth_value() {
  static std::string value;
  return value;
}

using Headers = std::vector<std::pair<std::string, std::string>>;

bool has_header(const Headers& headers, std::string_view name) {
  for (const auto& [n, v] : headers) {
    if (beast::iequals(n, beast::string_view(name.data(), name.size()))) return true;
  }
  return false;
}

// The handshake's headers: Origin, the caller's, and the default credentials if wanted.
auto handshake_decorator(const std::string& origin, const Headers& headers, bool default_auth) {
  return websocket::stream_base::decorator([origin, headers, default_auth](websocket::request_type& req) {
    if (!origin.empty()) req.set(beast::http::field::origin, origin);
    for (const auto& [n, v] : headers) req.set(n, v);
    if (default_auth && !has_header(headers, "Authorization") && !default_auth_value().empty()) {
      req.set(beast::http::field::authorization, default_auth_value());
    }
  });
}

}  // namespace

void set_default_authorization(std::string value) { default_auth_value() = std::move(value); }
const std::string& default_authorization() { return default_auth_value(); }

WsClient::WsClient(std::uint16_t port, const std::string& path, const std::string& origin, const Headers& headers,
                   bool default_auth)
    : impl_(std::make_unique<Impl>()) {
  boost::system::error_code ec;
  beast::get_lowest_layer(impl_->ws).connect(
      asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), ec);
  if (ec) throw std::runtime_error("ws connect: " + ec.message());
  impl_->ws.set_option(handshake_decorator(origin, headers, default_auth));
  websocket::response_type res;
  impl_->ws.handshake(res, "127.0.0.1:" + std::to_string(port), path, ec);
  if (ec) throw std::runtime_error("ws handshake: " + ec.message() + " (HTTP " + std::to_string(res.result_int()) + ")");
  impl_->open = true;
}

int ws_handshake_status(std::uint16_t port, const std::string& path, const std::string& origin, const Headers& headers,
                        bool default_auth) {
  // A plain HTTP exchange: Beast's client handshake does not hand back a refusal's status.
  HttpRequest r;
  r.path = path;
  r.headers = {{"Connection", "Upgrade"}, {"Upgrade", "websocket"}, {"Sec-WebSocket-Version", "13"},
               {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="}};
  if (!origin.empty()) r.headers.emplace_back("Origin", origin);
  r.headers.insert(r.headers.end(), headers.begin(), headers.end());
  r.default_auth = default_auth;
  return http_request(port, r).status;
}

WsClient::~WsClient() {
  if (impl_ && impl_->open) {
    boost::system::error_code ec;
    beast::get_lowest_layer(impl_->ws).socket().close(ec);
  }
}

std::optional<std::pair<int, std::string>> WsClient::close_frame() const {
  if (!impl_->close) return std::nullopt;
  return std::pair<int, std::string>(impl_->close->code, std::string(impl_->close->reason.data(), impl_->close->reason.size()));
}

bool WsClient::send(const std::string& text) {
  if (!impl_->open) return false;
  boost::system::error_code ec;
  impl_->ws.text(true);
  impl_->ws.write(asio::buffer(text), ec);
  return !ec;
}

std::optional<std::string> WsClient::read(std::chrono::milliseconds timeout) {
  if (!impl_->open) return std::nullopt;
  bool done = false;
  boost::system::error_code result;
  impl_->buffer.clear();
  impl_->ws.async_read(impl_->buffer, [&](boost::system::error_code ec, std::size_t) {
    done = true;
    result = ec;
  });
  impl_->io.restart();
  impl_->io.run_for(timeout);
  if (!done) {
    // Timed out: the stream is unusable after cancelling a read, so close it.
    boost::system::error_code ec;
    beast::get_lowest_layer(impl_->ws).socket().close(ec);
    impl_->io.restart();
    impl_->io.run_for(std::chrono::milliseconds(100));
    impl_->open = false;
    return std::nullopt;
  }
  if (result) {
    impl_->open = false;
    if (result == websocket::error::closed) impl_->close = impl_->ws.reason();
    return std::nullopt;
  }
  return beast::buffers_to_string(impl_->buffer.data());
}

}  // namespace edgemon::test

namespace edgemon::test {

HttpResponse http_request(std::uint16_t port, const HttpRequest& r) {
  HttpResponse out;
  asio::io_context io;
  beast::tcp_stream stream(io);
  boost::system::error_code ec;
  stream.expires_after(std::chrono::seconds(5));
  if (!r.source_addr.empty()) {
    stream.socket().open(asio::ip::tcp::v4(), ec);
    if (!ec) stream.socket().bind(asio::ip::tcp::endpoint(asio::ip::make_address(r.source_addr), 0), ec);
    if (ec) return out;
  }
  stream.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), ec);
  if (ec) return out;
  beast::http::request<beast::http::string_body> req{beast::http::string_to_verb(r.method), r.path, 11};
  if (req.method() == beast::http::verb::unknown) req.method_string(r.method);
  req.set(beast::http::field::host, "127.0.0.1:" + std::to_string(port));
  for (const auto& [n, v] : r.headers) req.set(n, v);
  if (r.default_auth && !has_header(r.headers, "Authorization") && !default_auth_value().empty()) {
    req.set(beast::http::field::authorization, default_auth_value());
  }
  if (!r.body.empty()) {
    if (!has_header(r.headers, "Content-Type")) req.set(beast::http::field::content_type, "application/json");
    req.body() = r.body;
  }
  req.prepare_payload();
  beast::http::write(stream, req, ec);
  if (ec) return out;
  beast::flat_buffer buffer;
  beast::http::response_parser<beast::http::string_body> parser;
  parser.body_limit(64 * 1024 * 1024);
  if (req.method() == beast::http::verb::head) parser.skip(true);  // a HEAD answer has no body
  beast::http::read(stream, buffer, parser, ec);
  if (ec) return out;
  const auto& res = parser.get();
  out.status = static_cast<int>(res.result_int());
  out.body = res.body();
  for (const auto& field : res) {
    std::string name(field.name_string());
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string& slot = out.headers[name];
    slot += (slot.empty() ? "" : "\n") + std::string(field.value());
  }
  return out;
}

HttpResponse http_send(std::uint16_t port, const std::string& method, const std::string& path, const std::string& body) {
  HttpRequest r;
  r.method = method;
  r.path = path;
  r.body = body;
  return http_request(port, r);
}

std::string http_get(std::uint16_t port, const std::string& path, int* status) {
  HttpRequest r;
  r.path = path;
  HttpResponse res = http_request(port, r);
  if (status != nullptr && res.status != 0) *status = res.status;
  return res.status == 0 ? std::string() : std::move(res.body);
}

std::string cookie_from(const HttpResponse& response, const std::string& name) {
  std::string all = response.header("set-cookie");
  std::size_t pos = 0;
  while (pos <= all.size()) {
    const std::size_t end = std::min(all.find('\n', pos), all.size());
    const std::string line = all.substr(pos, end - pos);
    if (line.rfind(name + "=", 0) == 0) return line.substr(0, line.find(';'));
    pos = end + 1;
  }
  return {};
}

}  // namespace edgemon::test
