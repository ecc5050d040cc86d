// The shipped broker configuration, proven against a real mosquitto: no anonymous access,
// per-node credentials from edgemon-provision, the cross-node ACL matrix of 5 nodes, wills,
// the gateway account, credential rotation with reload, and the TLS listener.
//
// A denied publish is acknowledged like an accepted one (MQTT 3.1.1), so denials are proven
// where it matters: at subscribers that would receive the message if the broker let it through.
#include <mqtt/async_client.h>
#include <signal.h>

#include <algorithm>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "secure_broker.h"

namespace edgemon::test {
namespace {

using namespace std::chrono_literals;
using Msg = std::pair<std::string, std::string>;  // topic, payload

const std::vector<std::string> kNodes = {"pi-1", "pi-2", "pi-3", "pi-4", "pi-5"};
const std::string kGroup = "site-a";
const std::string kGateway = "edgemon-gateway";
const std::string kState = "spBv1.0/STATE/" + kGateway;
const std::vector<std::string> kNodeKinds = {"NBIRTH", "NDATA", "NDEATH"};

std::string topic(const std::string& kind, const std::string& node, const std::string& group = kGroup) {
  return "spBv1.0/" + group + "/" + kind + "/" + node;
}

// An MQTT 3.1.1 client (Paho) that records every message it receives.
class Client {
 public:
  Client(const std::string& uri, const std::string& id, const std::string& user, const std::string& password)
      : client_(uri, id) {
    client_.set_message_callback([this](mqtt::const_message_ptr m) {
      std::lock_guard lock(mu_);
      got_.insert({m->get_topic(), m->to_string()});
      cv_.notify_all();
    });
    auto opts = mqtt::connect_options_builder()
                    .user_name(user)
                    .password(password)
                    .clean_session(true)
                    .mqtt_version(MQTTVERSION_3_1_1)
                    .connect_timeout(5s)
                    .finalize();
    // Not awaited here: Paho's single network thread takes a second or two to pick up each new
    // socket, so the tests start all connects first and then await them together.
    connecting_ = client_.connect(opts);
  }
  void await_connected() {
    connecting_->wait_for(10s);
    if (!client_.is_connected()) throw std::runtime_error("client " + client_.get_client_id() + " did not connect");
  }
  ~Client() {
    try {
      if (client_.is_connected()) client_.disconnect()->wait_for(5s);
    } catch (...) {
    }
  }
  void subscribe(const std::string& filter) { ASSERT_TRUE(client_.subscribe(filter, 1)->wait_for(5s)); }
  // QoS 1; returns once the broker acknowledged (which it also does for a denied publish).
  mqtt::delivery_token_ptr publish(const std::string& t, const std::string& payload, bool retained = false) {
    return client_.publish(t, payload.data(), payload.size(), 1, retained);
  }
  bool wait_for(const std::set<Msg>& expected, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] {
      return std::includes(got_.begin(), got_.end(), expected.begin(), expected.end());
    });
  }
  std::set<Msg> got() {
    std::lock_guard lock(mu_);
    return got_;
  }

 private:
  mqtt::async_client client_;
  mqtt::token_ptr connecting_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::set<Msg> got_;
};

std::string describe(const std::set<Msg>& msgs) {
  std::string s;
  for (const auto& [t, p] : msgs) s += "  " + t + " '" + p + "'\n";
  return s.empty() ? "  (none)\n" : s;
}

std::set<Msg> minus(const std::set<Msg>& a, const std::set<Msg>& b) {
  std::set<Msg> d;
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::inserter(d, d.begin()));
  return d;
}

class BrokerTest : public ::testing::Test {
 protected:
  void SetUp() override { broker_ = std::make_unique<SecureBroker>(dir_.path(), kNodes); }
  void TearDown() override {
    if (HasFailure()) std::fprintf(stderr, "broker log: %s/broker.log\n", dir_.path().c_str());
  }

  std::unique_ptr<Client> connect(const std::string& user) {
    auto c = std::make_unique<Client>(broker_->uri(), user, user, broker_->password(user));
    c->await_connected();
    return c;
  }
  // mosquitto_pub on the plain listener; extra arguments appended.
  CommandResult pub(std::vector<std::string> args, std::uint16_t port = 0) {
    std::vector<std::string> argv = {EDGEMON_MOSQUITTO_PUB, "-h", "127.0.0.1", "-p",
                                     std::to_string(port != 0 ? port : broker_->port()), "-q", "1"};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_command(argv, 10s);
  }

