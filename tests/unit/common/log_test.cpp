#include "edgemon/common/log.h"

#include <gtest/gtest.h>

namespace edgemon::log {
namespace {

TEST(LogFormat, ComponentMessageAndFieldsOnOneLine) {
  const std::string line = format(Level::kWarn, "mqtt", "connect failed", {{"broker", "tcp://h:1"}, {"rc", 5}}, true);
  EXPECT_EQ(line, "<4>[mqtt] connect failed broker=tcp://h:1 rc=5");
}

TEST(LogFormat, HostileValuesAreQuotedAndEscaped) {
  const std::string line = format(Level::kInfo, "x", "m\nforged", {{"name", "a b\"c\nd"}}, true);
  EXPECT_EQ(line, "<6>[x] m\\nforged name=\"a b\\\"c\\nd\"");
  EXPECT_EQ(line.find('\n'), std::string::npos);
}

}  // namespace
}  // namespace edgemon::log
