// Small cryptographic and encoding helpers on OpenSSL's libcrypto, shared by the auth modules.
// Secrets (session ids, CSRF tokens, API tokens, generated passwords) come from random_token();
// anything stored for them is sha256() of the plaintext.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "edgemon/common/result.h"

namespace edgemon::auth {

// `n` bytes from OpenSSL's CSPRNG (RAND_bytes). Errors: kInternal (the RNG failed).
Result<std::string> random_bytes(std::size_t n);

// base64url (RFC 4648 §5, no padding) of `n` random bytes: 32 bytes -> 43 characters.
Result<std::string> random_token(std::size_t n = 32);

// The raw 32-byte SHA-256 digest.
std::string sha256(std::string_view data);
std::string hex(std::string_view bytes);

// Constant-time equality (CRYPTO_memcmp); different lengths compare unequal at once (lengths are
// not secret here: every compared value has a fixed, public length).
bool equal_constant_time(std::string_view a, std::string_view b);

// Standard base64 (RFC 4648 §4). encode: with or without '=' padding.
std::string base64_encode(std::string_view bytes, bool pad = true);
// Strict: only the standard alphabet, padding optional but correct if present, no whitespace.
// Errors: kInvalidArgument.
Result<std::string> base64_decode(std::string_view text);

std::string base64url_encode(std::string_view bytes);
// True if `text` is exactly `length` characters of the base64url alphabet.
bool is_base64url(std::string_view text, std::size_t length);

}  // namespace edgemon::auth