  TempDir dir_{"edgemon-broker"};
  std::unique_ptr<SecureBroker> broker_;
};

TEST_F(BrokerTest, AnonymousConnectIsRefused) {
  const CommandResult r = pub({"-t", topic("NDATA", "pi-1"), "-m", "anon"});
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("not authorised"), std::string::npos) << r.output;
  // Also with a user name but no password, and on the TLS listener with a valid certificate.
  const CommandResult no_pw = pub({"-u", "pi-1", "-t", topic("NDATA", "pi-1"), "-m", "x"});
  EXPECT_NE(no_pw.exit_code, 0) << no_pw.output;
  const std::string tls = broker_->tls_dir();
  const CommandResult anon_tls = pub({"--cafile", tls + "/ca.crt", "--cert", tls + "/pi-1.crt", "--key",
                                      tls + "/pi-1.key", "-t", topic("NDATA", "pi-1"), "-m", "anon"},
                                     broker_->tls_port());
  EXPECT_NE(anon_tls.exit_code, 0) << anon_tls.output;
  EXPECT_NE(anon_tls.output.find("not authorised"), std::string::npos) << anon_tls.output;
}

TEST_F(BrokerTest, WrongPasswordAndUnknownUserAreRefused) {
  const CommandResult wrong = pub({"-u", "pi-1", "-P", broker_->password("pi-2"), "-t", topic("NDATA", "pi-1"), "-m", "x"});
  EXPECT_NE(wrong.exit_code, 0) << wrong.output;
  EXPECT_NE(wrong.output.find("not authorised"), std::string::npos) << wrong.output;
  const CommandResult unknown = pub({"-u", "pi-9", "-P", broker_->password("pi-1"), "-t", topic("NDATA", "pi-9"), "-m", "x"});
  EXPECT_NE(unknown.exit_code, 0) << unknown.output;
  const CommandResult right = pub({"-u", "pi-1", "-P", broker_->password("pi-1"), "-t", topic("NDATA", "pi-1"), "-m", "x"});
  EXPECT_EQ(right.exit_code, 0) << right.output;
}

