// Sparkplug B on the wire, with real processes: an independent decoder (protoc) reads what a live
// agent sends; the gateway sees gaps and asks for a rebirth, ignores QoS 1 redeliveries, and does
// not mistake a new session (new bdSeq) for a gap; the agent answers a rebirth command.
#include <csignal>
#include <random>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/net.h"
#include "support/sparkplug_host.h"
#include "support/test_fleet.h"
#include "support/ws_client.h"

namespace edgemon::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

std::size_t count_kind(const std::vector<ReceivedMessage>& m, const std::string& node, MessageKind kind) {
  std::size_t n = 0;
  for (const auto& r : m) n += (r.topic.node == node && r.topic.kind == kind) ? 1u : 0u;
  return n;
}

const ReceivedMessage* first_of(const std::vector<ReceivedMessage>& m, const std::string& node, MessageKind kind) {
  for (const auto& r : m) {
    if (r.topic.node == node && r.topic.kind == kind) return &r;
  }
  return nullptr;
}

std::string protoc_decode(const TempDir& dir, const std::string& name, const std::string& payload) {
  const std::string path = dir.file(name + ".bin");
  write_file(path, payload);
  const std::string cmd = std::string(EDGEMON_PROTOC) + " --decode=org.eclipse.tahu.protobuf.Payload -I " +
                          EDGEMON_SOURCE_DIR + "/common/proto sparkplug_b.proto < " + path;
  const auto r = run_command({"sh", "-c", cmd}, 10s);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  return r.output;
}

TEST(SparkplugWire, ProtocDecodesLiveBirthDataAndDeath) {
  TestFleet fleet(/*with_gateway=*/false);
  SparkplugHost host(fleet.broker().port(), "test-host");
  host.set_online(true);
  fleet.start_agent({.node_id = "wire-1", .interval_s = 0.2, .config_toml = "[telemetry]\nprimary_host = \"test-host\"\n"});
  ASSERT_TRUE(host.wait_for([](const auto& m) { return count_kind(m, "wire-1", MessageKind::kData) >= 2; }, 15s))
      << fleet.logs();
  ASSERT_TRUE(fleet.agent("wire-1").stop(SIGTERM, 5s));
  ASSERT_TRUE(host.wait_for([](const auto& m) { return count_kind(m, "wire-1", MessageKind::kDeath) >= 1; }, 5s));

  const auto messages = host.messages();
  TempDir dir;
  const std::string birth = protoc_decode(dir, "nbirth", first_of(messages, "wire-1", MessageKind::kBirth)->raw);
  EXPECT_NE(birth.find("name: \"bdSeq\""), std::string::npos) << birth;
  EXPECT_NE(birth.find("name: \"cpu/total\""), std::string::npos) << birth;
  EXPECT_NE(birth.find("alias:"), std::string::npos) << birth;
  EXPECT_NE(birth.find("string_value: \"%\""), std::string::npos) << "the unit property\n" << birth;
  EXPECT_NE(birth.find("seq: 0"), std::string::npos) << birth;

  const std::string data = protoc_decode(dir, "ndata", first_of(messages, "wire-1", MessageKind::kData)->raw);
  EXPECT_NE(data.find("alias:"), std::string::npos) << data;
  EXPECT_EQ(data.find("name:"), std::string::npos) << "NDATA must carry aliases only\n" << data;
  EXPECT_NE(data.find("seq: 1"), std::string::npos) << data;

  const std::string death = protoc_decode(dir, "ndeath", first_of(messages, "wire-1", MessageKind::kDeath)->raw);
  EXPECT_NE(death.find("name: \"bdSeq\""), std::string::npos) << death;
  std::printf("NBIRTH decoded by protoc:\n%s\nNDATA:\n%s\n", birth.substr(0, 600).c_str(), data.substr(0, 300).c_str());
}

