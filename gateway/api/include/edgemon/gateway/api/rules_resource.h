// The rules added through the API, read back from the store at start (their stored form is the
// API's JSON, so the API room reads it). Call before the alert state is restored: that state may
// hold alerts of these rules. Returns how many could not be read or applied (logged).
#pragma once

#include <cstddef>

#include "edgemon/common/clock.h"
#include "edgemon/gateway/core/alert_control.h"
#include "edgemon/gateway/store/store.h"

namespace edgemon::gateway {

std::size_t restore_api_rules(Store& store, AlertControl& alerts, WallTime now);

}  // namespace edgemon::gateway
