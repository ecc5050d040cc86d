// Notification: one alert state change the rules engine decided to tell people about.
// The rules engine owns cooldown, repeat and grouping; this value is what leaves the gateway.
// Every string in it may come from a device (node ids, labels, summaries) and is untrusted: the
// renderers below escape it for JSON, strip line breaks from e-mail headers and replace invalid
// UTF-8, so a hostile node name can neither break a payload nor inject a header.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "edgemon/common/clock.h"

namespace edgemon::notify {

enum class Severity { kInfo, kWarning, kCritical };
enum class AlertState { kFiring, kResolved };

const char* to_string(Severity s);
const char* to_string(AlertState s);
// Parses "info", "warning", "critical". Returns false on anything else.
bool parse_severity(std::string_view text, Severity& out);

struct Notification {
  std::string alert;    // rule name, e.g. "HIGH_CPU"
  std::string node;     // Sparkplug node id; names the MQTT alert topic
  std::string subject;  // what the alert is about, e.g. "pi-01" or "pi-01/tcp:db:5432"; empty = node
  Severity severity = Severity::kWarning;
  AlertState state = AlertState::kFiring;
  WallTime started_at{};
  std::optional<WallTime> resolved_at;  // set on resolved notices
  std::string summary;                  // one human sentence, e.g. "CPU 93 % for 3 intervals"
  std::map<std::string, std::string> labels;
};

// "[FIRING] HIGH_CPU on pi-01 (critical)": the one-line form used as Slack `text` and e-mail Subject.
std::string headline(const Notification& n);
// A few lines of plain text: headline, summary, times and labels.
std::string text_body(const Notification& n);
// The JSON document sent to webhooks and the MQTT alert topic (see docs/notifications.md):
// Slack-compatible `text` plus structured fields. Invalid UTF-8 is replaced, never thrown on.
std::string to_json(const Notification& n);
// RFC 3339 UTC with milliseconds, e.g. "2023-11-14T22:13:20.000Z".
std::string format_rfc3339(WallTime t);

}  // namespace edgemon::notify
