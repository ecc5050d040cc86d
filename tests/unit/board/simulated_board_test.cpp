// The scenario-driven simulated board: reproducible, and it does what the script says when.
#include <vector>

#include <gtest/gtest.h>

#include "board/board_test_support.h"
#include "edgemon/board/sim/simulated_board.h"

namespace edgemon::board::sim {
namespace {

using namespace std::chrono_literals;

constexpr const char* kScenario = R"(
seed = 7
[cpu]
baseline = 30.0
noise = 5.0
spikes = [ { at_s = 20, duration_s = 10, value = 97.5 } ]
stuck = [ { at_s = 40, duration_s = 15 } ]
[memory]
baseline = 55.0
noise = 1.0
[latency_ms]
baseline = 80.0
noise = 20.0
min = 5.0
max = 2000.0
[error_rate]
baseline = 0.5
noise = 0.5
[heartbeat]
losses = [ { at_s = 60, duration_s = 30 } ]
)";

using Trace = std::vector<std::vector<std::optional<double>>>;

Trace run(const Scenario& sc, int steps) {
  ManualClock clock;
  SimulatedBoard board(sc, clock);
  Trace out;
  for (int i = 0; i < steps; ++i) {
    EXPECT_TRUE(board.fetch().ok());
    std::vector<std::optional<double>> row;
    for (const SensorValue& v : board.values()) row.push_back(v.value);
    out.push_back(row);
    clock.advance(5s);
  }
  return out;
}

TEST(SimulatedBoard, SameSeedGivesIdenticalOutput) {
  auto sc = parse_scenario(kScenario, "test.toml");
  ASSERT_TRUE(sc.ok()) << sc.error().message;
  const Trace a = run(*sc, 40);
  const Trace b = run(*sc, 40);
  EXPECT_EQ(a, b);  // bit-identical, not just close
  Scenario other = *sc;
  other.seed = 8;
  EXPECT_NE(run(other, 40), a);
}

TEST(SimulatedBoard, FollowsTheScript) {
  auto sc = parse_scenario(kScenario, "test.toml");
  ASSERT_TRUE(sc.ok());
  const Trace t = run(*sc, 40);  // t = 0, 5, ..., 195 s
  // Noise around the baseline within Irwin-Hall's ±6 sd, clamped to [0, 100].
  for (std::size_t i : {0u, 1u, 2u, 3u}) {
    ASSERT_TRUE(t[i][0]);
    EXPECT_NEAR(*t[i][0], 30.0, 30.0);
  }
  EXPECT_NE(t[0][0], t[1][0]);
  // Spike 20 <= t < 30: exact value.
  EXPECT_EQ(t[4][0], 97.5);
  EXPECT_EQ(t[5][0], 97.5);
  EXPECT_NE(t[6][0], 97.5);
  // Stuck 40 <= t < 55: repeats the value at t = 40.
  EXPECT_EQ(t[9][0], t[8][0]);
  EXPECT_EQ(t[10][0], t[8][0]);
  EXPECT_NE(t[11][0], t[8][0]);
  // Heartbeat lost 60 <= t < 90, back afterwards.
  EXPECT_EQ(t[11][4], 1.0);
  EXPECT_FALSE(t[12][4]);
  EXPECT_FALSE(t[17][4]);
  EXPECT_EQ(t[18][4], 1.0);
  // Latency clamp.
  for (const auto& row : t) EXPECT_GE(*row[2], 5.0);
}

TEST(SimulatedBoard, HeartbeatAliveFlag) {
  auto sc = parse_scenario("[heartbeat]\nlosses = [ { at_s = 10, duration_s = 5 } ]\n", "hb.toml");
  ASSERT_TRUE(sc.ok());
  ManualClock clock;
  SimulatedBoard board(*sc, clock);
  ASSERT_TRUE(board.fetch().ok());
  EXPECT_TRUE(board.heartbeat_alive());
  clock.advance(12s);
  ASSERT_TRUE(board.fetch().ok());
  EXPECT_FALSE(board.heartbeat_alive());
  clock.advance(3s);
  ASSERT_TRUE(board.fetch().ok());
  EXPECT_TRUE(board.heartbeat_alive());
}

TEST(Scenario, ErrorsNameFileLineAndKey) {
  struct Case {
    const char* label;
    const char* text;
    const char* expect;
  };
  const Case cases[] = {
      {"syntax", "seed = = 1\n", "bad.toml:1:"},
      {"unknown signal", "[cpuu]\nbaseline = 1\n", "unknown key 'cpuu'"},
      {"unknown field", "[cpu]\nbasline = 1\n", "unknown key 'cpu.basline'"},
      {"wrong type", "[cpu]\nnoise = \"lots\"\n", "'cpu.noise' must be a number"},
      {"negative window", "[cpu]\nspikes = [ { at_s = -1, duration_s = 1, value = 1 } ]\n", "must not be negative"},
      {"spike without value", "[cpu]\nspikes = [ { at_s = 1, duration_s = 1 } ]\n", "needs at_s, duration_s, value"},
      {"min above max", "[cpu]\nmin = 50\nmax = 10\n", "min > max"},
      {"negative seed", "seed = -3\n", "'seed' must be a non-negative integer"},
  };
  for (const Case& c : cases) {
    auto r = parse_scenario(c.text, "bad.toml");
    ASSERT_FALSE(r.ok()) << c.label;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument) << c.label;
    EXPECT_NE(r.error().message.find(c.expect), std::string::npos) << c.label << ": " << r.error().message;
  }
}

TEST(Scenario, ShippedDemoScenarioLoads) {
  auto sc = load_scenario(std::string(EDGEMON_TEST_DATA_DIR) + "/scenarios/demo.toml");
  ASSERT_TRUE(sc.ok()) << sc.error().message;
  EXPECT_EQ(sc->seed, 42u);
  EXPECT_EQ(sc->heartbeat_losses.size(), 1u);
  EXPECT_EQ(load_scenario("/nonexistent.toml").error().code, ErrorCode::kNotFound);
}

}  // namespace
}  // namespace edgemon::board::sim
