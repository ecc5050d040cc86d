// UTF-8 checking shared by the JSON and Prometheus writers: device strings are untrusted, and both
// outputs must be valid UTF-8.
#pragma once

#include <cstddef>
#include <string_view>

namespace edgemon::gateway {

inline constexpr std::string_view kUtf8Replacement = "\xEF\xBF\xBD";  // U+FFFD

// At s[i] (a byte >= 0x80): the length of the well-formed sequence there, or 0 when there is none;
// `advance` is what to skip then: the sequence, or the maximal invalid subpart (which gets one
// U+FFFD). Overlongs, surrogates and code points above U+10FFFF are invalid (Unicode table 3-7).
inline std::size_t utf8_sequence(std::string_view s, std::size_t i, std::size_t& advance) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  std::size_t len = 0;
  unsigned char lo = 0x80, hi = 0xBF;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  }
  std::size_t good = 1;  // bytes of a well-formed prefix
  if (len > 0) {
    while (good < len && i + good < s.size()) {
      const auto b = static_cast<unsigned char>(s[i + good]);
      const bool ok = good == 1 ? (b >= lo && b <= hi) : (b >= 0x80 && b <= 0xBF);
      if (!ok) break;
      ++good;
    }
  }
  advance = good;
  return len > 0 && good == len ? len : 0;
}

}  // namespace edgemon::gateway
