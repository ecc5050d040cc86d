// GET /api/nodes (every node with its metrics, status, uptime and targets), GET
// /api/nodes/{group}/{node} (one of them), GET /api/nodes/{group}/{node}/samples (its sample
// accounting: completeness.h) and GET /api/fleet (status counts and every node's status).
#include "edgemon/gateway/api/api_context.h"
#include "edgemon/gateway/api/json_writer.h"
#include "edgemon/gateway/api/node_json.h"

namespace edgemon::gateway {
namespace {

// {"tracked","high","received","duplicates","missing","late","resets","losses",
//  "missing_last_hour","recent_losses":[{"at","first","last","count","overflow","damaged","reason"}]}
std::string samples_json(const Completeness& c, const std::string& key, std::int64_t now_ms) {
  JsonWriter w;
  w.begin_object();
  const Completeness::NodeCounts* n = c.find(key);
  w.member("tracked", n != nullptr);
  if (n != nullptr) {
    w.member("high", n->high)
        .member("received", n->received)
        .member("duplicates", n->duplicates)
        .member("missing", n->missing)
        .member("late", n->late)
        .member("resets", n->resets)
        .member("losses", n->losses)
        .member("missing_last_hour", c.missing_within(key, now_ms));
  }
  w.key("recent_losses").begin_array();
  for (const DataLoss& l : c.recent_losses(key)) {
    w.begin_object()
        .member("at", l.at_ms)
        .member("first", l.first)
        .member("last", l.last)
        .member("count", l.count())
        .member("overflow", l.overflow)
        .member("damaged", l.damaged)
        .member("reason", l.describe())
        .end_object();
  }
  w.end_array().end_object();
  return w.take();
}

}  // namespace

void add_nodes_routes(Router& router, ApiContext& api) {
  router.add("GET", "/api/nodes", [&api](const ApiRequest&) -> asio::awaitable<ApiReply> {
    co_return json_reply(200, nodes_json(api.fleet, api.aggregator));
  });
  router.add("GET", "/api/nodes/{group}/{node}", [&api](const ApiRequest& req) -> asio::awaitable<ApiReply> {
    const NodeState* node = api.fleet.find(req.param("group"), req.param("node"));
    if (node == nullptr) co_return error_reply(404, "no such node");
    co_return json_reply(200, node_json(*node, api.aggregator));
  });
  router.add("GET", "/api/nodes/{group}/{node}/samples", [&api](const ApiRequest& req) -> asio::awaitable<ApiReply> {
    const NodeState* node = api.fleet.find(req.param("group"), req.param("node"));
    if (node == nullptr) co_return error_reply(404, "no such node");
    co_return json_reply(200, samples_json(api.completeness, node->key, to_unix_ms(api.clock.wall())));
  });
  router.add("GET", "/api/fleet", [&api](const ApiRequest&) -> asio::awaitable<ApiReply> {
    co_return json_reply(200, fleet_json(api.aggregator.fleet_summary()));
  });
}

}  // namespace edgemon::gateway
