// Live readings of this machine against independent tools (label: integration, not unit: it
// depends on the host's /proc and on procps/coreutils being installed).
#include <cstdio>
#include <map>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "board/board_test_support.h"
#include "edgemon/board/disk_sensors.h"
#include "edgemon/board/system_sensors.h"

namespace edgemon::board {
namespace {

std::string run(const char* command) {
  std::string out;
  FILE* p = ::popen(command, "r");
  if (p == nullptr) return out;
  char buf[4096];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  ::pclose(p);
  return out;
}

TEST(LiveBoard, MemoryAgreesWithFree) {
  MemorySensor mem("/");
  ASSERT_TRUE(mem.fetch().ok());
  // free -b: "Mem:  total used free shared buff/cache available", "Swap: total used free".
  std::istringstream in(run("free -b"));
  std::string line;
  std::map<std::string, std::vector<double>> rows;
  while (std::getline(in, line)) {
    std::istringstream f(line);
    std::string label;
    f >> label;
    double v = 0;
    while (f >> v) rows[label].push_back(v);
  }
  ASSERT_EQ(rows["Mem:"].size(), 6u) << "free -b output not understood";
  const double total = rows["Mem:"][0];
  const auto within_1pct = [total](double ours, double theirs, const char* what) {
    EXPECT_NEAR(ours, theirs, total * 0.01) << what;
  };
  within_1pct(testing::value_of(mem, "mem/total"), rows["Mem:"][0], "total");
  within_1pct(testing::value_of(mem, "mem/used"), rows["Mem:"][1], "used");
  within_1pct(testing::value_of(mem, "mem/free"), rows["Mem:"][2], "free");
  within_1pct(testing::value_of(mem, "mem/buff_cache"), rows["Mem:"][4], "buff/cache");
  within_1pct(testing::value_of(mem, "mem/available"), rows["Mem:"][5], "available");
  ASSERT_EQ(rows["Swap:"].size(), 3u);
  EXPECT_NEAR(testing::value_of(mem, "swap/total"), rows["Swap:"][0], rows["Swap:"][0] * 0.01 + 1);
  EXPECT_NEAR(testing::value_of(mem, "swap/used"), rows["Swap:"][1], rows["Swap:"][0] * 0.01 + 1);
}

TEST(LiveBoard, DiskUsageAgreesWithDf) {
  DiskUsageSensor disk("/", std::make_unique<PosixFsStat>("/"));
  ASSERT_TRUE(disk.fetch().ok());
  std::istringstream in(run("df -B1 --output=target,size,used,avail 2>/dev/null"));
  std::string line;
  std::getline(in, line);  // header
  int compared = 0;
  while (std::getline(in, line)) {
    std::istringstream f(line);
    std::string target;
    double size = 0, used = 0, avail = 0;
    if (!(f >> target >> size >> used >> avail)) continue;
    std::string name = target == "/" ? "root" : target.substr(1);
    for (char& c : name) {
      if (c == '/' || c == '.') c = '_';
    }
    const SensorValue* total_v = testing::find_value(disk, "disk/" + name + "/total");
    if (total_v == nullptr || !total_v->value) continue;  // pseudo filesystem we filter out
    EXPECT_NEAR(*total_v->value, size, size * 0.01) << target;
    EXPECT_NEAR(testing::value_of(disk, "disk/" + name + "/used"), used, size * 0.01) << target;
    EXPECT_NEAR(testing::value_of(disk, "disk/" + name + "/avail"), avail, size * 0.01) << target;
    ++compared;
  }
  EXPECT_GE(compared, 1) << "no filesystem in common with df (is / a real filesystem here?)";
  EXPECT_NE(testing::find_value(disk, "disk/root/total"), nullptr);
}

}  // namespace
}  // namespace edgemon::board
