// HttpServer: Boost.Beast on Asio (C++20 coroutines), on the gateway's io thread.
// Routes: GET /metrics (Prometheus), /api/health, /api/nodes, /api/fleet, /api/history, /api/reports, /api/alerts, /api/events and /api/incidents (?limit=&offset=),
// GET /ws (WebSocket live feed), and the dashboard's
// static files from web_root (GET/HEAD only, no path escapes, index.html fallback for "/").
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
#include "edgemon/gateway/ws_hub.h"

namespace edgemon::gateway {

struct HttpOptions {
  std::string bind = "127.0.0.1";
  std::uint16_t port = 8080;
  std::string web_root;
};

// Decoded query parameters (percent-escapes and '+' decoded; the last of repeated keys wins).
using QueryParams = std::map<std::string, std::string>;
QueryParams parse_query(std::string_view target);

// A JSON answer with its status (errors: {"error": message}).
struct ApiReply {
  unsigned status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::string attachment;  // a file name: sent as a download (Content-Disposition)
};

// JSON producers for the API; they run on the io thread.
struct HttpApi {
  std::function<std::string()> health;
  std::function<std::string()> nodes;
  std::function<std::string()> fleet;                                   // status counts per node
  std::function<std::string()> alerts;                                  // active alerts
  std::function<std::string(std::size_t, std::size_t)> events;          // limit, offset
  std::function<std::string(std::size_t, std::size_t)> incidents;       // limit, offset
  std::function<ApiReply(const QueryParams&)> history;                  // docs: history_api.h
  std::function<ApiReply(const QueryParams&)> reports;                  // docs: reports_api.h
  std::function<ApiReply()> metrics;                                    // Prometheus text, GET /metrics
};

class HttpServer {
 public:
  HttpServer(asio::io_context& io, HttpOptions options, HttpApi api, WsHub& hub);
  // Binds and starts accepting. Returns the bound port. Errors: kUnavailable (address in use),
  // kInvalidArgument (bad bind address).
  Result<std::uint16_t> start();
  void stop();

 private:
  asio::awaitable<void> accept_loop();
  asio::awaitable<void> serve(tcp::socket socket);
  asio::awaitable<void> serve_websocket(beast::tcp_stream stream, http::request<http::string_body> req);
  http::response<http::string_body> handle(const http::request<http::string_body>& req) const;

  asio::io_context& io_;
  HttpOptions options_;
  HttpApi api_;
  WsHub& hub_;
  tcp::acceptor acceptor_;
};

}  // namespace edgemon::gateway