TEST(SparkplugWire, AgentAnswersRebirthCommand) {
  TestFleet fleet(/*with_gateway=*/false);
  SparkplugHost host(fleet.broker().port(), "test-host");
  host.set_online(true);
  fleet.start_agent({.node_id = "rebirth-1", .interval_s = 0.2, .config_toml = "[telemetry]\nprimary_host = \"test-host\"\n"});
  ASSERT_TRUE(host.wait_for([](const auto& m) { return count_kind(m, "rebirth-1", MessageKind::kData) >= 1; }, 15s));
  TelemetryMessage cmd;
  cmd.kind = MessageKind::kCommand;
  cmd.timestamp_ms = 1;
  cmd.metrics.push_back(make_metric("Node Control/Rebirth", "", 1.0, 1, MetricType::kBoolean));
  ASSERT_TRUE(host.send_command("rebirth-1", cmd).ok());
  EXPECT_TRUE(host.wait_for([](const auto& m) { return count_kind(m, "rebirth-1", MessageKind::kBirth) >= 2; }, 10s))
      << fleet.logs();
}

// bdSeq (docs/protocol.md): one per session, 0..255, continued across a clean restart, a kill -9
// and a kill -9 during a broker outage; failed connect attempts do not use numbers up.
TEST(SparkplugWire, BdSeqContinuesAcrossRestartsKillsAndOutages) {
  TestFleet fleet(/*with_gateway=*/false);
  const AgentOptions agent{.node_id = "bd-1", .interval_s = 0.2, .config_toml = "[telemetry]\nprimary_host = \"test-host\"\n"};
  const std::string state = fleet.agent_state_dir("bd-1") + "/bdseq";
  auto host = std::make_unique<SparkplugHost>(fleet.broker().port(), "test-host");
  host->set_online(true);
  // The bdSeq of the n-th NBIRTH this host has seen (waits for it).
  const auto birth_bd_seq = [&](std::size_t n) -> std::optional<std::uint64_t> {
    if (!host->wait_for([&](const auto& m) { return count_kind(m, "bd-1", MessageKind::kBirth) >= n; }, 15s)) {
      return std::nullopt;
    }
    std::size_t seen = 0;
    for (const auto& r : host->messages()) {
      if (r.topic.node == "bd-1" && r.topic.kind == MessageKind::kBirth && ++seen == n) return r.message.bd_seq;
    }
    return std::nullopt;
  };

  fleet.start_agent(agent);
  EXPECT_EQ(birth_bd_seq(1), std::optional<std::uint64_t>(0)) << "a first start counts from 0\n" << fleet.logs();
  EXPECT_EQ(read_file(state), "0\n");

  ASSERT_TRUE(fleet.agent("bd-1").stop(SIGTERM, 5s));
  fleet.start_agent(agent);
  EXPECT_EQ(birth_bd_seq(2), std::optional<std::uint64_t>(1)) << "after a clean restart\n" << fleet.logs();

  fleet.agent("bd-1").kill_now();
  fleet.start_agent(agent);
  EXPECT_EQ(birth_bd_seq(3), std::optional<std::uint64_t>(2)) << "after kill -9\n" << fleet.logs();

  // kill -9 during a broker outage; the new process fails to connect a few times first.
  host.reset();
  fleet.broker().stop();
  fleet.agent("bd-1").kill_now();
  fleet.start_agent(agent);
  std::this_thread::sleep_for(3s);  // --reconnect-max 1: several refused attempts
  fleet.broker().restart();
  host = std::make_unique<SparkplugHost>(fleet.broker().port(), "test-host");
  host->set_online(true);
  EXPECT_EQ(birth_bd_seq(1), std::optional<std::uint64_t>(3)) << "failed attempts use no number\n" << fleet.logs();
  EXPECT_EQ(read_file(state), "3\n");

  // 255 is followed by 0; a damaged file starts again at 0 and says so.
  ASSERT_TRUE(fleet.agent("bd-1").stop(SIGTERM, 5s));
  write_file(state, "255\n");
  fleet.start_agent(agent);
  EXPECT_EQ(birth_bd_seq(2), std::optional<std::uint64_t>(0)) << "wraps after 255\n" << fleet.logs();
  ASSERT_TRUE(fleet.agent("bd-1").stop(SIGTERM, 5s));
  write_file(state, "garbage");
  fleet.start_agent(agent);
  EXPECT_EQ(birth_bd_seq(3), std::optional<std::uint64_t>(0)) << fleet.logs();
  EXPECT_NE(fleet.agent("bd-1").log().find("bdSeq file unreadable"), std::string::npos) << fleet.logs();
}

