// GET /api/health (public: liveness and counters as JSON) and GET /metrics (Prometheus text):
// both from one GatewayStatus and one table of fields (status.h).
#include "edgemon/gateway/api/api_context.h"
#include "edgemon/gateway/api/prometheus_text.h"

namespace edgemon::gateway {

void add_status_routes(Router& router, ApiContext& api) {
  router.add("GET", "/api/health", [&api](const ApiRequest&) -> asio::awaitable<ApiReply> {
    co_return json_reply(200, health_json(api.status()));
  });
  router.add("GET", "/metrics", [&api](const ApiRequest&) -> asio::awaitable<ApiReply> {
    std::vector<NodeSummary> nodes;
    for (const FleetEntry& e : api.aggregator.fleet_summary().nodes) {
      if (auto s = api.aggregator.node_summary(e.key)) nodes.push_back(std::move(*s));
    }
    ApiReply reply;
    reply.body = metrics_text(api.status(), nodes);
    reply.content_type = std::string(kPrometheusContentType);
    co_return reply;
  });
}

}  // namespace edgemon::gateway
