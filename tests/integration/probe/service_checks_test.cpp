// TCP, HTTP(S) and gRPC health checks against real local servers on 127.0.0.1: a listening
// socket, Python's http.server (plain and TLS with a self-signed certificate), and a gRPC server
// from Debian's python3-grpcio. Skipped when /usr/bin/python3 lacks grpc or openssl is missing.
#include "edgemon/probe/service_checks.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "edgemon/probe/check_runner.h"
#include "netns.h"

namespace edgemon::probe {
namespace {

using namespace std::chrono_literals;

std::uint16_t listening_port(int& fd) {
  fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd, 4) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    return 0;
  }
  return ntohs(a.sin_port);
}

TEST(TcpCheck, ConnectsToAListenerAndIsRefusedByAClosedPort) {
  int fd = -1;
  const std::uint16_t port = listening_port(fd);
  ASSERT_NE(port, 0);
  CheckResult r = run_tcp_check({"127.0.0.1", port, 1000ms});
  EXPECT_TRUE(r.ok) << r.detail;
  EXPECT_GE(r.duration_ms, 0.0);
  ::close(fd);  // now nothing listens there
  r = run_tcp_check({"127.0.0.1", port, 1000ms});
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.detail, "connection refused");
  r = run_tcp_check({"::1", port, 1000ms});
  EXPECT_FALSE(r.ok);
}

class Servers : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (testing::sh("/usr/bin/python3 -c 'import grpc' && command -v openssl") != 0) return;
    dir_ = "/tmp/edgemon-probe-checks-" + std::to_string(::getpid());
    testing::sh("mkdir -p " + dir_);
    if (testing::sh("openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost "
                    "-addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout " +
                    dir_ + "/key.pem -out " + dir_ + "/cert.pem") != 0) {
      return;
    }
    int to_child[2], from_child[2];
    if (::pipe(to_child) != 0 || ::pipe(from_child) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(to_child[0], 0);
      ::dup2(from_child[1], 1);
      ::close(to_child[1]);
      ::close(from_child[0]);
      ::execl("/usr/bin/python3", "python3", EDGEMON_CHECK_SERVERS, (dir_ + "/cert.pem").c_str(),
              (dir_ + "/key.pem").c_str(), "--max-seconds", "150", static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(to_child[0]);
    ::close(from_child[1]);
    stdin_fd_ = to_child[1];
    FILE* out = ::fdopen(from_child[0], "r");
    unsigned h = 0, s = 0, g = 0;
    if (out && std::fscanf(out, "ports %u %u %u", &h, &s, &g) == 3) {
      http_ = static_cast<std::uint16_t>(h);
      https_ = static_cast<std::uint16_t>(s);
      grpc_ = static_cast<std::uint16_t>(g);
    }
  }
  static void TearDownTestSuite() {
    if (stdin_fd_ >= 0) ::close(stdin_fd_);  // the server exits when stdin closes
    if (pid_ > 0) {
      int st = 0;
      for (int i = 0; i < 50 && ::waitpid(pid_, &st, WNOHANG) == 0; ++i) ::usleep(100'000);
      if (::waitpid(pid_, &st, WNOHANG) == 0) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &st, 0);
      }
    }
    if (!dir_.empty()) testing::sh("rm -rf " + dir_);
  }
  void SetUp() override {
    if (http_ == 0) GTEST_SKIP() << "needs /usr/bin/python3 with python3-grpcio, and openssl";
  }
  static std::string http(const std::string& path) {
    return "http://127.0.0.1:" + std::to_string(http_) + path;
  }
  static std::string https(const std::string& path) {
    return "https://127.0.0.1:" + std::to_string(https_) + path;
  }
  static std::string grpc() { return "127.0.0.1:" + std::to_string(grpc_); }

  static inline std::string dir_;
  static inline pid_t pid_ = -1;
  static inline int stdin_fd_ = -1;
  static inline std::uint16_t http_ = 0, https_ = 0, grpc_ = 0;
};

TEST_F(Servers, HttpStatusAndBody) {
  HttpCheckSpec s;
  s.url = http("/ok");
  s.body_contains = "edgemon ok";
  CheckResult r = run_http_check(s);
  EXPECT_TRUE(r.ok) << r.detail;
  EXPECT_EQ(r.http_status, 200);

  s.body_contains = "not there";
  r = run_http_check(s);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.detail.find("body does not contain"), std::string::npos);

  s = HttpCheckSpec{};
  s.url = http("/status/500");
  r = run_http_check(s);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.detail, "status 500");
  s.accepted_status = {{500, 500}};
  EXPECT_TRUE(run_http_check(s).ok);

  s = HttpCheckSpec{};
  s.url = http("/redirect");  // not followed: 302 is outside 200-299 unless accepted
  EXPECT_FALSE(run_http_check(s).ok);
  s.accepted_status = {{200, 399}};
  EXPECT_TRUE(run_http_check(s).ok);
}

