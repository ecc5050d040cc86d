// The one ICMP/ICMPv6 decoder. It takes the exact received byte count and never trusts a length
// field inside the data (IP total length, payload length) beyond what was received.
//
// Accepted: echo replies, and destination-unreachable / time-exceeded errors whose quoted packet is
// one of our echo requests (quoted IP header + at least the first 8 ICMP bytes). Everything else is
// rejected with a reason the engine counts.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace edgemon::probe {

enum class IcmpKind : std::uint8_t { kEchoReply, kDestUnreachable, kTimeExceeded };

enum class DecodeStatus : std::uint8_t {
  kOk,
  kTruncated,    // fewer bytes than the headers need
  kBadIpHeader,  // wrong IP version, IHL < 5 or beyond the datagram, not ICMP
  kBadChecksum,  // IPv4 ICMP checksum mismatch (ICMPv6 checksums are verified by the stack)
  kNotEcho,      // a well-formed ICMP type we do not handle (echo request, redirect, ...)
  kBadQuote,     // an error whose quoted packet is not an echo request
};
inline constexpr std::size_t kDecodeStatusCount = 6;
const char* to_string(DecodeStatus s);

struct IcmpMessage {
  IcmpKind kind = IcmpKind::kEchoReply;
  std::uint8_t code = 0;    // ICMP code (errors: e.g. 1 = host unreachable)
  std::uint16_t ident = 0;  // of the echo (quoted one for errors)
  std::uint16_t sequence = 0;
  int ttl = -1;  // outer IP TTL / hop limit when the header was included
  // For errors: destination of the quoted echo (network order), to match the target.
  std::uint8_t quoted_dst[16] = {};
};

struct DecodeResult {
  DecodeStatus status = DecodeStatus::kTruncated;
  IcmpMessage message;
};

// `family` AF_INET or AF_INET6; `ip_header_included` when the datagram starts with the IP header.
DecodeResult decode_icmp(std::span<const std::uint8_t> datagram, int family,
                         bool ip_header_included);

// Writes an echo request (header + `payload_len` pattern bytes) into `out` and returns its size, or
// 0 if `out` is too small. IPv4 gets its checksum here; ICMPv6's is filled in by the stack.
std::size_t encode_echo_request(std::span<std::uint8_t> out, int family, std::uint16_t ident,
                                std::uint16_t sequence, std::size_t payload_len);

std::uint16_t internet_checksum(std::span<const std::uint8_t> data);

}  // namespace edgemon::probe
