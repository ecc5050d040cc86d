// Allocation-free scanning of procfs/sysfs text: lines, whitespace-separated fields, numbers.
// Every function takes exact string_views and never reads past them (the input may be garbage).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace edgemon::board {

// Splits text into lines; the last line need not end in '\n'.
class LineScanner {
 public:
  explicit LineScanner(std::string_view text) : rest_(text) {}
  bool next(std::string_view& line);

 private:
  std::string_view rest_;
};

// Returns the next field separated by spaces/tabs and advances `text` past it; empty at the end.
std::string_view next_field(std::string_view& text);
std::string_view trim(std::string_view text);

// Whole-string conversions: the entire view must be the number (no sign for unsigned).
bool parse_u64(std::string_view text, std::uint64_t& out);
bool parse_i64(std::string_view text, std::int64_t& out);
bool parse_double(std::string_view text, double& out);  // finite values only
bool parse_hex_u32(std::string_view text, std::uint32_t& out);  // optional "0x" prefix

// "<root>/<relative>" with exactly one slash between them.
std::string join_root(std::string_view root, std::string_view relative);

// A metric-name-safe form of an untrusted string: [A-Za-z0-9_.-] kept, everything else '_'.
std::string sanitize_name(std::string_view text);

// Difference between two readings of a monotonically increasing kernel counter. A counter that
// went down is treated as a 32-bit wrap when both readings fit in 32 bits (32-bit kernels export
// `unsigned long` counters); otherwise the counter was reset and there is no valid delta.
std::optional<std::uint64_t> counter_delta(std::uint64_t previous, std::uint64_t current);

// Shared by the boot-id sensor (writer) and rate sensors (readers): when the generation changes,
// the kernel counters restarted, so every rate baseline must be dropped.
struct BootEpoch {
  std::uint64_t generation = 0;
};

}  // namespace edgemon::board
