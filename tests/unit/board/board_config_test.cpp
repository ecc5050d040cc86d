// The [sensors] config section.
#include <gtest/gtest.h>

#include "board/board_test_support.h"
#include "edgemon/board/board_config.h"
#include "edgemon/board/sampler.h"

namespace edgemon::board {
namespace {

TEST(BoardConfig, ReadsEveryKey) {
  auto reader = ConfigReader::parse(R"(
[sensors]
interval_s = 5
disabled = ["wifi", "w1"]
vcgencmd = "/opt/vc/bin/vcgencmd"
[sensors.intervals]
disk = 60
thermal = 2.5
[sensors.bme280]
bus = "/dev/i2c-1"
address = 0x77
[sensors.sim]
scenario = "demo.toml"
)",
                                    "agent.toml");
  ASSERT_TRUE(reader.ok());
  const BoardConfig c = read_board_config(*reader);
  EXPECT_TRUE(reader->finish().ok()) << reader->finish().error().message;
  EXPECT_EQ(c.interval_for("cpu"), 5.0);
  EXPECT_EQ(c.interval_for("disk"), 60.0);
  EXPECT_EQ(c.interval_for("thermal"), 2.5);
  EXPECT_TRUE(c.is_disabled("wifi"));
  EXPECT_FALSE(c.is_disabled("cpu"));
  EXPECT_EQ(c.vcgencmd, "/opt/vc/bin/vcgencmd");
  EXPECT_EQ(c.bme280_bus, "/dev/i2c-1");
  EXPECT_EQ(c.bme280_address, 0x77);
  EXPECT_EQ(c.sim_scenario, "demo.toml");
}

TEST(BoardConfig, RejectsTyposAndBadValues) {
  auto reader = ConfigReader::parse(R"(
[sensors]
disabled = ["wfii"]
[sensors.intervals]
dsk = 60
cpu = -1
[sensors.bme280]
address = 0x40
)",
                                    "agent.toml");
  ASSERT_TRUE(reader.ok());
  (void)read_board_config(*reader);
  const Status s = reader->finish();
  ASSERT_FALSE(s.ok());
  const std::string& m = s.error().message;
  EXPECT_NE(m.find("wfii"), std::string::npos) << m;
  EXPECT_NE(m.find("dsk"), std::string::npos) << m;
  EXPECT_NE(m.find("sensors.intervals.cpu"), std::string::npos) << m;
  EXPECT_NE(m.find("sensors.bme280.address"), std::string::npos) << m;
}

TEST(BoardConfig, DisabledSensorsAreNotCreatedAndSimReplacesTheBoard) {
  BoardConfig c;
  c.root = testing::board_tree("pi4-rpios64");
  c.disabled = {"wifi", "w1", "throttle"};
  auto sensors = make_sensors(c);
  ASSERT_TRUE(sensors.ok());
  for (const auto& s : *sensors) {
    EXPECT_NE(s->id(), "wifi");
    EXPECT_NE(s->id(), "w1");
    EXPECT_NE(s->id(), "throttle");
  }
  c.sim_scenario = std::string(EDGEMON_TEST_DATA_DIR) + "/scenarios/demo.toml";
  auto sim = make_sensors(c);
  ASSERT_TRUE(sim.ok());
  ASSERT_EQ(sim->size(), 1u);
  EXPECT_EQ(sim->front()->id(), "sim");
  c.sim_scenario = "/nonexistent.toml";
  EXPECT_FALSE(make_sensors(c).ok());
}

TEST(BoardConfig, Bme280BusThatCannotOpenIsReportedThroughTheSensor) {
  BoardConfig c;
  c.root = testing::board_tree("pi-zero2");
  c.bme280_bus = "/nonexistent/i2c-9";
  auto sensors = make_sensors(c);
  ASSERT_TRUE(sensors.ok());
  ASSERT_EQ(sensors->back()->id(), "bme280");
  EXPECT_EQ(sensors->back()->fetch().error().code, ErrorCode::kUnsupported);
}

}  // namespace
}  // namespace edgemon::board
