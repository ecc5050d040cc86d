// DS18B20 w1_slave parsing and the throttle flags' sources.
#include <gtest/gtest.h>

#include "board/board_test_support.h"
#include "edgemon/board/pi_sensors.h"
#include "edgemon/board/w1_sensors.h"
#include "temp_dir.h"

namespace edgemon::board {
namespace {

struct W1Case {
  const char* label;
  const char* text;
  bool ok;
  double celsius;
};

TEST(W1Slave, Table) {
  const W1Case cases[] = {
      {"good 23.125", "72 01 4b 46 7f ff 0c 10 c6 : crc=c6 YES\n72 01 4b 46 7f ff 0c 10 c6 t=23125\n", true, 23.125},
      {"driver says NO", "72 01 4b 46 7f ff 0c 10 c6 : crc=c6 NO\n72 01 4b 46 7f ff 0c 10 c6 t=23125\n", false, 0},
      {"YES but CRC wrong", "72 01 4b 46 7f ff 0c 10 c7 : crc=c7 YES\n72 01 4b 46 7f ff 0c 10 c7 t=23125\n", false, 0},
      {"t= disagrees", "72 01 4b 46 7f ff 0c 10 c6 : crc=c6 YES\n72 01 4b 46 7f ff 0c 10 c6 t=99999\n", false, 0},
      {"truncated", "72 01 4b 46 7f ff 0c 10 c6 : crc=c6 YES\n72 01 4b", false, 0},
      {"empty", "", false, 0},
      {"all zero bus glitch", "00 00 00 00 00 00 00 00 00 : crc=00 YES\n00 00 00 00 00 00 00 00 00 t=0\n", false, 0},
      {"binary", "\xff\xfe\x01\n\x02", false, 0},
  };
  for (const W1Case& c : cases) {
    const auto r = parse_w1_slave(c.text);
    EXPECT_EQ(r.ok(), c.ok) << c.label;
    if (r.ok() && c.ok) {
      EXPECT_EQ(*r, c.celsius) << c.label;
    }
  }
}

TEST(W1Slave, PowerOnResetValueIsRejected) {
  // 0x0550 = 85 °C, what the chip reports when a conversion never ran.
  std::array<std::uint8_t, 8> pad = {0x50, 0x05, 0x4b, 0x46, 0x7f, 0xff, 0x0c, 0x10};
  char text[128];
  const unsigned crc = dallas_crc8(pad);
  std::snprintf(text, sizeof text, "50 05 4b 46 7f ff 0c 10 %02x : crc=%02x YES\n50 05 4b 46 7f ff 0c 10 %02x t=85000\n",
                crc, crc, crc);
  EXPECT_FALSE(parse_w1_slave(text).ok());
}

TEST(Throttle, ParsesEveryForm) {
  std::uint32_t bits = 0;
  ASSERT_TRUE(parse_throttled("50005\n", bits));
  EXPECT_EQ(bits, 0x50005u);
  ASSERT_TRUE(parse_throttled("throttled=0x80008\n", bits));
  EXPECT_EQ(bits, 0x80008u);
  EXPECT_FALSE(parse_throttled("throttled=\n", bits));
  EXPECT_FALSE(parse_throttled("0xZZ", bits));
}

class FakeRunner final : public CommandRunner {
 public:
  explicit FakeRunner(std::string out) : out_(std::move(out)) {}
  Result<std::string_view> run(const std::vector<std::string>& argv, std::span<char> out) override {
    ++runs;
    last_argv = argv;
    std::copy(out_.begin(), out_.end(), out.begin());
    return std::string_view(out.data(), out_.size());
  }
  int runs = 0;
  std::vector<std::string> last_argv;

 private:
  std::string out_;
};

TEST(Throttle, FallsBackToVcgencmdWhenSysfsNodeIsMissing) {
  edgemon::testing_support::TempDir empty_root;
  auto runner = std::make_unique<FakeRunner>("throttled=0x20002\n");
  FakeRunner* fake = runner.get();
  ThrottleSensor sensor(empty_root.path(), "/usr/bin/vcgencmd", std::move(runner));
  ASSERT_TRUE(sensor.fetch().ok());
  EXPECT_EQ(fake->last_argv, (std::vector<std::string>{"/usr/bin/vcgencmd", "get_throttled"}));
  EXPECT_EQ(testing::value_of(sensor, "throttle/freq_capped"), 1.0);
  EXPECT_EQ(testing::value_of(sensor, "throttle/freq_capped_occurred"), 1.0);
  EXPECT_EQ(testing::value_of(sensor, "throttle/under_voltage"), 0.0);
}

TEST(Throttle, PrefersSysfsAndNeverSpawnsWhenItExists) {
  auto runner = std::make_unique<FakeRunner>("throttled=0x0\n");
  FakeRunner* fake = runner.get();
  ThrottleSensor sensor(testing::board_tree("pi4-rpios64"), "/usr/bin/vcgencmd", std::move(runner));
  ASSERT_TRUE(sensor.fetch().ok());
  EXPECT_EQ(fake->runs, 0);
}

TEST(Throttle, PosixRunnerReportsMissingProgramAsUnsupported) {
  PosixCommandRunner runner;
  std::array<char, 64> buf{};
  auto r = runner.run({"/nonexistent/vcgencmd", "get_throttled"}, buf);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kUnsupported);
}

}  // namespace
}  // namespace edgemon::board
