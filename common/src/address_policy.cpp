#include "edgemon/common/address_policy.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>

namespace edgemon::net {
namespace {

bool v4_link_local(const unsigned char* b) {
  return b[0] == 169 && b[1] == 254;
}

GuardedAddress classify_v4(const unsigned char* b) {
  return v4_link_local(b) ? GuardedAddress::kLinkLocal : GuardedAddress::kNone;
}

GuardedAddress classify_v6(const unsigned char* b) {
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return GuardedAddress::kLinkLocal;  // fe80::/10
  // ::ffff:a.b.c.d carries an IPv4 address (a v6 socket connecting to it reaches that v4 host).
  static constexpr unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(b, kMapped, sizeof kMapped) == 0) return classify_v4(b + 12);
  // 64:ff9b::/96 (RFC 6052 well-known NAT64 prefix) and 64:ff9b:1::/48 (RFC 8215, local-use
  // NAT64) embed an IPv4 address in the last 32 bits: behind a NAT64 gateway, 64:ff9b::a9fe:a9fe
  // reaches 169.254.169.254.
  static constexpr unsigned char kNat64[12] = {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
  if (std::memcmp(b, kNat64, sizeof kNat64) == 0) return classify_v4(b + 12);
  static constexpr unsigned char kNat64Local[6] = {0, 0x64, 0xff, 0x9b, 0, 0x01};
  if (std::memcmp(b, kNat64Local, sizeof kNat64Local) == 0) return classify_v4(b + 12);
  // fd00:ec2::254, the AWS instance metadata service over IPv6.
  static constexpr unsigned char kAwsImds[16] = {0xfd, 0x00, 0x0e, 0xc2, 0x00, 0x00, 0x00, 0x00,
                                                 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x54};
  if (std::memcmp(b, kAwsImds, sizeof kAwsImds) == 0) return GuardedAddress::kMetadata;
  return GuardedAddress::kNone;
}

}  // namespace

GuardedAddress classify_address(const sockaddr* addr, socklen_t len) {
  if (addr == nullptr || len < static_cast<socklen_t>(sizeof(sa_family_t)))
    return GuardedAddress::kNone;
  if (addr->sa_family == AF_INET && len >= static_cast<socklen_t>(sizeof(sockaddr_in))) {
    sockaddr_in in{};
    std::memcpy(&in, addr, sizeof in);
    unsigned char b[4];
    std::memcpy(b, &in.sin_addr, sizeof b);
    return classify_v4(b);
  }
  if (addr->sa_family == AF_INET6 && len >= static_cast<socklen_t>(sizeof(sockaddr_in6))) {
    sockaddr_in6 in6{};
    std::memcpy(&in6, addr, sizeof in6);
    unsigned char b[16];
    std::memcpy(b, &in6.sin6_addr, sizeof b);
    return classify_v6(b);
  }
  return GuardedAddress::kNone;
}

GuardedAddress classify_address(std::string_view ip_literal) {
  const std::string s(ip_literal);
  unsigned char b[16];
  if (::inet_pton(AF_INET, s.c_str(), b) == 1) return classify_v4(b);
  if (::inet_pton(AF_INET6, s.c_str(), b) == 1) return classify_v6(b);
  return GuardedAddress::kNone;
}

std::string numeric_address(const sockaddr* addr, socklen_t len) {
  char buf[INET6_ADDRSTRLEN] = "?";
  if (addr == nullptr || len < static_cast<socklen_t>(sizeof(sa_family_t))) return buf;
  if (addr->sa_family == AF_INET && len >= static_cast<socklen_t>(sizeof(sockaddr_in))) {
    sockaddr_in in{};
    std::memcpy(&in, addr, sizeof in);
    if (::inet_ntop(AF_INET, &in.sin_addr, buf, sizeof buf) == nullptr) return "?";
  } else if (addr->sa_family == AF_INET6 && len >= static_cast<socklen_t>(sizeof(sockaddr_in6))) {
    sockaddr_in6 in6{};
    std::memcpy(&in6, addr, sizeof in6);
    if (::inet_ntop(AF_INET6, &in6.sin6_addr, buf, sizeof buf) == nullptr) return "?";
  }
  return buf;
}

std::string link_local_refusal(std::string_view address, GuardedAddress kind,
                               std::string_view how_to_allow) {
  std::string m = "refused: ";
  m += address;
  m += kind == GuardedAddress::kMetadata ? " is a cloud metadata address" : " is link-local";
  m += " (set ";
  m += how_to_allow;
  m += " to allow)";
  return m;
}

}  // namespace edgemon::net
