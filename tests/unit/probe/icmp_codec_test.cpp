#include "edgemon/probe/icmp_codec.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "icmp_packets.h"

namespace edgemon::probe {
namespace {

using testing::Bytes;
const std::uint8_t kUs[4] = {10, 0, 0, 1};
const std::uint8_t kThem[4] = {10, 0, 0, 2};
const std::uint8_t kRouter[4] = {10, 0, 0, 254};

TEST(IcmpCodec, EncodesEchoRequestWithValidChecksum) {
  Bytes b(64);
  const std::size_t n = encode_echo_request(b, AF_INET, 0x1234, 0x0506, 16);
  ASSERT_EQ(n, 24u);
  EXPECT_EQ(b[0], 8);
  EXPECT_EQ(internet_checksum(std::span<const std::uint8_t>(b.data(), n)), 0);
  EXPECT_EQ(encode_echo_request(std::span<std::uint8_t>(b.data(), 10), AF_INET, 1, 1, 16), 0u);
  EXPECT_EQ(encode_echo_request(b, AF_INET6, 1, 1, 0), 8u);
  EXPECT_EQ(b[0], 128);
}

TEST(IcmpCodec, DecodesRawEchoReplyWithTtl) {
  const Bytes p = testing::ipv4(kThem, kUs, 61, testing::echo(0, 0xbeef, 7));
  const DecodeResult r = decode_icmp(p, AF_INET, true);
  ASSERT_EQ(r.status, DecodeStatus::kOk);
  EXPECT_EQ(r.message.kind, IcmpKind::kEchoReply);
  EXPECT_EQ(r.message.ident, 0xbeef);
  EXPECT_EQ(r.message.sequence, 7);
  EXPECT_EQ(r.message.ttl, 61);
}

TEST(IcmpCodec, DecodesUnprivilegedEchoReplyWithoutHeader) {
  const DecodeResult r = decode_icmp(testing::echo(0, 3, 9), AF_INET, false);
  ASSERT_EQ(r.status, DecodeStatus::kOk);
  EXPECT_EQ(r.message.sequence, 9);
  EXPECT_EQ(r.message.ttl, -1);
}

TEST(IcmpCodec, DecodesUnreachableQuotingOurEcho) {
  const Bytes quoted = testing::ipv4(kUs, kThem, 64, testing::echo(8, 0xbeef, 42));
  const Bytes p = testing::ipv4(kRouter, kUs, 64, testing::icmp4_error(3, 1, quoted));
  const DecodeResult r = decode_icmp(p, AF_INET, true);
  ASSERT_EQ(r.status, DecodeStatus::kOk);
  EXPECT_EQ(r.message.kind, IcmpKind::kDestUnreachable);
  EXPECT_EQ(r.message.code, 1);
  EXPECT_EQ(r.message.ident, 0xbeef);
  EXPECT_EQ(r.message.sequence, 42);
  EXPECT_EQ(std::memcmp(r.message.quoted_dst, kThem, 4), 0);
}

TEST(IcmpCodec, DecodesTimeExceededQuotingOnlyEightIcmpBytes) {
  Bytes quoted =
      testing::ipv4(kUs, kThem, 1, testing::echo(8, 1, 2, 0));  // 20 + 8 bytes: RFC 792 minimum
  const Bytes p = testing::ipv4(kRouter, kUs, 64, testing::icmp4_error(11, 0, quoted));
  const DecodeResult r = decode_icmp(p, AF_INET, true);
  ASSERT_EQ(r.status, DecodeStatus::kOk);
  EXPECT_EQ(r.message.kind, IcmpKind::kTimeExceeded);
  EXPECT_EQ(r.message.sequence, 2);
}

TEST(IcmpCodec, DecodesIcmpv6ReplyAndError) {
  Bytes reply = testing::echo(129, 5, 6, 16, AF_INET6);
  DecodeResult r = decode_icmp(reply, AF_INET6, false);
  ASSERT_EQ(r.status, DecodeStatus::kOk);
  EXPECT_EQ(r.message.kind, IcmpKind::kEchoReply);
  EXPECT_EQ(r.message.sequence, 6);

  std::uint8_t dst[16] = {0x20, 0x01, 0x0d, 0xb8};
  dst[15] = 2;
  const Bytes inner = testing::echo(128, 5, 77, 8, AF_INET6);
  Bytes quoted = testing::ipv6_header(dst, 64, inner.size());
  quoted.insert(quoted.end(), inner.begin(), inner.end());
  Bytes err = {1, 3, 0, 0, 0, 0, 0, 0};  // unreachable, address unreachable
  err.insert(err.end(), quoted.begin(), quoted.end());
  r = decode_icmp(err, AF_INET6, false);
  ASSERT_EQ(r.status, DecodeStatus::kOk);
  EXPECT_EQ(r.message.kind, IcmpKind::kDestUnreachable);
  EXPECT_EQ(r.message.sequence, 77);
  EXPECT_EQ(std::memcmp(r.message.quoted_dst, dst, 16), 0);

  // With the IPv6 header in front (lwIP raw sockets), hop limit is reported.
  Bytes with_header = testing::ipv6_header(dst, 55, reply.size());
  with_header.insert(with_header.end(), reply.begin(), reply.end());
  r = decode_icmp(with_header, AF_INET6, true);
  ASSERT_EQ(r.status, DecodeStatus::kOk);
  EXPECT_EQ(r.message.ttl, 55);
}

// Malformed input, Mosquitto-style: raw bytes, expected verdict, a label.
struct Malformed {
  const char* label;
  Bytes bytes;
  int family;
  bool header;
  DecodeStatus expect;
};

std::vector<Malformed> malformed_table() {
  const Bytes good = testing::ipv4(kThem, kUs, 64, testing::echo(0, 1, 1));
  std::vector<Malformed> t;
  t.push_back({"empty", {}, AF_INET, true, DecodeStatus::kTruncated});
  t.push_back({"one byte", {0x45}, AF_INET, true, DecodeStatus::kTruncated});
  t.push_back({"ip header only", Bytes(good.begin(), good.begin() + 20), AF_INET, true,
               DecodeStatus::kTruncated});
  t.push_back({"icmp truncated to 7", Bytes(good.begin(), good.begin() + 27), AF_INET, true,
               DecodeStatus::kTruncated});
  t.push_back({"19-byte ip header", Bytes(good.begin(), good.begin() + 19), AF_INET, true,
               DecodeStatus::kTruncated});
  Bytes b = good;
  b[0] = 0x44;  // IHL 4 words: shorter than the minimum header
  t.push_back({"short IHL", b, AF_INET, true, DecodeStatus::kBadIpHeader});
  b = good;
  b[0] = 0x4f;  // IHL 60 bytes > 44 received
  t.push_back({"IHL beyond datagram", b, AF_INET, true, DecodeStatus::kBadIpHeader});
  b = good;
  b[0] = 0x65;
  t.push_back({"version 6 on v4 socket", b, AF_INET, true, DecodeStatus::kBadIpHeader});
  b = good;
  b[9] = 6;
  t.push_back({"protocol tcp", b, AF_INET, true, DecodeStatus::kBadIpHeader});
  b = good;
  b[2] = 0xff;
  b[3] = 0xff;  // total length lies: ignored, the byte count rules
  t.push_back({"total length lies", b, AF_INET, true, DecodeStatus::kOk});
  b = good;
  b[24] ^= 0x01;  // ident changed without fixing the checksum
  t.push_back({"bad checksum", b, AF_INET, true, DecodeStatus::kBadChecksum});
  t.push_back({"echo request (own outgoing)", testing::ipv4(kUs, kThem, 64, testing::echo(8, 1, 1)),
               AF_INET, true, DecodeStatus::kNotEcho});
  t.push_back({"redirect",
               testing::ipv4(kRouter, kUs, 64, testing::icmp4_error(5, 1, Bytes(28, 0))), AF_INET,
               true, DecodeStatus::kNotEcho});
  const Bytes q = testing::ipv4(kUs, kThem, 64, testing::echo(8, 1, 1));
  t.push_back({"unreachable quoting 19 bytes",
               testing::ipv4(kRouter, kUs, 64,
                             testing::icmp4_error(3, 1, Bytes(q.begin(), q.begin() + 19))),
               AF_INET, true, DecodeStatus::kTruncated});
  t.push_back({"unreachable quoting ip header + 7",
               testing::ipv4(kRouter, kUs, 64,
                             testing::icmp4_error(3, 1, Bytes(q.begin(), q.begin() + 27))),
               AF_INET, true, DecodeStatus::kTruncated});
  Bytes qb = q;
  qb[0] = 0x4f;
  t.push_back({"unreachable quoting bad IHL",
               testing::ipv4(kRouter, kUs, 64, testing::icmp4_error(3, 1, qb)), AF_INET, true,
               DecodeStatus::kBadQuote});
  t.push_back(
      {"unreachable quoting udp",
       testing::ipv4(kRouter, kUs, 64,
                     testing::icmp4_error(3, 3, testing::ipv4(kUs, kThem, 64, Bytes(8, 0), 17))),
       AF_INET, true, DecodeStatus::kBadQuote});
  t.push_back({"unreachable quoting an echo reply",
               testing::ipv4(kRouter, kUs, 64,
                             testing::icmp4_error(
                                 3, 1, testing::ipv4(kUs, kThem, 64, testing::echo(0, 1, 1)))),
               AF_INET, true, DecodeStatus::kBadQuote});
  t.push_back({"v6 header too short", Bytes(39, 0x60), AF_INET6, true, DecodeStatus::kTruncated});
  Bytes v6 = Bytes(40, 0);
  v6[0] = 0x60;
  v6[6] = 17;
  t.push_back({"v6 next header udp", v6, AF_INET6, true, DecodeStatus::kBadIpHeader});
  t.push_back(
      {"v6 icmp 7 bytes", Bytes{129, 0, 0, 0, 0, 1, 0}, AF_INET6, false, DecodeStatus::kTruncated});
  t.push_back({"v6 error quoting 39 bytes",
               [] {
                 Bytes e{1, 0, 0, 0, 0, 0, 0, 0};
                 e.resize(8 + 39, 0);
                 e[8] = 0x60;
                 return e;
               }(),
               AF_INET6, false, DecodeStatus::kTruncated});
  t.push_back({"v6 error with extension header",
               [] {
                 Bytes e{3, 0, 0, 0, 0, 0, 0, 0};
                 e.resize(8 + 48, 0);
                 e[8] = 0x60;
                 e[8 + 6] = 0;  // hop-by-hop options first
                 return e;
               }(),
               AF_INET6, false, DecodeStatus::kBadQuote});
  t.push_back({"v6 neighbor solicitation", Bytes{135, 0, 0, 0, 0, 0, 0, 0}, AF_INET6, false,
               DecodeStatus::kNotEcho});
  t.push_back(
      {"v4 type on v6 socket", testing::echo(0, 1, 1), AF_INET6, false, DecodeStatus::kNotEcho});
  return t;
}

TEST(IcmpCodec, MalformedTable) {
  for (const Malformed& m : malformed_table()) {
    const DecodeResult r = decode_icmp(m.bytes, m.family, m.header);
    EXPECT_EQ(r.status, m.expect) << m.label << ": got " << to_string(r.status);
  }
}

TEST(IcmpCodec, EveryTruncationOfAValidPacketIsRejectedNotRead) {
  const Bytes quoted = testing::ipv4(kUs, kThem, 64, testing::echo(8, 0xbeef, 42));
  const Bytes p = testing::ipv4(kRouter, kUs, 64, testing::icmp4_error(3, 1, quoted));
  for (std::size_t n = 0; n < 20 + 8 + 20 + 8; ++n) {
    // Copy into an exact-size heap buffer so ASan flags any read past n.
    std::vector<std::uint8_t> cut(p.begin(), p.begin() + static_cast<std::ptrdiff_t>(n));
    EXPECT_NE(decode_icmp(cut, AF_INET, true).status, DecodeStatus::kOk) << n;
  }
}

}  // namespace
}  // namespace edgemon::probe
