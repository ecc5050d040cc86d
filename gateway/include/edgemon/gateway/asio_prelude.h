// Include this before any Boost.Asio/Beast header. Boost 1.74's Asio coroutine support uses
// std::exchange without including <utility> itself; with GCC 12 that fails unless it came first.
#pragma once
#include <utility>  // keep first

#include <boost/asio.hpp>
#include <boost/beast.hpp>

namespace edgemon::gateway {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace websocket = boost::beast::websocket;
using tcp = boost::asio::ip::tcp;
}  // namespace edgemon::gateway
