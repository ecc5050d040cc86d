// Steady-state sampling must not touch the heap: a global operator new counter around a full
// sampling cycle on a recorded board tree.
#include <array>
#include <atomic>
#include <cstdlib>
#include <new>

#include <gtest/gtest.h>

#include "board/board_test_support.h"
#include "edgemon/board/board_config.h"
#include "edgemon/board/sampler.h"

namespace {
std::atomic<std::size_t> g_allocations{0};
}  // namespace

// Counting replacements for the global allocation functions (this test binary only).
void* operator new(std::size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return operator new(n); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

namespace edgemon::board {
namespace {

void expect_no_allocation_after_warm_up(const std::string& tree) {
  BoardConfig config;
  config.root = tree;
  ManualClock clock;
  auto sensors = make_sensors(config, clock);
  ASSERT_TRUE(sensors.ok());
  Sampler sampler(std::move(*sensors), config);
  double sum = 0;
  const auto cycle = [&] {
    clock.advance(std::chrono::seconds(5));
    sampler.sample(clock.mono());
    sampler.for_each_value([&](const SensorValue& v) { sum += v.value.value_or(0); });
  };
  for (int i = 0; i < 3; ++i) cycle();  // warm-up: discovery, value slots, log lines
  const std::size_t before = g_allocations.load();
  for (int i = 0; i < 20; ++i) cycle();
  EXPECT_EQ(g_allocations.load() - before, 0u) << tree;
  if (g_allocations.load() != before) {
    std::array<std::size_t, 32> per_sensor{};
    for (std::size_t i = 0; i < sampler.size() && i < per_sensor.size(); ++i) {
      auto& s = const_cast<Sensor&>(sampler.sensor(i));  // diagnosis only
      const std::size_t b = g_allocations.load();
      (void)s.fetch();
      per_sensor[i] = g_allocations.load() - b;
    }
    for (std::size_t i = 0; i < sampler.size() && i < per_sensor.size(); ++i) {
      if (per_sensor[i] != 0) ADD_FAILURE() << sampler.sensor(i).id() << " allocates " << per_sensor[i];
    }
  }
  EXPECT_GT(sum, 0);
}

TEST(Allocation, NoneAfterWarmUpOnPi4Tree) { expect_no_allocation_after_warm_up(testing::board_tree("pi4-rpios64")); }
TEST(Allocation, NoneAfterWarmUpOnX86Tree) { expect_no_allocation_after_warm_up(testing::board_tree("x86-server")); }

}  // namespace
}  // namespace edgemon::board
