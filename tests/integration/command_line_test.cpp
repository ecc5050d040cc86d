// The programs' command lines: --version, --help, and config errors that name file, line and key.
#include <gtest/gtest.h>

#include "support/process.h"

namespace edgemon::test {
namespace {

using namespace std::chrono_literals;

TEST(CommandLine, VersionAndHelp) {
  for (const char* bin : {EDGEMON_AGENT_BIN, EDGEMON_GATEWAY_BIN}) {
    const auto v = run_command({bin, "--version"}, 10s);
    EXPECT_EQ(v.exit_code, 0) << bin;
    EXPECT_NE(v.output.find("0."), std::string::npos) << v.output;
    const auto h = run_command({bin, "--help"}, 10s);
    EXPECT_EQ(h.exit_code, 0) << bin;
    EXPECT_NE(h.output.find("--config"), std::string::npos) << h.output;
  }
}

TEST(CommandLine, AgentConfigErrorNamesFileLineAndKey) {
  TempDir dir;
  const std::string path = dir.file("agent.toml");
  write_file(path, "[agent]\nnode_id = \"ok\"\ninterval = -3\n\n[mqtt]\nprot = 1883\n");
  const auto r = run_command({EDGEMON_AGENT_BIN, "--config", path, "--check-config"}, 10s);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find(path + ":3:"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("'agent.interval'"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(path + ":6:"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("'mqtt.prot'"), std::string::npos) << r.output;
}

TEST(CommandLine, GatewayConfigSyntaxErrorNamesLine) {
  TempDir dir;
  const std::string path = dir.file("gateway.toml");
  write_file(path, "[http]\nport = 8080\nbind = \n");
  const auto r = run_command({EDGEMON_GATEWAY_BIN, "--config", path, "--check-config"}, 10s);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find(path + ":3:"), std::string::npos) << r.output;
}

TEST(CommandLine, BadFlagValueIsRejected) {
  const auto r = run_command({EDGEMON_AGENT_BIN, "--interval", "0", "--check-config"}, 10s);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("--interval"), std::string::npos) << r.output;
  const auto ok = run_command({EDGEMON_AGENT_BIN, "--interval", "2", "--hosts", "127.0.0.1,::1", "--check-config"}, 10s);
  EXPECT_EQ(ok.exit_code, 0) << ok.output;
}

}  // namespace
}  // namespace edgemon::test
