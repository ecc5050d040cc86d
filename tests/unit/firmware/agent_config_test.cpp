#include "edgemon/firmware/agent_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "edgemon/common/telemetry.h"

namespace edgemon::firmware {
namespace {

using ::testing::HasSubstr;

Result<AgentConfig> read(std::string_view toml) {
  auto reader = ConfigReader::parse(toml, "agent.toml");
  if (!reader) return reader.error();
  return read_agent_config(*reader);
}

TEST(AgentConfig, EmptyFileGivesDocumentedDefaults) {
  auto c = read("");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->node_id, default_node_id());
  EXPECT_TRUE(valid_id(c->node_id));
  EXPECT_EQ(c->group, "edgemon");
  EXPECT_EQ(c->interval_s, 5.0);
  EXPECT_EQ(c->ping_timeout_s, 0.0);
  EXPECT_EQ(effective_ping_timeout(*c), 1.0);
  EXPECT_EQ(c->ping_hosts, std::vector<std::string>{"127.0.0.1"});
  EXPECT_EQ(c->board_root, "/");
  EXPECT_EQ(c->broker_host, "127.0.0.1");
  EXPECT_EQ(c->broker_port, 1883);
  EXPECT_EQ(c->username, "");
  EXPECT_EQ(c->password, "");
  EXPECT_EQ(c->keepalive_s, 10);
  EXPECT_EQ(c->log_level, log::Level::kInfo);
  EXPECT_EQ(c->ca_file, "");
  EXPECT_TRUE(c->tls_verify);
  EXPECT_EQ(c->state_dir, "/var/lib/edgemon");
  EXPECT_EQ(c->encoding, Encoding::kSparkplug);
  EXPECT_EQ(c->primary_host, "edgemon-gateway");
  EXPECT_EQ(c->keyframe_interval_s, 60.0);
  EXPECT_EQ(c->default_deadband, 0.0);
  EXPECT_TRUE(c->deadbands.empty());
  EXPECT_EQ(buffer_path(*c), "/var/lib/edgemon/buffer.ring");
  EXPECT_EQ(c->buffer_capacity, 4u * 1024 * 1024);
  EXPECT_EQ(c->buffer_fsync, DiskRing::Fsync::kInterval);
  EXPECT_EQ(c->buffer_fsync_interval_s, 5.0);
}

TEST(AgentConfig, DisplayNameIsFreeText) {
  auto c = read("[agent]\nname = \"<img src=x onerror=alert(1)> Küche \\\"2\\\"\"");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->name, "<img src=x onerror=alert(1)> Küche \"2\"");
  auto none = read("");
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->name, "");
}

TEST(AgentConfig, DefaultNodeIdIsAValidId) {
  const std::string id = default_node_id();
  EXPECT_TRUE(valid_id(id)) << id;
}

TEST(AgentConfig, ReadsEveryKey) {
  auto c = read(R"(
[agent]
node_id = "pi-kitchen.2"
group = "plant_1"
interval = 2.5
board_root = "/tmp/board"
state_dir = "/srv/edgemon"

[log]
level = "warning"

[ping]
hosts = ["10.0.0.1", "gateway.local"]
timeout = 0.75

[mqtt]
host = "broker.local"
port = 8883
username = "agent"
password = "s3cret"
keepalive = 30
ca_file = "ca.pem"
cert_file = "node.pem"
key_file = "node.key"
tls_verify = false

[telemetry]
encoding = "json"
primary_host = ""
keyframe_interval = 120
deadband = 0.5
deadbands = { "cpu/" = 1.5, "temp/soc" = 0.25 }

[buffer]
path = "ring.bin"
capacity = 1048576
fsync = "always"
fsync_interval = 2
)");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->node_id, "pi-kitchen.2");
  EXPECT_EQ(c->group, "plant_1");
  EXPECT_EQ(c->interval_s, 2.5);
  EXPECT_EQ(c->board_root, "/tmp/board");
  EXPECT_EQ(c->log_level, log::Level::kWarn);
  EXPECT_EQ(c->ping_hosts, (std::vector<std::string>{"10.0.0.1", "gateway.local"}));
  EXPECT_EQ(c->ping_timeout_s, 0.75);
  EXPECT_EQ(effective_ping_timeout(*c), 0.75);
  EXPECT_EQ(c->broker_host, "broker.local");
  EXPECT_EQ(c->broker_port, 8883);
  EXPECT_EQ(c->username, "agent");
  EXPECT_EQ(c->password, "s3cret");
  EXPECT_EQ(c->keepalive_s, 30);
  EXPECT_EQ(c->ca_file, "ca.pem");
  EXPECT_EQ(c->cert_file, "node.pem");
  EXPECT_EQ(c->key_file, "node.key");
  EXPECT_FALSE(c->tls_verify);
  EXPECT_EQ(c->state_dir, "/srv/edgemon");
  EXPECT_EQ(c->encoding, Encoding::kJson);
  EXPECT_EQ(c->primary_host, "");
  EXPECT_EQ(c->keyframe_interval_s, 120.0);
  EXPECT_EQ(c->default_deadband, 0.5);
  EXPECT_EQ(c->deadbands, (std::map<std::string, double>{{"cpu/", 1.5}, {"temp/soc", 0.25}}));
  EXPECT_EQ(buffer_path(*c), "ring.bin");
  EXPECT_EQ(c->buffer_capacity, 1048576u);
  EXPECT_EQ(c->buffer_fsync, DiskRing::Fsync::kAlways);
  EXPECT_EQ(c->buffer_fsync_interval_s, 2.0);
}

