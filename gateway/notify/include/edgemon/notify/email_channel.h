// EmailChannel: one RFC 5322 message per notification, to several recipients, over SMTP with
// libcurl (MAIL FROM, one RCPT TO per recipient, DATA). smtp:// with STARTTLS (required by
// default) or smtps:// (implicit TLS); optional AUTH with username/password.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "edgemon/common/clock.h"
#include "edgemon/notify/channel.h"

namespace edgemon::notify {

struct EmailConfig {
  std::string url;              // smtp://host:port or smtps://host:port
  std::string from;             // envelope sender and From:, a plain addr-spec: alerts@example.org
  std::vector<std::string> to;  // recipients, plain addr-specs
  std::string username;         // AUTH (empty = none)
  std::string password;
  bool starttls = true;         // smtp://: refuse to send unless the server upgrades to TLS
  bool verify_tls = true;
  std::string ca_file;
  std::chrono::milliseconds timeout{10000};
  bool allow_link_local = false;  // permit 169.254.0.0/16, fe80::/10, fd00:ec2::254 (metadata)
};

// True for a plain addr-spec we are willing to put in an envelope and a header: one '@', no
// spaces, angle brackets, quotes, commas or control characters.
bool valid_mailbox(std::string_view address);

// The whole message (headers, blank line, body) with CRLF line ends: Date, From, To, Subject
// (RFC 2047-encoded if not ASCII), Message-ID, MIME-Version, Content-Type, plus X-Edgemon-*
// headers for filtering. Line breaks in device-supplied strings never reach a header.
std::string build_email(const Notification& n, const EmailConfig& config, WallTime now,
                        std::string_view message_id);
// RFC 5322 date, e.g. "Tue, 14 Nov 2023 22:13:20 +0000".
std::string format_rfc5322_date(WallTime t);

class EmailChannel final : public Channel {
 public:
  explicit EmailChannel(EmailConfig config, const Clock& clock = SystemClock::instance());
  const std::string& name() const override { return name_; }
  // Errors: see Channel::send. A server that rejects a recipient or the message fails the send
  // (kUnavailable: servers often reject temporarily).
  Status send(const Notification& n, std::stop_token cancel) override;

 private:
  EmailConfig config_;
  const Clock& clock_;
  std::string name_ = "email";
  std::uint64_t sequence_ = 0;
};

}  // namespace edgemon::notify
