#include "edgemon/probe/probe_command.h"

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

namespace edgemon::probe {
namespace {

int run(std::vector<std::string> args, std::string& out, std::string& err) {
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  std::ostringstream o, e;
  const int rc = run_probe_command(static_cast<int>(argv.size()), argv.data(), o, e);
  out = o.str();
  err = e.str();
  return rc;
}

TEST(ProbeCommand, BadArgumentsExitThree) {
  std::string out, err;
  EXPECT_EQ(run({"probe"}, out, err), 3);  // no host
  EXPECT_EQ(run({"probe", "--count", "0", "127.0.0.1"}, out, err), 3);
  EXPECT_EQ(run({"probe", "-4", "-6", "127.0.0.1"}, out, err), 3);
  EXPECT_NE(err.find("exclude"), std::string::npos);
}

TEST(ProbeCommand, HelpExitsZero) {
  std::string out, err;
  EXPECT_EQ(run({"probe", "--help"}, out, err), 0);
  EXPECT_NE(out.find("--count"), std::string::npos);
}

}  // namespace
}  // namespace edgemon::probe
