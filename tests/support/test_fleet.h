// TestFleet: the whole system on loopback for one test — a private mosquitto, a real
// edgemon-gateway (SQLite in a temp dir, dashboard from the build tree) and real edgemon-agents.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "support/mosquitto_broker.h"
#include "support/process.h"

namespace edgemon::test {

struct AgentOptions {
  std::string node_id = "test-node";
  std::string group = "edgemon";
  double interval_s = 0.5;
  std::vector<std::string> ping_hosts = {"127.0.0.1"};
  std::string config_toml;  // written to a config file and passed with --config when not empty
};

class TestFleet {
 public:
  // The gateway's first admin, from [auth] admin_password in its config.
  static constexpr const char* kAdminUser = "admin";
  static constexpr const char* kAdminPassword = "edgemon-test-admin-pw";

  // Broker + gateway (unless with_gateway is false), no agents yet.
  // `gateway_toml`: a config file for the gateway (rules, notifications), passed with --config;
  // an [auth] section with the admin above is appended. Once the gateway listens, the fleet logs
  // in, creates an admin API token ("test-harness") and makes it the default credential of
  // http_get/http_request/WsClient (ws_client.h).
  explicit TestFleet(bool with_gateway = true, const std::string& gateway_toml = "");
  ~TestFleet();

  void start_agent(const AgentOptions& options);
  ChildProcess& agent(const std::string& node_id) { return agents_.at(node_id); }
  // The state directory of an agent (its store-and-forward buffer lives there).
  std::string agent_state_dir(const std::string& node_id) const { return dir_.file("agent-" + node_id); }
  ChildProcess& gateway() { return gateway_; }
  // Starts the gateway again with the same arguments, state directory and HTTP port (after it
  // stopped or was killed); waits until it listens. Throws std::runtime_error on failure.
  void restart_gateway();
  MosquittoBroker& broker() { return *broker_; }

  std::uint16_t http_port() const { return http_port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(http_port_) + "/"; }
  std::string database() const { return dir_.file("state/edgemon.db"); }
  const TempDir& dir() const { return dir_; }
  // "Bearer emt_..." of the harness's admin token.
  const std::string& authorization() const { return authorization_; }
  // Every process's log, for failure messages.
  std::string logs();

 private:
  TempDir dir_;
  std::unique_ptr<MosquittoBroker> broker_;
  std::uint16_t http_port_ = 0;
  std::vector<std::string> gateway_argv_;
  int gateway_starts_ = 0;
  ChildProcess gateway_;
  std::string authorization_;
  std::map<std::string, ChildProcess> agents_;
};

// Logs in as the fleet's admin and creates an admin API token called `name`; returns the token.
// Throws std::runtime_error on failure.
std::string create_admin_token(std::uint16_t port, const std::string& name);

}  // namespace edgemon::test
