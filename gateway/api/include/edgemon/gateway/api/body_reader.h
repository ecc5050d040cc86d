// BodyReader: the one way the API reads a JSON request body.
//
//   BodyReader b(request.body);
//   auto host = b.text("host", 253, /*required=*/true);
//   auto until = b.integer("until", kMinTimeMs, kMaxTimeMs);
//   if (Status s = b.finish(); !s) return error_reply(400, s.error().message);
//   ... only now change anything ...
//
// - The body must be a JSON object (at most 64 KiB: the server's body limit; nesting as parsed).
// - Each accessor checks the member's type and range and names the member in its error
//   ("until: must be an integer between 0 and 7258118399999").
// - Members nobody asked for are an error in finish(): a typo or an unsupported field
//   ("expires" on a token) is refused, never silently ignored.
// - The first error wins; after one, accessors return nothing. Handlers apply their change only
//   after finish() succeeded, so a request is all or nothing.
// A member whose value is null counts as absent (a form's empty field), but is still "known".
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "edgemon/common/result.h"

namespace edgemon::gateway {

// Times in ms since the epoch the API accepts: 1970-01-01 .. 2199-12-31. (A time point of the
// system clock counts nanoseconds in 64 bits: it ends in 2262.)
inline constexpr std::int64_t kMinTimeMs = 0;
inline constexpr std::int64_t kMaxTimeMs = 7'258'118'399'999;

class BodyReader {
 public:
  // `usage` is appended to structural errors ("the body is not JSON; needs {...}").
  explicit BodyReader(std::string_view body, std::string usage = {});

  bool has(std::string_view key) const;       // present and not null
  bool contains(std::string_view key) const;  // present, perhaps null

  std::optional<std::string> text(std::string_view key, std::size_t max_bytes, bool required = false);
  std::optional<std::int64_t> integer(std::string_view key, std::int64_t min, std::int64_t max, bool required = false);
  std::optional<double> number(std::string_view key, double min, double max, bool required = false);
  std::optional<bool> boolean(std::string_view key, bool required = false);
  std::optional<std::vector<std::string>> strings(std::string_view key, std::size_t max_items, std::size_t max_bytes,
                                                  bool required = false);
  // The raw member (objects, mixed values) for a caller that reads it itself; marks it known.
  const nlohmann::json* member(std::string_view key, bool required = false);
  // Marks members as known without reading them (read elsewhere).
  void allow(std::string_view key);

  // Records an error of the caller's own checks (the first error wins).
  void fail(std::string message);
  bool ok() const { return error_.empty(); }

  // Errors: kInvalidArgument with the first problem, or naming the unknown members.
  Status finish();

  // The whole body (for readers that walk it, such as a rule's keys); marks every member known.
  const nlohmann::json& all();

 private:
  const nlohmann::json* find(std::string_view key, bool required);

  nlohmann::json body_;
  std::string usage_;
  std::set<std::string, std::less<>> known_;
  std::string error_;
};

}  // namespace edgemon::gateway
