// edgemon-agent: samples this board and pings targets, publishing telemetry over MQTT.
#include <sys/signalfd.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <iostream>

#include <CLI/CLI.hpp>

#include "edgemon/common/version.h"
#include "edgemon/firmware/agent.h"
#include "edgemon/probe/probe_command.h"

namespace {

std::vector<std::string> split_hosts(const std::vector<std::string>& items) {
  std::vector<std::string> out;
  for (const std::string& item : items) {
    std::size_t start = 0;
    while (start <= item.size()) {
      const std::size_t comma = item.find(',', start);
      std::string h = item.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      if (!h.empty()) out.push_back(h);
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  using edgemon::firmware::AgentConfig;
  // `edgemon-agent probe [--count N] HOST...`: fping-style statistics for humans at install time.
  if (argc >= 2 && std::string_view(argv[1]) == "probe") return edgemon::probe::run_probe_command(argc - 1, argv + 1);
  CLI::App app{"edgemon-agent: pings targets and reads this board's sensors, publishing telemetry "
               "to an MQTT broker for edgemon-gateway.\nFlags override the config file.\n"
               "Also: edgemon-agent probe [--count N] HOST...   (fping-style check; see probe --help)"};
  app.set_version_flag("--version", std::string("edgemon-agent ") + edgemon::kVersion);
  std::string config_path;
  std::vector<std::string> hosts;
  std::optional<double> interval;
  std::optional<std::string> broker;
  std::optional<int> port;
  std::optional<std::string> node_id;
  std::optional<std::string> group;
  std::optional<std::string> board_root;
  std::optional<std::string> state_dir;
  std::optional<double> reconnect_max;
  std::optional<std::string> log_level;
  bool check_only = false;
  app.add_option("-c,--config", config_path, "TOML config file (see docs/config.md)")->check(CLI::ExistingFile);
  app.add_option("--hosts", hosts, "Ping targets, comma-separated or repeated (replaces ping.hosts)");
  app.add_option("--interval", interval, "Sampling and ping period in seconds (agent.interval)")
      ->check(CLI::Range(0.02, 3600.0));
  app.add_option("--broker", broker, "MQTT broker host (mqtt.host)");
  app.add_option("--port", port, "MQTT broker port (mqtt.port)")->check(CLI::Range(1, 65535));
  app.add_option("--node-id", node_id, "This node's id (agent.node_id; default: host name)");
  app.add_option("--group", group, "Sparkplug group id (agent.group)");
  app.add_option("--board-root", board_root, "Root of procfs/sysfs to read (agent.board_root)");
  app.add_option("--state-dir", state_dir, "Directory for the store-and-forward buffer (agent.state_dir)");
  app.add_option("--reconnect-max", reconnect_max, "Cap of the MQTT reconnect backoff in seconds (mqtt.reconnect_max)")
      ->check(CLI::Range(0.5, 3600.0));
  app.add_option("--log-level", log_level, "debug, info, warn or error (log.level)");
  app.add_flag("--check-config", check_only, "Validate the configuration and exit");
  CLI11_PARSE(app, argc, argv);

  auto reader = config_path.empty() ? edgemon::Result<edgemon::ConfigReader>(edgemon::ConfigReader())
                                    : edgemon::ConfigReader::load_file(config_path);
  if (!reader) {
    std::fprintf(stderr, "edgemon-agent: %s\n", reader.error().message.c_str());
    return 2;
  }
  auto config = edgemon::firmware::read_agent_config(*reader);
  if (!config) {
    std::fprintf(stderr, "edgemon-agent: invalid configuration:\n%s\n", config.error().message.c_str());
    return 2;
  }
  AgentConfig& c = *config;
  if (!hosts.empty()) c.ping_hosts = split_hosts(hosts);
  if (interval) c.interval_s = *interval;
  if (broker) c.broker_host = *broker;
  if (port) c.broker_port = *port;
  if (node_id) c.node_id = *node_id;
  if (group) c.group = *group;
  if (board_root) c.board_root = *board_root;
  if (state_dir) c.state_dir = *state_dir;
  if (reconnect_max) c.reconnect_max_s = *reconnect_max;
  if (log_level && !edgemon::log::parse_level(*log_level, c.log_level)) {
    std::fprintf(stderr, "edgemon-agent: --log-level: must be debug, info, warn or error\n");
    return 2;
  }
  if (auto s = edgemon::firmware::validate(c); !s) {
    std::fprintf(stderr, "edgemon-agent: invalid configuration: %s\n", s.error().message.c_str());
    return 2;
  }
  if (check_only) {
    std::printf("edgemon-agent: configuration ok\n");
    return 0;
  }
  edgemon::log::set_level(c.log_level);

  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);  // before any thread starts: all inherit it
  std::signal(SIGPIPE, SIG_IGN);
  const int stop_fd = ::signalfd(-1, &stop_signals, SFD_CLOEXEC | SFD_NONBLOCK);
  if (stop_fd < 0) {
    std::perror("edgemon-agent: signalfd");
    return 1;
  }

  edgemon::firmware::Agent agent(c, edgemon::SystemClock::instance());
  if (auto s = agent.start(); !s) {
    edgemon::log::error("agent", "cannot start", {{"error", s.error().message}});
    return 1;
  }
  const int rc = agent.run(stop_fd);
  ::close(stop_fd);
  return rc;
}
