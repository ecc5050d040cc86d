#include "edgemon/gateway/api/router.h"

#include <cstdio>
#include <cstdlib>

namespace edgemon::gateway {
namespace {

// "/a/b/c" -> {"a","b","c"}; "/" -> {}; "" or no leading '/' -> one empty segment (matches nothing).
std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> out;
  if (path.empty() || path.front() != '/') {
    out.emplace_back();
    return out;
  }
  path.remove_prefix(1);
  if (path.empty()) return out;
  for (;;) {
    const auto slash = path.find('/');
    out.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

[[noreturn]] void table_bug(std::string_view what, std::string_view pattern) {
  std::fprintf(stderr, "router: %.*s: %.*s\n", static_cast<int>(what.size()), what.data(),
               static_cast<int>(pattern.size()), pattern.data());
  std::abort();
}

}  // namespace

const std::string& ApiRequest::param(std::string_view name) const {
  static const std::string kNone;
  for (const auto& [k, v] : params) {
    if (k == name) return v;
  }
  return kNone;
}

void Router::add(std::string_view method, std::string_view pattern, ApiHandler handler) {
  std::vector<Segment> segments;
  for (const std::string_view s : split_path(pattern)) {
    if (s.empty()) table_bug("empty segment", pattern);
    if (s.front() == '{') {
      if (s.size() < 3 || s.back() != '}') table_bug("malformed parameter", pattern);
      segments.push_back({std::string(s.substr(1, s.size() - 2)), true});
    } else {
      if (s.find_first_of("{}") != std::string_view::npos) table_bug("malformed segment", pattern);
      segments.push_back({std::string(s), false});
    }
  }
  for (Route& r : routes_) {
    if (r.segments.size() != segments.size()) continue;
    bool same_shape = true;
    bool same = true;
    for (std::size_t i = 0; i < segments.size(); ++i) {
      const Segment& a = r.segments[i];
      const Segment& b = segments[i];
      if (a.param != b.param || (!a.param && a.text != b.text)) same_shape = false;
      if (a.param != b.param || a.text != b.text) same = false;
    }
    if (same) {
      for (const auto& [m, h] : r.methods) {
        if (m == method) table_bug("method registered twice", pattern);
      }
      r.methods.emplace_back(std::string(method), std::move(handler));
      return;
    }
    if (same_shape) table_bug("ambiguous with " + r.pattern, pattern);
  }
  Route route{std::string(pattern), std::move(segments), {}};
  route.methods.emplace_back(std::string(method), std::move(handler));
  routes_.push_back(std::move(route));
}

Router::Match Router::match(std::string_view method, std::string_view path) const {
  const std::vector<std::string_view> parts = split_path(path);
  Match out;
  // A literal match beats a parameter at the first segment where two candidates differ: collect
  // the best by counting literal segments.
  const Route* best = nullptr;
  std::size_t best_literals = 0;
  for (const Route& r : routes_) {
    if (r.segments.size() != parts.size()) continue;
    bool ok = true;
    std::size_t literals = 0;
    for (std::size_t i = 0; i < parts.size() && ok; ++i) {
      const Segment& s = r.segments[i];
      if (s.param) {
        ok = !parts[i].empty();
      } else {
        ok = parts[i] == s.text;
        ++literals;
      }
    }
    if (ok && (best == nullptr || literals > best_literals)) {
      best = &r;
      best_literals = literals;
    }
  }
  if (best == nullptr) {
    out.reply = error_reply(404, "no such endpoint");
    return out;
  }
  const std::string_view wanted = method == "HEAD" ? std::string_view("GET") : method;
  for (const auto& [m, h] : best->methods) {
    if (m == wanted) {
      out.handler = &h;
      for (std::size_t i = 0; i < parts.size(); ++i) {
        if (best->segments[i].param) out.params.emplace_back(best->segments[i].text, percent_decode(parts[i], false));
      }
      return out;
    }
  }
  std::string allow;
  for (const auto& [m, h] : best->methods) {
    if (!allow.empty()) allow += ", ";
    allow += m;
    if (m == "GET") allow += ", HEAD";
  }
  out.reply = method_not_allowed(allow);
  return out;
}

asio::awaitable<ApiReply> Router::dispatch(ApiRequest request) const {
  Match m = match(request.method, request.path);
  if (m.handler == nullptr) co_return std::move(m.reply);
  request.params = std::move(m.params);
  co_return co_await (*m.handler)(request);
}

std::vector<std::string> Router::routes() const {
  std::vector<std::string> out;
  for (const Route& r : routes_) {
    for (const auto& [m, h] : r.methods) out.push_back(m + " " + r.pattern);
  }
  return out;
}

}  // namespace edgemon::gateway
