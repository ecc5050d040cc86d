#include "edgemon/notify/webhook_channel.h"

#include "curl_transfer.h"

namespace edgemon::notify {
namespace {

std::size_t discard(char*, std::size_t size, std::size_t n, void*) { return size * n; }

}  // namespace

bool is_retryable(const Error& e) {
  return e.code == ErrorCode::kUnavailable || e.code == ErrorCode::kIo || e.code == ErrorCode::kResourceExhausted;
}

WebhookChannel::WebhookChannel(WebhookConfig config) : config_(std::move(config)) {}

Status WebhookChannel::send(const Notification& n, std::stop_token cancel) {
  detail::CurlTransfer t({config_.timeout, config_.allow_link_local,
                          "notify.webhook.allow_link_local"},
                         std::move(cancel));
  CURL* h = t.handle();
  if (h == nullptr) return make_error(ErrorCode::kInternal, "webhook: curl_easy_init failed");
  const std::string body = to_json(n);
  curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
  for (const std::string& hd : config_.headers) headers = curl_slist_append(headers, hd.c_str());
  headers = curl_slist_append(headers, "Expect:");  // no 100-continue round trip
  curl_easy_setopt(h, CURLOPT_URL, config_.url.c_str());
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.c_str());
  curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  curl_easy_setopt(h, CURLOPT_USERAGENT, "edgemon-gateway");
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &discard);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, config_.verify_tls ? 1L : 0L);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, config_.verify_tls ? 2L : 0L);
  if (!config_.ca_file.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, config_.ca_file.c_str());
  Status s = t.perform("webhook POST");
  curl_slist_free_all(headers);
  if (!s) return s;
  long code = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
  if (code >= 200 && code < 300) return Status::Ok();
  const std::string msg = "webhook POST: HTTP " + std::to_string(code);
  if (code == 408 || code == 429 || code >= 500) return make_error(ErrorCode::kUnavailable, msg);
  return make_error(ErrorCode::kInvalidArgument, msg);
}

}  // namespace edgemon::notify