TEST_F(Servers, HttpMethodHeadersAndTimeout) {
  HttpCheckSpec s;
  s.url = http("/");
  s.method = "POST";
  s.body = "ping";
  s.accepted_status = {{201, 201}};
  EXPECT_TRUE(run_http_check(s).ok);

  s = HttpCheckSpec{};
  s.url = http("/header");
  EXPECT_FALSE(run_http_check(s).ok);
  s.headers = {"X-Edgemon: yes"};
  EXPECT_TRUE(run_http_check(s).ok);

  s = HttpCheckSpec{};
  s.url = http("/ok");
  s.method = "HEAD";
  EXPECT_TRUE(run_http_check(s).ok);

  s = HttpCheckSpec{};
  s.url = http("/slow");
  s.timeout = 300ms;
  const CheckResult r = run_http_check(s);
  EXPECT_FALSE(r.ok);
  EXPECT_LT(r.duration_ms, 1500.0);
  EXPECT_NE(r.detail.find("imeout"), std::string::npos) << r.detail;
}

TEST_F(Servers, HttpsVerificationOnAndOff) {
  HttpCheckSpec s;
  s.url = https("/ok");
  CheckResult r = run_http_check(s);  // self-signed: verification fails
  EXPECT_FALSE(r.ok);
  s.verify_tls = false;
  r = run_http_check(s);
  EXPECT_TRUE(r.ok) << r.detail;
  s.verify_tls = true;
  s.ca_file = dir_ + "/cert.pem";
  r = run_http_check(s);
  EXPECT_TRUE(r.ok) << r.detail;
}

TEST_F(Servers, GrpcHealth) {
  CheckResult r = run_grpc_health_check({grpc(), "", false, true, "", 3000ms});
  EXPECT_TRUE(r.ok) << r.detail;
  EXPECT_EQ(r.detail, "SERVING");
  r = run_grpc_health_check({grpc(), "edgemon.ok", false, true, "", 3000ms});
  EXPECT_TRUE(r.ok) << r.detail;
  r = run_grpc_health_check({grpc(), "edgemon.down", false, true, "", 3000ms});
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.detail, "NOT_SERVING");
  r = run_grpc_health_check({grpc(), "no.such.service", false, true, "", 3000ms});
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.detail.find("grpc-status 5"), std::string::npos) << r.detail;  // NOT_FOUND
  // An HTTP/1 server is not a gRPC server.
  r = run_grpc_health_check({"127.0.0.1:" + std::to_string(http_), "", false, true, "", 2000ms});
  EXPECT_FALSE(r.ok);
}

TEST_F(Servers, CheckRunnerRunsEverythingConcurrentlyFromOnePollLoop) {
  auto runner = CheckRunner::create(SystemClock::instance());
  ASSERT_TRUE(runner.ok()) << runner.error().message;
  int fd = -1;
  const std::uint16_t open_port = listening_port(fd);
  int closed_fd = -1;
  const std::uint16_t closed_port = listening_port(closed_fd);
  ::close(closed_fd);
  std::vector<CheckSpec> checks(7);
  checks[0].name = "tcp-open";
  checks[0].tcp = {"127.0.0.1", open_port, 1000ms};
  checks[1].name = "tcp-closed";
  checks[1].tcp = {"127.0.0.1", closed_port, 1000ms};
  checks[2].name = "http-ok";
  checks[2].kind = CheckKind::kHttp;
  checks[2].http.url = http("/ok");
  checks[2].http.body_contains = "edgemon";
  checks[3].name = "http-slow";
  checks[3].kind = CheckKind::kHttp;
  checks[3].http.url = http("/slow");
  checks[3].http.timeout = 800ms;
  checks[4].name = "https-insecure";
  checks[4].kind = CheckKind::kHttp;
  checks[4].http.url = https("/ok");
  checks[4].http.verify_tls = false;
  checks[5].name = "grpc-ok";
  checks[5].kind = CheckKind::kGrpcHealth;
  checks[5].grpc = {grpc(), "edgemon.ok", false, true, "", 3000ms};
  checks[6].name = "grpc-down";
  checks[6].kind = CheckKind::kGrpcHealth;
  checks[6].grpc = {grpc(), "edgemon.down", false, true, "", 3000ms};
  (*runner)->set_checks(checks);
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE((*runner)->run_round().ok());
  const double wall_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  const auto r = (*runner)->results();
  EXPECT_TRUE(r[0].result.ok) << r[0].result.detail;
  EXPECT_FALSE(r[1].result.ok);
  EXPECT_EQ(r[1].result.detail, "connection refused");
  EXPECT_TRUE(r[2].result.ok) << r[2].result.detail;
  EXPECT_FALSE(r[3].result.ok);
  EXPECT_TRUE(r[4].result.ok) << r[4].result.detail;
  EXPECT_TRUE(r[5].result.ok) << r[5].result.detail;
  EXPECT_EQ(r[6].result.detail, "NOT_SERVING");
  for (const CheckReport& c : r) EXPECT_EQ(c.round, 1u) << c.name;
  // Concurrent: the round lasts about as long as the slowest check (the 800 ms timeout).
  EXPECT_LT(wall_ms, 1600.0);
  EXPECT_TRUE((*runner)->take_round_complete());
  // A second round reuses the runner.
  ASSERT_TRUE((*runner)->run_round().ok());
  EXPECT_EQ((*runner)->results()[2].round, 2u);
  EXPECT_TRUE((*runner)->results()[2].result.ok);
  ::close(fd);
}

}  // namespace
}  // namespace edgemon::probe
