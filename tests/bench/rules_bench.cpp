// Rule evaluation cost per sample: a fleet's worth of series through a typical rule set.
// Figures: build/release/tests/bench/rules_bench --benchmark_min_time=1
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "edgemon/rules/evaluator.h"
#include "edgemon/rules/rules_config.h"

namespace {

using namespace edgemon::rules;

constexpr const char* kRules = R"(
[alerting]
uplink_target = "192.168.1.1"
[[rules]]
name = "high_cpu"
metric = "cpu/total"
threshold = 85
recovery = 75
samples = 3
[[rules]]
name = "slow"
metric = "ping/*/rtt"
threshold = 200
type = "DEGRADED"
[[rules]]
name = "lossy"
metric = "ping/*/loss"
threshold = 20
type = "DEGRADED"
[[rules]]
name = "down"
kind = "failure"
metric = "ping/*/up"
failure_threshold = 3
[[rules]]
name = "silent"
kind = "absence"
for = "2m"
[[rules]]
name = "ndeath"
kind = "node_down"
)";

// state.range(0) nodes, each with cpu/total and 4 targets x (rtt, loss, up): 13 series.
void BM_ObservePerSample(benchmark::State& state) {
  auto rules = parse_rules(kRules, "bench.toml");
  if (!rules) {
    state.SkipWithError(rules.error().message.c_str());
    return;
  }
  Evaluator ev(std::move(rules).value());
  std::vector<std::string> nodes;
  for (int i = 0; i < state.range(0); ++i) nodes.push_back("pi-" + std::to_string(i));
  std::vector<std::string> metrics{"cpu/total"};
  for (const char* t : {"192.168.1.1", "8.8.8.8", "1.1.1.1", "10.0.0.5"}) {
    for (const char* m : {"rtt", "loss", "up"}) metrics.push_back(std::string("ping/") + t + "/" + m);
  }
  auto t = edgemon::WallTime(std::chrono::seconds(1'700'000'000));
  std::size_t i = 0;
  for (auto _ : state) {
    const std::string& node = nodes[(i / metrics.size()) % nodes.size()];
    const std::string& metric = metrics[i % metrics.size()];
    // Mostly healthy values with an occasional excursion, so transitions happen too.
    const double v = metric.ends_with("/up") ? (i % 97 == 0 ? 0.0 : 1.0) : static_cast<double>(i % 100);
    ev.observe(node, metric, v, t);
    if (++i % (metrics.size() * nodes.size()) == 0) {
      t += std::chrono::seconds(5);
      ev.tick(t);
      benchmark::DoNotOptimize(ev.take_events());
      benchmark::DoNotOptimize(ev.take_notifications());
      benchmark::DoNotOptimize(ev.take_incident_updates());
    }
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ObservePerSample)->Arg(10)->Arg(1000);

}  // namespace
