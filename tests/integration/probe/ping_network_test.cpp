// The ICMP engine against real kernels: loopback, and test hosts in network namespaces this test
// creates (veth pairs, addresses assigned only inside them). Needs root (CAP_NET_ADMIN for the
// namespaces, CAP_NET_RAW for the raw socket); skipped otherwise. Traffic never leaves loopback
// and these namespaces.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <fstream>
#include <future>
#include <regex>
#include <sstream>
#include <thread>

#include "edgemon/probe/check_runner.h"
#include "edgemon/probe/ping_engine.h"
#include "edgemon/probe/probe_command.h"
#include "edgemon/probe/service_checks.h"
#include "edgemon/probe/socket_api.h"
#include "netns.h"

extern char** environ;

namespace edgemon::probe {
namespace {

using namespace std::chrono_literals;
using testing::NetnsSet;
using testing::sh;

const TargetReport* find(std::span<const TargetReport> rs, const std::string& name) {
  for (const TargetReport& r : rs) {
    if (r.name == name) return &r;
  }
  return nullptr;
}

TEST(PingLoopback, Ipv4AndIpv6Answer) {
  if (!testing::running_as_root()) GTEST_SKIP() << "needs root";
  EngineOptions o;
  o.count = 5;
  o.period = 20ms;
  o.timeout = 500ms;
  auto e = PingEngine::create(PosixSocketApi::instance(), SystemClock::instance(), o);
  ASSERT_TRUE(e.ok()) << e.error().message;
  const std::vector<std::string> hosts{"127.0.0.1", "127.0.3.7", "::1"};
  ASSERT_TRUE((*e)->set_targets(hosts).ok());
  ASSERT_TRUE((*e)->run_round().ok());
  for (const TargetReport& r : (*e)->results()) {
    EXPECT_EQ(r.stats.sent, 5u) << r.name;
    EXPECT_EQ(r.stats.received, 5u) << r.name;
    EXPECT_GT(r.stats.min_ms, 0.0) << r.name;
    EXPECT_LT(r.stats.max_ms, 50.0) << r.name;
    EXPECT_EQ(r.health, Health::kUp) << r.name;
  }
  EXPECT_EQ(find((*e)->results(), "127.0.0.1")->stats.ttl, 64);
}

// client ── veth ── router (answers, and "host unreachable" for 10.201.3.0/24)
//        ── veth ── down host (drops all ICMP while `down`)
//        ── veth ── far host (the nfq_delayer impairs its echo requests, IPv4 and IPv6 addressed)
class PingNetwork : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!testing::running_as_root() || sh("command -v nft") != 0) return;
    net_ = new NetnsSet();
    try {
      client_ = net_->add("client");
      router_ = net_->add("router");
      down_ = net_->add("down");
      far_ = net_->add("far");
      net_->link(client_, "cr0", "10.201.2.1/24", router_, "rc0", "10.201.2.2/24");
      net_->link(client_, "cd0", "10.201.4.1/24", down_, "dc0", "10.201.4.2/24");
      net_->link(client_, "cf0", "10.201.1.1/24", far_, "fc0", "10.201.1.2/24");
      net_->exec(client_, "ip route add 10.201.3.0/24 via 10.201.2.2");
      // The router has a forwarding route for 10.201.3.0/24 and rejects it in its forward chain
      // with "host unreachable" (nft reject; an `unreachable` route would be rate-limited to 1/s
      // per source by ip_error, and this kernel has no dummy links to hang the route on).
      net_->exec(router_,
                 "sysctl -qw net.ipv4.ip_forward=1 net.ipv4.icmp_ratelimit=0 && "
                 "ip route add 10.201.3.0/24 via 10.201.2.1 dev rc0");
      const std::string rules = "/tmp/" + net_->prefix() + "-router.nft";
      std::ofstream(rules)
          << "table ip edgemon_router {\n chain forward_reject {\n  type filter hook forward "
             "priority 0;\n"
             "  ip daddr 10.201.3.0/24 reject with icmp type host-unreachable\n }\n}\n";
      net_->exec(router_, "nft -f " + rules);
      std::remove(rules.c_str());
      net_->exec(client_, "ip -6 addr add fd00:201:1::1/64 dev cf0 nodad");
      net_->exec(far_, "ip -6 addr add fd00:201:1::2/64 dev fc0 nodad");
      set_down(true);
    } catch (const std::exception& ex) {
      setup_error_ = ex.what();
    }
  }
  static void TearDownTestSuite() {
    delete net_;
    net_ = nullptr;
  }
  void SetUp() override {
    if (net_ == nullptr) GTEST_SKIP() << "needs root and nft";
    ASSERT_TRUE(setup_error_.empty()) << setup_error_;
    net_->enter(client_);
  }
  void TearDown() override {
    if (net_) net_->leave();
  }
  static void set_down(bool down) {
    const std::string rules = "/tmp/" + net_->prefix() + "-down.nft";
    std::ofstream(rules) << (down ? "table inet edgemon_down {\n chain in {\n  type filter hook "
                                    "input priority 0;\n  ip daddr 10.201.4.2 drop\n }\n}\n"
                                  : "delete table inet edgemon_down\n");
    net_->exec(down_, "nft -f " + rules);
    std::remove(rules.c_str());
  }

  static inline NetnsSet* net_ = nullptr;
  static inline std::string client_, router_, down_, far_, setup_error_;
};

