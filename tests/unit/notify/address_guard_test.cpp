#include "edgemon/notify/address_guard.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <gtest/gtest.h>

namespace edgemon::notify {
namespace {

struct Case {
  const char* address;
  bool link_local;
};

TEST(AddressGuard, LinkLocalTable) {
  const Case cases[] = {
      {"169.254.169.254", true}, {"169.254.0.0", true},  {"169.254.255.255", true},
      {"169.253.255.255", false}, {"169.255.0.1", false}, {"127.0.0.1", false},
      {"10.0.0.1", false},        {"fe80::1", true},      {"febf:ffff::1", true},
      {"fec0::1", false},         {"::1", false},         {"::ffff:169.254.169.254", true},
      {"::ffff:127.0.0.1", false}, {"2001:db8::1", false}, {"not-an-ip", false},
      {"metadata.google.internal", false},  // names are checked after resolution, not here
  };
  for (const Case& c : cases) EXPECT_EQ(is_link_local(c.address), c.link_local) << c.address;
}

TEST(AddressGuard, SockaddrForms) {
  sockaddr_in in{};
  in.sin_family = AF_INET;
  ASSERT_EQ(::inet_pton(AF_INET, "169.254.169.254", &in.sin_addr), 1);
  EXPECT_TRUE(is_link_local(reinterpret_cast<const sockaddr*>(&in), sizeof in));  // NOLINT
  EXPECT_FALSE(is_link_local(reinterpret_cast<const sockaddr*>(&in), 4));  // NOLINT: too short
  sockaddr_in6 in6{};
  in6.sin6_family = AF_INET6;
  ASSERT_EQ(::inet_pton(AF_INET6, "fe80::abcd", &in6.sin6_addr), 1);
  EXPECT_TRUE(is_link_local(reinterpret_cast<const sockaddr*>(&in6), sizeof in6));  // NOLINT
  EXPECT_FALSE(is_link_local(nullptr, 0));
}

}  // namespace
}  // namespace edgemon::notify
