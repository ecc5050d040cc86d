#include <utility>  // before Boost.Asio (see gateway/include/edgemon/gateway/asio_prelude.h)

#include "receivers.h"

#include <boost/asio.hpp>
#include <boost/beast.hpp>

#include <algorithm>
#include <cctype>

namespace edgemon::test {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// Wakes a blocking accept() by connecting to it once.
void poke(std::uint16_t port) {
  asio::io_context io;
  tcp::socket s(io);
  boost::system::error_code ec;
  s.connect({asio::ip::make_address("127.0.0.1"), port}, ec);
}

}  // namespace

struct HttpReceiver::Impl {
  asio::io_context io;
  tcp::acceptor acceptor{io, {asio::ip::make_address("127.0.0.1"), 0}};
};

HttpReceiver::HttpReceiver(unsigned status) : impl_(new Impl), status_(status) {
  port_ = impl_->acceptor.local_endpoint().port();
  thread_ = std::thread([this] { serve(); });
}

HttpReceiver::~HttpReceiver() {
  {
    std::lock_guard lock(m_);
    stopping_ = true;
  }
  poke(port_);
  thread_.join();
  delete impl_;
}

void HttpReceiver::serve() {
  for (;;) {
    tcp::socket sock(impl_->io);
    boost::system::error_code ec;
    impl_->acceptor.accept(sock, ec);
    {
      std::lock_guard lock(m_);
      if (stopping_) return;
    }
    if (ec) continue;
    beast::flat_buffer buf;
    for (;;) {  // keep-alive: serve until the client closes
      http::request<http::string_body> req;
      http::read(sock, buf, req, ec);
      if (ec) break;
      ReceivedRequest r;
      r.method = std::string(req.method_string());
      r.target = std::string(req.target());
      for (const auto& f : req) r.headers[lower(std::string(f.name_string()))] = std::string(f.value());
      r.body = req.body();
      http::response<http::string_body> res{static_cast<http::status>(status_), req.version()};
      res.set(http::field::content_type, "text/plain");
      res.body() = "ok";
      res.keep_alive(req.keep_alive());
      res.prepare_payload();
      http::write(sock, res, ec);
      {
        std::lock_guard lock(m_);
        requests_.push_back(std::move(r));
      }
      cv_.notify_all();
      if (ec || !res.keep_alive()) break;
    }
  }
}

std::vector<ReceivedRequest> HttpReceiver::wait_for(std::size_t count, std::chrono::milliseconds timeout) {
  std::unique_lock lock(m_);
  cv_.wait_for(lock, timeout, [&] { return requests_.size() >= count; });
  return requests_;
}

struct SmtpSink::Impl {
  asio::io_context io;
  tcp::acceptor acceptor{io, {asio::ip::make_address("127.0.0.1"), 0}};
};

SmtpSink::SmtpSink() : impl_(new Impl) {
  port_ = impl_->acceptor.local_endpoint().port();
  thread_ = std::thread([this] { serve(); });
}

SmtpSink::~SmtpSink() {
  {
    std::lock_guard lock(m_);
    stopping_ = true;
  }
  poke(port_);
  thread_.join();
  delete impl_;
}

// Just enough RFC 5321 for libcurl: EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT.
void SmtpSink::serve() {
  for (;;) {
    tcp::socket sock(impl_->io);
    boost::system::error_code ec;
    impl_->acceptor.accept(sock, ec);
    {
      std::lock_guard lock(m_);
      if (stopping_) return;
    }
    if (ec) continue;
    sock.set_option(asio::socket_base::linger(true, 1), ec);
    auto reply = [&](const std::string& line) { asio::write(sock, asio::buffer(line + "\r\n"), ec); };
    std::string buf;
    auto read_line = [&](std::string& line) {
      const std::size_t n = asio::read_until(sock, asio::dynamic_buffer(buf), "\r\n", ec);
      if (ec) return false;
      line = buf.substr(0, n - 2);
      buf.erase(0, n);
      return true;
    };
    reply("220 sink.test ESMTP edgemon-test");
    SmtpMessage msg;
    std::string line;
    while (!ec && read_line(line)) {
      const std::string verb = lower(line.substr(0, 4));
      if (verb == "ehlo") {
        reply("250-sink.test\r\n250 8BITMIME");
      } else if (verb == "helo" || verb == "noop") {
        reply("250 ok");
      } else if (verb == "rset") {
        msg = {};
        reply("250 ok");
      } else if (verb == "mail") {
        msg = {};
        msg.mail_from = line.substr(line.find(':') + 1);
        reply("250 ok");
      } else if (verb == "rcpt") {
        msg.rcpt_to.push_back(line.substr(line.find(':') + 1));
        reply("250 ok");
      } else if (verb == "data") {
        reply("354 end with <CRLF>.<CRLF>");
        std::string data;
        while (read_line(line)) {
          if (line == ".") break;
          data += (line.rfind("..", 0) == 0 ? line.substr(1) : line) + "\r\n";
        }
        msg.data = std::move(data);
        {
          std::lock_guard lock(m_);
          messages_.push_back(msg);
        }
        cv_.notify_all();
        reply("250 queued");
      } else if (verb == "quit") {
        reply("221 bye");
        break;
      } else {
        reply("502 not implemented");
      }
    }
  }
}

std::vector<SmtpMessage> SmtpSink::wait_for(std::size_t count, std::chrono::milliseconds timeout) {
  std::unique_lock lock(m_);
  cv_.wait_for(lock, timeout, [&] { return messages_.size() >= count; });
  return messages_;
}

}  // namespace edgemon::test
