// Dashboard benchmark (issue #8): drives tests/bench/dashboard_bench.cjs (headless Debian
// Chromium through playwright-core) against real processes on loopback: edgemon-sim ->
// mosquitto -> edgemon-gateway (serving the built dashboard) -> the browser.
//
//   dashboard_bench [--render 100,1000] [--stream 200] [--seconds 20] [--repeat 3]
//                   [--render-interval 5] [--gateway PATH] [--sim PATH] [--web-root DIST]
//
// Steps, in order of node count (the fleet only grows; each step tops it up with one more sim):
//   * the bundle: total gzip -9 size of --web-root's JS + CSS (goal 100 KB);
//   * for each --render count: time to first render of the overview (login -> N cards; logged-in
//     reload -> N cards; goal 500 ms) and the WebSocket snapshot's size;
//   * at --stream nodes: main-thread CPU of the page over --seconds with every node sampling at
//     1 Hz (CDP Performance.getMetrics), overview vs alerts page, and the WebSocket bytes.
// Nodes up to --stream sample every second; nodes added beyond it (for the larger render counts)
// every --render-interval seconds. Everything is bounded (counts, times) and every process is
// stopped at the end (SIGINT/SIGTERM too). Timing never fails: exit 1 only when a step could not
// be measured.
#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/mosquitto_broker.h"
#include "support/net.h"
#include "support/process.h"
#include "support/test_fleet.h"
#include "support/ws_client.h"

namespace {

using namespace std::chrono_literals;
using edgemon::test::ChildProcess;

struct Args {
  std::vector<int> render = {100, 1000};
  int stream = 200;
  double seconds = 20;
  int repeat = 3;
  double render_interval = 5;
  std::string gateway = EDGEMON_GATEWAY_BIN;
  std::string sim = EDGEMON_SIM_BIN;
  std::string web_root = EDGEMON_WEB_DIST;
};

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    const std::string v = argv[i + 1];
    if (k == "--render") {
      a.render.clear();
      std::stringstream s(v);
      for (std::string n; std::getline(s, n, ',');) {
        if (!n.empty()) a.render.push_back(std::clamp(std::stoi(n), 1, 5000));
      }
    } else if (k == "--stream") {
      a.stream = std::clamp(std::stoi(v), 0, 5000);
    } else if (k == "--seconds") {
      a.seconds = std::clamp(std::stod(v), 1.0, 300.0);
    } else if (k == "--repeat") {
      a.repeat = std::clamp(std::stoi(v), 1, 20);
    } else if (k == "--render-interval") {
      a.render_interval = std::clamp(std::stod(v), 1.0, 60.0);
    } else if (k == "--gateway") {
      a.gateway = v;
    } else if (k == "--sim") {
      a.sim = v;
    } else if (k == "--web-root") {
      a.web_root = v;
    } else {
      throw std::runtime_error("unknown option " + k +
                               " (--render N,M --stream N --seconds S --repeat R --render-interval S --gateway PATH"
                               " --sim PATH --web-root DIR)");
    }
  }
  if (argc % 2 == 0) throw std::runtime_error(std::string("option without a value: ") + argv[argc - 1]);
  return a;
}

volatile std::sig_atomic_t g_stop = 0;

// Nodes that are up (status other than DOWN/UNKNOWN), from /api/fleet.
int nodes_up(std::uint16_t port) {
  int status = 0;
  const std::string body = edgemon::test::http_get(port, "/api/fleet", &status);
  if (status != 200) return 0;
  const auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.contains("nodes")) return 0;
  int n = 0;
  for (const auto& node : j["nodes"]) {
    const std::string st = node.value("status", "");
    if (st != "DOWN" && st != "UNKNOWN") ++n;
  }
  return n;
}