// Every ordered pair (A, B) of 5 nodes: A's NBIRTH/NDATA/NDEATH under B's id never reach the
// gateway; A's own do. No node can send NCMD, write STATE or edgemon/#, or read what is not its
// own; the gateway's NCMD reaches exactly its node; every node reads the retained STATE.
TEST_F(BrokerTest, CrossNodeAclMatrixOfFiveNodes) {
  auto gateway = connect(kGateway);
  gateway->subscribe("spBv1.0/#");
  gateway->subscribe("edgemon/#");
  ASSERT_TRUE(gateway->publish(kState, "{\"online\":true}", true)->wait_for(5s));

  std::map<std::string, std::unique_ptr<Client>> nodes;
  for (const std::string& a : kNodes) {
    nodes[a] = std::make_unique<Client>(broker_->uri(), a, a, broker_->password(a));
  }
  for (const std::string& a : kNodes) {
    nodes[a]->await_connected();
    nodes[a]->subscribe("spBv1.0/#");  // delivery is filtered per message by the ACL
    nodes[a]->subscribe("edgemon/#");
    for (const std::string& b : kNodes) nodes[a]->subscribe(topic("NCMD", b));
  }

  // Each node: first everything it must not do, then its own topics, all QoS 1, all acknowledged.
  std::vector<mqtt::delivery_token_ptr> tokens;
  for (const std::string& a : kNodes) {
    auto& c = *nodes[a];
    for (const std::string& b : kNodes) {
      if (b == a) continue;
      for (const std::string& kind : kNodeKinds) tokens.push_back(c.publish(topic(kind, b), a + ">" + b));
      tokens.push_back(c.publish(topic("NCMD", b), a + ">" + b));
    }
    tokens.push_back(c.publish(topic("NCMD", a), a + ">" + a));  // not even to itself
    tokens.push_back(c.publish(kState, a + ">state", true));
    tokens.push_back(c.publish("spBv1.0/STATE/" + a, a + ">own-state", true));
    tokens.push_back(c.publish("edgemon/nodes/" + a, a + ">json", true));
    for (const std::string& kind : kNodeKinds) tokens.push_back(c.publish(topic(kind, a), a + ">" + a));
  }
  for (auto& t : tokens) ASSERT_TRUE(t->wait_for(10s));
  // The gateway commands every node after all node publishes were handled by the broker.
  for (const std::string& b : kNodes) ASSERT_TRUE(gateway->publish(topic("NCMD", b), "gateway>" + b)->wait_for(5s));
  ASSERT_TRUE(gateway->publish("edgemon/nodes/summary", "gateway-json")->wait_for(5s));

  std::set<Msg> gateway_expected = {{kState, "{\"online\":true}"}, {"edgemon/nodes/summary", "gateway-json"}};
  for (const std::string& a : kNodes) {
    for (const std::string& kind : kNodeKinds) gateway_expected.insert({topic(kind, a), a + ">" + a});
  }
  EXPECT_TRUE(gateway->wait_for(gateway_expected, 10s)) << "missing at the gateway:\n"
                                                        << describe(minus(gateway_expected, gateway->got()));
  std::map<std::string, std::set<Msg>> node_expected;
  for (const std::string& a : kNodes) {
    node_expected[a] = {{kState, "{\"online\":true}"}, {topic("NCMD", a), "gateway>" + a}};
    EXPECT_TRUE(nodes[a]->wait_for(node_expected[a], 10s))
        << a << " is missing:\n" << describe(minus(node_expected[a], nodes[a]->got()));
  }
  // Messages from one connection are routed in order, and the allowed ones came last: anything
  // denied-but-leaked would be here by now. A short grace period covers the other connections.
  std::this_thread::sleep_for(200ms);
  const std::set<Msg> leaked_to_gateway = minus(gateway->got(), gateway_expected);
  EXPECT_TRUE(leaked_to_gateway.empty()) << "the gateway received what the ACL must deny:\n"
                                         << describe(leaked_to_gateway);
  for (const std::string& a : kNodes) {
    const std::set<Msg> leaked = minus(nodes[a]->got(), node_expected[a]);
    EXPECT_TRUE(leaked.empty()) << a << " received what the ACL must deny:\n" << describe(leaked);
  }
  // The broker saw the denials (its log names each one): 5 nodes x (4 x 4 + 4) = 100.
  const std::string log = broker_->log();
  std::size_t denied = 0;
  for (std::size_t at = log.find("Denied PUBLISH"); at != std::string::npos; at = log.find("Denied PUBLISH", at + 1)) ++denied;
  EXPECT_EQ(denied, 100u);
}

// NDEATH is the will. A will on another node's topic is accepted at connect but never delivered;
// one's own is delivered when the connection drops. (One connection per account at a time: the
// broker makes the user name the client id, so each phase uses each node once.)
TEST_F(BrokerTest, WillsOnlyOnOwnDeathTopic) {
  auto gateway = connect(kGateway);
  gateway->subscribe("spBv1.0/#");
  std::set<Msg> expected;
  for (const bool own : {false, true}) {
    const std::size_t log_from = broker_->log().size();  // this phase's part of the broker log
    std::vector<ChildProcess> holders;
    std::vector<std::string> subacks;
    for (std::size_t i = 0; i < kNodes.size(); ++i) {
      const std::string& a = kNodes[i];
      const std::string& target = own ? a : kNodes[(i + 1) % kNodes.size()];
      holders.push_back(ChildProcess::start(
          {EDGEMON_MOSQUITTO_SUB, "-h", "127.0.0.1", "-p", std::to_string(broker_->port()), "-u", a, "-P",
           broker_->password(a), "-t", topic("NCMD", a), "--will-topic", topic("NDEATH", target),
           "--will-payload", a + ">" + target + " will", "--will-qos", "1"},
          dir_.file(a + "-will-" + target + ".log")));
      // The broker names the client by its user name (use_username_as_clientid).
      subacks.push_back("Sending SUBACK to " + a + "\n");
      if (own) expected.insert({topic("NDEATH", a), a + ">" + a + " will"});
    }
    // Wait until the broker acknowledged every holder's subscription (mosquitto_sub's own output
    // is block-buffered in a file), then drop them all without DISCONNECT.
    const auto count_in_log = [&](const std::string& what) {
      const std::string log = broker_->log();
      std::size_t n = 0;
      for (std::size_t at = log.find(what, log_from); at != std::string::npos; at = log.find(what, at + 1)) ++n;
      return n;
    };
    const auto eventually = [](const std::function<bool()>& f) {
      for (auto until = std::chrono::steady_clock::now() + 10s; !f();) {
        if (std::chrono::steady_clock::now() >= until) return false;
        std::this_thread::sleep_for(20ms);
      }
      return true;
    };
    for (const std::string& line : subacks) {
      ASSERT_TRUE(eventually([&] { return count_in_log(line) == 1; })) << line << " not in " << broker_->log();
    }
    for (auto& h : holders) h.kill_now();
    // Before the next phase connects the same accounts again, the broker must have seen these go.
    ASSERT_TRUE(eventually([&] { return count_in_log("closed its connection") == kNodes.size(); }));
  }
  EXPECT_TRUE(gateway->wait_for(expected, 10s)) << "missing:\n" << describe(minus(expected, gateway->got()));
  std::this_thread::sleep_for(200ms);
  const std::set<Msg> leaked = minus(gateway->got(), expected);
  EXPECT_TRUE(leaked.empty()) << "foreign wills delivered:\n" << describe(leaked);
}

