// Probe targets:
//   GET    /api/targets                               every node's targets with their latest values
//   GET    /api/nodes/{group}/{node}/targets          reported and managed ping targets of a node
//   POST   /api/nodes/{group}/{node}/targets          {"host"}: add one (admin; sent to the node as
//                                                     remote configuration, core/managed_targets.h)
//   DELETE /api/nodes/{group}/{node}/targets/{host}   remove one (admin)
#include <map>

#include "edgemon/common/log.h"
#include "edgemon/common/metric_key.h"
#include "edgemon/gateway/api/api_context.h"
#include "edgemon/gateway/api/body_reader.h"
#include "edgemon/gateway/api/json_writer.h"

namespace edgemon::gateway {
namespace {

constexpr const char* kLog = "api";

std::string describe(const ApiContext& api, const NodeState& node) {
  const ManagedTargets::Entry* managed = api.targets.find(node.key);
  const std::string_view version = node.text("agent/config/version");
  JsonWriter w;
  w.begin_object().member("node", node.key).key("targets").begin_array();
  for (const std::string& t : reported_targets(node)) w.value(t);
  w.end_array()
      .member("config_version", version)
      .member("config_status", node.text("agent/config/status"))
      .key("managed");
  if (managed == nullptr) {
    w.null();
  } else {
    w.begin_object().key("targets").begin_array();
    for (const std::string& h : managed->hosts) w.value(h);
    w.end_array().member("version", managed->version).member("updated", managed->updated_ms).end_object();
  }
  w.member("pending", managed != nullptr && managed->version != version).end_object();
  return w.take();
}

ApiReply change_error(const Error& e) {
  return error_reply(e.code == ErrorCode::kNotFound ? 404 : 400, e.message);
}

// Stores the change and sends the configuration to the node (when it is online).
void apply_change(ApiContext& api, ManagedTargets::Change change) {
  Outbox out;
  out.store.node_configs.push_back(std::move(change.row));
  if (change.command) out.commands.push_back(std::move(*change.command));
  api.apply(std::move(out));
}

}  // namespace

void add_targets_routes(Router& router, ApiContext& api) {
  router.add("GET", "/api/targets", [&api](const ApiRequest&) -> asio::awaitable<ApiReply> {
    // Every probe metric "<family>/<target>/<leaf>" of every node, grouped by target.
    JsonWriter w;
    w.begin_array();
    for (const auto& [key, node] : api.fleet.nodes()) {
      struct Target {
        std::vector<const MetricSlot*> slots;
        std::int64_t ts = 0;
      };
      std::map<std::pair<Family, std::string_view>, Target> targets;
      for (const MetricSlot& m : node.metrics) {
        if (!m.key.probe()) continue;
        Target& t = targets[{m.key.family(), m.key.target()}];
        t.slots.push_back(&m);
        t.ts = std::max(t.ts, m.ts_ms);
      }
      for (const auto& [id, t] : targets) {
        w.begin_object()
            .member("node", key)
            .member("online", node.online)
            .member("family", to_string(id.first))
            .member("target", id.second)
            .member("managed", id.first == Family::kPing && api.targets.managed(key, id.second))
            .key("values")
            .begin_object();
        for (const MetricSlot* m : t.slots) w.member(m->key.leaf_name(), m->value);
        w.end_object().member("ts", t.ts).end_object();
      }
    }
    w.end_array();
    co_return json_reply(200, w.take());
  });

  router.add("GET", "/api/nodes/{group}/{node}/targets", [&api](const ApiRequest& req) -> asio::awaitable<ApiReply> {
    const NodeState* node = api.fleet.find(req.param("group"), req.param("node"));
    if (node == nullptr) co_return error_reply(404, "no such node");
    co_return json_reply(200, describe(api, *node));
  });

  router.add("POST", "/api/nodes/{group}/{node}/targets", [&api](const ApiRequest& req) -> asio::awaitable<ApiReply> {
    const NodeState* node = api.fleet.find(req.param("group"), req.param("node"));
    if (node == nullptr) co_return error_reply(404, "no such node");
    BodyReader body(req.body, "{\"host\": \"<IP address or host name>\"}");
    const std::optional<std::string> host = body.text("host", 253, true);
    if (Status s = body.finish(); !s) co_return error_reply(400, s.error().message);
    auto change = api.targets.add(*node, *host, to_unix_ms(api.clock.wall()));
    if (!change) co_return change_error(change.error());
    if (!change->changed) co_return json_reply(200, describe(api, *node));  // already there
    log::info(kLog, "target added", {{"node", node->key}, {"target", *host}, {"by", req.user}});
    apply_change(api, std::move(*change));
    co_return json_reply(202, describe(api, *node));
  });

  router.add("DELETE", "/api/nodes/{group}/{node}/targets/{host}",
             [&api](const ApiRequest& req) -> asio::awaitable<ApiReply> {
               const NodeState* node = api.fleet.find(req.param("group"), req.param("node"));
               if (node == nullptr) co_return error_reply(404, "no such node");
               auto change = api.targets.remove(*node, req.param("host"), to_unix_ms(api.clock.wall()));
               if (!change) co_return change_error(change.error());
               log::info(kLog, "target removed", {{"node", node->key}, {"target", req.param("host")}, {"by", req.user}});
               apply_change(api, std::move(*change));
               co_return json_reply(202, describe(api, *node));
             });
}

}  // namespace edgemon::gateway
