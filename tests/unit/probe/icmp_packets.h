// Packet builders shared by the probe unit tests.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <vector>

#include "edgemon/probe/icmp_codec.h"

namespace edgemon::probe::testing {

using Bytes = std::vector<std::uint8_t>;

inline Bytes ipv4(const std::uint8_t src[4], const std::uint8_t dst[4], std::uint8_t ttl,
                  const Bytes& payload, std::uint8_t proto = 1) {
  Bytes p(20, 0);
  p[0] = 0x45;
  const auto total = static_cast<std::uint16_t>(20 + payload.size());
  p[2] = static_cast<std::uint8_t>(total >> 8);
  p[3] = static_cast<std::uint8_t>(total & 0xff);
  p[8] = ttl;
  p[9] = proto;
  for (std::size_t i = 0; i < 4; ++i) {
    p[12 + i] = src[i];
    p[16 + i] = dst[i];
  }
  p.insert(p.end(), payload.begin(), payload.end());
  return p;
}

inline Bytes echo(std::uint8_t type, std::uint16_t ident, std::uint16_t seq,
                  std::size_t payload = 16, int family = AF_INET) {
  Bytes b(8 + payload);
  (void)encode_echo_request(b, family, ident, seq, payload);
  b[0] = type;
  b[2] = b[3] = 0;
  if (family == AF_INET) {
    const std::uint16_t sum = internet_checksum(b);
    b[2] = static_cast<std::uint8_t>(sum >> 8);
    b[3] = static_cast<std::uint8_t>(sum & 0xff);
  }
  return b;
}

// An ICMPv4 error (type/code) quoting `quoted` (an IP packet).
inline Bytes icmp4_error(std::uint8_t type, std::uint8_t code, const Bytes& quoted) {
  Bytes b(8, 0);
  b[0] = type;
  b[1] = code;
  b.insert(b.end(), quoted.begin(), quoted.end());
  const std::uint16_t sum = internet_checksum(b);
  b[2] = static_cast<std::uint8_t>(sum >> 8);
  b[3] = static_cast<std::uint8_t>(sum & 0xff);
  return b;
}

inline Bytes ipv6_header(const std::uint8_t dst[16], std::uint8_t hop, std::size_t payload_len,
                         std::uint8_t next = 58) {
  Bytes p(40, 0);
  p[0] = 0x60;
  p[4] = static_cast<std::uint8_t>(payload_len >> 8);
  p[5] = static_cast<std::uint8_t>(payload_len & 0xff);
  p[6] = next;
  p[7] = hop;
  for (std::size_t i = 0; i < 16; ++i) p[24 + i] = dst[i];
  return p;
}

}  // namespace edgemon::probe::testing
