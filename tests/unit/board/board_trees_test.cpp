// Every reader against the recorded board trees in tests/data/boards: exact expected readings.
#include <gtest/gtest.h>

#include "board/board_test_support.h"
#include "edgemon/board/board_config.h"
#include "edgemon/board/cpu_usage_sensor.h"
#include "edgemon/board/disk_sensors.h"
#include "edgemon/board/network_sensors.h"
#include "edgemon/board/pi_sensors.h"
#include "edgemon/board/system_sensors.h"
#include "edgemon/board/thermal_sensors.h"
#include "edgemon/board/w1_sensors.h"

namespace edgemon::board {
namespace {

using testing::board_tree;
using testing::find_value;
using testing::value_of;

constexpr double kKiB = 1024.0;

std::unique_ptr<DiskUsageSensor> recorded_disk_sensor(const std::string& tree) {
  auto stats = RecordedFsStat::load(tree + "/edgemon-statvfs");
  EXPECT_TRUE(stats.ok()) << (stats ? "" : stats.error().message);
  return std::make_unique<DiskUsageSensor>(tree, std::move(*stats));
}

TEST(Pi4Tree, SystemReadings) {
  const std::string tree = board_tree("pi4-rpios64");
  CpuCountSensor count(tree);
  ASSERT_TRUE(count.fetch().ok());
  EXPECT_EQ(value_of(count, "cpu/count"), 4.0);

  LoadAverageSensor load(tree);
  ASSERT_TRUE(load.fetch().ok());
  EXPECT_EQ(value_of(load, "load/1m"), 0.42);
  EXPECT_EQ(value_of(load, "load/5m"), 0.31);
  EXPECT_EQ(value_of(load, "load/15m"), 0.27);
  EXPECT_EQ(value_of(load, "proc/running"), 2.0);
  EXPECT_EQ(value_of(load, "proc/total"), 187.0);

  MemorySensor mem(tree);
  ASSERT_TRUE(mem.fetch().ok());
  EXPECT_EQ(value_of(mem, "mem/total"), 3884096 * kKiB);
  EXPECT_EQ(value_of(mem, "mem/available"), 3303716 * kKiB);
  EXPECT_EQ(value_of(mem, "mem/used"), (3884096 - 3303716) * kKiB);
  EXPECT_EQ(value_of(mem, "mem/free"), 2615732 * kKiB);
  EXPECT_EQ(value_of(mem, "mem/buff_cache"), (63596 + 653820 + 39788) * kKiB);
  EXPECT_DOUBLE_EQ(value_of(mem, "mem/used_percent"), 100.0 * 580380 / 3884096);
  EXPECT_EQ(value_of(mem, "swap/total"), 102396 * kKiB);
  EXPECT_EQ(value_of(mem, "swap/used"), 0.0);
  EXPECT_EQ(value_of(mem, "swap/used_percent"), 0.0);

  UptimeSensor up(tree);
  ASSERT_TRUE(up.fetch().ok());
  EXPECT_EQ(value_of(up, "uptime"), 354112.87);

  BootIdSensor boot(tree, std::make_shared<BootEpoch>());
  ASSERT_TRUE(boot.fetch().ok());
  EXPECT_EQ(boot.boot_id(), "6f1c9b0e-3d2a-4d47-9e51-0a7b2c4d8e19");
  EXPECT_EQ(value_of(boot, "boot/reboots_seen"), 0.0);
}

TEST(Pi4Tree, DiskUsagePerRealMountOnly) {
  const std::string tree = board_tree("pi4-rpios64");
  auto disk = recorded_disk_sensor(tree);
  ASSERT_TRUE(disk->fetch().ok());
  // Three real filesystems; proc, sysfs, tmpfs, cgroup2, autofs, ... are filtered out.
  ASSERT_EQ(disk->values().size(), 12u) << testing::value_names(*disk);
  EXPECT_EQ(value_of(*disk, "disk/root/total"), 7573504.0 * 4096);
  EXPECT_EQ(value_of(*disk, "disk/root/used"), (7573504.0 - 5563125) * 4096);
  EXPECT_EQ(value_of(*disk, "disk/root/avail"), 5245605.0 * 4096);
  EXPECT_DOUBLE_EQ(value_of(*disk, "disk/root/used_percent"),
                   100.0 * (7573504.0 - 5563125) / ((7573504.0 - 5563125) + 5245605.0));
  EXPECT_EQ(value_of(*disk, "disk/boot_firmware/total"), 1048576.0 * 512);
  EXPECT_EQ(value_of(*disk, "disk/boot_firmware/used"), (1048576.0 - 934400) * 512);
  // "\040" in the mount table is a space in the path.
  EXPECT_EQ(value_of(*disk, "disk/mnt_usb_stick/avail"), 700000.0 * 32768);
}

TEST(Pi4Tree, PiReadings) {
  const std::string tree = board_tree("pi4-rpios64");
  SocTemperatureSensor soc(tree);
  ASSERT_TRUE(soc.fetch().ok());
  EXPECT_EQ(value_of(soc, "soc/temperature"), 48.686);

  ThermalZoneSensor thermal(tree);
  ASSERT_TRUE(thermal.fetch().ok());
  ASSERT_EQ(thermal.values().size(), 1u);
  EXPECT_EQ(value_of(thermal, "thermal/cpu-thermal"), 48.686);

  ThrottleSensor throttle(tree);
  ASSERT_TRUE(throttle.fetch().ok());
  EXPECT_EQ(value_of(throttle, "throttle/raw"), 0x50005);
  EXPECT_EQ(value_of(throttle, "throttle/under_voltage"), 1.0);
  EXPECT_EQ(value_of(throttle, "throttle/freq_capped"), 0.0);
  EXPECT_EQ(value_of(throttle, "throttle/throttled"), 1.0);
  EXPECT_EQ(value_of(throttle, "throttle/soft_temp_limit"), 0.0);
  EXPECT_EQ(value_of(throttle, "throttle/under_voltage_occurred"), 1.0);
  EXPECT_EQ(value_of(throttle, "throttle/freq_capped_occurred"), 0.0);
  EXPECT_EQ(value_of(throttle, "throttle/throttled_occurred"), 1.0);
  EXPECT_EQ(value_of(throttle, "throttle/soft_temp_limit_occurred"), 0.0);

  CpuFrequencySensor freq(tree);
  ASSERT_TRUE(freq.fetch().ok());
  ASSERT_EQ(freq.values().size(), 4u) << testing::value_names(freq);
  for (int c = 0; c < 4; ++c) EXPECT_EQ(value_of(freq, "cpu/freq/core" + std::to_string(c)), 1800.0);

  WifiSensor wifi(tree);
  ASSERT_TRUE(wifi.fetch().ok());
  EXPECT_EQ(value_of(wifi, "wifi/wlan0/link_quality"), 56.0);
  EXPECT_EQ(value_of(wifi, "wifi/wlan0/link_percent"), 80.0);
  EXPECT_EQ(value_of(wifi, "wifi/wlan0/signal_dbm"), -54.0);
  ASSERT_NE(find_value(wifi, "wifi/wlan0/noise_dbm"), nullptr);
  EXPECT_FALSE(find_value(wifi, "wifi/wlan0/noise_dbm")->value);  // -256: driver has no noise figure

  Ds18b20Sensor w1(tree);
  ASSERT_TRUE(w1.fetch().ok());
  ASSERT_EQ(w1.values().size(), 2u);
  EXPECT_EQ(value_of(w1, "w1/28-3c01d607d4a1/temperature"), 23.125);
  EXPECT_EQ(value_of(w1, "w1/28-3c01f0964e2b/temperature"), -10.125);
}

TEST(PiZero2Tree, Readings) {
  const std::string tree = board_tree("pi-zero2");
  MemorySensor mem(tree);
  ASSERT_TRUE(mem.fetch().ok());
  EXPECT_EQ(value_of(mem, "mem/total"), 439860 * kKiB);
  EXPECT_EQ(value_of(mem, "mem/used"), (439860 - 252132) * kKiB);
  EXPECT_EQ(value_of(mem, "swap/total"), 204796 * kKiB);
  EXPECT_EQ(value_of(mem, "swap/used"), (204796 - 153596) * kKiB);
  EXPECT_DOUBLE_EQ(value_of(mem, "swap/used_percent"), 100.0 * 51200 / 204796);

  LoadAverageSensor load(tree);
  ASSERT_TRUE(load.fetch().ok());
  EXPECT_EQ(value_of(load, "load/1m"), 1.07);

  SocTemperatureSensor soc(tree);
  ASSERT_TRUE(soc.fetch().ok());
  EXPECT_EQ(value_of(soc, "soc/temperature"), 61.224);

  ThrottleSensor throttle(tree);
  ASSERT_TRUE(throttle.fetch().ok());
  EXPECT_EQ(value_of(throttle, "throttle/raw"), 0.0);
  EXPECT_EQ(value_of(throttle, "throttle/under_voltage_occurred"), 0.0);

  WifiSensor wifi(tree);
  ASSERT_TRUE(wifi.fetch().ok());
  EXPECT_EQ(value_of(wifi, "wifi/wlan0/signal_dbm"), -69.0);
  EXPECT_DOUBLE_EQ(value_of(wifi, "wifi/wlan0/link_percent"), 41.0 / 70.0 * 100.0);

  CpuFrequencySensor freq(tree);
  ASSERT_TRUE(freq.fetch().ok());
  EXPECT_EQ(value_of(freq, "cpu/freq/core3"), 600.0);

  auto disk = recorded_disk_sensor(tree);
  ASSERT_TRUE(disk->fetch().ok());
  EXPECT_EQ(disk->values().size(), 8u);
  EXPECT_EQ(value_of(*disk, "disk/root/used"), (3777216.0 - 2838528) * 4096);

  // No 1-wire bus on this board: unsupported, with a message naming the path.
  Ds18b20Sensor w1(tree);
  const Status s = w1.fetch();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kUnsupported);
  EXPECT_NE(s.error().message.find("sys/bus/w1/devices"), std::string::npos);
}

TEST(X86ServerTree, Readings) {
  const std::string tree = board_tree("x86-server");
  CpuCountSensor count(tree);
  ASSERT_TRUE(count.fetch().ok());
  EXPECT_EQ(value_of(count, "cpu/count"), 8.0);

  CpuUsageSensor cpu(tree);
  ASSERT_TRUE(cpu.fetch().ok());
  EXPECT_EQ(cpu.values().size(), 9u);

  MemorySensor mem(tree);
  ASSERT_TRUE(mem.fetch().ok());
  EXPECT_EQ(value_of(mem, "mem/used"), (32791680.0 - 24114596) * kKiB);
  EXPECT_EQ(value_of(mem, "swap/used"), (8388604.0 - 8123380) * kKiB);

  ThermalZoneSensor thermal(tree);
  ASSERT_TRUE(thermal.fetch().ok());
  ASSERT_EQ(thermal.values().size(), 3u);
  EXPECT_EQ(value_of(thermal, "thermal/acpitz"), 27.8);
  EXPECT_EQ(value_of(thermal, "thermal/x86_pkg_temp"), 45.0);
  EXPECT_EQ(value_of(thermal, "thermal/acpitz_2"), 29.8);  // same type twice: zone number appended

  auto disk = recorded_disk_sensor(tree);
  ASSERT_TRUE(disk->fetch().ok());
  // /, /boot/efi, /srv/data, the docker overlay; not the bind of /dev/sda1, squashfs, nfs4, fuse.
  ASSERT_EQ(disk->values().size(), 16u) << testing::value_names(*disk);
  EXPECT_EQ(value_of(*disk, "disk/srv_data/total"), 976498688.0 * 4096);
  EXPECT_EQ(find_value(*disk, "disk/var_lib_docker-data/total"), nullptr);
  EXPECT_EQ(find_value(*disk, "disk/mnt_backup/total"), nullptr);
  EXPECT_NE(find_value(*disk, "disk/var_lib_docker_overlay2_4e1c0b_merged/total"), nullptr);

  CpuFrequencySensor freq(tree);
  ASSERT_TRUE(freq.fetch().ok());
  EXPECT_EQ(value_of(freq, "cpu/freq/core7"), 4100.0);

  // Not a Pi: these report unsupported instead of inventing values.
  WifiSensor wifi(tree);
  EXPECT_EQ(wifi.fetch().error().code, ErrorCode::kUnsupported);
  ThrottleSensor throttle(tree);
  EXPECT_EQ(throttle.fetch().error().code, ErrorCode::kUnsupported);
  SocTemperatureSensor soc(tree);
  EXPECT_EQ(soc.fetch().error().code, ErrorCode::kUnsupported);
}

TEST(MakeSensors, EverySensorOfTheTreeReportsOrIsUnsupported) {
  BoardConfig config;
  config.root = board_tree("pi4-rpios64");
  auto sensors = make_sensors(config);
  ASSERT_TRUE(sensors.ok());
  std::vector<std::string> ids;
  for (auto& s : *sensors) {
    ids.emplace_back(s->id());
    EXPECT_TRUE(s->fetch().ok()) << s->id();
  }
  EXPECT_EQ(ids.front(), "boot");  // before the rate sensors
  EXPECT_EQ(ids.size(), kSensorIds.size() - 1);  // no bme280 without a configured bus
}

}  // namespace
}  // namespace edgemon::board
