#include "edgemon/board/text_fields.h"

#include <charconv>
#include <cmath>
#include <limits>

namespace edgemon::board {

bool LineScanner::next(std::string_view& line) {
  if (rest_.empty()) return false;
  const std::size_t nl = rest_.find('\n');
  if (nl == std::string_view::npos) {
    line = rest_;
    rest_ = {};
  } else {
    line = rest_.substr(0, nl);
    rest_ = rest_.substr(nl + 1);
  }
  return true;
}

namespace {
bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
}  // namespace

std::string_view next_field(std::string_view& text) {
  std::size_t i = 0;
  while (i < text.size() && is_space(text[i])) ++i;
  std::size_t j = i;
  while (j < text.size() && !is_space(text[j])) ++j;
  const std::string_view field = text.substr(i, j - i);
  text = text.substr(j);
  return field;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (is_space(text.front()) || text.front() == '\0')) text.remove_prefix(1);
  while (!text.empty() && (is_space(text.back()) || text.back() == '\0')) text.remove_suffix(1);
  return text;
}

bool parse_u64(std::string_view text, std::uint64_t& out) {
  if (text.empty()) return false;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && ptr == text.data() + text.size();
}

bool parse_i64(std::string_view text, std::int64_t& out) {
  if (text.empty()) return false;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && ptr == text.data() + text.size();
}

bool parse_double(std::string_view text, double& out) {
  if (text.empty()) return false;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && ptr == text.data() + text.size() && std::isfinite(out);
}

bool parse_hex_u32(std::string_view text, std::uint32_t& out) {
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) text.remove_prefix(2);
  if (text.empty()) return false;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out, 16);
  return ec == std::errc() && ptr == text.data() + text.size();
}

std::string join_root(std::string_view root, std::string_view relative) {
  std::string out(root);
  while (!out.empty() && out.back() == '/') out.pop_back();
  while (!relative.empty() && relative.front() == '/') relative.remove_prefix(1);
  out += '/';
  out += relative;
  return out;
}

std::string sanitize_name(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                    c == '-' || c == '.';
    out += ok ? c : '_';
  }
  if (out.empty()) out = "_";
  return out;
}

std::optional<std::uint64_t> counter_delta(std::uint64_t previous, std::uint64_t current) {
  if (current >= previous) return current - previous;
  constexpr std::uint64_t k32 = std::numeric_limits<std::uint32_t>::max();
  if (previous <= k32 && current <= k32) return (k32 - previous) + current + 1;
  return std::nullopt;
}

}  // namespace edgemon::board
