// Ping targets that an admin manages through the API (POST/DELETE /api/nodes/<group>/<node>/targets).
//
// The gateway does not edit a board's files: it sends the node a remote configuration over
// Sparkplug NCMD (the protocol's `edgemon/config`, `[ping] hosts = [...]`) with a version label,
// keeps the wanted list in its store, and sends it again whenever the node is born reporting
// another version (it was offline, or restarted from an older file). The node answers with
// `agent/config/version` and `agent/config/status` ("applied" or "rejected: why").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "edgemon/common/result.h"
#include "edgemon/common/telemetry.h"

namespace edgemon::gateway {

struct NodeState;

// A ping target as the API accepts it: an IPv4 or IPv6 literal or a DNS name, 1-253 characters
// of A-Z a-z 0-9 . : - (nothing that needs quoting in TOML, a topic or a metric name).
// Error: kInvalidArgument saying what is wrong.
Status validate_target_host(std::string_view host);

// The targets a node reports, from its metric names "ping/<target>/up", sorted.
std::vector<std::string> reported_targets(const NodeState& node);

// The stored form ({"ping_hosts":[...]}) and back; nothing if `json` is not that shape.
std::string managed_targets_json(const std::vector<std::string>& hosts);
std::optional<std::vector<std::string>> parse_managed_targets(std::string_view json);

// The remote configuration for the agent: "[ping]\nhosts = [\"a\", \"b\"]\n".
std::string targets_config_toml(const std::vector<std::string>& hosts);

// The Sparkplug NCMD that carries a remote configuration (`edgemon/config` + `edgemon/config_version`),
// as `edgemon-gateway push-config` sends it too.
TelemetryMessage config_command(const std::string& toml, const std::string& version, std::int64_t now_ms);

}  // namespace edgemon::gateway
