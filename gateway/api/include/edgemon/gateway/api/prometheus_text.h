// Prometheus text exposition format 0.0.4 (`text/plain; version=0.0.4; charset=utf-8`): a small
// writer. The gateway's /metrics is written with it by status.h.
//
// PrometheusText takes untrusted strings (node ids, target names come from devices) and never
// emits text a scraper would reject:
//   - metric names must match [a-zA-Z_:][a-zA-Z0-9_:]*, label names [a-zA-Z_][a-zA-Z0-9_]* and
//     must not start with "__" (reserved); a counter's name must end in "_total". A family or
//     sample that breaks a rule is refused (never emitted) and counted in dropped().
//   - label values: invalid UTF-8 is replaced by U+FFFD (one per maximal invalid subpart), then
//     backslash, double quote and newline are escaped as \\ \" \n. HELP text: the same UTF-8
//     repair, then backslash and newline escaped as \\ \n.
//   - values: shortest round-trip decimal ("1", "0.25", "1.5e-07"); NaN, +Inf, -Inf as "NaN",
//     "+Inf", "-Inf".
//   - each family's HELP and TYPE lines appear once, followed by all of its samples, in the order
//     families were first declared; a family that got no sample is left out entirely. Declaring
//     a family again (same name and type) selects it again, so callers may interleave families;
//     the samples are still written contiguously.
//   - within a family a label set appears at most once: a later sample whose label set (compared
//     after UTF-8 repair, in any label order) equals an earlier one's is dropped, the first wins.
//     (Two distinct device strings can collide after U+FFFD repair.)
// Labels are written in the order given.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace edgemon::gateway {

inline constexpr std::string_view kPrometheusContentType =
    "text/plain; version=0.0.4; charset=utf-8";

enum class PromType : std::uint8_t { kGauge, kCounter };

struct PromLabel {
  std::string_view name;
  std::string_view value;
};

bool valid_prom_metric_name(std::string_view name);  // [a-zA-Z_:][a-zA-Z0-9_:]*
bool valid_prom_label_name(std::string_view name);   // [a-zA-Z_][a-zA-Z0-9_]*, not "__"-prefixed
// `s` with every maximal invalid UTF-8 subpart (and encoded surrogates, overlongs, > U+10FFFF)
// replaced by U+FFFD.
std::string repair_utf8(std::string_view s);
// 0.0.4 escaping, after repair_utf8().
std::string prom_escape_label_value(std::string_view s);
std::string prom_escape_help(std::string_view s);
std::string prom_format_value(double v);

class PrometheusText {
 public:
  PrometheusText();
  ~PrometheusText();
  PrometheusText(PrometheusText&&) noexcept;
  PrometheusText& operator=(PrometheusText&&) noexcept;

  // Selects the family that following sample() calls add to, declaring it on first use (help and
  // type are fixed then; a later call's help is ignored). Returns false, and drops the samples
  // until the next successful family(), when the name is invalid, a counter's name does not end
  // in "_total", or the name was declared before with the other type.
  bool family(std::string_view name, std::string_view help, PromType type);

  // Adds a sample to the selected family. Returns false (sample dropped, counted) when there is
  // no selected family, a label name is invalid or repeated, or the label set is a duplicate.
  bool sample(std::span<const PromLabel> labels, double value);
  bool sample(std::initializer_list<PromLabel> labels, double value) {
    return sample(std::span<const PromLabel>(labels.begin(), labels.size()), value);
  }
  bool sample(double value) { return sample(std::span<const PromLabel>{}, value); }

  // The exposition text (ends with a newline unless empty); the writer is empty afterwards.
  std::string take();

  std::size_t dropped() const;  // samples refused since construction (including by family())

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace edgemon::gateway
