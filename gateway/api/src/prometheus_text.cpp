#include "edgemon/gateway/api/prometheus_text.h"

#include "edgemon/gateway/api/utf8.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <optional>
#include <unordered_map>
#include <unordered_set>
#include <utility>

namespace edgemon::gateway {

namespace {

bool is_alpha_(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}


}  // namespace

bool valid_prom_metric_name(std::string_view name) {
  if (name.empty() || !(is_alpha_(name[0]) || name[0] == ':')) return false;
  return std::all_of(name.begin() + 1, name.end(),
                     [](char c) { return is_alpha_(c) || is_digit(c) || c == ':'; });
}

bool valid_prom_label_name(std::string_view name) {
  if (name.empty() || !is_alpha_(name[0]) || name.starts_with("__")) return false;
  return std::all_of(name.begin() + 1, name.end(),
                     [](char c) { return is_alpha_(c) || is_digit(c); });
}

std::string repair_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  const auto byte = [&s](std::size_t i) { return static_cast<unsigned char>(s[i]); };
  std::size_t i = 0;
  while (i < s.size()) {
    const unsigned char b0 = byte(i);
    if (b0 < 0x80) {
      out += static_cast<char>(b0);
      ++i;
      continue;
    }
    std::size_t good = 1;
    const std::size_t len = utf8_sequence(s, i, good);
    if (len > 0) {
      out.append(s.substr(i, len));
    } else {
      out += kUtf8Replacement;  // one U+FFFD per maximal invalid subpart
    }
    i += good;
  }
  return out;
}

namespace {
// The exposition format's escapes: backslash and newline everywhere, the double quote only inside
// label values (HELP text keeps it as is).
std::string prom_escape(std::string_view s, bool quote) {
  const std::string repaired = repair_utf8(s);
  std::string out;
  out.reserve(repaired.size() + 8);
  for (const char c : repaired) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && quote) {
      out += "\\\"";
    } else {
      out += c;
    }
  }
  return out;
}
}  // namespace

std::string prom_escape_label_value(std::string_view s) { return prom_escape(s, true); }

std::string prom_escape_help(std::string_view s) { return prom_escape(s, false); }

std::string prom_format_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  std::array<char, 32> buf{};
  // Whole numbers as integers ("1700000000", not the shorter "1.7e+09"); the rest shortest.
  constexpr double kExactInt = 9007199254740992.0;  // 2^53
  const auto [end, ec] =
      (v == std::trunc(v) && std::fabs(v) < kExactInt)
          ? std::to_chars(buf.data(), buf.data() + buf.size(), static_cast<std::int64_t>(v))
          : std::to_chars(buf.data(), buf.data() + buf.size(), v);
  if (ec != std::errc{}) return "NaN";  // cannot happen: 32 bytes hold any shortest double
  return std::string(buf.data(), end);
}

// ---------------------------------------------------------------------------------------------

struct PrometheusText::Impl {
  struct Family {
    std::string name;
    std::string help;  // escaped
    PromType type = PromType::kGauge;
    std::string body;
    std::unordered_set<std::string> label_sets;  // canonical: sorted `name="escaped",...`
  };
  std::vector<Family> families;
  std::unordered_map<std::string, std::size_t> index;
  std::optional<std::size_t> current;
  std::size_t dropped = 0;
};

PrometheusText::PrometheusText() : impl_(std::make_unique<Impl>()) {}
PrometheusText::~PrometheusText() = default;
PrometheusText::PrometheusText(PrometheusText&&) noexcept = default;
PrometheusText& PrometheusText::operator=(PrometheusText&&) noexcept = default;

bool PrometheusText::family(std::string_view name, std::string_view help, PromType type) {
  Impl& I = *impl_;
  I.current.reset();
  if (!valid_prom_metric_name(name)) return false;
  if (type == PromType::kCounter && !name.ends_with("_total")) return false;
  const std::string key(name);
  if (const auto it = I.index.find(key); it != I.index.end()) {
    if (I.families[it->second].type != type) return false;
    I.current = it->second;
    return true;
  }
  I.index.emplace(key, I.families.size());
  I.current = I.families.size();
  I.families.push_back({key, prom_escape_help(help), type, {}, {}});
  return true;
}

bool PrometheusText::sample(std::span<const PromLabel> labels, double value) {
  Impl& I = *impl_;
  if (!I.current) {
    ++I.dropped;
    return false;
  }
  Impl::Family& f = I.families[*I.current];
  std::vector<std::pair<std::string_view, std::string>> escaped;
  escaped.reserve(labels.size());
  for (const PromLabel& l : labels) {
    const bool repeated = std::any_of(escaped.begin(), escaped.end(),
                                      [&l](const auto& e) { return e.first == l.name; });
    if (!valid_prom_label_name(l.name) || repeated) {
      ++I.dropped;
      return false;
    }
    escaped.emplace_back(l.name, prom_escape_label_value(l.value));
  }
  std::string rendered;
  for (const auto& [n, v] : escaped) {
    rendered += rendered.empty() ? "{" : ",";
    rendered.append(n).append("=\"").append(v).append("\"");
  }
  if (!rendered.empty()) rendered += '}';

  std::sort(escaped.begin(), escaped.end());
  std::string canonical;
  for (const auto& [n, v] : escaped) canonical.append(n).append("=\"").append(v).append("\",");
  if (!f.label_sets.insert(std::move(canonical)).second) {
    ++I.dropped;
    return false;
  }
  f.body.append(f.name).append(rendered).append(" ").append(prom_format_value(value)).append("\n");
  return true;
}

std::string PrometheusText::take() {
  Impl& I = *impl_;
  std::string out;
  for (const Impl::Family& f : I.families) {
    if (f.body.empty()) continue;
    out.append("# HELP ").append(f.name).append(" ").append(f.help).append("\n");
    out.append("# TYPE ").append(f.name).append(f.type == PromType::kCounter ? " counter\n"
                                                                             : " gauge\n");
    out.append(f.body);
  }
  const std::size_t dropped = I.dropped;
  I = Impl{};
  I.dropped = dropped;
  return out;
}

std::size_t PrometheusText::dropped() const {
  return impl_->dropped;
}

}  // namespace edgemon::gateway
