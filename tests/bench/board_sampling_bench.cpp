// One full board sampling cycle on this machine (every sensor make_sensors() offers, through the
// Sampler, values visited as the agent publishes them), with heap allocations per cycle counted
// by replacing the global operator new in this benchmark binary.
#include <atomic>
#include <cstdlib>
#include <new>

#include <benchmark/benchmark.h>

#include "edgemon/board/board_config.h"
#include "edgemon/board/sampler.h"

namespace {
std::atomic<std::size_t> g_board_bench_allocations{0};
}  // namespace

void* operator new(std::size_t n) {
  g_board_bench_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return operator new(n); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

namespace {

void BM_BoardSamplingCycle(benchmark::State& state) {
  edgemon::board::BoardConfig config;  // live root "/", every sensor, no interval skipping
  auto sensors = edgemon::board::make_sensors(config);
  if (!sensors) {
    state.SkipWithError(sensors.error().message.c_str());
    return;
  }
  edgemon::board::Sampler sampler(std::move(*sensors), config);
  std::size_t values = 0;
  const auto cycle = [&] {
    sampler.sample(edgemon::MonoClock::now());
    values = 0;
    sampler.for_each_value([&](const edgemon::board::SensorValue& v) {
      values += v.value ? 1u : 0u;
    });
  };
  for (int i = 0; i < 3; ++i) cycle();  // warm-up: discovery, value slots, "unsupported" log lines
  const std::size_t before = g_board_bench_allocations.load();
  for (auto _ : state) cycle();
  const std::size_t allocs = g_board_bench_allocations.load() - before;
  state.counters["allocs_per_cycle"] =
      benchmark::Counter(static_cast<double>(allocs) / static_cast<double>(state.iterations()));
  state.counters["values"] = static_cast<double>(values);
  state.counters["sensors_ok"] = 0;
  for (std::size_t i = 0; i < sampler.size(); ++i) {
    if (sampler.state(i) == edgemon::board::Sampler::State::kOk) state.counters["sensors_ok"] += 1;
  }
}
BENCHMARK(BM_BoardSamplingCycle)->MeasureProcessCPUTime()->UseRealTime();

}  // namespace
