#include "curl_check.h"

#include <strings.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "errno_text.h"

namespace edgemon::probe {
namespace {

void curl_global() {
  static std::once_flag once;
  std::call_once(once, [] { (void)curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::size_t on_body(char* ptr, std::size_t size, std::size_t n, void* user) {
  auto* b = static_cast<CurlCheck::Body*>(user);
  const std::size_t len = size * n;
  const std::size_t room = b->max > b->data.size() ? b->max - b->data.size() : 0;
  b->data.append(ptr, std::min(len, room));
  return len;  // keep reading (and discarding) so the status stays meaningful
}

// gRPC puts grpc-status in the trailers; curl hands HTTP/2 trailers to the header callback.
std::size_t on_header(char* ptr, std::size_t size, std::size_t n, void* user) {
  auto* t = static_cast<CurlCheck::Trailers*>(user);
  const std::string line(ptr, size * n);
  auto value = [&](const char* name) -> std::string {
    const std::size_t nl = std::strlen(name);
    if (line.size() <= nl || strncasecmp(line.c_str(), name, nl) != 0) {
      return {};
    }
    std::string v = line.substr(nl);
    while (!v.empty() && (v.back() == '\r' || v.back() == '\n' || v.back() == ' ')) {
      v.pop_back();
    }
    while (!v.empty() && v.front() == ' ') {
      v.erase(0, 1);
    }
    return v;
  };
  if (std::string v = value("grpc-status:"); !v.empty()) {
    t->grpc_status = std::atoi(v.c_str());
  }
  if (std::string v = value("grpc-message:"); !v.empty()) {
    t->grpc_message = v;
  }
  return size * n;
}

}  // namespace

CurlCheck::CurlCheck() {
  curl_global();
  h_ = curl_easy_init();
}

CurlCheck::~CurlCheck() {
  if (headers_ != nullptr) {
    curl_slist_free_all(headers_);
  }
  if (h_ != nullptr) {
    curl_easy_cleanup(h_);
  }
}

void CurlCheck::common(long timeout_ms, bool verify_tls, const std::string& ca_file) {
  curl_easy_setopt(h_, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h_, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(h_, CURLOPT_WRITEFUNCTION, &on_body);
  curl_easy_setopt(h_, CURLOPT_WRITEDATA, &body_);
  curl_easy_setopt(h_, CURLOPT_SSL_VERIFYPEER, verify_tls ? 1L : 0L);
  curl_easy_setopt(h_, CURLOPT_SSL_VERIFYHOST, verify_tls ? 2L : 0L);
  // A check measures the path from this board to the service, and a proxy from the environment
  // would hide the real address from the link-local guard (it would see only the proxy's).
  // Redirects are not followed (curl's default, CURLOPT_FOLLOWLOCATION stays 0): the status of
  // the configured URL is the verdict.
  curl_easy_setopt(h_, CURLOPT_PROXY, "");
  if (!ca_file.empty()) {
    curl_easy_setopt(h_, CURLOPT_CAINFO, ca_file.c_str());
  }
}

bool CurlCheck::prepare_http(const HttpCheckSpec& spec) {
  if (h_ == nullptr) {
    return false;
  }
  kind_ = Kind::kHttp;
  http_ = spec;
  body_.max = spec.max_body_bytes;
  common(static_cast<long>(spec.timeout.count()), spec.verify_tls, spec.ca_file);
  curl_easy_setopt(h_, CURLOPT_URL, http_.url.c_str());
  curl_easy_setopt(h_, CURLOPT_PROTOCOLS_STR, "http,https");
  guard_.install(h_, spec.allow_link_local, "allow_link_local = true on this check");
  if (http_.method == "HEAD") {
    curl_easy_setopt(h_, CURLOPT_NOBODY, 1L);
  } else if (http_.method != "GET") {
    curl_easy_setopt(h_, CURLOPT_CUSTOMREQUEST, http_.method.c_str());
  }
  if (!http_.body.empty()) {
    curl_easy_setopt(h_, CURLOPT_POSTFIELDS, http_.body.c_str());
    curl_easy_setopt(h_, CURLOPT_POSTFIELDSIZE, static_cast<long>(http_.body.size()));
  }
  for (const std::string& hd : http_.headers) {
    headers_ = curl_slist_append(headers_, hd.c_str());
  }
  if (headers_ != nullptr) {
    curl_easy_setopt(h_, CURLOPT_HTTPHEADER, headers_);
  }
  return true;
}

bool CurlCheck::prepare_grpc(const GrpcHealthSpec& spec) {
  if (h_ == nullptr) {
    return false;
  }
  kind_ = Kind::kGrpc;
  url_ = std::string(spec.tls ? "https://" : "http://") + spec.authority +
         "/grpc.health.v1.Health/Check";
  request_ = grpc_health_request(spec.service);
  body_.max = 4096;
  common(static_cast<long>(spec.timeout.count()), spec.verify_tls, spec.ca_file);
  curl_easy_setopt(h_, CURLOPT_URL, url_.c_str());
  curl_easy_setopt(h_, CURLOPT_PROTOCOLS_STR, "http,https");
  guard_.install(h_, spec.allow_link_local, "allow_link_local = true on this check");
  curl_easy_setopt(h_, CURLOPT_HTTP_VERSION,
                   spec.tls ? static_cast<long>(CURL_HTTP_VERSION_2TLS)
                            : static_cast<long>(CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE));
  curl_easy_setopt(h_, CURLOPT_POST, 1L);
  curl_easy_setopt(h_, CURLOPT_POSTFIELDS, request_.data());
  curl_easy_setopt(h_, CURLOPT_POSTFIELDSIZE, static_cast<long>(request_.size()));
  curl_easy_setopt(h_, CURLOPT_HEADERFUNCTION, &on_header);
  curl_easy_setopt(h_, CURLOPT_HEADERDATA, &trailers_);
  for (const char* hd : {"Content-Type: application/grpc", "TE: trailers", "Expect:"}) {
    headers_ = curl_slist_append(headers_, hd);
  }
  curl_easy_setopt(h_, CURLOPT_HTTPHEADER, headers_);
  return true;
}

bool CurlCheck::prepare_tcp(const TcpCheckSpec& spec) {
  if (h_ == nullptr) {
    return false;
  }
  kind_ = Kind::kTcp;
  const bool v6 = spec.host.find(':') != std::string::npos;
  url_ =
      "http://" + (v6 ? "[" + spec.host + "]" : spec.host) + ":" + std::to_string(spec.port) + "/";
  common(static_cast<long>(spec.timeout.count()), false, {});
  curl_easy_setopt(h_, CURLOPT_URL, url_.c_str());
  curl_easy_setopt(h_, CURLOPT_CONNECT_ONLY, 1L);
  curl_easy_setopt(h_, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(spec.timeout.count()));
  return true;
}

CheckResult CurlCheck::finish(CURLcode rc, double duration_ms) {
  CheckResult r;
  r.duration_ms = duration_ms;
  if (h_ == nullptr) {
    r.detail = "curl_easy_init failed";
    return r;
  }
  if (rc != CURLE_OK && guard_.refused()) {
    r.detail = guard_.message();  // "refused: 169.254.169.254 is link-local (set ...)"
    return r;
  }
  if (rc != CURLE_OK) {
    r.detail = curl_easy_strerror(rc);
    if (kind_ == Kind::kTcp) {
      long os_errno = 0;
      curl_easy_getinfo(h_, CURLINFO_OS_ERRNO, &os_errno);
      if (rc == CURLE_OPERATION_TIMEDOUT) {
        r.detail = "timeout";
      } else if (os_errno == ECONNREFUSED) {
        r.detail = "connection refused";
      } else if (os_errno != 0) {
        r.detail = errno_text(static_cast<int>(os_errno));
      }
    }
    return r;
  }
  if (kind_ == Kind::kTcp) {
    r.ok = true;
    r.detail = "connected";
    return r;
  }
  long status = 0;
  curl_easy_getinfo(h_, CURLINFO_RESPONSE_CODE, &status);
  r.http_status = static_cast<int>(status);
  if (kind_ == Kind::kHttp) {
    bool accepted = false;
    for (const auto& [lo, hi] : http_.accepted_status) {
      accepted = accepted || (status >= lo && status <= hi);
    }
    if (!accepted) {
      r.detail = "status " + std::to_string(status);
      return r;
    }
    if (!http_.body_contains.empty() && body_.data.find(http_.body_contains) == std::string::npos) {
      r.detail = "body does not contain \"" + http_.body_contains + "\"";
      return r;
    }
    r.ok = true;
    r.detail = "status " + std::to_string(status);
    return r;
  }
  if (status != 200) {
    r.detail = "HTTP status " + std::to_string(status);
    return r;
  }
  if (trailers_.grpc_status != 0) {
    r.detail = "grpc-status " + std::to_string(trailers_.grpc_status) +
               (trailers_.grpc_message.empty() ? std::string() : ": " + trailers_.grpc_message);
    return r;
  }
  switch (grpc_health_status(body_.data)) {
    case 1:
      r.ok = true;
      r.detail = "SERVING";
      break;
    case 2:
      r.detail = "NOT_SERVING";
      break;
    case 3:
      r.detail = "SERVICE_UNKNOWN";
      break;
    case 0:
      r.detail = "UNKNOWN";
      break;
    default:
      r.detail = "malformed HealthCheckResponse";
      break;
  }
  return r;
}

}  // namespace edgemon::probe
