#include "edgemon/notify/address_guard.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>
#include <string>

namespace edgemon::notify {
namespace {

bool v4_link_local(const unsigned char* b) { return b[0] == 169 && b[1] == 254; }

bool v6_link_local(const unsigned char* b) {
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return true;  // fe80::/10
  // ::ffff:a.b.c.d carries an IPv4 address; judge that one.
  static constexpr unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  return std::memcmp(b, kMapped, sizeof kMapped) == 0 && v4_link_local(b + 12);
}

}  // namespace

bool is_link_local(const sockaddr* addr, socklen_t len) {
  if (addr == nullptr) return false;
  if (addr->sa_family == AF_INET && len >= static_cast<socklen_t>(sizeof(sockaddr_in))) {
    sockaddr_in in{};
    std::memcpy(&in, addr, sizeof in);
    unsigned char b[4];
    std::memcpy(b, &in.sin_addr, sizeof b);
    return v4_link_local(b);
  }
  if (addr->sa_family == AF_INET6 && len >= static_cast<socklen_t>(sizeof(sockaddr_in6))) {
    sockaddr_in6 in6{};
    std::memcpy(&in6, addr, sizeof in6);
    unsigned char b[16];
    std::memcpy(b, &in6.sin6_addr, sizeof b);
    return v6_link_local(b);
  }
  return false;
}

bool is_link_local(std::string_view ip_literal) {
  const std::string s(ip_literal);
  unsigned char b[16];
  if (::inet_pton(AF_INET, s.c_str(), b) == 1) return v4_link_local(b);
  if (::inet_pton(AF_INET6, s.c_str(), b) == 1) return v6_link_local(b);
  return false;
}

}  // namespace edgemon::notify
