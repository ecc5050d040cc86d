#include "edgemon/common/address_policy.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <cstring>

namespace edgemon::net {
namespace {

struct Case {
  const char* address;
  GuardedAddress want;
};

constexpr GuardedAddress kNo = GuardedAddress::kNone;
constexpr GuardedAddress kLL = GuardedAddress::kLinkLocal;
constexpr GuardedAddress kMd = GuardedAddress::kMetadata;

TEST(AddressPolicy, ClassifiesLiterals) {
  const Case cases[] = {
      // IPv4 169.254.0.0/16 and its neighbours.
      {"169.254.169.254", kLL},
      {"169.254.0.0", kLL},
      {"169.254.255.255", kLL},
      {"169.253.255.255", kNo},
      {"169.255.0.0", kNo},
      {"168.254.169.254", kNo},
      {"127.0.0.1", kNo},
      {"10.0.0.1", kNo},
      {"0.0.0.0", kNo},
      {"255.255.255.255", kNo},
      // IPv6 fe80::/10: fe80:: .. febf:ffff:...; fec0::/10 (old site-local) is not.
      {"fe80::1", kLL},
      {"fe80::", kLL},
      {"febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", kLL},
      {"fe7f:ffff:ffff:ffff:ffff:ffff:ffff:ffff", kNo},
      {"fec0::1", kNo},
      {"ff02::1", kNo},
      {"::1", kNo},
      {"::", kNo},
      {"2001:db8::1", kNo},
      // IPv4-mapped IPv6 is judged by its IPv4 address.
      {"::ffff:169.254.169.254", kLL},
      {"::ffff:a9fe:a9fe", kLL},
      {"::ffff:169.254.0.0", kLL},
      {"::ffff:169.255.0.0", kNo},
      {"::ffff:169.253.255.255", kNo},
      {"::ffff:127.0.0.1", kNo},
      {"::169.254.169.254", kNo},  // deprecated IPv4-compatible form: not mapped, not routed
      // NAT64 prefixes embed the IPv4 address in the last 32 bits (RFC 6052, RFC 8215).
      {"64:ff9b::169.254.169.254", kLL},
      {"64:ff9b::a9fe:a9fe", kLL},
      {"64:ff9b::a9fe:0", kLL},
      {"64:ff9b::a9ff:0", kNo},
      {"64:ff9b::7f00:1", kNo},
      {"64:ff9b:1::a9fe:a9fe", kLL},
      {"64:ff9b:1:ffff:ffff:ffff:a9fe:a9fe", kLL},  // a /96 inside the local-use /48
      {"64:ff9b:2::a9fe:a9fe", kNo},
      {"64:ff9a::a9fe:a9fe", kNo},
      // The AWS IPv6 metadata address, exactly.
      {"fd00:ec2::254", kMd},
      {"fd00:0ec2:0000:0000:0000:0000:0000:0254", kMd},
      {"fd00:ec2::253", kNo},
      {"fd00:ec2::1:254", kNo},
      {"fd00::254", kNo},
      // Not numeric: names are judged after resolution, never by their spelling.
      {"not-an-ip", kNo},
      {"metadata.google.internal", kNo},
      {"", kNo},
      {"169.254.169.254.nip.io", kNo},
      {"fe80::1%lo", kNo},  // inet_pton takes no zone; curl hands the guard a sockaddr instead
  };
  for (const Case& c : cases) {
    EXPECT_EQ(classify_address(c.address), c.want) << c.address;
    EXPECT_EQ(is_link_local(c.address), c.want != kNo) << c.address;
  }
}

TEST(AddressPolicy, ClassifiesSockaddrs) {
  sockaddr_in in{};
  in.sin_family = AF_INET;
  in.sin_port = htons(80);
  ASSERT_EQ(::inet_pton(AF_INET, "169.254.169.254", &in.sin_addr), 1);
  const auto* sa = reinterpret_cast<const sockaddr*>(&in);  // NOLINT
  EXPECT_EQ(classify_address(sa, sizeof in), kLL);
  EXPECT_TRUE(is_link_local(sa, sizeof in));
  EXPECT_EQ(numeric_address(sa, sizeof in), "169.254.169.254");
  EXPECT_EQ(classify_address(sa, 4), kNo);  // too short for a sockaddr_in: not read
  EXPECT_EQ(numeric_address(sa, 4), "?");
  ASSERT_EQ(::inet_pton(AF_INET, "169.255.0.0", &in.sin_addr), 1);
  EXPECT_EQ(classify_address(sa, sizeof in), kNo);

  sockaddr_in6 in6{};
  in6.sin6_family = AF_INET6;
  in6.sin6_scope_id = 1;
  const auto* sa6 = reinterpret_cast<const sockaddr*>(&in6);  // NOLINT
  ASSERT_EQ(::inet_pton(AF_INET6, "fe80::abcd", &in6.sin6_addr), 1);
  EXPECT_EQ(classify_address(sa6, sizeof in6), kLL);
  EXPECT_EQ(numeric_address(sa6, sizeof in6), "fe80::abcd");
  EXPECT_EQ(classify_address(sa6, sizeof(sockaddr_in)), kNo);  // truncated sockaddr_in6
  ASSERT_EQ(::inet_pton(AF_INET6, "::ffff:169.254.169.254", &in6.sin6_addr), 1);
  EXPECT_EQ(classify_address(sa6, sizeof in6), kLL);
  ASSERT_EQ(::inet_pton(AF_INET6, "fd00:ec2::254", &in6.sin6_addr), 1);
  EXPECT_EQ(classify_address(sa6, sizeof in6), kMd);
  EXPECT_EQ(numeric_address(sa6, sizeof in6), "fd00:ec2::254");
  ASSERT_EQ(::inet_pton(AF_INET6, "fec0::1", &in6.sin6_addr), 1);
  EXPECT_EQ(classify_address(sa6, sizeof in6), kNo);

  // An IPv4 address in an AF_INET6-sized buffer still reads as IPv4 (the family decides).
  ASSERT_EQ(::inet_pton(AF_INET, "169.254.1.1", &in.sin_addr), 1);
  sockaddr_storage ss{};
  std::memcpy(&ss, &in, sizeof in);
  const auto* sas = reinterpret_cast<const sockaddr*>(&ss);  // NOLINT
  EXPECT_EQ(classify_address(sas, sizeof ss), kLL);

  sockaddr unix_like{};
  unix_like.sa_family = AF_UNIX;
  EXPECT_EQ(classify_address(&unix_like, sizeof unix_like), kNo);
  EXPECT_EQ(classify_address(nullptr, 0), kNo);
  EXPECT_EQ(classify_address(nullptr, sizeof in), kNo);
  EXPECT_EQ(numeric_address(nullptr, 0), "?");
}

TEST(AddressPolicy, RefusalText) {
  EXPECT_EQ(link_local_refusal("169.254.169.254", kLL, "notify.webhook.allow_link_local = true"),
            "refused: 169.254.169.254 is link-local (set notify.webhook.allow_link_local = true to "
            "allow)");
  EXPECT_EQ(link_local_refusal("fd00:ec2::254", kMd, "x = true"),
            "refused: fd00:ec2::254 is a cloud metadata address (set x = true to allow)");
}

}  // namespace
}  // namespace edgemon::net
