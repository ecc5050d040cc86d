#include "edgemon/notify/email_channel.h"

#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <ctime>
#include <random>

#include "curl_transfer.h"

namespace edgemon::notify {
namespace {

constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string base64(std::string_view in) {
  std::string out;
  std::size_t i = 0;
  auto byte = [&](std::size_t k) { return static_cast<std::uint32_t>(static_cast<unsigned char>(in[k])); };
  for (; i + 2 < in.size(); i += 3) {
    const std::uint32_t v = (byte(i) << 16) | (byte(i + 1) << 8) | byte(i + 2);
    out += kB64[(v >> 18) & 63];
    out += kB64[(v >> 12) & 63];
    out += kB64[(v >> 6) & 63];
    out += kB64[v & 63];
  }
  if (i + 1 == in.size()) {
    const std::uint32_t v = byte(i) << 16;
    out += kB64[(v >> 18) & 63];
    out += kB64[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    const std::uint32_t v = (byte(i) << 16) | (byte(i + 1) << 8);
    out += kB64[(v >> 18) & 63];
    out += kB64[(v >> 12) & 63];
    out += kB64[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

// Header text: control characters (CR/LF above all) become spaces.
std::string header_safe(std::string_view s) {
  std::string out;
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    out += (u < 0x20 || u == 0x7f) ? ' ' : c;
  }
  return out;
}

bool is_ascii(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

// RFC 2047 encoded-words of at most 45 input bytes each (75 chars encoded), split on UTF-8
// character boundaries, folded onto continuation lines.
std::string encode_header_words(std::string_view s) {
  std::string out;
  std::size_t pos = 0;
  while (pos < s.size()) {
    std::size_t end = std::min(s.size(), pos + 45);
    while (end < s.size() && end > pos + 1 && (static_cast<unsigned char>(s[end]) & 0xc0) == 0x80) --end;
    if (!out.empty()) out += "\r\n ";
    out += "=?UTF-8?B?" + base64(s.substr(pos, end - pos)) + "?=";
    pos = end;
  }
  return out;
}

std::string crlf_body(std::string_view text) {
  std::string out;
  std::size_t line_len = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\r') continue;
    if (c == '\n') {
      out += "\r\n";
      line_len = 0;
      continue;
    }
    if (line_len == 990) {  // RFC 5322 2.1.1: at most 998 characters per line
      out += "\r\n";
      line_len = 0;
    }
    out += c;
    ++line_len;
  }
  if (out.size() < 2 || out.compare(out.size() - 2, 2, "\r\n") != 0) out += "\r\n";
  return out;
}

std::string domain_of(std::string_view address) {
  const std::size_t at = address.rfind('@');
  return at == std::string_view::npos ? std::string("edgemon.invalid") : std::string(address.substr(at + 1));
}

struct Upload {
  const std::string* data;
  std::size_t pos = 0;
};

std::size_t read_upload(char* buf, std::size_t size, std::size_t n, void* user) {
  auto* u = static_cast<Upload*>(user);
  const std::size_t len = std::min(size * n, u->data->size() - u->pos);
  std::memcpy(buf, u->data->data() + u->pos, len);
  u->pos += len;
  return len;
}

}  // namespace

bool valid_mailbox(std::string_view a) {
  const std::size_t at = a.find('@');
  if (at == std::string_view::npos || at == 0 || at + 1 >= a.size() || a.find('@', at + 1) != std::string_view::npos) {
    return false;
  }
  return std::none_of(a.begin(), a.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u <= 0x20 || u == 0x7f || c == '<' || c == '>' || c == '"' || c == ',' || c == ';' || c == '(' ||
           c == ')' || c == '\\';
  });
}

std::string format_rfc5322_date(WallTime t) {
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const auto tt = WallClock::to_time_t(t);
  std::tm tm{};
  ::gmtime_r(&tt, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d +0000", kDays[tm.tm_wday % 7], tm.tm_mday,
                kMonths[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

std::string build_email(const Notification& n, const EmailConfig& config, WallTime now,
                        std::string_view message_id) {
  const std::string subject = header_safe(headline(n));
  std::string to;
  for (const std::string& r : config.to) {
    if (!to.empty()) to += ",\r\n ";
    to += header_safe(r);
  }
  std::string m;
  m += "Date: " + format_rfc5322_date(now) + "\r\n";
  m += "From: edgemon <" + header_safe(config.from) + ">\r\n";
  m += "To: " + to + "\r\n";
  m += "Subject: " + (is_ascii(subject) ? subject : encode_header_words(subject)) + "\r\n";
  m += "Message-ID: <" + header_safe(message_id) + ">\r\n";
  m += "MIME-Version: 1.0\r\n";
  m += "Content-Type: text/plain; charset=utf-8\r\n";
  m += "Content-Transfer-Encoding: 8bit\r\n";
  m += "Auto-Submitted: auto-generated\r\n";
  const std::string alert = header_safe(n.alert);
  m += "X-Edgemon-Alert: " + (is_ascii(alert) ? alert : encode_header_words(alert)) + "\r\n";
  m += std::string("X-Edgemon-State: ") + to_string(n.state) + "\r\n";
  m += std::string("X-Edgemon-Severity: ") + to_string(n.severity) + "\r\n";
  m += "\r\n";
  m += crlf_body(text_body(n));
  return m;
}

EmailChannel::EmailChannel(EmailConfig config, const Clock& clock) : config_(std::move(config)), clock_(clock) {}

Status EmailChannel::send(const Notification& n, std::stop_token cancel) {
  if (config_.to.empty()) return make_error(ErrorCode::kInvalidArgument, "email: no recipients");
  detail::CurlTransfer t({config_.timeout, config_.allow_link_local,
                          "notify.email.allow_link_local"},
                         std::move(cancel));
  CURL* h = t.handle();
  if (h == nullptr) return make_error(ErrorCode::kInternal, "email: curl_easy_init failed");

  const WallTime now = clock_.wall();
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  const std::string message_id = std::to_string(to_unix_ms(now)) + "." + std::to_string(++sequence_) + "." +
                                 std::to_string(rng() % 1'000'000'000) + "@" + domain_of(config_.from);
  const std::string message = build_email(n, config_, now, message_id);
  Upload upload{&message, 0};

  const std::string mail_from = "<" + config_.from + ">";
  curl_slist* rcpt = nullptr;
  for (const std::string& r : config_.to) rcpt = curl_slist_append(rcpt, ("<" + r + ">").c_str());

  curl_easy_setopt(h, CURLOPT_URL, config_.url.c_str());
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
  curl_easy_setopt(h, CURLOPT_MAIL_FROM, mail_from.c_str());
  curl_easy_setopt(h, CURLOPT_MAIL_RCPT, rcpt);
  curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(h, CURLOPT_READFUNCTION, &read_upload);
  curl_easy_setopt(h, CURLOPT_READDATA, &upload);
  curl_easy_setopt(h, CURLOPT_INFILESIZE, static_cast<long>(message.size()));
  if (config_.starttls && config_.url.rfind("smtp://", 0) == 0) {
    curl_easy_setopt(h, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_ALL));
  }
  if (!config_.username.empty()) {
    curl_easy_setopt(h, CURLOPT_USERNAME, config_.username.c_str());
    curl_easy_setopt(h, CURLOPT_PASSWORD, config_.password.c_str());
  }
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, config_.verify_tls ? 1L : 0L);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, config_.verify_tls ? 2L : 0L);
  if (!config_.ca_file.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, config_.ca_file.c_str());
  Status s = t.perform("email SMTP");
  curl_slist_free_all(rcpt);
  return s;
}

}  // namespace edgemon::notify
