#include "edgemon/probe/icmp_socket.h"

#include <netinet/in.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "errno_text.h"

namespace edgemon::probe {

Result<std::unique_ptr<IcmpSocket>> IcmpSocket::open(SocketApi& api, int family,
                                                     ModePreference pref) {
  const int proto =
      family == AF_INET6 ? static_cast<int>(IPPROTO_ICMPV6) : static_cast<int>(IPPROTO_ICMP);
  int raw_err = 0;
  if (pref != ModePreference::kUnprivilegedOnly) {
    const int fd = api.socket(family, SOCK_RAW, proto);
    if (fd >= 0) {
      // A burst to a thousand targets must not overflow the receive queue (best effort).
      const int rcvbuf = 1 << 20;
      (void)api.setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
      // lwIP delivers the IP header for both families; Linux only for IPv4.
      const bool header = family == AF_INET || std::strcmp(api.name(), "lwip") == 0;
      return std::unique_ptr<IcmpSocket>(new IcmpSocket(api, fd, family, SocketMode::kRaw, header));
    }
    raw_err = api.last_error();
    if (raw_err == EAFNOSUPPORT) {
      return make_error(
          ErrorCode::kUnsupported,
          std::string("ICMP socket: address family not supported (") + errno_text(raw_err) + ")");
    }
  }
  int dgram_err = 0;
  if (pref != ModePreference::kRawOnly) {
    const int fd = api.socket(family, SOCK_DGRAM, proto);
    if (fd >= 0) {
      const int rcvbuf = 1 << 20;
      (void)api.setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
      return std::unique_ptr<IcmpSocket>(
          new IcmpSocket(api, fd, family, SocketMode::kUnprivileged, false));
    }
    dgram_err = api.last_error();
  }
  std::string msg =
      std::string("cannot open an ICMP") + (family == AF_INET6 ? "v6" : "") + " socket:";
  if (pref != ModePreference::kUnprivilegedOnly) {
    msg += std::string(" raw socket refused (") + errno_text(raw_err) +
           ") - grant CAP_NET_RAW (e.g. setcap cap_net_raw+ep edgemon-agent, or "
           "AmbientCapabilities=CAP_NET_RAW);";
  }
  if (pref != ModePreference::kRawOnly) {
    msg += std::string(" unprivileged ICMP socket refused (") + errno_text(dgram_err) +
           ") - add this process's group to sysctl net.ipv4.ping_group_range";
  }
  const bool perm =
      raw_err == EPERM || raw_err == EACCES || dgram_err == EPERM || dgram_err == EACCES;
  return make_error(perm ? ErrorCode::kPermissionDenied : ErrorCode::kIo, msg);
}

IcmpSocket::~IcmpSocket() {
  if (fd_ >= 0) {
    (void)api_.close(fd_);
  }
}

}  // namespace edgemon::probe
