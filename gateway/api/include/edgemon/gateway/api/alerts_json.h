// The active alerts as JSON: GET /api/alerts and the WebSocket "alerts" frame.
//   [{"subject","rule","type","node","metric","severity","since","reason","suppressed","value"?}]
// `suppressed`: inside a silence or maintenance window at `now`.
#pragma once

#include <string>

#include "edgemon/common/clock.h"
#include "edgemon/rules/evaluator.h"

namespace edgemon::gateway {

std::string alerts_json(const rules::Evaluator& evaluator, WallTime now);

}  // namespace edgemon::gateway