struct BadConfig {
  const char* label;
  const char* toml;
  const char* expected;  // substring of the error
};

TEST(AgentConfig, RejectsBadValuesNamingFileLineAndKey) {
  const BadConfig cases[] = {
      {"node id with space", "[agent]\nnode_id = \"my pi\"", "agent.toml:2:11: key 'agent.node_id': must be 1-64"},
      {"node id empty", "[agent]\nnode_id = \"\"", "agent.toml:2:11: key 'agent.node_id'"},
      {"node id with slash", "[agent]\nnode_id = \"a/b\"", "key 'agent.node_id'"},
      {"node id 65 chars", "[agent]\nnode_id = \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"",
       "key 'agent.node_id'"},
      {"group with wildcard", "[agent]\ngroup = \"#\"", "agent.toml:2:9: key 'agent.group'"},
      {"name with a newline", "[agent]\nname = \"a\\nb\"", "key 'agent.name': must not contain control characters"},
      {"name too long", "[agent]\nname = \"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"", "key 'agent.name': must be at most 128 bytes"},
      {"interval too small", "[agent]\ninterval = 0.01", "agent.toml:2:12: key 'agent.interval': must be between 0.02 and 3600"},
      {"interval string", "[agent]\ninterval = \"5s\"", "key 'agent.interval': must be a number"},
      {"log level unknown", "[log]\nlevel = \"verbose\"", "agent.toml:2:9: key 'log.level': must be debug, info, warn or error"},
      {"hosts not an array", "[ping]\nhosts = \"10.0.0.1\"", "key 'ping.hosts': must be an array of strings"},
      {"hosts with a number", "[ping]\nhosts = [\"a\", 1]", "key 'ping.hosts': must be an array of strings, got element 1"},
      {"timeout zero", "[ping]\ntimeout = 0", "key 'ping.timeout': must be between 0.01 and 60"},
      {"port zero", "[mqtt]\nport = 0", "agent.toml:2:8: key 'mqtt.port': must be between 1 and 65535, got 0"},
      {"port too big", "[mqtt]\nport = 65536", "key 'mqtt.port'"},
      {"keepalive 1", "[mqtt]\nkeepalive = 1", "key 'mqtt.keepalive': must be between 2 and 3600"},
      {"unknown key", "[agent]\nintervall = 5", "agent.toml:2:13: key 'agent.intervall': unknown key"},
      {"unknown table", "[pings]\nhosts = []", "key 'pings': unknown key"},
      {"encoding unknown", "[telemetry]\nencoding = \"xml\"", "key 'telemetry.encoding': must be \"sparkplug\" or \"json\""},
      {"primary host invalid", "[telemetry]\nprimary_host = \"a b\"", "key 'telemetry.primary_host'"},
      {"deadband negative", "[telemetry]\ndeadband = -1", "key 'telemetry.deadband': must be between"},
      {"deadbands not a table", "[telemetry]\ndeadbands = 1", "key 'telemetry.deadbands': must be a table of numbers"},
      {"deadbands entry string", "[telemetry.deadbands]\n\"cpu/\" = \"x\"", "key 'telemetry.deadbands.cpu/': must be a number"},
      {"deadbands entry negative", "[telemetry.deadbands]\n\"cpu/\" = -1", "key 'telemetry.deadbands.cpu/': out of range"},
      {"buffer too small", "[buffer]\ncapacity = 1024", "key 'buffer.capacity': must be between 65536"},
      {"fsync unknown", "[buffer]\nfsync = \"sometimes\"", "key 'buffer.fsync': must be \"always\", \"interval\" or \"never\""},
      {"tls_verify string", "[mqtt]\ntls_verify = \"no\"", "key 'mqtt.tls_verify': must be true or false"},
  };
  for (const BadConfig& c : cases) {
    SCOPED_TRACE(c.label);
    auto r = read(c.toml);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
    EXPECT_THAT(r.error().message, HasSubstr(c.expected));
  }
}

TEST(AgentConfig, ReportsEveryBadKeyAtOnce) {
  auto r = read("[agent]\nnode_id = \"a b\"\ninterval = 0\n[mqtt]\nport = 0\n");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error().message, HasSubstr("'agent.node_id'"));
  EXPECT_THAT(r.error().message, HasSubstr("'agent.interval'"));
  EXPECT_THAT(r.error().message, HasSubstr("'mqtt.port'"));
}

