// Parsing of the request headers that carry credentials, and the pure HTTP rules of the auth
// design (safe methods, cookies, Origin). Every function here takes attacker-controlled bytes:
// none allocates more than its input, none throws, garbage yields "nothing found".
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace edgemon::auth {

inline constexpr std::string_view kSessionCookieName = "edgemon_session";
inline constexpr std::string_view kCsrfHeaderName = "X-CSRF-Token";
// API tokens look like "emt_" + 43 base64url characters (32 random bytes).
inline constexpr std::string_view kTokenPrefix = "emt_";
inline constexpr std::size_t kMaxHeaderBytes = 8192;  // longer credential headers are ignored

// The values of every cookie called `name` in a Cookie header ("a=1; edgemon_session=x; b=2"),
// in order, at most `max_values` of them. Values are returned as sent (no unquoting).
std::vector<std::string_view> cookie_values(std::string_view cookie_header, std::string_view name,
                                            std::size_t max_values = 4);

struct Authorization {
  enum class Scheme { kNone, kBearer, kBasic, kOther };
  Scheme scheme = Scheme::kNone;
  std::string bearer;    // kBearer: the token as sent
  std::string user;      // kBasic: before the first ':'
  std::string password;  // kBasic: after the first ':'
};
// Scheme names are case-insensitive; malformed Basic (bad base64, no ':') gives kOther.
Authorization parse_authorization(std::string_view header);

// True if `text` has the shape of an API token (it may still be unknown or revoked).
bool looks_like_token(std::string_view text);

// GET, HEAD and OPTIONS (case-sensitive, as HTTP methods are). Everything else, unknown methods
// included, changes state and needs a CSRF token under cookie authentication.
bool is_safe_method(std::string_view method);

// Origin check for WebSocket handshakes (and, optionally, cookie-authenticated POSTs).
// Allowed: an Origin whose host and port equal the Host header's (default ports filled in from the
// Origin's scheme), or one listed in `allowed` (exact "scheme://host[:port]", compared
// case-insensitively, default port optional). A missing, empty or "null" Origin is NOT allowed:
// browsers always send one on WebSocket handshakes; see websocket_origin_ok() for scripts.
bool origin_allowed(std::string_view origin, std::string_view host, const std::vector<std::string>& allowed);

// A normalised "scheme://host:port" (lower case, explicit port) for an http(s) origin, or nothing
// if `origin` is not exactly scheme://host[:port] (no path, user info, query or fragment).
std::optional<std::string> normalize_origin(std::string_view origin);

// The key the login rate limiter uses for a client address: IPv4 and IPv4-mapped IPv6 as the
// address, other IPv6 as its /64 (one subscriber usually has a whole /64), anything else as-is
// (cut to 64 bytes).
std::string client_key(std::string_view client_addr);

}  // namespace edgemon::auth
