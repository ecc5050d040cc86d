#include "edgemon/gateway/push_config_command.h"

#include <cstdio>
#include <fstream>
#include <sstream>
#include <thread>

#include "edgemon/common/mqtt_client.h"
#include "edgemon/common/telemetry.h"
#include "edgemon/common/clock.h"
#include "edgemon/gateway/core/managed_targets.h"

namespace edgemon::gateway {
namespace {

struct PushOptions {
  std::string node;
  std::string group = "edgemon";
  std::string version;
  std::string file;
  std::string broker = "127.0.0.1";
  int port = 1883;
  std::string username;
  std::string password;
};
PushOptions g_push;

}  // namespace

CLI::App* add_push_config_command(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand("push-config", "Send a remote configuration (TOML) to one node over Sparkplug NCMD");
  cmd->add_option("--node", g_push.node, "Node id")->required();
  cmd->add_option("--group", g_push.group, "Sparkplug group id");
  cmd->add_option("--version", g_push.version, "Version label the node reports back (default: the file's mtime)");
  cmd->add_option("--broker", g_push.broker, "MQTT broker host");
  cmd->add_option("--port", g_push.port, "MQTT broker port")->check(CLI::Range(1, 65535));
  cmd->add_option("--username", g_push.username, "MQTT user name (an account allowed to publish NCMD)");
  cmd->add_option("--password", g_push.password, "MQTT password");
  cmd->add_option("file", g_push.file, "TOML file: agent.interval, ping.hosts, ping.timeout, telemetry.*")
      ->required()->check(CLI::ExistingFile);
  return cmd;
}

int run_push_config_command() {
  if (!valid_id(g_push.node) || !valid_id(g_push.group)) {
    std::fprintf(stderr, "push-config: node and group must be 1-64 characters of A-Z a-z 0-9 _ . -\n");
    return 2;
  }
  std::ifstream in(g_push.file);
  std::ostringstream text;
  text << in.rdbuf();
  if (text.str().size() > kMaxTextBytes) {
    std::fprintf(stderr, "push-config: %s is larger than %zu bytes\n", g_push.file.c_str(), kMaxTextBytes);
    return 2;
  }
  const std::int64_t now = to_unix_ms(SystemClock::instance().wall());
  const std::string version = g_push.version.empty() ? std::to_string(now) : g_push.version;
  const TelemetryMessage cmd = config_command(text.str(), version, now);

  MqttOptions o;
  o.host = g_push.broker;
  o.port = g_push.port;
  o.username = g_push.username;
  o.password = g_push.password;
  o.client_id = g_push.username.empty() ? "edgemon-push-config" : g_push.username;
  MqttClient client(o);
  if (Status s = client.start(); !s) {
    std::fprintf(stderr, "push-config: %s\n", s.error().message.c_str());
    return 1;
  }
  for (int i = 0; i < 100 && !client.connected(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  if (!client.connected()) {
    std::fprintf(stderr, "push-config: cannot connect to %s\n", client.server_uri().c_str());
    return 1;
  }
  const std::string topic = format_topic(g_push.group, MessageKind::kCommand, g_push.node);
  Status s = client.publish_and_wait(topic, encode(Encoding::kSparkplug, cmd), 1, false, std::chrono::seconds(5));
  client.stop();
  if (!s) {
    std::fprintf(stderr, "push-config: %s\n", s.error().message.c_str());
    return 1;
  }
  std::printf("push-config: sent version %s to %s (the node reports agent/config/status)\n", version.c_str(),
              topic.c_str());
  return 0;
}

}  // namespace edgemon::gateway
