#include "edgemon/auth/password.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace edgemon::auth {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr PasswordParams kCheap{10, 8, 1};

TEST(Password, HashNeverEqualsPasswordAndIsSaltedPerHash) {
  const std::string pw = "correct horse battery";
  auto a = hash_password(pw, kCheap);
  auto b = hash_password(pw, kCheap);
  ASSERT_TRUE(a && b);
  EXPECT_NE(*a, pw);
  EXPECT_THAT(*a, ::testing::Not(HasSubstr(pw)));
  EXPECT_NE(*a, *b);  // different salts
  EXPECT_TRUE(verify_password(pw, *a));
  EXPECT_TRUE(verify_password(pw, *b));
}

TEST(Password, WrongPasswordFails) {
  auto h = hash_password("password-one", kCheap);
  ASSERT_TRUE(h);
  EXPECT_FALSE(verify_password("password-two", *h));
  EXPECT_FALSE(verify_password("password-on", *h));
  EXPECT_FALSE(verify_password("", *h));
}

TEST(Password, StoredStringCarriesItsParameters) {
  auto h = hash_password("some password", kCheap);
  ASSERT_TRUE(h);
  EXPECT_THAT(*h, StartsWith("$scrypt$ln=10,r=8,p=1$"));
  EXPECT_FALSE(needs_rehash(*h, kCheap));
  EXPECT_TRUE(needs_rehash(*h, kDefaultPasswordParams));
  EXPECT_TRUE(needs_rehash("garbage", kCheap));
}

TEST(Password, DefaultParametersWork) {
  auto h = hash_password("some password", kDefaultPasswordParams);
  ASSERT_TRUE(h) << h.error().message;
  EXPECT_THAT(*h, StartsWith("$scrypt$ln=15,r=8,p=1$"));
  EXPECT_TRUE(verify_password("some password", *h));
}

TEST(Password, ParametersOutOfBoundsAreRefused) {
  EXPECT_FALSE(hash_password("some password", PasswordParams{9, 8, 1}));
  EXPECT_FALSE(hash_password("some password", PasswordParams{21, 8, 1}));
  EXPECT_FALSE(hash_password("some password", PasswordParams{10, 17, 1}));
  EXPECT_FALSE(hash_password("some password", PasswordParams{10, 8, 5}));
}

TEST(Password, MalformedOrTamperedStoredStringsNeverVerify) {
  auto h = hash_password("some password", kCheap);
  ASSERT_TRUE(h);
  const std::string good = *h;
  std::string tampered = good;
  tampered.back() = tampered.back() == 'A' ? 'B' : 'A';
  const std::string huge = "$scrypt$ln=30,r=8,p=1" + good.substr(good.find('$', 8));
  for (const std::string& bad :
       {std::string(), std::string("some password"), std::string("$scrypt$"), std::string("$scrypt$ln=10,r=8,p=1$$"),
        std::string("$pbkdf2$ln=10,r=8,p=1$AAAA$AAAA"), tampered, huge, good.substr(0, good.size() - 4),
        std::string("$scrypt$ln=10,r=8$") + good.substr(good.find('$', 8) + 1),
        std::string("$scrypt$ln=10,r=8,p=1,x=1$") + good.substr(good.find('$', 8) + 1)}) {
    EXPECT_FALSE(verify_password("some password", bad)) << bad;
  }
}

TEST(Password, Policy) {
  EXPECT_FALSE(check_password_policy("1234567"));
  EXPECT_TRUE(check_password_policy("12345678"));
  EXPECT_TRUE(check_password_policy(std::string(1024, 'x')));
  EXPECT_FALSE(check_password_policy(std::string(1025, 'x')));
  EXPECT_FALSE(check_password_policy(std::string("abcd\0efgh", 9)));
}

}  // namespace
}  // namespace edgemon::auth
