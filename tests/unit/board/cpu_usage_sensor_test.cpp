#include "edgemon/board/cpu_usage_sensor.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <charconv>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "temp_dir.h"

namespace edgemon::board {
namespace {

using testing_support::TempDir;

const std::string kBoards = std::string(EDGEMON_TEST_DATA_DIR) + "/boards/";

std::string read_fixture(const std::string& board) {
  std::ifstream in(kBoards + board + "/proc/stat", std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  if (!in || text.str().empty()) ADD_FAILURE() << "missing fixture " << board;
  return text.str();
}

std::vector<std::uint64_t> parse_numbers(std::string_view rest) {
  std::vector<std::uint64_t> out;
  const char* p = rest.data();
  const char* end = rest.data() + rest.size();
  while (p < end) {
    while (p < end && *p == ' ') ++p;
    if (p == end) break;
    std::uint64_t v = 0;
    p = std::from_chars(p, end, v).ptr;
    out.push_back(v);
  }
  return out;
}

// Returns `text` with every cpuN line moved on by `busy[N]` user ticks and `100 - busy[N]` idle
// ticks (so core N is busy[N] % busy over the interval), and the aggregate line by the sums.
std::string tick_forward(std::string_view text, const std::vector<std::uint64_t>& busy) {
  std::uint64_t busy_sum = 0;
  for (std::uint64_t b : busy) busy_sum += b;
  const std::uint64_t total_sum = 100 * busy.size();
  std::string out;
  while (!text.empty()) {
    const std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (!line.starts_with("cpu")) {
      out.append(line).append("\n");
      continue;
    }
    const std::size_t space = line.find(' ');
    const std::string_view name = line.substr(0, space);
    std::vector<std::uint64_t> f = parse_numbers(line.substr(space));
    std::uint64_t b = busy_sum;
    std::uint64_t t = total_sum;
    if (name != "cpu") {
      std::size_t core = 0;
      (void)std::from_chars(name.data() + 3, name.data() + name.size(), core);
      b = busy.at(core);
      t = 100;
    }
    f[0] += b;      // user
    f[3] += t - b;  // idle
    out.append(name).append(name == "cpu" ? "  " : " ");
    for (std::size_t i = 0; i < f.size(); ++i) out.append(i ? " " : "").append(std::to_string(f[i]));
    out.append("\n");
  }
  return out;
}

const SensorValue* find_value(const CpuUsageSensor& s, std::string_view name) {
  for (const SensorValue& v : s.values()) {
    if (v.name == name) return &v;
  }
  return nullptr;
}

std::vector<std::string> names(const CpuUsageSensor& s) {
  std::vector<std::string> out;
  for (const SensorValue& v : s.values()) out.push_back(v.name);
  return out;
}

// ---- fixtures through fetch() -------------------------------------------------------------------

TEST(CpuUsageSensorFixture, FixtureTreesAreReadableAsBoardRoots) {
  for (const char* board : {"rpi4", "rpi-zero-w", "linux-2.4-four-fields", "cpu2-offline"}) {
    SCOPED_TRACE(board);
    CpuUsageSensor sensor(kBoards + board);
    Status s = sensor.fetch();
    ASSERT_TRUE(s.ok()) << s.error().message;
    ASSERT_FALSE(sensor.values().empty());
    for (const SensorValue& v : sensor.values()) EXPECT_FALSE(v.value.has_value()) << v.name;
  }
}

TEST(CpuUsageSensorFixture, RootWithTrailingSlashIsTheSameTree) {
  CpuUsageSensor sensor(kBoards + "rpi4/");
  EXPECT_TRUE(sensor.fetch().ok());
}

struct FixtureCase {
  const char* board;
  std::vector<std::uint64_t> busy;              // per core, out of 100 ticks
  std::vector<std::string> names;               // in values() order
  std::vector<double> expected;                 // total first, then each core
};

TEST(CpuUsageSensorFixture, TwoSnapshotsGiveExactPercentages) {
  const FixtureCase cases[] = {
      {"rpi4", {10, 20, 30, 45}, {"cpu/total", "cpu/core0", "cpu/core1", "cpu/core2", "cpu/core3"},
       {26.25, 10.0, 20.0, 30.0, 45.0}},
      {"rpi-zero-w", {25}, {"cpu/total", "cpu/core0"}, {25.0, 25.0}},
      {"linux-2.4-four-fields", {0, 100}, {"cpu/total", "cpu/core0", "cpu/core1"}, {50.0, 0.0, 100.0}},
  };
  for (const FixtureCase& c : cases) {
    SCOPED_TRACE(c.board);
    TempDir root;
    const std::string first = read_fixture(c.board);
    root.write("proc/stat", first);
    CpuUsageSensor sensor(root.path());

    Status s = sensor.fetch();
    ASSERT_TRUE(s.ok()) << s.error().message;
    EXPECT_EQ(names(sensor), c.names);
    for (const SensorValue& v : sensor.values()) {
      EXPECT_FALSE(v.value.has_value()) << v.name << ": the first fetch only primes";
      EXPECT_EQ(v.unit, "%");
    }

    root.write("proc/stat", tick_forward(first, c.busy));
    s = sensor.fetch();
    ASSERT_TRUE(s.ok()) << s.error().message;
    ASSERT_EQ(sensor.values().size(), c.expected.size());
    for (std::size_t i = 0; i < c.expected.size(); ++i) {
      SCOPED_TRACE(sensor.values()[i].name);
      ASSERT_TRUE(sensor.values()[i].value.has_value());
      EXPECT_EQ(*sensor.values()[i].value, c.expected[i]);
    }
  }
}

TEST(CpuUsageSensorFixture, OfflineCoreKeepsTheOthersNamedByTheirKernelNumber) {
  TempDir root;
  const std::string first = read_fixture("cpu2-offline");
  root.write("proc/stat", first);
  CpuUsageSensor sensor(root.path());
  ASSERT_TRUE(sensor.fetch().ok());
  // Only cpu0, cpu1 and cpu3 exist; tick_forward() moves core 2 by nothing since it has no line.
  root.write("proc/stat", tick_forward(first, {10, 20, 0, 40}));
  ASSERT_TRUE(sensor.fetch().ok());
  ASSERT_NE(find_value(sensor, "cpu/core0"), nullptr);
  ASSERT_NE(find_value(sensor, "cpu/core3"), nullptr);
  EXPECT_EQ(find_value(sensor, "cpu/core0")->value, 10.0);
  EXPECT_EQ(find_value(sensor, "cpu/core1")->value, 20.0);
  EXPECT_EQ(find_value(sensor, "cpu/core3")->value, 40.0);
  // total: 70 busy ticks of 400 (tick_forward() counts four cores for the aggregate line).
  EXPECT_EQ(find_value(sensor, "cpu/total")->value, 17.5);
  const SensorValue* core2 = find_value(sensor, "cpu/core2");
  if (core2 != nullptr) {
    EXPECT_FALSE(core2->value.has_value()) << "core 2 is offline";
  }
}

TEST(CpuUsageSensorFixture, MissingProcStatIsUnsupported) {
  TempDir root;  // empty: no proc/stat
  CpuUsageSensor sensor(root.path());
  Status s = sensor.fetch();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kUnsupported);
  EXPECT_THAT(s.error().message, ::testing::HasSubstr("proc/stat"));
}

TEST(CpuUsageSensorFixture, GarbageFileIsInvalidArgument) {
  TempDir root;
  root.write("proc/stat", "this is not /proc/stat\n");
  CpuUsageSensor sensor(root.path());
  Status s = sensor.fetch();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kInvalidArgument);
}

// ---- ingest() with literal texts ----------------------------------------------------------------

TEST(CpuUsageSensor, TwentyFiveBusyOfHundredIsExactlyTwentyFivePercent) {
  CpuUsageSensor s;
  ASSERT_TRUE(s.ingest("cpu  100 0 100 800 0 0 0 0 0 0\n").ok());
  ASSERT_EQ(s.values().size(), 1u);
  EXPECT_EQ(s.values()[0].name, "cpu/total");
  EXPECT_FALSE(s.values()[0].value.has_value());
  // user +10, system +15, idle +70, iowait +5: busy 25 of 100.
  ASSERT_TRUE(s.ingest("cpu  110 0 115 870 5 0 0 0 0 0\n").ok());
  ASSERT_TRUE(s.values()[0].value.has_value());
  EXPECT_EQ(*s.values()[0].value, 25.0);
}

TEST(CpuUsageSensor, IrqSoftirqStealAndNiceCountAsBusyIowaitAsIdle) {
  CpuUsageSensor s;
  ASSERT_TRUE(s.ingest("cpu  0 0 0 0 0 0 0 0 0 0\n").ok());
  // nice 5, irq 5, softirq 5, steal 5 busy; idle 40, iowait 40.
  ASSERT_TRUE(s.ingest("cpu  0 5 0 40 40 5 5 5 0 0\n").ok());
  EXPECT_EQ(s.values()[0].value, 20.0);
}

TEST(CpuUsageSensor, GuestTimeIsNotCountedTwice) {
  CpuUsageSensor s;
  ASSERT_TRUE(s.ingest("cpu  0 0 0 0 0 0 0 0 0 0\n").ok());
  // guest and guest_nice are already included in user and nice.
  ASSERT_TRUE(s.ingest("cpu  20 5 0 75 0 0 0 0 20 5\n").ok());
  EXPECT_EQ(s.values()[0].value, 25.0);
}

TEST(CpuUsageSensor, PerCoreNamesFollowKernelNumbers) {
  CpuUsageSensor s;
  ASSERT_TRUE(s.ingest("cpu  4 0 0 4\ncpu0 1 0 0 1\ncpu1 1 0 0 1\ncpu2 1 0 0 1\ncpu3 1 0 0 1\nctxt 5\n").ok());
  EXPECT_EQ(names(s), (std::vector<std::string>{"cpu/total", "cpu/core0", "cpu/core1", "cpu/core2", "cpu/core3"}));
}

TEST(CpuUsageSensor, CounterGoingBackwardsReprimesInsteadOfGoingNegative) {
  CpuUsageSensor s;
  ASSERT_TRUE(s.ingest("cpu  500 0 0 500\n").ok());
  ASSERT_TRUE(s.ingest("cpu  550 0 0 550\n").ok());
  EXPECT_EQ(s.values()[0].value, 50.0);
  // Reboot: counters restart near zero.
  ASSERT_TRUE(s.ingest("cpu  10 0 0 30\n").ok());
  EXPECT_FALSE(s.values()[0].value.has_value());
  // The next sample is measured from the new baseline.
  ASSERT_TRUE(s.ingest("cpu  20 0 0 120\n").ok());
  EXPECT_EQ(s.values()[0].value, 10.0);
}

TEST(CpuUsageSensor, BusyGoingBackwardsWhileTotalGrowsAlsoReprimes) {
  CpuUsageSensor s;
  ASSERT_TRUE(s.ingest("cpu  500 0 0 500\n").ok());
  ASSERT_TRUE(s.ingest("cpu  550 0 0 550\n").ok());
  ASSERT_TRUE(s.ingest("cpu  100 0 0 2000\n").ok());
  EXPECT_FALSE(s.values()[0].value.has_value());
}

TEST(CpuUsageSensor, NoElapsedTicksKeepsTheLastValue) {
  CpuUsageSensor s;
  ASSERT_TRUE(s.ingest("cpu  0 0 0 0\n").ok());
  ASSERT_TRUE(s.ingest("cpu  30 0 0 70\n").ok());
  ASSERT_TRUE(s.ingest("cpu  30 0 0 70\n").ok());
  EXPECT_EQ(s.values()[0].value, 30.0);
}

TEST(CpuUsageSensor, IowaitGoingBackwardsNeverReportsOverHundredPercent) {
  // The kernel documents iowait as unreliable; it can decrease.
  CpuUsageSensor s;
  ASSERT_TRUE(s.ingest("cpu  0 0 0 100 50\n").ok());
  ASSERT_TRUE(s.ingest("cpu  10 0 0 100 45\n").ok());
  ASSERT_TRUE(s.values()[0].value.has_value());
  EXPECT_LE(*s.values()[0].value, 100.0);
  EXPECT_GE(*s.values()[0].value, 0.0);
}

TEST(CpuUsageSensor, HotpluggedCoreAppearsLaterWithoutDisturbingOthers) {
  CpuUsageSensor s;
  ASSERT_TRUE(s.ingest("cpu  0 0 0 0\ncpu0 0 0 0 0\n").ok());
  ASSERT_TRUE(s.ingest("cpu  50 0 0 150\ncpu0 25 0 0 75\ncpu1 25 0 0 75\n").ok());
  EXPECT_EQ(names(s), (std::vector<std::string>{"cpu/total", "cpu/core0", "cpu/core1"}));
  EXPECT_EQ(s.values()[1].value, 25.0);
  EXPECT_FALSE(s.values()[2].value.has_value()) << "a new core primes first";
  ASSERT_TRUE(s.ingest("cpu  150 0 0 250\ncpu0 75 0 0 125\ncpu1 75 0 0 125\n").ok());
  EXPECT_EQ(s.values()[0].value, 50.0);
  EXPECT_EQ(s.values()[1].value, 50.0);
  EXPECT_EQ(s.values()[2].value, 50.0);
}

TEST(CpuUsageSensor, CoreTakenOfflineStopsReportingItsLastValue) {
  CpuUsageSensor s;
  ASSERT_TRUE(s.ingest("cpu  0 0 0 0\ncpu0 0 0 0 0\ncpu1 0 0 0 0\n").ok());
  ASSERT_TRUE(s.ingest("cpu  80 0 0 120\ncpu0 10 0 0 90\ncpu1 70 0 0 30\n").ok());
  ASSERT_EQ(s.values()[2].value, 70.0);
  // cpu1 goes offline: its line disappears from /proc/stat.
  ASSERT_TRUE(s.ingest("cpu  90 0 0 210\ncpu0 20 0 0 180\n").ok());
  EXPECT_EQ(s.values()[1].value, 10.0);
  EXPECT_FALSE(s.values()[2].value.has_value()) << "an offline core must not repeat a stale reading";
}

TEST(CpuUsageSensor, SteadyStateDoesNotReallocateValues) {
  CpuUsageSensor s;
  ASSERT_TRUE(s.ingest("cpu  0 0 0 0\ncpu0 0 0 0 0\n").ok());
  const SensorValue* before = s.values().data();
  ASSERT_TRUE(s.ingest("cpu  1 0 0 1\ncpu0 1 0 0 1\n").ok());
  EXPECT_EQ(s.values().data(), before);
}

struct BadStat {
  const char* label;
  std::string text;
};

TEST(CpuUsageSensor, MalformedProcStatIsInvalidArgument) {
  const BadStat cases[] = {
      {"empty file", ""},
      {"no cpu lines at all", "ctxt 5\nbtime 1\n"},
      {"only per-core lines", "cpu0 1 2 3 4\n"},
      {"three counters", "cpu  1 2 3\n"},
      {"no counters", "cpu  \n"},
      {"word instead of number", "cpu  1 2 three 4\n"},
      {"negative counter", "cpu  1 -2 3 4\n"},
      {"number with suffix", "cpu  1 2 3 4x\n"},
      {"counter overflows 64 bits", "cpu  18446744073709551616 0 0 0\n"},
      {"core id not a number", "cpu  1 2 3 4\ncpuX 1 2 3 4\n"},
      {"core id 1024 beyond limit", "cpu  1 2 3 4\ncpu1024 1 2 3 4\n"},
      {"tab after cpu", "cpu\t1 2 3 4\n"},
      {"bad core counters", "cpu  1 2 3 4\ncpu0 1 2\n"},
  };
  for (const BadStat& c : cases) {
    SCOPED_TRACE(c.label);
    CpuUsageSensor s;
    Status st = s.ingest(c.text);
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error().code, ErrorCode::kInvalidArgument);
  }
}

TEST(CpuUsageSensor, ToleratesMissingFinalNewlineAndUnrelatedLines) {
  CpuUsageSensor s;
  ASSERT_TRUE(s.ingest("intr 1 2 3\ncpu  0 0 0 0\nsoftirq 1").ok());
  ASSERT_TRUE(s.ingest("intr 1 2 3\ncpu  1 0 0 3").ok());
  EXPECT_EQ(s.values()[0].value, 25.0);
}

}  // namespace
}  // namespace edgemon::board