// The gateway's sequence bookkeeping, driven by hand-made messages so each case is exact.
class GatewaySequence : public ::testing::Test {
 protected:
  json health() { return json::parse(http_get(fleet.http_port(), "/api/health")); }
  void publish(MessageKind kind, std::uint64_t seq, std::uint64_t bd_seq, double value) {
    TelemetryMessage m;
    m.kind = kind;
    m.timestamp_ms = 1'763'700'000'000 + static_cast<std::int64_t>(++sent_);
    m.seq = seq;
    m.bd_seq = bd_seq;
    Metric cpu = make_metric("cpu/total", "%", value, m.timestamp_ms);
    cpu.alias = 1;
    m.metrics.push_back(cpu);
    raw_ = encode(Encoding::kSparkplug, m);
    ASSERT_TRUE(publisher.client().publish_and_wait(format_topic("edgemon", kind, "forged-1"), raw_, 1, false, 2s).ok());
  }
  void publish_raw_again() {
    ASSERT_TRUE(publisher.client().publish_and_wait(format_topic("edgemon", MessageKind::kData, "forged-1"), raw_, 1, false, 2s).ok());
  }
  bool wait_health(const std::function<bool(const json&)>& pred) {
    for (int i = 0; i < 100; ++i) {
      if (pred(health())) return true;
      std::this_thread::sleep_for(50ms);
    }
    return false;
  }
  std::size_t commands() {
    std::size_t n = 0;
    for (const auto& r : observer.messages()) n += r.topic.kind == MessageKind::kCommand ? 1u : 0u;
    return n;
  }

  TestFleet fleet;
  SparkplugHost publisher{fleet.broker().port(), "forger"};
  SparkplugHost observer{fleet.broker().port(), "observer"};
  std::string raw_;
  std::uint64_t sent_ = 0;

  void SetUp() override {
    observer.client().stop();
    // Re-create the observer as an NCMD listener.
    MqttOptions o;
    o.port = fleet.broker().port();
    o.client_id = "ncmd-observer";
    ncmd_ = std::make_unique<MqttClient>(o);
    ncmd_->subscribe("spBv1.0/edgemon/NCMD/forged-1", 1);
    ncmd_->on_message([this](MqttIncoming&&) { ++ncmd_count_; });
    ASSERT_TRUE(ncmd_->start().ok());
    for (int i = 0; i < 100 && !(ncmd_->connected() && publisher.connected()); ++i) std::this_thread::sleep_for(50ms);
    ASSERT_TRUE(wait_health([](const json& h) { return h["mqtt_connected"] == true; }));
  }
  std::unique_ptr<MqttClient> ncmd_;
  std::atomic<int> ncmd_count_{0};
};

TEST_F(GatewaySequence, RedeliveryIsNotCountedTwice) {
  publish(MessageKind::kBirth, 0, 1, 10);
  publish(MessageKind::kData, 1, 1, 11);
  publish_raw_again();  // a QoS 1 redelivery carries the same seq
  ASSERT_TRUE(wait_health([](const json& h) { return h["duplicates"] == 1; })) << health().dump();
  const json h = health();
  EXPECT_EQ(h["messages_accepted"], 2);
  EXPECT_EQ(h["sequence_gaps"], 0);
}

