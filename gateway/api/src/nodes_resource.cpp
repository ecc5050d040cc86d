// GET /api/nodes (every node with its metrics, status, uptime and targets), GET
// /api/nodes/{group}/{node} (one of them) and GET /api/fleet (status counts and every node's status).
#include "edgemon/gateway/api/api_context.h"
#include "edgemon/gateway/api/node_json.h"

namespace edgemon::gateway {

void add_nodes_routes(Router& router, ApiContext& api) {
  router.add("GET", "/api/nodes", [&api](const ApiRequest&) -> asio::awaitable<ApiReply> {
    co_return json_reply(200, nodes_json(api.fleet, api.aggregator));
  });
  router.add("GET", "/api/nodes/{group}/{node}", [&api](const ApiRequest& req) -> asio::awaitable<ApiReply> {
    const NodeState* node = api.fleet.find(req.param("group"), req.param("node"));
    if (node == nullptr) co_return error_reply(404, "no such node");
    co_return json_reply(200, node_json(*node, api.aggregator));
  });
  router.add("GET", "/api/fleet", [&api](const ApiRequest&) -> asio::awaitable<ApiReply> {
    co_return json_reply(200, fleet_json(api.aggregator.fleet_summary()));
  });
}

}  // namespace edgemon::gateway