TEST_F(PingNetwork, DownAfterExactlyTheFailureThresholdUnreachableDistinguishedThenRecovery) {
  EngineOptions o;
  o.count = 2;
  o.period = 50ms;
  o.timeout = 300ms;
  o.family = AF_INET;
  o.health = HealthPolicy{3, 2, 20.0, 0.0};
  auto e = PingEngine::create(PosixSocketApi::instance(), SystemClock::instance(), o);
  ASSERT_TRUE(e.ok()) << e.error().message;
  PingEngine& engine = **e;
  const std::vector<std::string> hosts{"10.201.2.2", "10.201.4.2", "10.201.3.5"};
  ASSERT_TRUE(engine.set_targets(hosts).ok());
  const Health want[] = {Health::kUnknown, Health::kUnknown, Health::kDown};
  for (int round = 0; round < 3; ++round) {
    ASSERT_TRUE(engine.run_round().ok());
    EXPECT_EQ(find(engine.results(), "10.201.2.2")->health, Health::kUp);
    EXPECT_EQ(find(engine.results(), "10.201.4.2")->health, want[round]) << "round " << round + 1;
    EXPECT_EQ(find(engine.results(), "10.201.3.5")->health, want[round]) << "round " << round + 1;
  }
  const TargetReport* down = find(engine.results(), "10.201.4.2");
  const TargetReport* unreach = find(engine.results(), "10.201.3.5");
  EXPECT_EQ(down->failure, FailureKind::kTimeout);
  EXPECT_EQ(unreach->failure, FailureKind::kUnreachable);
  EXPECT_EQ(unreach->stats.unreachable, 2u);
  EXPECT_EQ(find(engine.results(), "10.201.2.2")->stats.ttl, 64);

  set_down(false);
  ASSERT_TRUE(engine.run_round().ok());
  EXPECT_EQ(find(engine.results(), "10.201.4.2")->health, Health::kDown);  // 1 of 2 good rounds
  ASSERT_TRUE(engine.run_round().ok());
  EXPECT_EQ(find(engine.results(), "10.201.4.2")->health, Health::kUp);
  EXPECT_EQ(find(engine.results(), "10.201.4.2")->stats.received, 2u);
  set_down(true);
}

TEST_F(PingNetwork, TcpCheckTimesOutOnASilentHostAndIsRefusedByAnswerer) {
  CheckResult r = run_tcp_check({"10.201.4.2", 80, 300ms});  // the down host drops everything
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.detail, "timeout");
  EXPECT_GE(r.duration_ms, 290.0);
  r = run_tcp_check({"10.201.2.2", 80, 300ms});  // the router answers with a RST
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.detail, "connection refused");

  // The same through the poll-driven CheckRunner (curl multi).
  auto runner = CheckRunner::create(SystemClock::instance());
  ASSERT_TRUE(runner.ok());
  std::vector<CheckSpec> checks(2);
  checks[0].name = "silent";
  checks[0].tcp = {"10.201.4.2", 80, 300ms};
  checks[1].name = "rst";
  checks[1].tcp = {"10.201.2.2", 80, 300ms};
  (*runner)->set_checks(checks);
  ASSERT_TRUE((*runner)->run_round().ok());
  EXPECT_EQ((*runner)->results()[0].result.detail, "timeout");
  EXPECT_GE((*runner)->results()[0].result.duration_ms, 290.0);
  EXPECT_EQ((*runner)->results()[1].result.detail, "connection refused");
}

