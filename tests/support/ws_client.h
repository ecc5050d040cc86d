// A minimal WebSocket client for tests (Boost.Beast), every read bounded by a timeout.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace edgemon::test {

class WsClient {
 public:
  // Connects to ws://127.0.0.1:port/path with the given Origin header (empty: none).
  // Throws std::runtime_error if the connection or handshake fails.
  WsClient(std::uint16_t port, const std::string& path, const std::string& origin = "");
  ~WsClient();
  // The next text message, or nullopt on timeout/close.
  std::optional<std::string> read(std::chrono::milliseconds timeout);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace edgemon::test

namespace edgemon::test {
// GET http://127.0.0.1:port<path>; returns the body (empty on failure). Bounded by a 5 s timeout.
std::string http_get(std::uint16_t port, const std::string& path, int* status = nullptr);
}  // namespace edgemon::test
