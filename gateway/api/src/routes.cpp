// The REST API's route table: every resource registers its routes here, in one place.
#include "edgemon/gateway/api/api_context.h"

namespace edgemon::gateway {

void add_api_routes(Router& router, ApiContext& api) {
  add_status_routes(router, api);
  add_nodes_routes(router, api);
  add_targets_routes(router, api);
  add_history_routes(router, api);
  add_alerts_routes(router, api);
  add_silences_routes(router, api);
  add_rules_routes(router, api);
}

}  // namespace edgemon::gateway
