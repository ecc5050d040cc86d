// CurlCheck: one HTTP(S), gRPC-health or TCP-connect check as a configured curl easy handle plus
// what its callbacks collect, and the verdict once curl is done. Shared by the blocking
// run_*_check() functions and the CheckRunner (curl multi, driven by the agent's poll loop).
#pragma once

#include <curl/curl.h>

#include <string>

#include "edgemon/common/curl_address_guard.h"
#include "edgemon/probe/service_checks.h"

namespace edgemon::probe {

class CurlCheck {
 public:
  CurlCheck();
  ~CurlCheck();
  CurlCheck(const CurlCheck&) = delete;
  CurlCheck& operator=(const CurlCheck&) = delete;

  // Each returns false when curl could not be initialised.
  bool prepare_http(const HttpCheckSpec& spec);
  bool prepare_grpc(const GrpcHealthSpec& spec);
  bool prepare_tcp(const TcpCheckSpec& spec);  // CURLOPT_CONNECT_ONLY: handshake, no request

  CURL* easy() const { return h_; }
  // The verdict for curl's result code (call once, after the transfer finished).
  CheckResult finish(CURLcode rc, double duration_ms);

  struct Body {
    std::string data;
    std::size_t max = 0;
  };
  struct Trailers {
    int grpc_status = -1;
    std::string grpc_message;
  };

 private:
  enum class Kind { kHttp, kGrpc, kTcp };
  void common(long timeout_ms, bool verify_tls, const std::string& ca_file);
  CURL* h_ = nullptr;
  curl_slist* headers_ = nullptr;
  Kind kind_ = Kind::kHttp;
  HttpCheckSpec http_;
  std::string url_;
  std::string request_;
  Body body_;
  Trailers trailers_;
  net::CurlAddressGuard guard_;  // HTTP and gRPC: refuses link-local/metadata addresses
};

}  // namespace edgemon::probe
