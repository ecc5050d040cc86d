// UptimeDelta: good/total counts accumulated for one uptime subject in one hour. The Aggregator
// (aggregator.h) produces them and seeds from them; the Store persists them. The store must ADD a
// delta to the stored row of the same (subject, hour_ms), never replace it: after a restart within
// the same hour the new process reports only what it saw itself.
#pragma once

#include <cstdint>
#include <string>

namespace edgemon::gateway {

struct UptimeDelta {
  std::string subject;       // node "<group>/<node>" or target "<group>/<node>/<family>/<target>"
  std::int64_t hour_ms = 0;  // start of the hour, ms since the epoch (a multiple of 3,600,000)
  std::uint64_t good = 0;    // node: ms online; target: rounds with up == 1
  std::uint64_t total = 0;   // node: ms observed; target: rounds seen
};

}  // namespace edgemon::gateway