struct TimeoutCase {
  const char* label;
  const char* toml;
  bool ok;
};

TEST(AgentConfig, PingTimeoutMustBeShorterThanInterval) {
  const TimeoutCase cases[] = {
      {"timeout equal to interval", "[agent]\ninterval = 1\n[ping]\ntimeout = 1", false},
      {"timeout longer than interval", "[agent]\ninterval = 2\n[ping]\ntimeout = 30", false},
      {"timeout just shorter", "[agent]\ninterval = 1\n[ping]\ntimeout = 0.99", true},
      {"default timeout with shortest interval", "[agent]\ninterval = 0.1", true},
  };
  for (const TimeoutCase& c : cases) {
    SCOPED_TRACE(c.label);
    auto r = read(c.toml);
    EXPECT_EQ(r.ok(), c.ok) << (r.ok() ? "" : r.error().message);
    if (!c.ok && !r.ok()) {
      EXPECT_THAT(r.error().message, HasSubstr("ping.timeout must be shorter than agent.interval"));
    }
  }
}

TEST(AgentConfig, EffectivePingTimeoutDefaultsToMinOfOneSecondAndEightyPercent) {
  AgentConfig c;
  const std::pair<double, double> cases[] = {{5.0, 1.0}, {1.25, 1.0}, {1.0, 0.8}, {0.5, 0.4}, {3600, 1.0}};
  for (const auto& [interval, expected] : cases) {
    SCOPED_TRACE(interval);
    c.interval_s = interval;
    c.ping_timeout_s = 0;
    EXPECT_DOUBLE_EQ(effective_ping_timeout(c), expected);
  }
  c.interval_s = 10;
  c.ping_timeout_s = 3;
  EXPECT_EQ(effective_ping_timeout(c), 3.0) << "an explicit timeout wins";
}

TEST(AgentConfig, ValidateChecksCrossFieldRules) {
  AgentConfig good;
  good.node_id = "n";
  EXPECT_TRUE(validate(good).ok());

  AgentConfig bad_id = good;
  bad_id.node_id = "";
  EXPECT_FALSE(validate(bad_id).ok());

  AgentConfig empty_host = good;
  empty_host.ping_hosts = {"a", ""};
  Status s = validate(empty_host);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.error().message, HasSubstr("ping host"));

  AgentConfig long_host = good;
  long_host.ping_hosts = {std::string(254, 'h')};
  EXPECT_FALSE(validate(long_host).ok());

  AgentConfig many = good;
  many.ping_hosts.assign(256, "h");
  EXPECT_TRUE(validate(many).ok());
  many.ping_hosts.assign(257, "h");
  EXPECT_FALSE(validate(many).ok());
}

TEST(AgentConfig, EmptyPingHostInFileIsRejected) {
  auto r = read("[ping]\nhosts = [\"\"]");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error().message, HasSubstr("ping host"));
}

}  // namespace
}  // namespace edgemon::firmware
