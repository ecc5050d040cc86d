#pragma once

#include <chrono>
#include <cstdint>

namespace edgemon::test {

// A TCP port on 127.0.0.1 that was free a moment ago (the kernel picked it).
std::uint16_t free_tcp_port();
// Polls until something accepts connections on 127.0.0.1:port, or the timeout passes.
bool wait_for_tcp(std::uint16_t port, std::chrono::milliseconds timeout);

}  // namespace edgemon::test
