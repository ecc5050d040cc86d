// A minimal HTTP and WebSocket client for tests (Boost.Beast), every read bounded by a timeout.
//
// Credentials: the gateway's API needs authentication. TestFleet logs in once and calls
// set_default_authorization("Bearer emt_..."); every request and handshake here then carries it,
// unless it brings its own Authorization header or says default_auth = false (to test refusals).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace edgemon::test {

class WsClient {
 public:
  // Connects to ws://127.0.0.1:port/path with the given Origin header (empty: none).
  // Throws std::runtime_error if the connection or handshake fails.
  // `headers` are added to the handshake (Cookie, Authorization, ...).
  WsClient(std::uint16_t port, const std::string& path, const std::string& origin = "",
           const std::vector<std::pair<std::string, std::string>>& headers = {}, bool default_auth = true);
  ~WsClient();
  // The next text message, or nullopt on timeout/close.
  std::optional<std::string> read(std::chrono::milliseconds timeout);
  // Sends one text message (blocking, bounded by the connection's own timeouts); false on error.
  bool send(const std::string& text);
  // After read() returned nullopt because the server closed the WebSocket: its close code and
  // reason. nullopt while open, after a timeout, or if the connection ended without a close frame.
  std::optional<std::pair<int, std::string>> close_frame() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace edgemon::test

namespace edgemon::test {

// The Authorization header value added to requests that carry none of their own ("" = none).
void set_default_authorization(std::string value);
const std::string& default_authorization();

struct HttpRequest {
  std::string method = "GET";
  std::string path;
  std::string body;                                          // sent with Content-Type: application/json if not set
  std::vector<std::pair<std::string, std::string>> headers;  // e.g. {"Cookie", "..."}, {"X-CSRF-Token", "..."}
  bool default_auth = true;
  std::string source_addr;  // bind the client socket here first (e.g. "127.0.0.2"); empty: any
};

struct HttpResponse {
  int status = 0;  // 0: no answer (connection failed or timed out)
  std::string body;
  std::map<std::string, std::string> headers;  // names in lower case; repeated ones joined with "\n"
  std::string header(const std::string& lower_name) const {
    const auto it = headers.find(lower_name);
    return it == headers.end() ? std::string() : it->second;
  }
};

// One request to http://127.0.0.1:port, bounded by a 5 s timeout.
HttpResponse http_request(std::uint16_t port, const HttpRequest& request);

// `method` `path` with `body` and the default credentials, bounded by a 5 s timeout.
HttpResponse http_send(std::uint16_t port, const std::string& method, const std::string& path,
                       const std::string& body = "");

// GET http://127.0.0.1:port<path>; returns the body (empty on failure). Bounded by a 5 s timeout.
std::string http_get(std::uint16_t port, const std::string& path, int* status = nullptr);

// The HTTP status of a WebSocket handshake (101 when it is accepted, 0 if nothing answered).
int ws_handshake_status(std::uint16_t port, const std::string& path, const std::string& origin,
                        const std::vector<std::pair<std::string, std::string>>& headers, bool default_auth);

// "name=value" of the first Set-Cookie named `name` in `response`, for a Cookie header ("" if none).
std::string cookie_from(const HttpResponse& response, const std::string& name);

}  // namespace edgemon::test
