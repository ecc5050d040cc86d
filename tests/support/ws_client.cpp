#include <utility>  // before Boost.Asio (see gateway/include/edgemon/gateway/asio_prelude.h)

#include "support/ws_client.h"

#include <boost/asio.hpp>
#include <boost/beast.hpp>
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
};

WsClient::WsClient(std::uint16_t port, const std::string& path, const std::string& origin)
    : impl_(std::make_unique<Impl>()) {
  boost::system::error_code ec;
  beast::get_lowest_layer(impl_->ws).connect(
      asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), ec);
  if (ec) throw std::runtime_error("ws connect: " + ec.message());
  impl_->ws.set_option(websocket::stream_base::decorator([origin](websocket::request_type& req) {
    if (!origin.empty()) req.set(beast::http::field::origin, origin);
  }));
  impl_->ws.handshake("127.0.0.1:" + std::to_string(port), path, ec);
  if (ec) throw std::runtime_error("ws handshake: " + ec.message());
  impl_->open = true;
}

WsClient::~WsClient() {
  if (impl_ && impl_->open) {
    boost::system::error_code ec;
    beast::get_lowest_layer(impl_->ws).socket().close(ec);
  }
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
    return std::nullopt;
  }
  return beast::buffers_to_string(impl_->buffer.data());
}

}  // namespace edgemon::test

namespace edgemon::test {

std::string http_get(std::uint16_t port, const std::string& path, int* status) {
  asio::io_context io;
  beast::tcp_stream stream(io);
  boost::system::error_code ec;
  stream.expires_after(std::chrono::seconds(5));
  stream.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), ec);
  if (ec) return {};
  beast::http::request<beast::http::empty_body> req{beast::http::verb::get, path, 11};
  req.set(beast::http::field::host, "127.0.0.1");
  beast::http::write(stream, req, ec);
  if (ec) return {};
  beast::flat_buffer buffer;
  beast::http::response<beast::http::string_body> res;
  beast::http::read(stream, buffer, res, ec);
  if (ec) return {};
  if (status != nullptr) *status = static_cast<int>(res.result_int());
  return res.body();
}

}  // namespace edgemon::test
