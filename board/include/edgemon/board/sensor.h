// The Sensor seam (after Zephyr's sensor API and ESPHome's components): fetch() reads the source
// once; values() exposes the last readings, each with a unit. A sensor owns its value storage,
// sized at the first successful fetch, so steady-state sampling does not allocate.
// A sensor that can never work on this board returns kUnsupported from fetch(); the caller logs
// that once and stops asking.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "edgemon/common/result.h"

namespace edgemon::board {

struct SensorValue {
  std::string name;             // e.g. "cpu/total", "cpu/core0"
  std::string unit;             // e.g. "%"
  std::optional<double> value;  // nullopt until enough samples exist (rates need two)
};

class Sensor {
 public:
  virtual ~Sensor() = default;
  // Short stable id for logs, e.g. "cpu".
  virtual std::string_view id() const = 0;
  // Errors: kUnsupported (the source does not exist on this board; permanent),
  // kInvalidArgument (source present but unparseable), kIo (read failed; may be transient).
  virtual Status fetch() = 0;
  virtual std::span<const SensorValue> values() const = 0;
};

}  // namespace edgemon::board