TEST_F(PingNetwork, UnprivilegedSocketFollowsPingGroupRange) {
  net_->exec(client_, "sysctl -qw net.ipv4.ping_group_range=\"1 0\"");
  auto refused =
      IcmpSocket::open(PosixSocketApi::instance(), AF_INET, ModePreference::kUnprivilegedOnly);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("net.ipv4.ping_group_range"), std::string::npos);

  net_->exec(client_, "sysctl -qw net.ipv4.ping_group_range=\"0 2147483647\"");
  EngineOptions o;
  o.count = 3;
  o.period = 10ms;
  o.timeout = 300ms;
  o.family = AF_INET;
  o.mode = ModePreference::kUnprivilegedOnly;
  auto e = PingEngine::create(PosixSocketApi::instance(), SystemClock::instance(), o);
  ASSERT_TRUE(e.ok()) << e.error().message;
  EXPECT_EQ((*e)->mode(), SocketMode::kUnprivileged);
  const std::vector<std::string> hosts{"10.201.2.2", "10.201.4.2"};
  ASSERT_TRUE((*e)->set_targets(hosts).ok());
  ASSERT_TRUE((*e)->run_round().ok());
  EXPECT_EQ(find((*e)->results(), "10.201.2.2")->stats.received, 3u);
  EXPECT_EQ(find((*e)->results(), "10.201.4.2")->stats.received, 0u);
  net_->exec(client_, "sysctl -qw net.ipv4.ping_group_range=\"1 0\"");
}

TEST_F(PingNetwork, Ipv6OverVeth) {
  EngineOptions o;
  o.count = 3;
  o.period = 10ms;
  o.timeout = 500ms;
  auto e = PingEngine::create(PosixSocketApi::instance(), SystemClock::instance(), o);
  ASSERT_TRUE(e.ok()) << e.error().message;
  const std::vector<std::string> hosts{"fd00:201:1::2"};
  ASSERT_TRUE((*e)->set_targets(hosts).ok());
  ASSERT_TRUE((*e)->run_round().ok());
  EXPECT_EQ((*e)->results()[0].stats.received, 3u);
}

TEST_F(PingNetwork, ProbeCommandExitsNonZeroWhenATargetIsDown) {
  auto run = [](std::vector<std::string> args, std::string& out) {
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    std::ostringstream o, err;
    const int rc = run_probe_command(static_cast<int>(argv.size()), argv.data(), o, err);
    out = o.str() + err.str();
    return rc;
  };
  std::string out;
  EXPECT_EQ(run({"probe", "-c", "3", "-p", "20", "-t", "300", "10.201.2.2"}, out), 0) << out;
  EXPECT_NE(out.find("10.201.2.2 : xmt/rcv/%loss = 3/3/0%, min/avg/max = "), std::string::npos)
      << out;
  EXPECT_NE(out.find(", UP"), std::string::npos) << out;
  EXPECT_EQ(run({"probe", "--count", "2", "-p", "20", "-t", "300", "10.201.2.2", "10.201.4.2",
                 "10.201.3.5"},
                out),
            1)
      << out;
  EXPECT_NE(out.find("10.201.4.2 : xmt/rcv/%loss = 2/0/100%, DOWN (timeout)"), std::string::npos)
      << out;
  EXPECT_NE(out.find("10.201.3.5 : xmt/rcv/%loss = 2/0/100%, 2 unreachable, DOWN (unreachable)"),
            std::string::npos)
      << out;
  std::cout << out;
}

pid_t spawn(const std::vector<std::string>& args, const std::string& out_path) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = -1;
  if (posix_spawnp(&pid, argv[0], &fa, nullptr, argv.data(), environ) != 0) pid = -1;
  posix_spawn_file_actions_destroy(&fa);
  return pid;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Acceptance: a host delayed 50 ± 5 ms with 10 % loss, 1,000 probes. edgemon and fping run at the
