// HTTP and gRPC checks pointed at metadata addresses, through the real libcurl paths (the blocking
// run_*_check and the CheckRunner's multi interface): refused by the socket-open hook before a
// socket exists, so nothing is sent and the result does not depend on this machine's routes.
// Literal addresses only (no DNS); names are covered in unit.common (CurlAddressGuard).
#include <gtest/gtest.h>

#include <chrono>

#include "edgemon/probe/check_runner.h"
#include "edgemon/probe/service_checks.h"

namespace edgemon::probe {
namespace {

using namespace std::chrono_literals;

constexpr const char* kHint = " (set allow_link_local = true on this check to allow)";

TEST(LinkLocalCheck, HttpCheckToTheMetadataServiceIsRefused) {
  const struct {
    const char* url;
    std::string detail;
  } cases[] = {
      {"http://169.254.169.254/latest/meta-data/",
       std::string("refused: 169.254.169.254 is link-local") + kHint},
      {"https://169.254.169.254/", std::string("refused: 169.254.169.254 is link-local") + kHint},
      {"http://[::ffff:169.254.169.254]/",
       std::string("refused: ::ffff:169.254.169.254 is link-local") + kHint},
      {"http://[fe80::1%25lo]:8080/", std::string("refused: fe80::1 is link-local") + kHint},
      {"http://[fd00:ec2::254]/",
       std::string("refused: fd00:ec2::254 is a cloud metadata address") + kHint},
  };
  for (const auto& c : cases) {
    HttpCheckSpec s;
    s.url = c.url;
    s.timeout = 3000ms;
    const CheckResult r = run_http_check(s);
    EXPECT_FALSE(r.ok) << c.url;
    EXPECT_EQ(r.detail, c.detail) << c.url;
    EXPECT_EQ(r.http_status, 0) << c.url;
    EXPECT_LT(r.duration_ms, 2000.0) << c.url << ": refused at once, not timed out";
  }
}

TEST(LinkLocalCheck, GrpcHealthCheckToALinkLocalAddressIsRefused) {
  GrpcHealthSpec g;
  g.authority = "169.254.169.254:50051";
  g.timeout = 3000ms;
  const CheckResult r = run_grpc_health_check(g);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.detail, std::string("refused: 169.254.169.254 is link-local") + kHint);
}

TEST(LinkLocalCheck, CheckRunnerReportsTheRefusalAsAFailedCheck) {
  auto runner = CheckRunner::create(SystemClock::instance());
  ASSERT_TRUE(runner);
  std::vector<CheckSpec> checks(2);
  checks[0].name = "imds";
  checks[0].kind = CheckKind::kHttp;
  checks[0].http.url = "http://169.254.169.254/latest/meta-data/";
  checks[0].http.timeout = 3000ms;
  checks[1].name = "grpc-ll";
  checks[1].kind = CheckKind::kGrpcHealth;
  checks[1].grpc.authority = "[fe80::1%25lo]:50051";
  checks[1].grpc.timeout = 3000ms;
  (*runner)->set_checks(std::move(checks));
  ASSERT_TRUE((*runner)->run_round());
  ASSERT_TRUE((*runner)->take_round_complete());
  const auto results = (*runner)->results();
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0].round, 1u);
  EXPECT_FALSE(results[0].result.ok);
  EXPECT_EQ(results[0].result.detail,
            std::string("refused: 169.254.169.254 is link-local") + kHint);
  EXPECT_FALSE(results[1].result.ok);
  EXPECT_EQ(results[1].result.detail, std::string("refused: fe80::1 is link-local") + kHint);
}

}  // namespace
}  // namespace edgemon::probe