std::string fmt(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

int run_js(const std::vector<std::string>& args, std::chrono::seconds timeout) {
  std::vector<std::string> argv{EDGEMON_NODE, std::string(EDGEMON_SOURCE_DIR) + "/tests/bench/dashboard_bench.cjs"};
  argv.insert(argv.end(), args.begin(), args.end());
  const auto r = edgemon::test::run_command(argv, timeout);
  std::printf("%s", r.output.c_str());
  std::fflush(stdout);
  return r.exit_code;
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  try {
    args = parse(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dashboard_bench: %s\n", e.what());
    return 2;
  }
  std::signal(SIGINT, [](int) { g_stop = 1; });
  std::signal(SIGTERM, [](int) { g_stop = 1; });
  std::signal(SIGPIPE, SIG_IGN);

  int failures = 0;
  std::printf("dashboard_bench: edgemon-sim -> mosquitto -> edgemon-gateway -> headless Chromium, all on loopback\n");
  std::fflush(stdout);
  failures += run_js({"--bundle", args.web_root}, 60s) != 0;

  edgemon::test::TempDir dir("edgemon-dashboard-bench");
  edgemon::test::MosquittoBroker broker(dir.path());
  edgemon::test::write_file(dir.file("gateway.toml"), std::string("[auth]\nadmin_user = \"") +
                                                          edgemon::test::TestFleet::kAdminUser + "\"\nadmin_password = \"" +
                                                          edgemon::test::TestFleet::kAdminPassword + "\"\n");
  const std::uint16_t http_port = edgemon::test::free_tcp_port();
  ChildProcess gateway = ChildProcess::start(
      {args.gateway, "--broker", "127.0.0.1", "--port", std::to_string(broker.port()), "--http-port",
       std::to_string(http_port), "--state-dir", dir.file("state"), "--web-root", args.web_root, "--config",
       dir.file("gateway.toml"), "--log-level", "warn"},
      dir.file("gateway.log"));
  if (!edgemon::test::wait_for_tcp(http_port, 10s)) {
    std::fprintf(stderr, "dashboard_bench: gateway did not start:\n%s\n", gateway.log().c_str());
    return 1;
  }
  edgemon::test::set_default_authorization("Bearer " + edgemon::test::create_admin_token(http_port, "dashboard-bench"));
  const std::string url = "http://127.0.0.1:" + std::to_string(http_port) + "/";
  const std::vector<std::string> login{"--url", url, "--user", edgemon::test::TestFleet::kAdminUser, "--password",
                                       edgemon::test::TestFleet::kAdminPassword};

  // Steps by node count; a render and the stream at the same count: render first.
  struct Step {
    int nodes;
    bool stream;
  };
  std::vector<Step> steps;
  for (int n : args.render) steps.push_back({n, false});
  if (args.stream > 0) steps.push_back({args.stream, true});
  std::stable_sort(steps.begin(), steps.end(),
                   [](const Step& a, const Step& b) { return a.nodes < b.nodes || (a.nodes == b.nodes && !a.stream && b.stream); });

  std::vector<ChildProcess> sims;
  int running = 0;
  for (const Step& step : steps) {
    if (g_stop) break;
    // Top up the fleet: up to --stream at 1 Hz, beyond it at --render-interval.
    while (running < step.nodes) {
      const int limit = running < args.stream ? std::min(step.nodes, args.stream) : step.nodes;
      const int add = limit - running;
      const double interval = running < args.stream ? 1.0 : args.render_interval;
      const std::string prefix = "n" + std::to_string(sims.size()) + "-";
      sims.push_back(ChildProcess::start(
          {args.sim, "--broker", "127.0.0.1", "--port", std::to_string(broker.port()), "--nodes", std::to_string(add),
           "--interval", fmt(interval), "--prefix", prefix, "--connect-rate", "200", "--primary-host", "edgemon-gateway",
           "--log-level", "error"},
          dir.file("sim-" + std::to_string(sims.size()) + ".log")));
      std::printf("dashboard_bench: +%d sim nodes (%s*) sampling every %.0f s\n", add, prefix.c_str(), interval);
      std::fflush(stdout);
      running += add;
    }
    const auto until = std::chrono::steady_clock::now() + 120s;
    int up = 0;
    while (!g_stop && (up = nodes_up(http_port)) < step.nodes && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(200ms);
    }
    if (up < step.nodes) {
      std::fprintf(stderr, "dashboard_bench: only %d of %d nodes up\n", up, step.nodes);
      ++failures;
      break;
    }
    std::this_thread::sleep_for(2s);  // births settled
    std::vector<std::string> js = login;
    if (step.stream) {
      js.insert(js.end(), {"--stream", std::to_string(step.nodes), "--seconds", fmt(args.seconds)});
    } else {
      js.insert(js.end(), {"--render", std::to_string(step.nodes), "--repeat", std::to_string(args.repeat)});
    }
    const auto budget = std::chrono::seconds(static_cast<int>(90 + (step.stream ? 2 * args.seconds : 10 * args.repeat)));
    js.insert(js.end(), {"--timeout-ms", std::to_string(budget.count() * 1000 - 10000)});
    failures += run_js(js, budget) != 0;
  }

  for (auto& sim : sims) {
    if (!sim.stop(SIGTERM, 15s)) sim.kill_now();
  }
  gateway.stop(SIGTERM, 10s);
  if (failures) std::fprintf(stderr, "dashboard_bench: %d step(s) failed; gateway log:\n%s\n", failures, gateway.log().c_str());
  return failures ? 1 : 0;
}