// A node that connects with another node's client id does not take over that node's session:
// the broker uses the user name as the client id.
TEST_F(BrokerTest, ClientIdCannotBeHijacked) {
  auto gateway = std::make_unique<Client>(broker_->uri(), kGateway, kGateway, broker_->password(kGateway));
  auto victim = std::make_unique<Client>(broker_->uri(), "pi-2", "pi-2", broker_->password("pi-2"));
  gateway->await_connected();
  victim->await_connected();
  gateway->subscribe("spBv1.0/#");
  victim->subscribe(topic("NCMD", "pi-2"));
  const CommandResult r = pub({"-u", "pi-1", "-P", broker_->password("pi-1"), "-i", "pi-2", "-t",
                               topic("NDATA", "pi-1"), "-m", "from-pi-1-as-client-pi-2"});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  ASSERT_TRUE(gateway->publish(topic("NCMD", "pi-2"), "still-there")->wait_for(5s));
  EXPECT_TRUE(victim->wait_for({{topic("NCMD", "pi-2"), "still-there"}}, 5s));
  const std::set<Msg> at_gateway = {{topic("NDATA", "pi-1"), "from-pi-1-as-client-pi-2"}};
  EXPECT_TRUE(gateway->wait_for(at_gateway, 5s)) << describe(gateway->got());
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(gateway->got(), at_gateway) << "the victim's will fired:\n" << describe(gateway->got());
}

// edgemon-provision against the running broker: create, rotate and remove, each followed by its
// SIGHUP reload (through the pid file) and checked by connecting.
TEST_F(BrokerTest, ProvisionCreatesRotatesAndRemovesWithReload) {
  const auto provision = [&](std::vector<std::string> args) {
    args.insert(args.end(), {"--passwd-file", broker_->passwd_file(), "--pid-file", broker_->pid_file()});
    return run_dist_script("edgemon-provision", args);
  };
  const auto can_publish = [&](const std::string& password) {
    return pub({"-u", "pi-new", "-P", password, "-t", topic("NDATA", "pi-new"), "-m", "x"}).exit_code == 0;
  };
  // The reload is asynchronous: poll until the broker agrees.
  const auto eventually = [](const std::function<bool()>& f) {
    for (auto until = std::chrono::steady_clock::now() + 5s; std::chrono::steady_clock::now() < until;) {
      if (f()) return true;
      std::this_thread::sleep_for(50ms);
    }
    return f();
  };

  const CommandResult created = provision({"node", "pi-new"});
  ASSERT_EQ(created.exit_code, 0) << created.output;
  EXPECT_NE(created.output.find("reloaded"), std::string::npos) << created.output;
  EXPECT_NE(created.output.find("username = \"pi-new\""), std::string::npos) << created.output;
  const std::string first = password_from_snippet(created.output);
  ASSERT_EQ(first.size(), 32u) << created.output;
  EXPECT_TRUE(eventually([&] { return can_publish(first); }));

  const CommandResult rotated = provision({"node", "pi-new"});
  ASSERT_EQ(rotated.exit_code, 0) << rotated.output;
  EXPECT_NE(rotated.output.find("rotated"), std::string::npos) << rotated.output;
  const std::string second = password_from_snippet(rotated.output);
  ASSERT_FALSE(second.empty());
  EXPECT_NE(first, second);
  EXPECT_TRUE(eventually([&] { return can_publish(second) && !can_publish(first); }));

  const CommandResult removed = provision({"remove", "pi-new"});
  ASSERT_EQ(removed.exit_code, 0) << removed.output;
  EXPECT_TRUE(eventually([&] { return !can_publish(second); }));

  // Bad input is refused before touching the password file.
  const std::string before = read_file(broker_->passwd_file());
  const std::vector<std::string> bad_ids = {"a/b", "a+b", "#", "", "edgemon-gateway", std::string(65, 'x')};
  for (const std::string& bad : bad_ids) {
    const CommandResult r = provision({"node", bad});
    EXPECT_NE(r.exit_code, 0) << "'" << bad << "' was accepted: " << r.output;
  }
  EXPECT_EQ(read_file(broker_->passwd_file()), before);
  // Other accounts were untouched.
  EXPECT_EQ(pub({"-u", "pi-1", "-P", broker_->password("pi-1"), "-t", topic("NDATA", "pi-1"), "-m", "x"}).exit_code, 0);
}