TEST_F(GatewaySequence, GapRequestsRebirthButNewSessionDoesNot) {
  publish(MessageKind::kBirth, 0, 1, 10);
  publish(MessageKind::kData, 1, 1, 11);
  publish(MessageKind::kData, 2, 1, 12);
  // A restart: new bdSeq, seq back to 0. Not a gap.
  publish(MessageKind::kBirth, 0, 2, 13);
  publish(MessageKind::kData, 1, 2, 14);
  ASSERT_TRUE(wait_health([](const json& h) { return h["messages_accepted"] == 5; })) << health().dump();
  EXPECT_EQ(health()["sequence_gaps"], 0);
  EXPECT_EQ(ncmd_count_.load(), 0);
  // Lose seq 2..4: the gateway sees 5 after 1, counts a gap and asks for a rebirth.
  publish(MessageKind::kData, 5, 2, 15);
  ASSERT_TRUE(wait_health([](const json& h) { return h["sequence_gaps"] == 1; })) << health().dump();
  for (int i = 0; i < 100 && ncmd_count_.load() == 0; ++i) std::this_thread::sleep_for(50ms);
  EXPECT_EQ(ncmd_count_.load(), 1) << "one NCMD Node Control/Rebirth expected";
  EXPECT_GE(health()["rebirth_requests"].get<int>(), 1);
}

}  // namespace
}  // namespace edgemon::test

namespace edgemon::test {
namespace {

TEST(SparkplugWire, JsonEncodingIsReadableAndDecodedTheSameWay) {
  TestFleet fleet(/*with_gateway=*/false);
  SparkplugHost host(fleet.broker().port(), "test-host");
  host.set_online(true);
  fleet.start_agent({.node_id = "json-1", .interval_s = 0.2,
                     .config_toml = "[telemetry]\nprimary_host = \"test-host\"\nencoding = \"json\"\n"});
  ASSERT_TRUE(host.wait_for([](const auto& m) { return count_kind(m, "json-1", MessageKind::kData) >= 2; }, 15s))
      << fleet.logs();
  const auto messages = resolve_aliases(host.messages());
  const ReceivedMessage* data = first_of(messages, "json-1", MessageKind::kData);
  ASSERT_NE(data, nullptr);
  EXPECT_EQ(data->raw.front(), '{') << data->raw;
  const ReceivedMessage* birth = first_of(messages, "json-1", MessageKind::kBirth);
  ASSERT_NE(birth, nullptr);
  EXPECT_NE(birth->raw.find("\"cpu/total\""), std::string::npos);
  // The decoded JSON carries the same values as Sparkplug would: a numeric CPU reading arrives.
  EXPECT_TRUE(host.wait_for([](const auto& m) {
    for (const auto& r : m) {
      if (r.topic.node == "json-1" && value_of(r.message, "cpu/total").has_value()) return true;
    }
    return false;
  }, 10s)) << fleet.logs();
}

// The agent's own TLS path (Paho ssl_options through our adapter): CA-verified server and a
// client certificate the broker requires.
TEST(SparkplugWire, AgentConnectsOverTlsWithClientCertificate) {
  TempDir ca;
  const auto made = run_command({"sh", std::string(EDGEMON_SOURCE_DIR) + "/gateway/dist/edgemon-make-test-ca", "-d",
                                 ca.path(), "tls-1"}, 60s);
  ASSERT_EQ(made.exit_code, 0) << made.output;
  const std::uint16_t tls_port = free_tcp_port();
  TempDir dir("edgemon-tls");
  MosquittoBroker broker(dir.path(), "listener " + std::to_string(tls_port) + " 127.0.0.1\n"
                                     "cafile " + ca.file("ca.crt") + "\n"
                                     "certfile " + ca.file("server.crt") + "\n"
                                     "keyfile " + ca.file("server.key") + "\n"
                                     "require_certificate true\n"
                                     "user root\n");
  ASSERT_TRUE(wait_for_tcp(tls_port, 10s)) << broker.process().log();
  SparkplugHost host(broker.port(), "test-host");  // on the plain listener
  host.set_online(true);
  const std::string config = dir.file("agent.toml");
  write_file(config, "[telemetry]\nprimary_host = \"test-host\"\n[mqtt]\nca_file = \"" + ca.file("ca.crt") +
                         "\"\ncert_file = \"" + ca.file("tls-1.crt") + "\"\nkey_file = \"" + ca.file("tls-1.key") + "\"\n");
  ChildProcess agent = ChildProcess::start({EDGEMON_AGENT_BIN, "--config", config, "--node-id", "tls-1", "--port",
                                            std::to_string(tls_port), "--interval", "0.2", "--state-dir",
                                            dir.file("agent"), "--reconnect-max", "1"},
                                           dir.file("agent.log"));
  EXPECT_TRUE(host.wait_for([](const auto& m) { return count_kind(m, "tls-1", MessageKind::kData) >= 1; }, 15s))
      << agent.log() << broker.process().log();
  EXPECT_NE(agent.log().find("ssl://127.0.0.1:" + std::to_string(tls_port)), std::string::npos) << agent.log();
}

}  // namespace
}  // namespace edgemon::test

