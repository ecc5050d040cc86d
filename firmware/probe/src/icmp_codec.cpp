#include "edgemon/probe/icmp_codec.h"

#include <sys/socket.h>

#include <cstring>

namespace edgemon::probe {
namespace {

constexpr std::uint8_t kV4EchoReply = 0, kV4DestUnreach = 3, kV4Echo = 8, kV4TimeExceeded = 11;
constexpr std::uint8_t kV6DestUnreach = 1, kV6TimeExceeded = 3, kV6Echo = 128, kV6EchoReply = 129;
constexpr std::uint8_t kProtoIcmp = 1, kProtoIcmpV6 = 58;
constexpr std::size_t kIcmpHeader = 8, kIp6Header = 40;

std::uint16_t be16(const std::uint8_t* p) {
  return static_cast<std::uint16_t>(p[0] << 8 | p[1]);
}

// Skips an IPv4 header at the front of `d`; returns the offset of its payload, 0 when malformed.
std::size_t ip4_payload_offset(std::span<const std::uint8_t> d, std::uint8_t want_proto) {
  if (d.size() < 20) {
    return 0;
  }
  if ((d[0] >> 4) != 4) {
    return 0;
  }
  const std::size_t ihl = static_cast<std::size_t>(d[0] & 0x0f) * 4;
  if (ihl < 20 || ihl > d.size()) {
    return 0;
  }
  if (d[9] != want_proto) {
    return 0;
  }
  return ihl;
}

}  // namespace

const char* to_string(DecodeStatus s) {
  switch (s) {
    case DecodeStatus::kOk:
      return "ok";
    case DecodeStatus::kTruncated:
      return "truncated";
    case DecodeStatus::kBadIpHeader:
      return "bad-ip-header";
    case DecodeStatus::kBadChecksum:
      return "bad-checksum";
    case DecodeStatus::kNotEcho:
      return "not-echo";
    case DecodeStatus::kBadQuote:
      return "bad-quote";
  }
  return "?";
}

std::uint16_t internet_checksum(std::span<const std::uint8_t> data) {
  std::uint32_t sum = 0;
  std::size_t i = 0;
  for (; i + 1 < data.size(); i += 2) {
    sum += be16(&data[i]);
  }
  if (i < data.size()) {
    sum += static_cast<std::uint32_t>(data[i]) << 8;
  }
  while ((sum >> 16) != 0) {
    sum = (sum & 0xffff) + (sum >> 16);
  }
  return static_cast<std::uint16_t>(~sum & 0xffff);
}

DecodeResult decode_icmp(std::span<const std::uint8_t> d, int family, bool ip_header_included) {
  DecodeResult r;
  const bool v6 = family == AF_INET6;
  int ttl = -1;
  if (ip_header_included) {
    if (!v6) {
      if (d.size() < 20) {
        return r;  // kTruncated
      }
      const std::size_t off = ip4_payload_offset(d, kProtoIcmp);
      if (off == 0) {
        r.status = DecodeStatus::kBadIpHeader;
        return r;
      }
      ttl = d[8];
      d = d.subspan(off);
    } else {
      if (d.size() < kIp6Header) {
        return r;
      }
      if ((d[0] >> 4) != 6 || d[6] != kProtoIcmpV6) {
        r.status = DecodeStatus::kBadIpHeader;
        return r;
      }
      ttl = d[7];
      d = d.subspan(kIp6Header);
    }
  }
  if (d.size() < kIcmpHeader) {
    r.status = DecodeStatus::kTruncated;
    return r;
  }
  if (!v6 && internet_checksum(d) != 0) {
    r.status = DecodeStatus::kBadChecksum;
    return r;
  }
  IcmpMessage& m = r.message;
  m.ttl = ttl;
  m.code = d[1];
  const std::uint8_t type = d[0];
  if (type == (v6 ? kV6EchoReply : kV4EchoReply)) {
    m.kind = IcmpKind::kEchoReply;
    m.ident = be16(&d[4]);
    m.sequence = be16(&d[6]);
    r.status = DecodeStatus::kOk;
    return r;
  }
  if (type == (v6 ? kV6DestUnreach : kV4DestUnreach)) {
    m.kind = IcmpKind::kDestUnreachable;
  } else if (type == (v6 ? kV6TimeExceeded : kV4TimeExceeded)) {
    m.kind = IcmpKind::kTimeExceeded;
  } else {
    r.status = DecodeStatus::kNotEcho;
    return r;
  }
  // The quoted packet: original IP header + at least the first 8 bytes of our echo request.
  std::span<const std::uint8_t> q = d.subspan(kIcmpHeader);
  std::span<const std::uint8_t> inner;
  if (!v6) {
    if (q.size() < 20) {
      r.status = DecodeStatus::kTruncated;
      return r;
    }
    const std::size_t off = ip4_payload_offset(q, kProtoIcmp);
    if (off == 0) {
      r.status = DecodeStatus::kBadQuote;
      return r;
    }
    std::memcpy(m.quoted_dst, &q[16], 4);
    inner = q.subspan(off);
  } else {
    if (q.size() < kIp6Header) {
      r.status = DecodeStatus::kTruncated;
      return r;
    }
    if ((q[0] >> 4) != 6 || q[6] != kProtoIcmpV6) {
      r.status = DecodeStatus::kBadQuote;
      return r;
    }
    std::memcpy(m.quoted_dst, &q[24], 16);
    inner = q.subspan(kIp6Header);
  }
  if (inner.size() < kIcmpHeader) {
    r.status = DecodeStatus::kTruncated;
    return r;
  }
  if (inner[0] != (v6 ? kV6Echo : kV4Echo)) {
    r.status = DecodeStatus::kBadQuote;
    return r;
  }
  m.ident = be16(&inner[4]);
  m.sequence = be16(&inner[6]);
  r.status = DecodeStatus::kOk;
  return r;
}

std::size_t encode_echo_request(std::span<std::uint8_t> out, int family, std::uint16_t ident,
                                std::uint16_t sequence, std::size_t payload_len) {
  const std::size_t total = kIcmpHeader + payload_len;
  if (out.size() < total) {
    return 0;
  }
  out[0] = family == AF_INET6 ? kV6Echo : kV4Echo;
  out[1] = 0;
  out[2] = out[3] = 0;
  out[4] = static_cast<std::uint8_t>(ident >> 8);
  out[5] = static_cast<std::uint8_t>(ident & 0xff);
  out[6] = static_cast<std::uint8_t>(sequence >> 8);
  out[7] = static_cast<std::uint8_t>(sequence & 0xff);
  static constexpr char kPattern[] = "edgemon-probe";
  for (std::size_t i = 0; i < payload_len; ++i) {
    out[kIcmpHeader + i] = static_cast<std::uint8_t>(kPattern[i % (sizeof kPattern - 1)]);
  }
  if (family != AF_INET6) {
    const std::uint16_t sum = internet_checksum(out.first(total));
    out[2] = static_cast<std::uint8_t>(sum >> 8);
    out[3] = static_cast<std::uint8_t>(sum & 0xff);
  }
  return total;
}

}  // namespace edgemon::probe
