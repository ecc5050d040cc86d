// Missing, empty, truncated and binary-garbage sources: the affected sensor reports one clear
// log line; every other sensor keeps working.
#include <map>
#include <vector>

#include <gtest/gtest.h>

#include "board/board_test_support.h"
#include "edgemon/board/board_config.h"
#include "edgemon/board/sampler.h"
#include "edgemon/board/system_sensors.h"
#include "edgemon/common/log.h"

namespace edgemon::board {
namespace {

std::vector<std::string>& captured() {
  static std::vector<std::string> lines;
  return lines;
}

class LogCapture {
 public:
  LogCapture() {
    captured().clear();
    log::set_sink([](log::Level, const std::string& line) { captured().push_back(line); });
  }
  ~LogCapture() { log::set_sink(nullptr); }
};

TEST(BrokenSources, EachFailingSensorLogsOnceAndTheRestKeepWorking) {
  LogCapture capture;
  BoardConfig config;
  config.root = testing::board_tree("broken");
  auto sensors = make_sensors(config);
  ASSERT_TRUE(sensors.ok());
  Sampler sampler(std::move(*sensors), config);
  MonoTime now{};
  for (int i = 0; i < 5; ++i) {
    sampler.sample(now);
    now += std::chrono::seconds(5);
  }
  // One line per sensor id, except the one healthy source (uptime).
  std::map<std::string, int> lines_per_sensor;
  for (std::size_t i = 0; i < sampler.size(); ++i) lines_per_sensor[std::string(sampler.sensor(i).id())] = 0;
  for (const std::string& line : captured()) {
    const auto at = line.find("sensor=");
    ASSERT_NE(at, std::string::npos) << line;
    const std::string id = line.substr(at + 7, line.find(' ', at) - at - 7);
    ++lines_per_sensor[id];
  }
  for (const auto& [id, n] : lines_per_sensor) {
    EXPECT_EQ(n, id == "uptime" ? 0 : 1) << id;
  }
  std::vector<std::string> published;
  sampler.for_each_value([&](const SensorValue& v) {
    published.push_back(v.name);
    EXPECT_EQ(*v.value, 1234.5);
  });
  EXPECT_EQ(published, std::vector<std::string>{"uptime"});
}

TEST(BrokenSources, ErrorCodesAreDocumentedOnes) {
  const std::string tree = testing::board_tree("broken");
  MemorySensor truncated(tree);
  const Status t = truncated.fetch();
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(t.error().message.find("proc/meminfo"), std::string::npos) << t.error().message;

  LoadAverageSensor garbage(tree);
  EXPECT_EQ(garbage.fetch().error().code, ErrorCode::kInvalidArgument);

  CpuCountSensor missing(tree);
  EXPECT_EQ(missing.fetch().error().code, ErrorCode::kUnsupported);
}

// A sensor that fails for a while, then works again, to check the Sampler's once-only logging.
class FlakySensor final : public Sensor {
 public:
  std::string_view id() const override { return "flaky"; }
  Status fetch() override {
    ++fetches;
    if (fail) return make_error(ErrorCode::kIo, "read failed");
    value_[0].value = 1.0;
    return Status::Ok();
  }
  std::span<const SensorValue> values() const override { return value_; }
  bool fail = true;
  int fetches = 0;

 private:
  std::vector<SensorValue> value_{{"flaky", "", {}}};
};

TEST(Sampler, LogsFailureOnceAndRecoveryOnceAndHonoursIntervals) {
  LogCapture capture;
  BoardConfig config;
  config.interval_s["flaky"] = 10;
  std::vector<std::unique_ptr<Sensor>> sensors;
  sensors.push_back(std::make_unique<FlakySensor>());
  auto* flaky = static_cast<FlakySensor*>(sensors.back().get());
  Sampler sampler(std::move(sensors), config);
  MonoTime now{};
  for (int i = 0; i < 6; ++i, now += std::chrono::seconds(5)) sampler.sample(now);  // t = 0..25
  EXPECT_EQ(flaky->fetches, 3);  // t = 0, 10, 20
  EXPECT_EQ(captured().size(), 1u);
  EXPECT_EQ(sampler.state(0), Sampler::State::kFailing);
  int published = 0;
  sampler.for_each_value([&](const SensorValue&) { ++published; });
  EXPECT_EQ(published, 0);
  flaky->fail = false;
  for (int i = 0; i < 4; ++i, now += std::chrono::seconds(5)) sampler.sample(now);
  EXPECT_EQ(captured().size(), 2u);
  EXPECT_NE(captured().back().find("recovered"), std::string::npos);
  sampler.for_each_value([&](const SensorValue&) { ++published; });
  EXPECT_EQ(published, 1);
}

}  // namespace
}  // namespace edgemon::board