// same time against it; the delayer impairs probe number s identically for both, so the means
// differ only by measurement. Mean RTT within ±0.5 ms of fping; loss inside the binomial 95 %
// interval and equal to what the delayer dropped.
TEST_F(PingNetwork, DelayedLossyHostMatchesFping) {
  if (sh("command -v fping") != 0) GTEST_SKIP() << "needs fping";
  if (std::string(EDGEMON_NFQ_DELAYER).empty() || sh("command -v iptables") != 0) {
    GTEST_SKIP() << "needs iptables and libnetfilter-queue-dev (nfq_delayer)";
  }
  const std::string dir = "/tmp/" + net_->prefix();
  sh("mkdir -p " + dir);
  // iptables' NFQUEUE target (nft's own `queue` expression is not built into this kernel).
  net_->exec(far_, "iptables -A INPUT -p icmp --icmp-type echo-request -j NFQUEUE --queue-num 3");
  const std::string stats = dir + "/delayer.stats";
  const pid_t delayer = spawn({"ip", "netns", "exec", far_, EDGEMON_NFQ_DELAYER, "--queue", "3",
                               "--delay-ms", "50", "--jitter-ms", "5", "--loss", "0.10", "--seed",
                               "20261121", "--max-seconds", "90", "--stats", stats},
                              dir + "/delayer.log");
  ASSERT_GT(delayer, 0);
  for (int i = 0; i < 100 && slurp(dir + "/delayer.log").find("ready") == std::string::npos; ++i)
    std::this_thread::sleep_for(50ms);
  ASSERT_NE(slurp(dir + "/delayer.log").find("ready"), std::string::npos)
      << slurp(dir + "/delayer.log");

  constexpr std::uint32_t kProbes = 1000;
  const pid_t fping = spawn({"ip", "netns", "exec", client_, "fping", "-c", std::to_string(kProbes),
                             "-p", "10", "-t", "1000", "-q", "10.201.1.2"},
                            dir + "/fping.log");
  ASSERT_GT(fping, 0);
  EngineOptions o;
  o.count = kProbes;
  o.period = 10ms;
  o.timeout = 1000ms;
  o.family = AF_INET;
  auto e = PingEngine::create(PosixSocketApi::instance(), SystemClock::instance(), o);
  ASSERT_TRUE(e.ok()) << e.error().message;
  const std::vector<std::string> hosts{"10.201.1.2"};
  ASSERT_TRUE((*e)->set_targets(hosts).ok());
  ASSERT_TRUE((*e)->run_round().ok());
  int st = 0;
  for (int i = 0; i < 300 && waitpid(fping, &st, WNOHANG) == 0; ++i)
    std::this_thread::sleep_for(50ms);
  if (waitpid(fping, &st, WNOHANG) == 0) {
    kill(fping, SIGKILL);
    waitpid(fping, &st, 0);
  }
  kill(delayer, SIGTERM);
  waitpid(delayer, &st, 0);
  net_->exec(far_, "iptables -F INPUT");

  const RoundStats& ours = (*e)->results()[0].stats;
  const std::string fping_out = slurp(dir + "/fping.log");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(
      fping_out, m, std::regex(R"(= (\d+)/(\d+)/\d+%, min/avg/max = ([\d.]+)/([\d.]+)/([\d.]+))")))
      << fping_out;
  const double fping_avg = std::stod(m[4]);
  const unsigned fping_rcv = static_cast<unsigned>(std::stoul(m[2]));
  // The delayer's own account of our probes.
  std::ifstream sf(stats);
  unsigned ident = 0;
  unsigned long long accepted = 0, dropped = 0, our_dropped = 0;
  double delay_sum = 0, true_mean = 0;
  while (sf >> ident >> accepted >> dropped >> delay_sum) {
    if (ident == (static_cast<unsigned>(getpid()) & 0xffff)) {
      our_dropped = dropped;
      true_mean = delay_sum / static_cast<double>(accepted);
    }
  }
  const double n = kProbes, p = 0.10;
  const double lo = n * p - 1.96 * std::sqrt(n * p * (1 - p)),
               hi = n * p + 1.96 * std::sqrt(n * p * (1 - p));
  const double lost = static_cast<double>(ours.sent - ours.received);
  std::printf(
      "edgemon: sent %u received %u loss %.1f%% avg %.3f ms (median %.3f p95 %.3f sd %.3f jitter "
      "%.3f)\n"
      "fping:   received %u avg %.3f ms\napplied delay mean %.3f ms, delayer dropped %llu of ours; "
      "binomial 95%% interval for loss: [%.1f, %.1f]\n",
      ours.sent, ours.received, ours.loss_pct, ours.avg_ms, ours.median_ms, ours.p95_ms,
      ours.stddev_ms, ours.jitter_ms, fping_rcv, fping_avg, true_mean, our_dropped, lo, hi);
  EXPECT_EQ(ours.sent, kProbes);
  EXPECT_NEAR(ours.avg_ms, fping_avg, 0.5);
  EXPECT_GE(lost, lo);
  EXPECT_LE(lost, hi);
  EXPECT_EQ(static_cast<unsigned long long>(lost), our_dropped);
  EXPECT_GE(ours.min_ms, 45.0);
  EXPECT_LT(ours.max_ms, 200.0);  // sanity only: scheduling on a shared CI box adds tail latency
  sh("rm -rf " + dir);
}

}  // namespace
}  // namespace edgemon::probe
