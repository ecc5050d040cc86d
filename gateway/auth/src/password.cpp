#include "edgemon/auth/password.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <charconv>
#include <optional>

#include "edgemon/auth/crypto.h"

namespace edgemon::auth {
namespace {

constexpr std::size_t kSaltBytes = 16;
constexpr std::size_t kKeyBytes = 32;
constexpr std::string_view kPrefix = "$scrypt$";

struct Parsed {
  PasswordParams params;
  std::string salt;
  std::string key;
};

std::optional<int> parse_small_int(std::string_view text) {
  int v = 0;
  if (text.empty() || text.size() > 3) return std::nullopt;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return v;
}

std::optional<Parsed> parse(std::string_view stored) {
  if (stored.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  stored.remove_prefix(kPrefix.size());
  const std::size_t d1 = stored.find('$');
  if (d1 == std::string_view::npos) return std::nullopt;
  const std::size_t d2 = stored.find('$', d1 + 1);
  if (d2 == std::string_view::npos) return std::nullopt;
  const std::string_view params = stored.substr(0, d1);
  const std::string_view salt = stored.substr(d1 + 1, d2 - d1 - 1);
  const std::string_view key = stored.substr(d2 + 1);

  Parsed out;
  // Exactly "ln=<int>,r=<int>,p=<int>".
  std::string_view rest = params;
  const std::string_view names[] = {"ln=", "r=", "p="};
  int* fields[] = {&out.params.log2_n, &out.params.r, &out.params.p};
  for (int i = 0; i < 3; ++i) {
    if (rest.substr(0, names[i].size()) != names[i]) return std::nullopt;
    rest.remove_prefix(names[i].size());
    const std::size_t comma = rest.find(',');
    const std::string_view num = rest.substr(0, comma);
    const auto v = parse_small_int(num);
    if (!v) return std::nullopt;
    *fields[i] = *v;
    if (i < 2) {
      if (comma == std::string_view::npos) return std::nullopt;
      rest.remove_prefix(comma + 1);
    } else if (comma != std::string_view::npos) {
      return std::nullopt;
    }
  }
  if (!params_in_bounds(out.params)) return std::nullopt;
  auto s = base64_decode(salt);
  auto k = base64_decode(key);
  if (!s || !k || s->size() < 8 || s->size() > 64 || k->size() != kKeyBytes) return std::nullopt;
  out.salt = std::move(*s);
  out.key = std::move(*k);
  return out;
}

bool derive(std::string_view password, std::string_view salt, const PasswordParams& p, std::string& key) {
  key.assign(kKeyBytes, '\0');
  const std::uint64_t n = std::uint64_t{1} << p.log2_n;
  const auto r = static_cast<std::uint64_t>(p.r);
  const auto par = static_cast<std::uint64_t>(p.p);
  // scrypt needs 128*r*N for V plus 128*r*p for B (and a little more); OpenSSL's default cap is
  // 32 MiB, exactly what the default parameters need, so give it what it asks for plus slack.
  const std::uint64_t maxmem = 128 * r * (n + par + 2) + (1U << 20);
  return EVP_PBE_scrypt(password.data(), password.size(), reinterpret_cast<const unsigned char*>(salt.data()),
                        salt.size(), n, r, par, maxmem, reinterpret_cast<unsigned char*>(key.data()),
                        key.size()) == 1;
}

}  // namespace

bool params_in_bounds(const PasswordParams& p) {
  return p.log2_n >= 10 && p.log2_n <= 20 && p.r >= 1 && p.r <= 16 && p.p >= 1 && p.p <= 4;
}

Status check_password_policy(std::string_view password) {
  if (password.size() < kMinPasswordBytes || password.size() > kMaxPasswordBytes) {
    return make_error(ErrorCode::kInvalidArgument, "a password must be 8 to 1024 bytes long");
  }
  if (password.find('\0') != std::string_view::npos) {
    return make_error(ErrorCode::kInvalidArgument, "a password must not contain NUL bytes");
  }
  return Status::Ok();
}

Result<std::string> hash_password(std::string_view password, const PasswordParams& params) {
  if (!params_in_bounds(params)) return make_error(ErrorCode::kInvalidArgument, "scrypt parameters out of bounds");
  auto salt = random_bytes(kSaltBytes);
  if (!salt) return salt.error();
  std::string key;
  if (!derive(password, *salt, params, key)) return make_error(ErrorCode::kInternal, "scrypt failed");
  std::string out = std::string(kPrefix) + "ln=" + std::to_string(params.log2_n) + ",r=" + std::to_string(params.r) +
                    ",p=" + std::to_string(params.p) + "$" + base64_encode(*salt, false) + "$" +
                    base64_encode(key, false);
  OPENSSL_cleanse(key.data(), key.size());
  return out;
}

bool verify_password(std::string_view password, std::string_view stored) {
  auto parsed = parse(stored);
  if (!parsed) return false;
  std::string key;
  if (!derive(password, parsed->salt, parsed->params, key)) return false;
  const bool same = equal_constant_time(key, parsed->key);
  OPENSSL_cleanse(key.data(), key.size());
  return same;
}

bool needs_rehash(std::string_view stored, const PasswordParams& current) {
  auto parsed = parse(stored);
  return !parsed || !(parsed->params == current);
}

}  // namespace edgemon::auth
