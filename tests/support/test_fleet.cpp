#include "support/test_fleet.h"

#include <csignal>
#include <sstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "support/net.h"
#include "support/ws_client.h"

namespace edgemon::test {

TestFleet::TestFleet(bool with_gateway, const std::string& gateway_toml) : dir_("edgemon-fleet") {
  broker_ = std::make_unique<MosquittoBroker>(dir_.path());
  if (!with_gateway) return;
  http_port_ = free_tcp_port();
  std::vector<std::string> argv = {EDGEMON_GATEWAY_BIN, "--broker", "127.0.0.1", "--port", std::to_string(broker_->port()),
                                   "--http-port", std::to_string(http_port_), "--state-dir", dir_.file("state"),
                                   "--web-root", EDGEMON_WEB_DIST, "--reconnect-max", "1"};
  write_file(dir_.file("gateway.toml"), gateway_toml + "\n[auth]\nadmin_user = \"" + kAdminUser +
                                           "\"\nadmin_password = \"" + kAdminPassword + "\"\n");
  argv.push_back("--config");
  argv.push_back(dir_.file("gateway.toml"));
  gateway_argv_ = std::move(argv);
  restart_gateway();
  authorization_ = "Bearer " + create_admin_token(http_port_, "test-harness");
  set_default_authorization(authorization_);
}

std::string create_admin_token(std::uint16_t port, const std::string& name) {
  HttpRequest login;
  login.method = "POST";
  login.path = "/api/login";
  login.default_auth = false;
  login.body = nlohmann::json{{"user", TestFleet::kAdminUser}, {"password", TestFleet::kAdminPassword}}.dump();
  const HttpResponse session = http_request(port, login);
  if (session.status != 200) {
    throw std::runtime_error("harness login failed: HTTP " + std::to_string(session.status) + " " + session.body);
  }
  HttpRequest create;
  create.method = "POST";
  create.path = "/api/tokens";
  create.default_auth = false;
  create.headers = {{"Cookie", cookie_from(session, "edgemon_session")},
                    {"X-CSRF-Token", nlohmann::json::parse(session.body).at("csrf_token").get<std::string>()}};
  create.body = nlohmann::json{{"name", name}, {"role", "admin"}}.dump();
  const HttpResponse token = http_request(port, create);
  if (token.status != 201) {
    throw std::runtime_error("harness token failed: HTTP " + std::to_string(token.status) + " " + token.body);
  }
  return nlohmann::json::parse(token.body).at("token").get<std::string>();
}

void TestFleet::restart_gateway() {
  // Each run logs to its own file: gateway.log, gateway-2.log, ...
  ++gateway_starts_;
  const std::string log = gateway_starts_ == 1 ? "gateway.log" : "gateway-" + std::to_string(gateway_starts_) + ".log";
  gateway_ = ChildProcess::start(gateway_argv_, dir_.file(log));
  if (!wait_for_tcp(http_port_, std::chrono::seconds(10))) {
    throw std::runtime_error("gateway did not listen on " + std::to_string(http_port_) + ":\n" + gateway_.log());
  }
}

TestFleet::~TestFleet() {
  for (auto& [id, agent] : agents_) agent.stop(SIGTERM, std::chrono::seconds(5));
  if (http_port_ != 0) gateway_.stop(SIGTERM, std::chrono::seconds(5));
}

void TestFleet::start_agent(const AgentOptions& o) {
  std::ostringstream interval;
  interval << o.interval_s;
  std::string hosts;
  for (const std::string& h : o.ping_hosts) hosts += (hosts.empty() ? "" : ",") + h;
  std::vector<std::string> argv = {EDGEMON_AGENT_BIN, "--broker", "127.0.0.1", "--port",
                                   std::to_string(broker_->port()), "--node-id", o.node_id, "--group", o.group,
                                   "--interval", interval.str(), "--state-dir",
                                   agent_state_dir(o.node_id), "--reconnect-max", "1"};
  if (!o.config_toml.empty()) {
    const std::string path = dir_.file("agent-" + o.node_id + ".toml");
    write_file(path, o.config_toml);
    argv.push_back("--config");
    argv.push_back(path);
  }
  if (!hosts.empty()) {
    argv.push_back("--hosts");
    argv.push_back(hosts);
  }
  agents_.erase(o.node_id);
  agents_.emplace(o.node_id, ChildProcess::start(argv, dir_.file("agent-" + o.node_id + ".log")));
}

std::string TestFleet::logs() {
  std::string out = "--- mosquitto\n" + read_file(dir_.file("mosquitto.log")) + "--- gateway\n" + gateway_.log();
  for (auto& [id, agent] : agents_) out += "--- agent " + id + "\n" + agent.log();
  return out;
}

}  // namespace edgemon::test
