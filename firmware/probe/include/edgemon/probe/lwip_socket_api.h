// The lwIP backend of SocketApi (Debian liblwip-dev: lwIP 2.1 with its unix port), plus a
// minimal stack bring-up over a TAP device (the port's tapif). Only this file's .cpp sees lwIP
// headers; the engine is the very same code as on Linux sockets.
//
// One lwIP stack per process (lwIP keeps global state). The TAP device must already exist in
// the caller's network namespace (e.g. `ip tuntap add dev tap0 mode tap`): tapif attaches to it
// by name via PRECONFIGURED_TAPIF and never runs ifconfig.
#pragma once

#include <memory>
#include <string>

#include "edgemon/common/result.h"
#include "edgemon/probe/socket_api.h"

namespace edgemon::probe {

class LwipSocketApi final : public SocketApi {
 public:
  int socket(int domain, int type, int protocol) override;
  ssize_t sendto(int fd, const void* buf, std::size_t len, int flags, const sockaddr* to,
                 socklen_t to_len) override;
  ssize_t recvfrom(int fd, void* buf, std::size_t len, int flags, sockaddr* from,
                   socklen_t* from_len) override;
  // lwip_poll: millisecond resolution, rounded up.
  int poll(pollfd* fds, nfds_t n, std::chrono::nanoseconds timeout) override;
  int setsockopt(int fd, int level, int name, const void* value, socklen_t len) override;
  int close(int fd) override;
  int last_error() const override { return errno_; }
  bool os_pollable() const override { return false; }  // lwIP descriptors are not kernel fds
  const char* name() const override { return "lwip"; }

 private:
  int errno_ = 0;
};

struct LwipTapConfig {
  std::string tap_name = "tap0";
  std::string address;  // dotted IPv4 of the lwIP interface
  std::string netmask = "255.255.255.0";
  std::string gateway;  // optional
};

// Starts the tcpip thread and brings up one tapif netif as the default route.
// Errors: kInvalidArgument (bad address), kUnavailable (already started in this process).
Status start_lwip_tap_stack(const LwipTapConfig& config);

}  // namespace edgemon::probe
