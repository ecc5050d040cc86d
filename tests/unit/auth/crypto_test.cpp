#include "edgemon/auth/crypto.h"

#include <gtest/gtest.h>

#include <random>
#include <set>

namespace edgemon::auth {
namespace {

TEST(AuthCrypto, Sha256KnownVector) {
  EXPECT_EQ(hex(sha256("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256("").size(), 32u);
}

TEST(AuthCrypto, Base64KnownVectors) {
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_encode("foob", false), "Zm9vYg");
  EXPECT_EQ(base64_decode("Zm9vYmFy").value(), "foobar");
  EXPECT_EQ(base64_decode("Zm9vYg==").value(), "foob");
  EXPECT_EQ(base64_decode("Zm9vYg").value(), "foob");
  EXPECT_EQ(base64_decode("dXNlcjpwYXNz").value(), "user:pass");
  EXPECT_EQ(base64url_encode("\xfb\xff"), "-_8");
}

TEST(AuthCrypto, Base64RejectsGarbage) {
  for (const char* bad : {"Zm9v!", "Zm9vY", "Zm9vYg=", "Zm9vYh==", "Zm 9v", "====", "Zg===", "-_8"}) {
    EXPECT_FALSE(base64_decode(bad)) << bad;
  }
}

TEST(AuthCrypto, Base64RoundTripsRandomBytes) {
  std::mt19937 rng(7);
  for (int i = 0; i < 500; ++i) {
    std::string bytes(rng() % 70, '\0');
    for (char& c : bytes) c = static_cast<char>(rng());
    EXPECT_EQ(base64_decode(base64_encode(bytes)).value(), bytes);
    EXPECT_EQ(base64_decode(base64_encode(bytes, false)).value(), bytes);
  }
}

TEST(AuthCrypto, RandomTokensAreUrlSafeAndDistinct) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    auto t = random_token(32);
    ASSERT_TRUE(t);
    EXPECT_TRUE(is_base64url(*t, 43)) << *t;
    seen.insert(*t);
  }
  EXPECT_EQ(seen.size(), 100u);
}

TEST(AuthCrypto, ConstantTimeEquality) {
  EXPECT_TRUE(equal_constant_time("abc", "abc"));
  EXPECT_FALSE(equal_constant_time("abc", "abd"));
  EXPECT_FALSE(equal_constant_time("abc", "abcd"));
  EXPECT_TRUE(equal_constant_time("", ""));
}

}  // namespace
}  // namespace edgemon::auth
