#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "edgemon/firmware/icmp_pinger.h"

namespace edgemon::firmware {
namespace {

using Bytes = std::vector<std::uint8_t>;

// ICMP echo reply: type 0, code 0, checksum (not checked by the decoder), ident, sequence, payload.
Bytes icmp(std::uint8_t type, std::uint8_t code, std::uint16_t ident, std::uint16_t seq, std::size_t payload = 16) {
  Bytes b = {type, code, 0xab, 0xcd, static_cast<std::uint8_t>(ident >> 8), static_cast<std::uint8_t>(ident & 0xff),
             static_cast<std::uint8_t>(seq >> 8), static_cast<std::uint8_t>(seq & 0xff)};
  b.resize(8 + payload, 0x5a);
  return b;
}

// An IPv4 header of `ihl_words` 32-bit words (options zero-filled) in front of `body`.
Bytes ipv4(const Bytes& body, std::uint8_t ihl_words = 5, std::uint8_t version = 4) {
  Bytes b(static_cast<std::size_t>(ihl_words) * 4, 0);
  if (b.size() < 20) b.resize(20, 0);
  b[0] = static_cast<std::uint8_t>(version << 4 | ihl_words);
  b[9] = 1;  // protocol ICMP
  b.insert(b.end(), body.begin(), body.end());
  return b;
}

TEST(DecodeEchoReply, DgramReplyDecodesIdentAndSequence) {
  const Bytes p = icmp(0, 0, 0x1234, 0xbeef);
  EchoReply out;
  ASSERT_TRUE(decode_echo_reply(p.data(), p.size(), false, out));
  EXPECT_EQ(out.ident, 0x1234);
  EXPECT_EQ(out.sequence, 0xbeef);
}

TEST(DecodeEchoReply, MinimalEightByteReplyIsEnough) {
  const Bytes p = icmp(0, 0, 1, 2, 0);
  ASSERT_EQ(p.size(), 8u);
  EchoReply out;
  ASSERT_TRUE(decode_echo_reply(p.data(), p.size(), false, out));
  EXPECT_EQ(out.ident, 1);
  EXPECT_EQ(out.sequence, 2);
}

TEST(DecodeEchoReply, RawReplySkipsTheIpHeader) {
  const Bytes p = ipv4(icmp(0, 0, 0xfffe, 0x0102));
  EchoReply out;
  ASSERT_TRUE(decode_echo_reply(p.data(), p.size(), true, out));
  EXPECT_EQ(out.ident, 0xfffe);
  EXPECT_EQ(out.sequence, 0x0102);
}

TEST(DecodeEchoReply, RawReplyWithIpOptionsUsesIhl) {
  const Bytes p = ipv4(icmp(0, 0, 0x0a0b, 0x0c0d), 7);  // 28-byte header
  EchoReply out;
  ASSERT_TRUE(decode_echo_reply(p.data(), p.size(), true, out));
  EXPECT_EQ(out.ident, 0x0a0b);
  EXPECT_EQ(out.sequence, 0x0c0d);
}

struct BadPacket {
  const char* label;
  Bytes bytes;
  bool raw;
};

TEST(DecodeEchoReply, RejectsMalformedPackets) {
  Bytes ihl_beyond = ipv4(icmp(0, 0, 1, 1, 0));  // 28 bytes
  ihl_beyond[0] = 0x4f;                           // claims a 60-byte header
  Bytes raw_short_icmp = ipv4(icmp(0, 0, 1, 1, 0));
  raw_short_icmp.pop_back();                      // 20 + 7

  const BadPacket cases[] = {
      {"empty dgram", {}, false},
      {"empty raw", {}, true},
      {"7 bytes", Bytes(7, 0), false},
      {"echo request (type 8)", icmp(8, 0, 1, 1), false},
      {"destination unreachable (type 3)", icmp(3, 1, 1, 1), false},
      {"timestamp reply (type 14)", icmp(14, 0, 1, 1), false},
      {"echo reply with code 1", icmp(0, 1, 1, 1), false},
      {"raw with 19-byte IP header", Bytes(19, 0x45), true},
      {"raw IP header only", ipv4({}), true},
      {"raw with 7 ICMP bytes", raw_short_icmp, true},
      {"raw IHL 4 (< 5)", ipv4(icmp(0, 0, 1, 1), 4), true},
      {"raw IHL 0", ipv4(icmp(0, 0, 1, 1), 0), true},
      {"raw IHL beyond length", ihl_beyond, true},
      {"raw IPv6 version nibble", ipv4(icmp(0, 0, 1, 1), 5, 6), true},
      {"raw version 0", ipv4(icmp(0, 0, 1, 1), 5, 0), true},
      {"raw echo request", ipv4(icmp(8, 0, 1, 1)), true},
      {"raw packet read as dgram", ipv4(icmp(0, 0, 1, 1)), false},
  };
  for (const BadPacket& c : cases) {
    SCOPED_TRACE(c.label);
    EchoReply out{0x7777, 0x8888};
    // Copy to an exactly-sized heap block so a sanitizer build catches any read past the end.
    const Bytes exact(c.bytes);
    EXPECT_FALSE(decode_echo_reply(exact.data(), exact.size(), c.raw, out));
    EXPECT_EQ(out.ident, 0x7777) << "output untouched on failure";
    EXPECT_EQ(out.sequence, 0x8888);
  }
}

}  // namespace
}  // namespace edgemon::firmware