// TLS listener: the test CA's server certificate is accepted by a client that verifies it, and a
// client verifying against another CA, or presenting no client certificate, does not connect.
TEST_F(BrokerTest, TlsListener) {
  auto gateway = connect(kGateway);
  gateway->subscribe("spBv1.0/#");
  const std::string tls = broker_->tls_dir();
  const std::string pw = broker_->password("pi-1");
  const std::vector<std::string> creds = {"-u", "pi-1", "-P", pw};
  const auto tls_pub = [&](std::vector<std::string> tls_args, const std::string& payload) {
    std::vector<std::string> args = creds;
    args.insert(args.end(), tls_args.begin(), tls_args.end());
    args.insert(args.end(), {"-t", topic("NDATA", "pi-1"), "-m", payload});
    return pub(args, broker_->tls_port());
  };
  const std::vector<std::string> client_cert = {"--cert", tls + "/pi-1.crt", "--key", tls + "/pi-1.key"};

  std::vector<std::string> good = {"--cafile", tls + "/ca.crt"};
  good.insert(good.end(), client_cert.begin(), client_cert.end());
  const CommandResult ok = tls_pub(good, "over-tls");
  EXPECT_EQ(ok.exit_code, 0) << ok.output;
  // Also by name: the server certificate is for localhost as well as 127.0.0.1.
  std::vector<std::string> by_name = {"-h", "localhost", "--cafile", tls + "/ca.crt"};
  by_name.insert(by_name.end(), client_cert.begin(), client_cert.end());
  const CommandResult named = tls_pub(by_name, "over-tls-localhost");
  EXPECT_EQ(named.exit_code, 0) << named.output;

  const std::string other = dir_.file("other-ca");
  const CommandResult made = run_dist_script("edgemon-make-test-ca", {"-d", other, "--days", "2", "pi-1"});
  ASSERT_EQ(made.exit_code, 0) << made.output;
  const CommandResult wrong_ca = tls_pub({"--cafile", other + "/ca.crt", "--cert", tls + "/pi-1.crt", "--key",
                                          tls + "/pi-1.key"}, "wrong-ca");
  EXPECT_NE(wrong_ca.exit_code, 0) << wrong_ca.output;
  const CommandResult no_cert = tls_pub({"--cafile", tls + "/ca.crt"}, "no-client-cert");
  EXPECT_NE(no_cert.exit_code, 0) << no_cert.output;
  const CommandResult foreign_cert = tls_pub({"--cafile", tls + "/ca.crt", "--cert", other + "/pi-1.crt",
                                              "--key", other + "/pi-1.key"}, "foreign-client-cert");
  EXPECT_NE(foreign_cert.exit_code, 0) << foreign_cert.output;
  const CommandResult plain = pub({"-u", "pi-1", "-P", pw, "-t", topic("NDATA", "pi-1"), "-m", "plain-on-tls-port"},
                                  broker_->tls_port());
  EXPECT_NE(plain.exit_code, 0) << plain.output;

  const std::set<Msg> expected = {{topic("NDATA", "pi-1"), "over-tls"}, {topic("NDATA", "pi-1"), "over-tls-localhost"}};
  EXPECT_TRUE(gateway->wait_for(expected, 5s)) << describe(gateway->got());
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(gateway->got(), expected) << describe(gateway->got());
}

}  // namespace
}  // namespace edgemon::test
