// The gateway's optional TLS listener, checked with curl as an outside client would: HTTPS with the
// certificate of a test CA, a Secure session cookie, WebSocket over TLS, and nothing in clear text
// or below TLS 1.2.
#include <gtest/gtest.h>

#include "support/mosquitto_broker.h"
#include "support/net.h"
#include "support/process.h"

namespace edgemon::test {
namespace {

using namespace std::chrono_literals;

TEST(HttpsListener, ServesHttpsAndWssWithSecureCookiesAndRefusesCleartextAndOldTls) {
  TempDir dir("edgemon-https");
  const auto ca = run_command({EDGEMON_SOURCE_DIR "/gateway/dist/edgemon-make-test-ca", "-d", dir.file("ca")}, 30s);
  ASSERT_EQ(ca.exit_code, 0) << ca.output;
  MosquittoBroker broker(dir.path());
  const std::uint16_t port = free_tcp_port();
  write_file(dir.file("gateway.toml"), "[http]\ntls_cert_file = \"" + dir.file("ca/server.crt") + "\"\ntls_key_file = \"" +
                                           dir.file("ca/server.key") + "\"\n[auth]\nadmin_password = \"edgemon-test-admin-pw\"\n");
  ChildProcess gateway = ChildProcess::start(
      {EDGEMON_GATEWAY_BIN, "--config", dir.file("gateway.toml"), "--broker", "127.0.0.1", "--port",
       std::to_string(broker.port()), "--http-port", std::to_string(port), "--state-dir", dir.file("state"),
       "--web-root", EDGEMON_WEB_DIST},
      dir.file("gateway.log"));
  ASSERT_TRUE(wait_for_tcp(port, 10s)) << gateway.log();
  const std::string base = "https://127.0.0.1:" + std::to_string(port);
  const std::string cacert = dir.file("ca/ca.crt");
  const auto curl = [&](std::vector<std::string> args) {
    std::vector<std::string> argv = {"curl", "-sS", "--max-time", "5", "--cacert", cacert};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_command(argv, 15s);
  };

  const auto health = curl({"-o", "/dev/null", "-w", "%{http_code}", base + "/api/health"});
  EXPECT_EQ(health.output, "200") << health.output << gateway.log();
  const auto page = curl({"-o", "/dev/null", "-w", "%{http_code}", base + "/"});
  EXPECT_EQ(page.output, "200") << page.output;

  const auto login = curl({"-i", "-c", dir.file("jar"), "-H", "Content-Type: application/json", "-d",
                           R"({"user":"admin","password":"edgemon-test-admin-pw"})", base + "/api/login"});
  EXPECT_NE(login.output.find("HTTP/1.1 200"), std::string::npos) << login.output;
  EXPECT_NE(login.output.find("SameSite=Strict; Secure"), std::string::npos) << "Secure under TLS: " << login.output;
  const auto nodes = curl({"-o", "/dev/null", "-w", "%{http_code}", "-b", dir.file("jar"), base + "/api/nodes"});
  EXPECT_EQ(nodes.output, "200");
  const auto anonymous = curl({"-o", "/dev/null", "-w", "%{http_code}", base + "/api/nodes"});
  EXPECT_EQ(anonymous.output, "401");

  const auto ws = curl({"-i", "-N", "--http1.1", "-b", dir.file("jar"), "-H", "Origin: " + base, "-H",
                        "Connection: Upgrade", "-H", "Upgrade: websocket", "-H", "Sec-WebSocket-Version: 13", "-H",
                        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", base + "/ws"});
  EXPECT_NE(ws.output.find("HTTP/1.1 101"), std::string::npos) << ws.output;
  EXPECT_NE(ws.output.find("\"type\":\"snapshot\""), std::string::npos) << "the first frame arrives over TLS";

  // Clear text and TLS 1.1 get nothing; the gateway keeps serving.
  const auto plain = run_command({"curl", "-sS", "--max-time", "5", "-o", "/dev/null", "-w", "%{http_code}",
                                  "http://127.0.0.1:" + std::to_string(port) + "/api/health"},
                                 15s);
  EXPECT_NE(plain.exit_code, 0) << plain.output;
  EXPECT_NE(plain.output.find("000"), std::string::npos) << "no HTTP status at all: " << plain.output;
  const auto old_tls = curl({"--tlsv1.1", "--tls-max", "1.1", "-o", "/dev/null", "-w", "%{http_code}", base + "/api/health"});
  EXPECT_NE(old_tls.exit_code, 0) << old_tls.output;
  EXPECT_EQ(curl({"-o", "/dev/null", "-w", "%{http_code}", base + "/api/health"}).output, "200") << gateway.log();
}

TEST(HttpsListener, HalfATlsConfigurationIsAConfigError) {
  TempDir dir("edgemon-https");
  write_file(dir.file("gateway.toml"), "[http]\ntls_cert_file = \"/nonexistent.crt\"\n");
  const auto r = run_command({EDGEMON_GATEWAY_BIN, "--config", dir.file("gateway.toml"), "--check-config"}, 10s);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("http.tls_key_file"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace edgemon::test
