// Thread-safe strerror for this library's messages (strerror itself may share a buffer).
#pragma once

#include <cstring>
#include <string>

namespace edgemon::probe {

inline std::string errno_text(int err) {
  char buf[128] = {};
  // GNU strerror_r returns the message, which may or may not be `buf`.
  return ::strerror_r(err, buf, sizeof buf);
}

}  // namespace edgemon::probe
