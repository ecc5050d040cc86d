// Rates from kernel counters: exact values on the recorded trees, 32-bit wrap, reboot, reset.
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "board/board_test_support.h"
#include "edgemon/board/disk_sensors.h"
#include "edgemon/board/network_sensors.h"
#include "edgemon/board/system_sensors.h"
#include "temp_dir.h"

namespace edgemon::board {
namespace {

using namespace std::chrono_literals;
using testing::board_tree;
using testing::find_value;
using testing::value_of;

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  EXPECT_TRUE(in.good() || in.eof()) << path;
  return s.str();
}

void expect_all_empty(const Sensor& s) {
  for (const SensorValue& v : s.values()) EXPECT_FALSE(v.value) << v.name;
}

void expect_none_negative(const Sensor& s) {
  for (const SensorValue& v : s.values()) {
    if (v.value) {
      EXPECT_GE(*v.value, 0.0) << v.name;
    }
  }
}

TEST(CounterDelta, WrapsOnlyWithin32Bits) {
  EXPECT_EQ(counter_delta(10, 25), 15u);
  EXPECT_EQ(counter_delta(4294967000u, 704u), 1000u);
  EXPECT_EQ(counter_delta(4294967295u, 0u), 1u);
  EXPECT_FALSE(counter_delta(5'000'000'000ull, 100u));  // 64-bit counter went down: a reset
}

TEST(DiskIo, RatesOnPi4Tree) {
  const std::string tree = board_tree("pi4-rpios64");
  ManualClock clock;
  DiskIoSensor io(tree, clock, nullptr);
  ASSERT_TRUE(io.fetch().ok());
  // Whole disks only: mmcblk0 and sda (ram*, loop*, partitions skipped). First reading primes.
  ASSERT_EQ(io.values().size(), 10u) << testing::value_names(io);
  expect_all_empty(io);
  clock.advance(10s);
  ASSERT_TRUE(io.ingest(slurp(tree + "/later/proc/diskstats")).ok());
  EXPECT_DOUBLE_EQ(value_of(io, "diskio/mmcblk0/read_bytes_per_s"), 4096.0 * 512 / 10);
  EXPECT_DOUBLE_EQ(value_of(io, "diskio/mmcblk0/write_bytes_per_s"), 16384.0 * 512 / 10);
  EXPECT_DOUBLE_EQ(value_of(io, "diskio/mmcblk0/reads_per_s"), 10.0);
  EXPECT_DOUBLE_EQ(value_of(io, "diskio/mmcblk0/writes_per_s"), 20.0);
  EXPECT_DOUBLE_EQ(value_of(io, "diskio/mmcblk0/busy_percent"), 20.0);
  EXPECT_EQ(value_of(io, "diskio/sda/read_bytes_per_s"), 0.0);
  EXPECT_EQ(find_value(io, "diskio/mmcblk0p2/reads_per_s"), nullptr);
}

TEST(NetIo, RatesOnPi4Tree) {
  const std::string tree = board_tree("pi4-rpios64");
  ManualClock clock;
  NetIoSensor net(tree, clock, nullptr);
  ASSERT_TRUE(net.fetch().ok());
  ASSERT_EQ(net.values().size(), 16u);  // eth0, wlan0; not lo
  clock.advance(10s);
  ASSERT_TRUE(net.ingest(slurp(tree + "/later/proc/net/dev")).ok());
  EXPECT_DOUBLE_EQ(value_of(net, "net/eth0/rx_bytes_per_s"), 1e6);
  EXPECT_DOUBLE_EQ(value_of(net, "net/eth0/tx_bytes_per_s"), 5e4);
  EXPECT_DOUBLE_EQ(value_of(net, "net/eth0/rx_packets_per_s"), 1000.0);
  EXPECT_DOUBLE_EQ(value_of(net, "net/eth0/tx_packets_per_s"), 500.0);
  EXPECT_DOUBLE_EQ(value_of(net, "net/eth0/rx_dropped_per_s"), 0.2);
  EXPECT_EQ(value_of(net, "net/wlan0/rx_bytes_per_s"), 0.0);
  EXPECT_EQ(find_value(net, "net/lo/rx_bytes_per_s"), nullptr);
}

TEST(NetIo, ThirtyTwoBitCounterWrapOnPiZero2) {
  const std::string tree = board_tree("pi-zero2");
  ManualClock clock;
  NetIoSensor net(tree, clock, nullptr);
  ASSERT_TRUE(net.fetch().ok());
  clock.advance(10s);
  ASSERT_TRUE(net.ingest(slurp(tree + "/later/proc/net/dev")).ok());
  // rx_bytes went 4294967000 -> 704: 1000 bytes through the wrap, not a negative rate.
  EXPECT_DOUBLE_EQ(value_of(net, "net/wlan0/rx_bytes_per_s"), 100.0);
  EXPECT_DOUBLE_EQ(value_of(net, "net/wlan0/tx_bytes_per_s"), 10000.0);
  EXPECT_DOUBLE_EQ(value_of(net, "net/wlan0/rx_packets_per_s"), 100.0);
  expect_none_negative(net);
}

std::string net_dev(std::uint64_t rx, std::uint64_t tx) {
  return "Inter-|   Receive |  Transmit\n face |bytes packets|bytes\n  eth0: " + std::to_string(rx) +
         " 10 0 0 0 0 0 0 " + std::to_string(tx) + " 10 0 0 0 0 0 0\n";
}

TEST(NetIo, RebootWithNewBootIdGivesNoNegativeRate) {
  edgemon::testing_support::TempDir dir;
  dir.write("proc/sys/kernel/random/boot_id", "11111111-2222-3333-4444-555555555555\n");
  dir.write("proc/net/dev", net_dev(900'000'000, 800'000'000));
  ManualClock clock;
  auto epoch = std::make_shared<BootEpoch>();
  BootIdSensor boot(dir.path(), epoch);
  NetIoSensor net(dir.path(), clock, epoch);
  ASSERT_TRUE(boot.fetch().ok());
  ASSERT_TRUE(net.fetch().ok());
  clock.advance(5s);
  dir.write("proc/net/dev", net_dev(900'005'000, 800'001'000));
  ASSERT_TRUE(boot.fetch().ok());
  ASSERT_TRUE(net.fetch().ok());
  EXPECT_DOUBLE_EQ(value_of(net, "net/eth0/rx_bytes_per_s"), 1000.0);

  // Reboot: new boot id, counters restart small. Without the boot id this would look like a
  // 32-bit wrap (~860 MB/s); with it the baseline is dropped for one round.
  clock.advance(5s);
  dir.write("proc/sys/kernel/random/boot_id", "aaaaaaaa-2222-3333-4444-555555555555\n");
  dir.write("proc/net/dev", net_dev(3000, 2000));
  ASSERT_TRUE(boot.fetch().ok());
  ASSERT_TRUE(net.fetch().ok());
  EXPECT_EQ(value_of(boot, "boot/reboots_seen"), 1.0);
  expect_all_empty(net);

  clock.advance(5s);
  dir.write("proc/net/dev", net_dev(8000, 2500));
  ASSERT_TRUE(net.fetch().ok());
  EXPECT_DOUBLE_EQ(value_of(net, "net/eth0/rx_bytes_per_s"), 1000.0);
  EXPECT_DOUBLE_EQ(value_of(net, "net/eth0/tx_bytes_per_s"), 100.0);
}

TEST(NetIo, SixtyFourBitCounterResetIsNotARate) {
  ManualClock clock;
  NetIoSensor net("/nonexistent", clock, nullptr);
  ASSERT_TRUE(net.ingest(net_dev(9'000'000'000, 9'000'000'000)).ok());
  clock.advance(1s);
  ASSERT_TRUE(net.ingest(net_dev(100, 100)).ok());  // driver reset its byte counters
  EXPECT_FALSE(find_value(net, "net/eth0/rx_bytes_per_s")->value);
  EXPECT_FALSE(find_value(net, "net/eth0/tx_bytes_per_s")->value);
  EXPECT_EQ(value_of(net, "net/eth0/rx_packets_per_s"), 0.0);
  clock.advance(1s);
  ASSERT_TRUE(net.ingest(net_dev(300, 100)).ok());
  EXPECT_EQ(value_of(net, "net/eth0/rx_bytes_per_s"), 200.0);
}

TEST(NetIo, InterfaceThatDisappearsHasEmptyValues) {
  ManualClock clock;
  NetIoSensor net("/nonexistent", clock, nullptr);
  ASSERT_TRUE(net.ingest(net_dev(100, 100)).ok());
  clock.advance(1s);
  ASSERT_TRUE(net.ingest("Inter-| a\n face |b\n  usb0: 1 1 0 0 0 0 0 0 1 1 0 0 0 0 0 0\n").ok());
  EXPECT_FALSE(find_value(net, "net/eth0/rx_bytes_per_s")->value);
}

}  // namespace
}  // namespace edgemon::board
