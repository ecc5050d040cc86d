// edgemon-sim: a fleet of virtual Sparkplug edge nodes on the simulated board (docs/simulator.md).
#include <pthread.h>
#include <sys/resource.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <thread>

#include <CLI/CLI.hpp>

#include "edgemon/common/config_reader.h"
#include "edgemon/common/log.h"
#include "edgemon/common/version.h"
#include "edgemon/sim/fleet_sim.h"

namespace {

// One connection per node: allow as many descriptors as the hard limit permits.
void raise_fd_limit() {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    (void)::setrlimit(RLIMIT_NOFILE, &lim);
  }
}

}  // namespace

int main(int argc, char** argv) {
  using edgemon::sim::SimOptions;
  CLI::App app{"edgemon-sim: N virtual edge nodes on the simulated board, each with its own MQTT session, "
               "publishing Sparkplug B NBIRTH/NDATA/NDEATH like edgemon-agent (docs/simulator.md)."};
  app.set_version_flag("--version", std::string("edgemon-sim ") + edgemon::kVersion);
  SimOptions o;
  std::string scenario_path;
  std::vector<std::string> node_scenarios;
  std::uint64_t seed = 0;
  std::string credentials;
  std::string encoding = "sparkplug";
  std::string log_level = "warn";
  app.add_option("--broker", o.host, "MQTT broker host")->capture_default_str();
  app.add_option("--port", o.port, "MQTT broker port")->check(CLI::Range(1, 65535))->capture_default_str();
  app.add_option("--nodes", o.nodes, "Number of virtual nodes")->check(CLI::Range(1, 100000))->capture_default_str();
  app.add_option("--group", o.group, "Sparkplug group id")->capture_default_str();
  app.add_option("--prefix", o.prefix, "Node id prefix; ids are <prefix><index>, e.g. sim-007")->capture_default_str();
  app.add_option("--interval", o.interval_s, "Sampling period of every node, seconds")
      ->check(CLI::Range(0.01, 3600.0))->capture_default_str();
  app.add_option("--scenario", scenario_path, "Scenario TOML for every node (board/include/edgemon/board/sim/"
                                              "simulated_board.h; default: a quiet built-in board)")
      ->check(CLI::ExistingFile);
  app.add_option("--node-scenario", node_scenarios, "INDEX:FILE, a scenario for one node (repeatable)");
  auto* seed_opt = app.add_option("--seed", seed, "Base seed (default: the scenario's); node i uses seed + i");
  app.add_option("--duration", o.duration_s, "Stop after this many seconds (0: until SIGINT/SIGTERM)")
      ->check(CLI::Range(0.0, 1e7))->capture_default_str();
  app.add_option("--username", o.username, "MQTT user name (all nodes)");
  app.add_option("--password", o.password, "MQTT password (prefer --credentials: argv is visible to others)");
  app.add_option("--credentials", credentials, "TOML file with mqtt.username and mqtt.password")
      ->check(CLI::ExistingFile);
  app.add_option("--primary-host", o.primary_host,
                 "Wait for this primary host's STATE before NBIRTH (edgemon-gateway's host_id; \"\": don't wait)");
  app.add_option("--encoding", encoding, "sparkplug or json")->capture_default_str();
  app.add_option("--keepalive", o.keepalive_s, "MQTT keepalive, seconds")->check(CLI::Range(2, 3600))->capture_default_str();
  app.add_option("--deadband", o.deadband, "Report-by-exception deadband for every metric (absolute)")
      ->check(CLI::Range(0.0, 1e9))->capture_default_str();
  app.add_option("--keyframe", o.keyframe_s, "Full NDATA every this many seconds")->check(CLI::Range(0.01, 86400.0))
      ->capture_default_str();
  app.add_option("--connect-rate", o.connects_per_tick, "Connect attempts started per 5-20 ms turn")
      ->check(CLI::Range(1, 100000))->capture_default_str();
  app.add_option("--reconnect-max", o.reconnect_max_s, "Cap of the reconnect backoff, seconds")
      ->check(CLI::Range(0.5, 3600.0))->capture_default_str();
  app.add_option("--log-level", log_level, "debug, info, warn or error")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  edgemon::log::Level level{};
  if (!edgemon::log::parse_level(log_level, level)) {
    std::fprintf(stderr, "edgemon-sim: unknown --log-level '%s'\n", log_level.c_str());
    return 2;
  }
  edgemon::log::set_level(level);
  if (!edgemon::parse_encoding(encoding, o.encoding)) {
    std::fprintf(stderr, "edgemon-sim: --encoding must be sparkplug or json\n");
    return 2;
  }
  if (*seed_opt) o.seed = seed;
  if (!scenario_path.empty()) {
    auto sc = edgemon::board::sim::load_scenario(scenario_path);
    if (!sc) {
      std::fprintf(stderr, "edgemon-sim: %s\n", sc.error().message.c_str());
      return 2;
    }
    o.scenario = *sc;
  }
  for (const std::string& item : node_scenarios) {
    const std::size_t colon = item.find(':');
    int index = -1;
    try {
      index = colon == std::string::npos ? -1 : std::stoi(item.substr(0, colon));
    } catch (const std::exception&) {
      index = -1;
    }
    if (index < 0 || index >= o.nodes) {
      std::fprintf(stderr, "edgemon-sim: --node-scenario '%s': expected INDEX:FILE with 0 <= INDEX < --nodes\n",
                   item.c_str());
      return 2;
    }
    auto sc = edgemon::board::sim::load_scenario(item.substr(colon + 1));
    if (!sc) {
      std::fprintf(stderr, "edgemon-sim: %s\n", sc.error().message.c_str());
      return 2;
    }
    o.node_scenarios[index] = *sc;
  }
  if (!credentials.empty()) {
    auto reader = edgemon::ConfigReader::load_file(credentials);
    if (!reader) {
      std::fprintf(stderr, "edgemon-sim: %s\n", reader.error().message.c_str());
      return 2;
    }
    o.username = reader->get_string("mqtt.username", o.username);
    o.password = reader->get_string("mqtt.password", o.password);
    if (auto s = reader->finish(); !s) {
      std::fprintf(stderr, "edgemon-sim: %s\n", s.error().message.c_str());
      return 2;
    }
  }
  raise_fd_limit();

  // Signals go to one thread (blocked everywhere else, including Paho's threads started later).
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::atomic<bool> stop{false};
  std::thread waiter([&] {
    int sig = 0;
    sigwait(&signals, &sig);
    stop.store(true);
  });
  waiter.detach();  // blocked in sigwait until a signal; the process exits without joining it

  edgemon::sim::FleetSimulator sim(o);
  auto stats = sim.run(stop);
  if (!stats) {
    std::fprintf(stderr, "edgemon-sim: %s\n", stats.error().message.c_str());
    return 2;
  }
  std::printf("%s\n", edgemon::sim::summary_line(o, *stats).c_str());
  std::fflush(stdout);
  return 0;
}
