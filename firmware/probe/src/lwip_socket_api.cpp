#include "edgemon/probe/lwip_socket_api.h"

#include <cerrno>
#include <cstdlib>
#include <future>

extern "C" {
#include "lwip/init.h"
#include "lwip/ip4_addr.h"
#include "lwip/netif.h"
#include "lwip/sockets.h"
#include "lwip/tcpip.h"
#include "netif/tapif.h"
}

namespace edgemon::probe {

int LwipSocketApi::socket(int domain, int type, int protocol) {
  const int fd = lwip_socket(domain, type, protocol);
  errno_ = fd < 0 ? errno : 0;
  return fd;
}

ssize_t LwipSocketApi::sendto(int fd, const void* buf, std::size_t len, int flags,
                              const sockaddr* to, socklen_t to_len) {
  const ssize_t n = lwip_sendto(fd, buf, len, flags, to, to_len);
  errno_ = n < 0 ? errno : 0;
  return n;
}

ssize_t LwipSocketApi::recvfrom(int fd, void* buf, std::size_t len, int flags, sockaddr* from,
                                socklen_t* from_len) {
  const ssize_t n = lwip_recvfrom(fd, buf, len, flags, from, from_len);
  errno_ = n < 0 ? errno : 0;
  return n;
}

int LwipSocketApi::poll(pollfd* fds, nfds_t n, std::chrono::nanoseconds timeout) {
  int ms = -1;
  if (timeout.count() >= 0) {
    ms = static_cast<int>((timeout.count() + 999'999) / 1'000'000);
  }
  const int rc = lwip_poll(fds, n, ms);
  errno_ = rc < 0 ? errno : 0;
  return rc;
}

int LwipSocketApi::setsockopt(int fd, int level, int name, const void* value, socklen_t len) {
  const int rc = lwip_setsockopt(fd, level, name, value, len);
  errno_ = rc < 0 ? errno : 0;
  return rc;
}

int LwipSocketApi::close(int fd) {
  const int rc = lwip_close(fd);
  errno_ = rc < 0 ? errno : 0;
  return rc;
}

namespace {
netif g_netif;
bool g_started = false;
}  // namespace

Status start_lwip_tap_stack(const LwipTapConfig& config) {
  if (g_started) {
    return make_error(ErrorCode::kUnavailable, "the lwIP stack is already running in this process");
  }
  ip4_addr_t ip, mask, gw;
  if (ip4addr_aton(config.address.c_str(), &ip) == 0 ||
      ip4addr_aton(config.netmask.c_str(), &mask) == 0) {
    return make_error(ErrorCode::kInvalidArgument,
                      "lwIP address/netmask: " + config.address + "/" + config.netmask);
  }
  ip4_addr_set_zero(&gw);
  if (!config.gateway.empty() && ip4addr_aton(config.gateway.c_str(), &gw) == 0) {
    return make_error(ErrorCode::kInvalidArgument, "lwIP gateway: " + config.gateway);
  }
  // tapif attaches to this existing device and skips its ifconfig call when the variable is set.
  // Before the stack threads exist: nothing else reads the environment concurrently.
  ::setenv("PRECONFIGURED_TAPIF", config.tap_name.c_str(), 1);  // NOLINT(concurrency-mt-unsafe)
  std::promise<void> ready;
  tcpip_init([](void* p) { static_cast<std::promise<void>*>(p)->set_value(); }, &ready);
  ready.get_future().wait();
  lwip_socket_thread_init();
  LOCK_TCPIP_CORE();
  netif_add(&g_netif, &ip, &mask, &gw, nullptr, tapif_init, tcpip_input);
  netif_set_default(&g_netif);
  netif_set_up(&g_netif);
  UNLOCK_TCPIP_CORE();
  g_started = true;
  return Status::Ok();
}

}  // namespace edgemon::probe
