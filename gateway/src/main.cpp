// edgemon-gateway: collects the fleet's telemetry and serves the dashboard, API and live feed.
#include <csignal>
#include <cstdio>

#include <CLI/CLI.hpp>

#include "edgemon/common/version.h"
#include "edgemon/gateway/gateway.h"
#include "edgemon/gateway/push_config_command.h"

int main(int argc, char** argv) {
  CLI::App app{"edgemon-gateway: subscribes to the fleet's MQTT telemetry, keeps history in SQLite "
               "and serves the dashboard, REST API and WebSocket live feed.\nFlags override the config file."};
  app.set_version_flag("--version", std::string("edgemon-gateway ") + edgemon::kVersion);
  std::string config_path;
  std::optional<int> http_port;
  std::optional<std::string> http_bind, broker, state_dir, web_root, log_level, database;
  std::optional<int> port;
  std::optional<double> reconnect_max;
  bool check_only = false;
  app.add_option("-c,--config", config_path, "TOML config file (see docs/config.md)")->check(CLI::ExistingFile);
  app.add_option("--http-port", http_port, "HTTP port for the dashboard and API (http.port; 0 = any free port)")
      ->check(CLI::Range(0, 65535));
  app.add_option("--http-bind", http_bind, "Address to listen on (http.bind)");
  app.add_option("--broker", broker, "MQTT broker host (mqtt.host)");
  app.add_option("--port", port, "MQTT broker port (mqtt.port)")->check(CLI::Range(1, 65535));
  app.add_option("--state-dir", state_dir, "Directory for the SQLite history (gateway.state_dir)");
  app.add_option("--database", database, "SQLite file (storage.sqlite_path; default <state-dir>/edgemon.db)");
  app.add_option("--web-root", web_root, "Directory with the built dashboard (http.web_root)");
  app.add_option("--reconnect-max", reconnect_max, "Cap of the MQTT reconnect backoff in seconds (mqtt.reconnect_max)")
      ->check(CLI::Range(0.5, 3600.0));
  app.add_option("--log-level", log_level, "debug, info, warn or error (log.level)");
  app.add_flag("--check-config", check_only, "Validate the configuration and exit");
  CLI::App* push_config = edgemon::gateway::add_push_config_command(app);
  CLI11_PARSE(app, argc, argv);
  if (push_config->parsed()) return edgemon::gateway::run_push_config_command();

  auto reader = config_path.empty() ? edgemon::Result<edgemon::ConfigReader>(edgemon::ConfigReader())
                                    : edgemon::ConfigReader::load_file(config_path);
  if (!reader) {
    std::fprintf(stderr, "edgemon-gateway: %s\n", reader.error().message.c_str());
    return 2;
  }
  auto config = edgemon::gateway::read_gateway_config(*reader);
  if (!config) {
    std::fprintf(stderr, "edgemon-gateway: invalid configuration:\n%s\n", config.error().message.c_str());
    return 2;
  }
  auto& c = *config;
  if (http_port) c.http_port = *http_port;
  if (http_bind) c.http_bind = *http_bind;
  if (broker) c.broker_host = *broker;
  if (port) c.broker_port = *port;
  if (state_dir) c.state_dir = *state_dir;
  if (database) c.database = *database;
  if (web_root) c.web_root = *web_root;
  if (reconnect_max) c.reconnect_max_s = *reconnect_max;
  if (log_level && !edgemon::log::parse_level(*log_level, c.log_level)) {
    std::fprintf(stderr, "edgemon-gateway: --log-level: must be debug, info, warn or error\n");
    return 2;
  }
  if (check_only) {
    std::printf("edgemon-gateway: configuration ok\n");
    return 0;
  }
  edgemon::log::set_level(c.log_level);
  std::signal(SIGPIPE, SIG_IGN);

  edgemon::gateway::Gateway gateway(c, edgemon::SystemClock::instance());
  if (auto s = gateway.start(); !s) {
    edgemon::log::error("gateway", "cannot start", {{"error", s.error().message}});
    return 1;
  }
  return gateway.run();
}
