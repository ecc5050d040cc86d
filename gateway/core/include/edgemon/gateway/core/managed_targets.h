// Ping targets that an admin manages through the API (POST/DELETE /api/nodes/<group>/<node>/targets).
//
// The gateway does not edit a board's files: it sends the node a remote configuration over
// Sparkplug NCMD (the protocol's `edgemon/config`, `[ping] hosts = [...]`) with a version label,
// keeps the wanted list in its store, and sends it again whenever the node is born reporting
// another version (it was offline, or restarted from an older file). The node answers with
// `agent/config/version` and `agent/config/status` ("applied" or "rejected: why").
//
// ManagedTargets holds the wanted lists (single-threaded, the io thread). Its changes return the
// row to store and the command to send; the caller carries them out.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "edgemon/common/result.h"
#include "edgemon/common/telemetry.h"
#include "edgemon/gateway/store/store.h"

namespace edgemon::gateway {

struct NodeState;

// A ping target as the API accepts it: an IPv4 or IPv6 literal or a DNS name, 1-253 characters
// of A-Z a-z 0-9 . : - (nothing that needs quoting in TOML, a topic or a metric name).
// Error: kInvalidArgument saying what is wrong.
Status validate_target_host(std::string_view host);

// The targets a node reports, from its metric names "ping/<target>/up", sorted.
std::vector<std::string> reported_targets(const NodeState& node);

// The remote configuration for the agent: "[ping]\nhosts = [\"a\", \"b\"]\n".
std::string targets_config_toml(const std::vector<std::string>& hosts);

// The Sparkplug NCMD that carries a remote configuration (`edgemon/config` + `edgemon/config_version`),
// as `edgemon-gateway push-config` sends it too.
TelemetryMessage config_command(const std::string& toml, const std::string& version, std::int64_t now_ms);

// A command for one node, ready to publish.
struct NodeCommand {
  std::string group;
  std::string node;
  TelemetryMessage message;
};

class ManagedTargets {
 public:
  static constexpr std::size_t kMaxTargets = 256;

  struct Entry {
    std::vector<std::string> hosts;
    std::string version;
    std::int64_t updated_ms = 0;
  };

  // At start, from the store. Returns how many rows were unreadable (skipped).
  std::size_t restore(std::span<const NodeConfig> rows);

  const Entry* find(std::string_view node_key) const;
  bool managed(std::string_view node_key, std::string_view host) const;

  // Adds (`add`) or removes a host for the node, starting from what the API set before, else from
  // what the node reports. Errors: kInvalidArgument (bad host, too many), kNotFound (removing a
  // host the node does not have). `changed` is false for adding a host that is already there.
  struct Change {
    bool changed = false;
    NodeConfig row;                     // to store when changed
    std::optional<NodeCommand> command;  // to send when changed and the node is online
  };
  Result<Change> add(const NodeState& node, std::string_view host, std::int64_t now_ms);
  Result<Change> remove(const NodeState& node, std::string_view host, std::int64_t now_ms);

  // The configuration command for a node that is online and reports another version than wanted.
  std::optional<NodeCommand> push_if_needed(const NodeState& node, std::int64_t now_ms) const;

  std::size_t size() const { return entries_.size(); }

 private:
  Result<Change> change(const NodeState& node, std::string_view host, bool add, std::int64_t now_ms);
  std::map<std::string, Entry, std::less<>> entries_;  // node key -> wanted targets
};

}  // namespace edgemon::gateway
