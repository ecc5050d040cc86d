// What the API's resources work with: read access to the core's typed state, the rooms that
// change things (alerts, managed targets), the history reader, and a sink for effects. Given by
// the wiring (gateway.cpp); every member outlives the router.
#pragma once

#include <functional>

#include "edgemon/common/clock.h"
#include "edgemon/gateway/api/router.h"
#include "edgemon/gateway/api/status.h"
#include "edgemon/gateway/core/aggregator.h"
#include "edgemon/gateway/core/alert_control.h"
#include "edgemon/gateway/core/completeness.h"
#include "edgemon/gateway/core/fleet_state.h"
#include "edgemon/gateway/core/ingest.h"
#include "edgemon/gateway/core/managed_targets.h"
#include "edgemon/gateway/store/store_reader.h"
#include "edgemon/rules/evaluator.h"

namespace edgemon::gateway {

struct ApiContext {
  const Clock& clock;
  const FleetState& fleet;
  const Aggregator& aggregator;
  const Completeness& completeness;
  const rules::Evaluator& evaluator;
  AlertControl& alerts;
  ManagedTargets& targets;
  Ingest& ingest;
  StoreReader& reader;
  double sla_pct = 99.9;
  // Carries out what a change caused (store rows, NCMDs, live updates); runs on the io thread.
  std::function<void(Outbox&&)> apply;
  // The gateway's own status for /api/health and /metrics.
  std::function<GatewayStatus()> status;
};

// A history read's error as an answer: 503 when the reader is busy, 500 otherwise, with the reason.
ApiReply storage_error(const Error& e);

// Runs `job` (Store& -> Result<std::string>, JSON) on the history reader and answers 200 with it,
// or storage_error(). Pass a named job (std::move(job)): GCC 12 destroys temporaries built inside
// a co_await expression twice when they own memory.
template <typename Job>
asio::awaitable<ApiReply> stored_json(StoreReader& reader, Job job) {
  auto body = co_await reader.query(std::move(job));
  if (!body) co_return storage_error(body.error());
  co_return json_reply(200, std::move(*body));
}

// Registers every resource of the REST API (routes.cpp lists them; docs/openapi.yaml describes
// them and tests/docs/check_openapi.py keeps the two equal).
void add_api_routes(Router& router, ApiContext& api);

// Resources, one file each.
void add_status_routes(Router& router, ApiContext& api);     // /api/health, /metrics
void add_nodes_routes(Router& router, ApiContext& api);      // /api/nodes, /api/nodes/{g}/{n}[/samples], /api/fleet
void add_targets_routes(Router& router, ApiContext& api);    // /api/targets, /api/nodes/{g}/{n}/targets[/{host}]
void add_history_routes(Router& router, ApiContext& api);    // /api/history, /api/reports
void add_alerts_routes(Router& router, ApiContext& api);     // /api/alerts, /api/events, /api/incidents
void add_silences_routes(Router& router, ApiContext& api);   // /api/silences[/{id}], /api/maintenance
void add_rules_routes(Router& router, ApiContext& api);      // /api/rules[/{name}]

}  // namespace edgemon::gateway