namespace edgemon::test {
namespace {

TEST(GatewayIngest, TenThousandMalformedMessagesAreCountedExactlyAndNothingCrashes) {
  TestFleet fleet;
  MqttOptions o;
  o.port = fleet.broker().port();
  o.client_id = "malformed-publisher";
  MqttClient client(o);
  ASSERT_TRUE(client.start().ok());
  for (int i = 0; i < 100 && !client.connected(); ++i) std::this_thread::sleep_for(50ms);
  ASSERT_TRUE(client.connected());
  for (int i = 0; i < 100; ++i) {
    if (json::parse(http_get(fleet.http_port(), "/api/health"))["mqtt_connected"] == true) break;
    std::this_thread::sleep_for(50ms);
  }

  // Never valid: protobuf starting with wire type 7 (does not exist), or "{" + text without a
  // closing brace (never JSON). Every topic kind, fixed seed.
  std::mt19937_64 rng(20261121);
  const char* kinds[] = {"NBIRTH", "NDATA", "NDEATH"};
  constexpr int kCount = 10'000;
  std::vector<std::shared_ptr<Delivery>> pending;
  for (int i = 0; i < kCount; ++i) {
    std::string payload;
    const std::size_t len = 1 + rng() % 300;
    if (i % 2 == 0) {
      payload.push_back(static_cast<char>(0xff));
      for (std::size_t k = 1; k < len; ++k) payload.push_back(static_cast<char>(rng() % 256));
    } else {
      payload = "{";
      for (std::size_t k = 1; k < len; ++k) payload.push_back(static_cast<char>('a' + rng() % 26));
    }
    const std::string topic = std::string("spBv1.0/edgemon/") + kinds[i % 3] + "/fuzz-" + std::to_string(i % 7);
    auto d = client.publish_tracked(topic, payload, 1);
    ASSERT_TRUE(d.ok()) << d.error().message;
    pending.push_back(*d);
    if (pending.size() == 100) {
      for (auto& p : pending) {
        for (int w = 0; w < 500 && p->state() == Delivery::State::kPending; ++w) std::this_thread::sleep_for(1ms);
      }
      pending.clear();
    }
  }
  json h;
  for (int i = 0; i < 200; ++i) {
    h = json::parse(http_get(fleet.http_port(), "/api/health"));
    if (h["messages_rejected"] == kCount) break;
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(h["messages_rejected"], kCount) << h.dump();
  EXPECT_EQ(h["messages_accepted"], 0) << h.dump();
  std::uint64_t by_reason = 0;
  for (const auto& [reason, n] : h["rejected_by_reason"].items()) by_reason += n.get<std::uint64_t>();
  EXPECT_EQ(by_reason, static_cast<std::uint64_t>(kCount));
  EXPECT_TRUE(fleet.gateway().running()) << fleet.logs();
  client.stop();
}

}  // namespace
}  // namespace edgemon::test
