// One CPU sampling step on this machine's live /proc/stat.
#include <benchmark/benchmark.h>

#include "edgemon/board/cpu_usage_sensor.h"

namespace {

void BM_CpuUsageFetch(benchmark::State& state) {
  edgemon::board::CpuUsageSensor sensor("/");
  (void)sensor.fetch();
  for (auto _ : state) {
    auto s = sensor.fetch();
    benchmark::DoNotOptimize(s);
  }
}
BENCHMARK(BM_CpuUsageFetch);

}  // namespace
