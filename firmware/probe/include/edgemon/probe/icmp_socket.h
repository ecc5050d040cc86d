// IcmpSocket: one ICMP (or ICMPv6) socket opened through a SocketApi, raw when allowed, else the
// unprivileged "ping socket".
//
// Linux: SOCK_RAW needs CAP_NET_RAW; SOCK_DGRAM/IPPROTO_ICMP needs the process's group inside
// sysctl net.ipv4.ping_group_range (per network namespace; it also governs ICMPv6). A raw socket
// sees every ICMP packet the host receives, including errors (unreachable, time exceeded) that
// quote our echoes; a ping socket sees only replies to itself (the kernel rewrites the ident), so
// errors are reported as timeouts in that mode.
#pragma once

#include <cstdint>
#include <memory>

#include "edgemon/common/result.h"
#include "edgemon/probe/socket_api.h"

namespace edgemon::probe {

enum class SocketMode : std::uint8_t { kRaw, kUnprivileged };
enum class ModePreference : std::uint8_t { kAuto, kRawOnly, kUnprivilegedOnly };

class IcmpSocket {
 public:
  // Errors: kPermissionDenied (neither mode allowed; the message names CAP_NET_RAW and
  // net.ipv4.ping_group_range), kUnsupported (address family not available), kIo (other).
  static Result<std::unique_ptr<IcmpSocket>> open(SocketApi& api, int family,
                                                  ModePreference pref = ModePreference::kAuto);
  ~IcmpSocket();
  IcmpSocket(const IcmpSocket&) = delete;
  IcmpSocket& operator=(const IcmpSocket&) = delete;

  int fd() const { return fd_; }
  int family() const { return family_; }
  SocketMode mode() const { return mode_; }
  // Whether received datagrams start with the IP header (IPv4 raw on Linux; all raw on lwIP).
  bool ip_header_included() const { return ip_header_included_; }
  SocketApi& api() const { return api_; }

 private:
  IcmpSocket(SocketApi& api, int fd, int family, SocketMode mode, bool header)
      : api_(api), fd_(fd), family_(family), mode_(mode), ip_header_included_(header) {}
  SocketApi& api_;
  int fd_;
  int family_;
  SocketMode mode_;
  bool ip_header_included_;
};

}  // namespace edgemon::probe
