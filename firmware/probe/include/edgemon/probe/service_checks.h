// Service checks: TCP connect, HTTP(S) via libcurl, and gRPC health (grpc.health.v1.Health/Check)
// over libcurl's HTTP/2. Each call is bounded by its timeout and returns a CheckResult; nothing
// throws. These block for at most `timeout` (tools, tests); the agent loop uses CheckRunner
// (check_runner.h), which runs the same checks on curl's multi interface from its poll().
// HTTP and gRPC checks refuse link-local/metadata addresses unless allow_link_local is set
// (edgemon/common/curl_address_guard.h); none of the checks use a proxy from the environment.
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "edgemon/common/clock.h"

namespace edgemon::probe {

struct CheckResult {
  bool ok = false;
  double duration_ms = 0.0;  // monotonic, from start to verdict
  int http_status = 0;       // HTTP checks: final status code (0: none)
  std::string detail;  // human-readable reason ("connection refused", "status 500", "NOT_SERVING")
};

struct TcpCheckSpec {
  std::string host;  // name or address (IPv4/IPv6)
  std::uint16_t port = 0;
  std::chrono::milliseconds timeout{2000};
};
// ok: the three-way handshake completed. detail on failure: "timeout", "connection refused", ...
CheckResult run_tcp_check(const TcpCheckSpec& spec, const Clock& clock = SystemClock::instance());

struct HttpCheckSpec {
  std::string url;                   // http:// or https://
  std::string method = "GET";        // GET, HEAD, POST, PUT, ...
  std::vector<std::string> headers;  // "Name: value"
  std::string body;                  // request body (POST/PUT)
  std::chrono::milliseconds timeout{5000};
  std::vector<std::pair<int, int>> accepted_status{{200, 299}};  // inclusive ranges
  std::string body_contains;             // optional substring the body must contain
  bool verify_tls = true;                // peer and host name verification
  std::string ca_file;                   // extra CA bundle (self-signed servers)
  std::size_t max_body_bytes = 1 << 20;  // read at most this much (bounded memory)
  // Off: every address curl connects to (after DNS) is refused when it is link-local
  // (169.254.0.0/16, fe80::/10, ::ffff:169.254.0.0/112) or fd00:ec2::254 -- cloud metadata
  // services -- and the check fails with detail "refused: <address> is link-local (...)".
  bool allow_link_local = false;
};
CheckResult run_http_check(const HttpCheckSpec& spec, const Clock& clock = SystemClock::instance());

struct GrpcHealthSpec {
  std::string authority;  // host:port
  std::string service;    // "" = the server as a whole
  bool tls = false;       // h2 over TLS; else h2c with prior knowledge
  bool verify_tls = true;
  std::string ca_file;
  std::chrono::milliseconds timeout{3000};
  bool allow_link_local = false;  // as HttpCheckSpec::allow_link_local
};
// ok only for grpc-status 0 and HealthCheckResponse.status == SERVING. detail: SERVING,
// NOT_SERVING, SERVICE_UNKNOWN, or "grpc-status N: message" / the transport error.
CheckResult run_grpc_health_check(const GrpcHealthSpec& spec,
                                  const Clock& clock = SystemClock::instance());

// The gRPC wire pieces, exposed for tests: a length-prefixed HealthCheckRequest, and the status
// (1 SERVING, 2 NOT_SERVING, 3 SERVICE_UNKNOWN) out of a length-prefixed HealthCheckResponse;
// -1 when the bytes are not one well-formed message.
std::string grpc_health_request(const std::string& service);
int grpc_health_status(const std::string& framed_response);

}  // namespace edgemon::probe
