// Shared by the board tests: fixture paths and value lookup by metric name.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include "edgemon/board/sensor.h"

namespace edgemon::board::testing {

inline std::string board_tree(std::string_view name) {
  return std::string(EDGEMON_TEST_DATA_DIR) + "/boards/" + std::string(name);
}

inline const SensorValue* find_value(const Sensor& s, std::string_view name) {
  for (const SensorValue& v : s.values()) {
    if (v.name == name) return &v;
  }
  return nullptr;
}

// The value of `name`, failing the test if the sensor has no such value or it is empty.
inline double value_of(const Sensor& s, std::string_view name) {
  const SensorValue* v = find_value(s, name);
  if (v == nullptr) {
    ADD_FAILURE() << s.id() << " has no value " << name;
    return -1e300;
  }
  if (!v->value) {
    ADD_FAILURE() << s.id() << ": " << name << " is empty";
    return -1e300;
  }
  return *v->value;
}

inline std::string value_names(const Sensor& s) {
  std::string out;
  for (const SensorValue& v : s.values()) out += v.name + " ";
  return out;
}

}  // namespace edgemon::board::testing
