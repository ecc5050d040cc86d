// Which resolved addresses a user-configured URL (webhook, e-mail relay, HTTP/gRPC check) may
// connect to. Cloud and hypervisor metadata services live on link-local addresses
// (169.254.169.254, fe80::/10) and, on AWS, also on fd00:ec2::254; a URL pointing there would let
// whoever edits a config read instance credentials through edgemon. The check is meant to run on
// every address libcurl actually connects to (after DNS; see curl_address_guard.h), so a host name
// that resolves -- or rebinds -- to such an address is refused as well.
//
// No curl here: edgemon_common stays free of libcurl.
#pragma once

#include <sys/socket.h>

#include <string>
#include <string_view>

namespace edgemon::net {

enum class GuardedAddress : unsigned char {
  kNone,       // an ordinary address
  kLinkLocal,  // 169.254.0.0/16, fe80::/10, ::ffff:169.254.0.0/112, NAT64 forms (64:ff9b::/96, 64:ff9b:1::/48)
  kMetadata,   // fd00:ec2::254 (AWS IMDS over IPv6; not link-local but the same service)
};

// What `addr` is. kNone for nullptr, a length too short for its family, or another family.
GuardedAddress classify_address(const sockaddr* addr, socklen_t len);
// The same for a numeric address literal ("169.254.169.254", "fe80::1"); kNone if not numeric
// (names are judged after resolution, never by their spelling).
GuardedAddress classify_address(std::string_view ip_literal);

// True when the address must be refused unless the configuration allows link-local addresses
// (kLinkLocal or kMetadata).
inline bool is_link_local(const sockaddr* addr, socklen_t len) {
  return classify_address(addr, len) != GuardedAddress::kNone;
}
inline bool is_link_local(std::string_view ip_literal) {
  return classify_address(ip_literal) != GuardedAddress::kNone;
}

// "169.254.169.254", "fe80::1"; "?" when not AF_INET/AF_INET6 or too short.
std::string numeric_address(const sockaddr* addr, socklen_t len);

// The refusal text both users print, e.g.
//   refused: 169.254.169.254 is link-local (set notify.webhook.allow_link_local = true to allow)
// `how_to_allow` is the part after "set " ("notify.webhook.allow_link_local = true").
std::string link_local_refusal(std::string_view address, GuardedAddress kind,
                               std::string_view how_to_allow);

}  // namespace edgemon::net
