#include "edgemon/auth/http_auth.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <charconv>

#include "edgemon/auth/crypto.h"

namespace edgemon::auth {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string to_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = lower(c);
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

struct HostPort {
  std::string host;  // lower case; IPv6 literals keep their brackets
  int port = -1;     // -1: absent
};

// "host", "host:port", "[v6]", "[v6]:port". Host characters: letters, digits, '-', '.', and for
// bracketed literals hex digits, ':' and '.'.
std::optional<HostPort> parse_host_port(std::string_view s) {
  if (s.empty() || s.size() > 261) return std::nullopt;
  HostPort hp;
  std::string_view host;
  std::string_view port;
  if (s.front() == '[') {
    const std::size_t close = s.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    host = s.substr(0, close + 1);
    const std::string_view rest = s.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return std::nullopt;
      port = rest.substr(1);
      if (port.empty()) return std::nullopt;
    }
    for (const char c : host.substr(1, host.size() - 2)) {
      const bool ok = (c >= '0' && c <= '9') || (lower(c) >= 'a' && lower(c) <= 'f') || c == ':' || c == '.';
      if (!ok) return std::nullopt;
    }
    if (host.size() < 3) return std::nullopt;
  } else {
    const std::size_t colon = s.rfind(':');
    host = s.substr(0, colon);
    if (colon != std::string_view::npos) {
      port = s.substr(colon + 1);
      if (port.empty()) return std::nullopt;
    }
    if (host.empty()) return std::nullopt;
    for (const char c : host) {
      const bool ok = (c >= '0' && c <= '9') || (lower(c) >= 'a' && lower(c) <= 'z') || c == '-' || c == '.' || c == '_';
      if (!ok) return std::nullopt;
    }
  }
  if (!port.empty()) {
    int p = 0;
    if (port.size() > 5) return std::nullopt;
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
    if (ec != std::errc() || end != port.data() + port.size() || p < 1 || p > 65535) return std::nullopt;
    hp.port = p;
  }
  hp.host = to_lower(host);
  if (hp.host.back() == '.') hp.host.pop_back();  // "example.org." is "example.org"
  if (hp.host.empty()) return std::nullopt;
  return hp;
}

struct ParsedOrigin {
  std::string scheme;
  HostPort hp;  // port filled in
};

std::optional<ParsedOrigin> parse_origin(std::string_view origin) {
  origin = trim(origin);
  const std::size_t sep = origin.find("://");
  if (sep == std::string_view::npos) return std::nullopt;
  ParsedOrigin o;
  o.scheme = to_lower(origin.substr(0, sep));
  int default_port = 0;
  if (o.scheme == "http") {
    default_port = 80;
  } else if (o.scheme == "https") {
    default_port = 443;
  } else {
    return std::nullopt;
  }
  auto hp = parse_host_port(origin.substr(sep + 3));  // rejects '/', '@', '?', '#'
  if (!hp) return std::nullopt;
  if (hp->port < 0) hp->port = default_port;
  o.hp = std::move(*hp);
  return o;
}

}  // namespace

std::vector<std::string_view> cookie_values(std::string_view header, std::string_view name, std::size_t max_values) {
  std::vector<std::string_view> out;
  if (header.size() > kMaxHeaderBytes) return out;
  while (!header.empty() && out.size() < max_values) {
    const std::size_t semi = header.find(';');
    const std::string_view pair = trim(header.substr(0, semi));
    header = semi == std::string_view::npos ? std::string_view() : header.substr(semi + 1);
    const std::size_t eq = pair.find('=');
    if (eq == std::string_view::npos) continue;
    if (trim(pair.substr(0, eq)) != name) continue;
    out.push_back(trim(pair.substr(eq + 1)));
  }
  return out;
}

Authorization parse_authorization(std::string_view header) {
  Authorization a;
  header = trim(header);
  if (header.empty()) return a;
  a.scheme = Authorization::Scheme::kOther;
  if (header.size() > kMaxHeaderBytes) return a;
  const std::size_t sp = header.find_first_of(" \t");
  if (sp == std::string_view::npos) return a;
  const std::string_view scheme = header.substr(0, sp);
  const std::string_view value = trim(header.substr(sp + 1));
  if (value.empty() || value.find_first_of(" \t") != std::string_view::npos) return a;
  if (iequals(scheme, "Bearer")) {
    a.scheme = Authorization::Scheme::kBearer;
    a.bearer = std::string(value);
  } else if (iequals(scheme, "Basic")) {
    auto decoded = base64_decode(value);
    if (!decoded) return a;
    const std::size_t colon = decoded->find(':');
    if (colon == std::string::npos) return a;
    a.scheme = Authorization::Scheme::kBasic;
    a.user = decoded->substr(0, colon);
    a.password = decoded->substr(colon + 1);
  }
  return a;
}

bool looks_like_token(std::string_view text) {
  return text.substr(0, kTokenPrefix.size()) == kTokenPrefix && is_base64url(text.substr(kTokenPrefix.size()), 43);
}

bool is_safe_method(std::string_view method) { return method == "GET" || method == "HEAD" || method == "OPTIONS"; }

std::optional<std::string> normalize_origin(std::string_view origin) {
  auto o = parse_origin(origin);
  if (!o) return std::nullopt;
  return o->scheme + "://" + o->hp.host + ":" + std::to_string(o->hp.port);
}

bool origin_allowed(std::string_view origin, std::string_view host, const std::vector<std::string>& allowed) {
  auto o = parse_origin(origin);
  if (!o) return false;  // missing, "null", or garbage
  if (auto h = parse_host_port(trim(host))) {
    if (h->port < 0) h->port = o->scheme == "https" ? 443 : 80;
    if (h->host == o->hp.host && h->port == o->hp.port) return true;
  }
  const std::string norm = o->scheme + "://" + o->hp.host + ":" + std::to_string(o->hp.port);
  return std::any_of(allowed.begin(), allowed.end(), [&norm](const std::string& a) {
    const auto n = normalize_origin(a);
    return n && *n == norm;
  });
}

std::string client_key(std::string_view client_addr) {
  std::string addr(trim(client_addr).substr(0, 64));
  // "[v6]:port" or "v4:port" from an endpoint's string form: keep the address part.
  if (!addr.empty() && addr.front() == '[') {
    const std::size_t close = addr.find(']');
    if (close != std::string::npos) addr = addr.substr(1, close - 1);
  } else if (std::count(addr.begin(), addr.end(), ':') == 1) {
    addr = addr.substr(0, addr.find(':'));
  }
  std::array<unsigned char, 16> v6{};
  if (inet_pton(AF_INET6, addr.c_str(), v6.data()) == 1) {
    static constexpr std::array<unsigned char, 12> kMapped{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::equal(kMapped.begin(), kMapped.end(), v6.begin())) {
      return std::to_string(v6[12]) + "." + std::to_string(v6[13]) + "." + std::to_string(v6[14]) + "." +
             std::to_string(v6[15]);
    }
    std::fill(v6.begin() + 8, v6.end(), 0);
    std::array<char, INET6_ADDRSTRLEN> text{};
    inet_ntop(AF_INET6, v6.data(), text.data(), text.size());
    return std::string(text.data()) + "/64";
  }
  return addr;
}

}  // namespace edgemon::auth
