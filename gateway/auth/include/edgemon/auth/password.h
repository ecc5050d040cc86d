// Password hashing: scrypt (OpenSSL EVP_PBE_scrypt) with a 16-byte random salt per hash, stored
// as one self-describing string in the PHC format, so the cost can be raised later and old hashes
// still verify (and are re-hashed at the next successful login, see needs_rehash):
//
//   $scrypt$ln=15,r=8,p=1$<salt, base64 without padding>$<32-byte key, base64 without padding>
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "edgemon/common/result.h"

namespace edgemon::auth {

struct PasswordParams {
  int log2_n = 15;  // N = 32768: 32 MiB and about 0.1 s per hash on a desktop core; ~0.5-1 s on a Pi
  int r = 8;
  int p = 1;
  bool operator==(const PasswordParams&) const = default;
};

// The gateway's current cost. Tests use a cheap one (log2_n = 10).
inline constexpr PasswordParams kDefaultPasswordParams{};

// Limits on parameters read back from a stored hash (a tampered row must not make the gateway
// allocate gigabytes): log2_n 10..20, r 1..16, p 1..4.
bool params_in_bounds(const PasswordParams& params);

inline constexpr std::size_t kMinPasswordBytes = 8;
inline constexpr std::size_t kMaxPasswordBytes = 1024;
// Errors: kInvalidArgument naming the rule (8-1024 bytes, no NUL).
Status check_password_policy(std::string_view password);

// Errors: kInvalidArgument (params out of bounds), kInternal (RNG or scrypt failed).
Result<std::string> hash_password(std::string_view password, const PasswordParams& params);

// False for a wrong password and for a malformed or out-of-bounds stored string. The comparison
// of the derived key is constant-time.
bool verify_password(std::string_view password, std::string_view stored);

// True when `stored` was made with parameters other than `current` (or cannot be parsed).
bool needs_rehash(std::string_view stored, const PasswordParams& current);

}  // namespace edgemon::auth
