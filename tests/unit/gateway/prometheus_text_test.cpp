#include "edgemon/gateway/api/prometheus_text.h"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "edgemon/gateway/api/status.h"
#include "temp_dir.h"

namespace edgemon::gateway {
namespace {

using testing_support::TempDir;
using Json = nlohmann::json;

// --- an independent checker of the 0.0.4 text format (what promtool's parser insists on) ------

bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto b = [&s](std::size_t k) { return static_cast<unsigned char>(s[k]); };
    const unsigned c = b(i);
    std::size_t n = 0;
    unsigned cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      n = 1, cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2, cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3, cp = c & 0x07;
    } else {
      return false;
    }
    if (i + n >= s.size()) return false;
    for (std::size_t k = 1; k <= n; ++k) {
      if ((b(i + k) & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (b(i + k) & 0x3F);
    }
    const unsigned min[] = {0, 0x80, 0x800, 0x10000};
    if (cp < min[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n + 1;
  }
  return true;
}

bool is_name(std::string_view s, bool colon) {
  if (s.empty()) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon && c == ':') ||
                    (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

// Problems found in `text`, one string each; empty when the text is well-formed, every family has
// one HELP and one TYPE before its samples, samples of a family are contiguous, no series repeats.
std::vector<std::string> exposition_problems(const std::string& text) {
  std::vector<std::string> problems;
  if (!valid_utf8(text)) problems.push_back("invalid UTF-8");
  if (!text.empty() && text.back() != '\n') problems.push_back("no final newline");
  std::map<std::string, std::string> type_of;
  std::set<std::string> helped, closed, series;
  std::string current;
  std::istringstream in(text);
  std::string line;
  int no = 0;
  const auto bad = [&](const std::string& what) { problems.push_back("line " + std::to_string(no) + ": " + what + ": " + line); };
  const auto enter = [&](const std::string& family) {
    if (family == current) return;
    if (!current.empty()) closed.insert(current);
    if (closed.count(family)) bad("family " + family + " not contiguous");
    current = family;
  };
  while (std::getline(in, line)) {
    ++no;
    if (line.rfind("# HELP ", 0) == 0 || line.rfind("# TYPE ", 0) == 0) {
      const bool help = line[2] == 'H';
      const std::string rest = line.substr(7);
      const std::size_t sp = rest.find(' ');
      const std::string name = rest.substr(0, sp);
      const std::string arg = sp == std::string::npos ? "" : rest.substr(sp + 1);
      if (!is_name(name, true)) bad("bad family name");
      enter(name);
      if (help) {
        if (!helped.insert(name).second) bad("second HELP");
        for (std::size_t i = 0; i < arg.size(); ++i) {
          if (arg[i] == '\\' && (i + 1 >= arg.size() || (arg[i + 1] != '\\' && arg[i + 1] != 'n'))) bad("bad HELP escape");
          if (arg[i] == '\\') ++i;
        }
      } else {
        if (type_of.count(name)) bad("second TYPE");
        if (arg != "gauge" && arg != "counter") bad("bad TYPE");
        if (arg == "counter" && !name.ends_with("_total")) bad("counter without _total");
        type_of[name] = arg;
      }
      continue;
    }
    if (line.empty() || line[0] == '#') {
      bad("unexpected line");
      continue;
    }
    std::size_t i = 0;
    while (i < line.size() && line[i] != '{' && line[i] != ' ') ++i;
    const std::string name = line.substr(0, i);
    if (!is_name(name, true)) bad("bad metric name");
    enter(name);
    if (!type_of.count(name)) bad("sample before TYPE");
    std::string labels;
    if (i < line.size() && line[i] == '{') {
      const std::size_t start = i;
      ++i;
      std::set<std::string> names;
      while (i < line.size() && line[i] != '}') {
        std::size_t eq = line.find('=', i);
        if (eq == std::string::npos) {
          bad("label without =");
          break;
        }
        const std::string lname = line.substr(i, eq - i);
        if (!is_name(lname, false) || lname.rfind("__", 0) == 0) bad("bad label name '" + lname + "'");
        if (!names.insert(lname).second) bad("repeated label name");
        i = eq + 1;
        if (i >= line.size() || line[i] != '"') {
          bad("label value not quoted");
          break;
        }
        ++i;
        while (i < line.size() && line[i] != '"') {
          if (line[i] == '\\') {
            if (i + 1 >= line.size() || (line[i + 1] != '\\' && line[i + 1] != '"' && line[i + 1] != 'n')) bad("bad escape");
            ++i;
          }
          ++i;
        }
        if (i >= line.size()) {
          bad("unterminated label value");
          break;
        }
        ++i;  // closing quote
        if (i < line.size() && line[i] == ',') ++i;
      }
      if (i >= line.size()) break;
      ++i;  // }
      labels = line.substr(start, i - start);
    }
    if (i >= line.size() || line[i] != ' ') {
      bad("no value");
      continue;
    }
    const std::string value = line.substr(i + 1);
    if (value != "NaN" && value != "+Inf" && value != "-Inf") {
      char* end = nullptr;
      (void)std::strtod(value.c_str(), &end);
      if (value.empty() || end != value.c_str() + value.size()) bad("bad value");
    }
    if (!series.insert(name + labels).second) bad("duplicate series");
  }
  for (const auto& [name, type] : type_of) {
    if (!helped.count(name)) problems.push_back(name + " has no HELP");
  }
  return problems;
}

std::size_t count(const std::string& haystack, const std::string& needle) {
  std::size_t n = 0;
  for (std::size_t p = haystack.find(needle); p != std::string::npos; p = haystack.find(needle, p + 1)) ++n;
  return n;
}

// --- the writer -------------------------------------------------------------------------------

TEST(PrometheusText, WritesHelpTypeAndSamplesExactly) {
  PrometheusText p;
  EXPECT_TRUE(p.family("edgemon_things_total", "Things seen.", PromType::kCounter));
  EXPECT_TRUE(p.sample({{"kind", "a"}}, 3));
  EXPECT_TRUE(p.sample({{"kind", "b"}}, 0.5));
  EXPECT_TRUE(p.family("edgemon_up", "1 when up.", PromType::kGauge));
  EXPECT_TRUE(p.sample(1));
  EXPECT_EQ(p.take(),
            "# HELP edgemon_things_total Things seen.\n"
            "# TYPE edgemon_things_total counter\n"
            "edgemon_things_total{kind=\"a\"} 3\n"
            "edgemon_things_total{kind=\"b\"} 0.5\n"
            "# HELP edgemon_up 1 when up.\n"
            "# TYPE edgemon_up gauge\n"
            "edgemon_up 1\n");
  EXPECT_EQ(p.take(), "");  // take() empties the writer
  EXPECT_EQ(p.dropped(), 0u);
}

TEST(PrometheusText, EscapesLabelValuesAndHelp) {
  PrometheusText p;
  ASSERT_TRUE(p.family("x", "back\\slash, new\nline, \"quotes\" stay", PromType::kGauge));
  ASSERT_TRUE(p.sample({{"node", "a\"b\\c\nd<script>alert(1)</script>"}}, 1));
  EXPECT_EQ(p.take(),
            "# HELP x back\\\\slash, new\\nline, \"quotes\" stay\n"
            "# TYPE x gauge\n"
            "x{node=\"a\\\"b\\\\c\\nd<script>alert(1)</script>\"} 1\n");
  EXPECT_EQ(prom_escape_label_value("\\\\\"\n\n"), "\\\\\\\\\\\"\\n\\n");
  EXPECT_EQ(prom_escape_label_value("tab\tcr\r"), "tab\tcr\r");  // only \ " and newline are escaped
}

TEST(PrometheusText, ReplacesInvalidUtf8WithReplacementCharacter) {
  const std::string fffd = "\xEF\xBF\xBD";
  EXPECT_EQ(repair_utf8("plain ascii"), "plain ascii");
  EXPECT_EQ(repair_utf8("\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80"), "\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80");  // é € 😀
  EXPECT_EQ(repair_utf8("a\xFF" "b"), "a" + fffd + "b");
  EXPECT_EQ(repair_utf8("\xC3"), fffd);                          // truncated at the end
  EXPECT_EQ(repair_utf8("\xE2\x82x"), fffd + "x");               // one U+FFFD per maximal subpart
  EXPECT_EQ(repair_utf8("\xC0\xAF"), fffd + fffd);               // overlong '/'
  EXPECT_EQ(repair_utf8("\xED\xA0\x80"), fffd + fffd + fffd);    // UTF-16 surrogate
  EXPECT_EQ(repair_utf8("\xF4\x90\x80\x80"), fffd + fffd + fffd + fffd);  // above U+10FFFF
  EXPECT_EQ(repair_utf8("\x80\x80"), fffd + fffd);               // stray continuation bytes
  EXPECT_EQ(repair_utf8(std::string("nul\0byte", 8)), std::string("nul\0byte", 8));

  PrometheusText p;
  p.family("x", "help \xFF", PromType::kGauge);
  p.sample({{"node", "pi\xFE\"01"}}, 1);
  const std::string out = p.take();
  EXPECT_EQ(out, "# HELP x help " + fffd + "\n# TYPE x gauge\nx{node=\"pi" + fffd + "\\\"01\"} 1\n");
  EXPECT_TRUE(valid_utf8(out));
}

TEST(PrometheusText, FormatsSpecialValues) {
  EXPECT_EQ(prom_format_value(std::numeric_limits<double>::quiet_NaN()), "NaN");
  EXPECT_EQ(prom_format_value(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(prom_format_value(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(prom_format_value(0), "0");
  EXPECT_EQ(prom_format_value(42), "42");
  EXPECT_EQ(prom_format_value(0.1), "0.1");
  EXPECT_EQ(prom_format_value(-2.5), "-2.5");
  EXPECT_EQ(prom_format_value(1.5e-7), "1.5e-07");
  EXPECT_EQ(prom_format_value(1e21), "1e+21");
  EXPECT_EQ(prom_format_value(1700000000), "1700000000");
  EXPECT_EQ(prom_format_value(-3), "-3");
  EXPECT_EQ(prom_format_value(-0.0), "0");
  EXPECT_EQ(prom_format_value(9007199254740993.0), "9007199254740992");  // 2^53 + 1 rounds in double
  EXPECT_EQ(prom_format_value(18446744073709551615.0), "18446744073709551616");  // 2^64
  EXPECT_EQ(prom_format_value(1700000000.5), "1700000000.5");

  PrometheusText p;
  p.family("v", "values", PromType::kGauge);
  p.sample({{"k", "nan"}}, std::nan(""));
  p.sample({{"k", "inf"}}, HUGE_VAL);
  p.sample({{"k", "ninf"}}, -HUGE_VAL);
  const std::string out = p.take();
  EXPECT_NE(out.find("v{k=\"nan\"} NaN\n"), std::string::npos);
  EXPECT_NE(out.find("v{k=\"inf\"} +Inf\n"), std::string::npos);
  EXPECT_NE(out.find("v{k=\"ninf\"} -Inf\n"), std::string::npos);
  EXPECT_TRUE(exposition_problems(out).empty());
}

TEST(PrometheusText, InterleavedFamiliesAreWrittenOnceAndContiguously) {
  PrometheusText p;
  for (const char* node : {"a", "b", "c"}) {
    p.family("edgemon_node_up", "up", PromType::kGauge);
    p.sample({{"node", node}}, 1);
    p.family("edgemon_node_seen_total", "seen", PromType::kCounter);
    p.sample({{"node", node}}, 2);
  }
  p.family("edgemon_empty", "never sampled", PromType::kGauge);
  const std::string out = p.take();
  EXPECT_EQ(count(out, "# HELP edgemon_node_up "), 1u);
  EXPECT_EQ(count(out, "# TYPE edgemon_node_up "), 1u);
  EXPECT_EQ(count(out, "# HELP edgemon_node_seen_total "), 1u);
  EXPECT_EQ(out.find("edgemon_empty"), std::string::npos);  // a family without samples is left out
  EXPECT_LT(out.find("edgemon_node_up{node=\"c\"}"), out.find("# HELP edgemon_node_seen_total"));
  EXPECT_TRUE(exposition_problems(out).empty()) << out;
}

TEST(PrometheusText, RefusesInvalidNamesAndNeverEmitsThem) {
  PrometheusText p;
  for (const char* bad : {"", "1abc", "a-b", "a b", "a\"b", "a\nb", "é", "a{b}"}) {
    EXPECT_FALSE(p.family(bad, "h", PromType::kGauge)) << bad;
    EXPECT_FALSE(p.sample(1));  // no family selected: dropped
  }
  EXPECT_FALSE(p.family("requests", "a counter must end in _total", PromType::kCounter));
  EXPECT_FALSE(p.sample(1));
  EXPECT_TRUE(p.family("ok:sub_total", "h", PromType::kCounter));
  EXPECT_FALSE(p.family("ok:sub_total", "h", PromType::kGauge));  // other type
  EXPECT_FALSE(p.sample(1));
  EXPECT_TRUE(p.family("_ok", "h", PromType::kGauge));
  for (const char* bad : {"", "__name__", "__x", "1x", "a-b", "a:b", "é"}) {
    EXPECT_FALSE(p.sample({{bad, "v"}}, 1)) << bad;
  }
  EXPECT_FALSE(p.sample({{"a", "1"}, {"a", "2"}}, 1));  // repeated label name
  EXPECT_TRUE(p.sample({{"_a", "1"}, {"b9", "2"}}, 1));
  EXPECT_EQ(p.dropped(), 8u + 1u + 1u + 7u + 1u);
  EXPECT_TRUE(valid_prom_metric_name("edgemon:rate_5m"));
  EXPECT_FALSE(valid_prom_label_name("__reserved"));
  const std::string out = p.take();
  EXPECT_EQ(out, "# HELP _ok h\n# TYPE _ok gauge\n_ok{_a=\"1\",b9=\"2\"} 1\n");
}

TEST(PrometheusText, DropsLaterDuplicateLabelSets) {
  PrometheusText p;
  p.family("x", "h", PromType::kGauge);
  EXPECT_TRUE(p.sample({{"a", "1"}, {"b", "2"}}, 1));
  EXPECT_FALSE(p.sample({{"a", "1"}, {"b", "2"}}, 2));
  EXPECT_FALSE(p.sample({{"b", "2"}, {"a", "1"}}, 3));  // same set, other order
  EXPECT_TRUE(p.sample({{"a", "1"}}, 4));               // a subset is another series
  // Two distinct device strings that are the same after U+FFFD repair.
  EXPECT_TRUE(p.sample({{"node", "pi\xFF"}}, 5));
  EXPECT_FALSE(p.sample({{"node", "pi\xFE"}}, 6));
  p.family("y", "h", PromType::kGauge);
  EXPECT_TRUE(p.sample({{"a", "1"}, {"b", "2"}}, 7));  // per family
  EXPECT_EQ(p.dropped(), 3u);
  const std::string out = p.take();
  EXPECT_EQ(out,
            "# HELP x h\n# TYPE x gauge\n"
            "x{a=\"1\",b=\"2\"} 1\n"
            "x{a=\"1\"} 4\n"
            "x{node=\"pi\xEF\xBF\xBD\"} 5\n"
            "# HELP y h\n# TYPE y gauge\n"
            "y{a=\"1\",b=\"2\"} 7\n");
}

// --- the gateway's metrics --------------------------------------------------------------------

// A node's summary as the aggregator gives it (one ping target).
NodeSummary node_summary(const std::string& key, NodeStatus status) {
  NodeSummary n;
  n.key = key;
  n.status = status;
  n.status_reason = "target 10.0.0.1 down";
  n.last_seen = 1700000000500;
  n.uptime.h1 = 50.0;
  n.rate_per_min = 12.0;
  n.cpu_avg_5m = 25.0;
  TargetSummary t;
  t.key = key + "/ping/10.0.0.1";
  t.family = Family::kPing;
  t.target = "10.0.0.1";
  t.active = true;
  t.state = 3;
  t.up = 0;
  t.loss_pct = 35.0;
  t.rtt_avg = 1.5;
  t.rounds = 60;
  t.last_seen = 1700000000000;
  t.uptime.h1 = 75.0;
  n.targets.push_back(t);
  return n;
}

std::array<std::size_t, kNodeStatuses> fleet_counts(std::size_t unknown, std::size_t healthy, std::size_t degraded,
                                                   std::size_t down) {
  std::array<std::size_t, kNodeStatuses> c{};
  c[static_cast<std::size_t>(NodeStatus::kUnknown)] = unknown;
  c[static_cast<std::size_t>(NodeStatus::kHealthy)] = healthy;
  c[static_cast<std::size_t>(NodeStatus::kDegraded)] = degraded;
  c[static_cast<std::size_t>(NodeStatus::kDown)] = down;
  return c;
}

TEST(GatewayMetrics, RendersASmallGatewayExactly) {
  GatewayStatus s;
  s.version = "0.4.0";
  s.mqtt_connected = true;
  s.ingest.accepted = 120;
  s.ingest.rejected = {{"missing seq", 2}};
  s.ingest.duplicates = 1;
  s.storage.committed_rows = 1000;
  s.storage.pending_rows = 3;
  s.fleet = fleet_counts(0, 0, 1, 0);
  // The families the status table added: distinct values, so each line checks its own field.
  s.metrics = 7;
  s.ingest.metrics_refused_node_cap = 4;
  s.ingest.metrics_refused_fleet_cap = 5;
  s.ingress.queued = 6;
  s.ingress.max_queued = 1000;  // /api/health only
  s.ingress.backpressure_waits = 8;
  s.history_queries = 9;
  s.history_refused = 10;
  s.io_slow_steps = 12;
  s.ingest.clock_steps = 11;
  const std::vector<NodeSummary> nodes = {node_summary("edge/pi-01", NodeStatus::kDegraded)};
  EXPECT_EQ(metrics_text(s, nodes),
            "# HELP edgemon_build_info Always 1; the gateway's version as a label.\n"
            "# TYPE edgemon_build_info gauge\n"
            "edgemon_build_info{version=\"0.4.0\"} 1\n"
            "# HELP edgemon_mqtt_connected 1 while the gateway is connected to the MQTT broker.\n"
            "# TYPE edgemon_mqtt_connected gauge\n"
            "edgemon_mqtt_connected 1\n"
            "# HELP edgemon_messages_accepted_total Sparkplug messages accepted.\n"
            "# TYPE edgemon_messages_accepted_total counter\n"
            "edgemon_messages_accepted_total 120\n"
            "# HELP edgemon_messages_rejected_total Messages rejected, by reason.\n"
            "# TYPE edgemon_messages_rejected_total counter\n"
            "edgemon_messages_rejected_total{reason=\"missing seq\"} 2\n"
            "# HELP edgemon_messages_duplicate_total Duplicate messages ignored (QoS 1 redelivery).\n"
            "# TYPE edgemon_messages_duplicate_total counter\n"
            "edgemon_messages_duplicate_total 1\n"
            "# HELP edgemon_sequence_gaps_total Sparkplug sequence number gaps seen.\n"
            "# TYPE edgemon_sequence_gaps_total counter\n"
            "edgemon_sequence_gaps_total 0\n"
            "# HELP edgemon_rebirth_requests_total Rebirth requests sent to nodes.\n"
            "# TYPE edgemon_rebirth_requests_total counter\n"
            "edgemon_rebirth_requests_total 0\n"
            "# HELP edgemon_notifications_total Alert notifications dispatched.\n"
            "# TYPE edgemon_notifications_total counter\n"
            "edgemon_notifications_total 0\n"
            "# HELP edgemon_restore_failures_total State that could not be restored at start.\n"
            "# TYPE edgemon_restore_failures_total counter\n"
            "edgemon_restore_failures_total 0\n"
            "# HELP edgemon_websocket_clients Connected WebSocket clients.\n"
            "# TYPE edgemon_websocket_clients gauge\n"
            "edgemon_websocket_clients 0\n"
            "# HELP edgemon_websocket_frames_sent_total Frames written to WebSocket clients.\n"
            "# TYPE edgemon_websocket_frames_sent_total counter\n"
            "edgemon_websocket_frames_sent_total 0\n"
            "# HELP edgemon_websocket_frames_coalesced_total Queued WebSocket frames replaced by a newer one for the same node (slow client).\n"
            "# TYPE edgemon_websocket_frames_coalesced_total counter\n"
            "edgemon_websocket_frames_coalesced_total 0\n"
            "# HELP edgemon_websocket_resyncs_total WebSocket client queues replaced by a snapshot after overflowing.\n"
            "# TYPE edgemon_websocket_resyncs_total counter\n"
            "edgemon_websocket_resyncs_total 0\n"
            "# HELP edgemon_websocket_clients_dropped_total WebSocket clients dropped for overflowing again before their resync went out.\n"
            "# TYPE edgemon_websocket_clients_dropped_total counter\n"
            "edgemon_websocket_clients_dropped_total 0\n"
            "# HELP edgemon_websocket_clients_revoked_total WebSocket clients closed because their credentials were revoked.\n"
            "# TYPE edgemon_websocket_clients_revoked_total counter\n"
            "edgemon_websocket_clients_revoked_total 0\n"
            "# HELP edgemon_websocket_resumes_total WebSocket reconnects resumed from the history instead of a snapshot.\n"
            "# TYPE edgemon_websocket_resumes_total counter\n"
            "edgemon_websocket_resumes_total 0\n"
            "# HELP edgemon_websocket_watches_total Watch messages applied (a client asking for nodes in full).\n"
            "# TYPE edgemon_websocket_watches_total counter\n"
            "edgemon_websocket_watches_total 0\n"
            "# HELP edgemon_websocket_bad_messages_total WebSocket client messages refused with an error frame.\n"
            "# TYPE edgemon_websocket_bad_messages_total counter\n"
            "edgemon_websocket_bad_messages_total 0\n"
            "# HELP edgemon_alerts_active Alerts currently firing.\n"
            "# TYPE edgemon_alerts_active gauge\n"
            "edgemon_alerts_active 0\n"
            "# HELP edgemon_rules Alert rules configured.\n"
            "# TYPE edgemon_rules gauge\n"
            "edgemon_rules 0\n"
            "# HELP edgemon_aggregator_dropped_subjects_total Nodes and targets ignored because the aggregator's caps were reached.\n"
            "# TYPE edgemon_aggregator_dropped_subjects_total counter\n"
            "edgemon_aggregator_dropped_subjects_total 0\n"
            "# HELP edgemon_storage_ok 1 while history writes succeed.\n"
            "# TYPE edgemon_storage_ok gauge\n"
            "edgemon_storage_ok 1\n"
            "# HELP edgemon_storage_committed_rows_total History rows committed to SQLite.\n"
            "# TYPE edgemon_storage_committed_rows_total counter\n"
            "edgemon_storage_committed_rows_total 1000\n"
            "# HELP edgemon_storage_committed_batches_total History batches committed.\n"
            "# TYPE edgemon_storage_committed_batches_total counter\n"
            "edgemon_storage_committed_batches_total 0\n"
            "# HELP edgemon_storage_pending_rows History rows queued or being written.\n"
            "# TYPE edgemon_storage_pending_rows gauge\n"
            "edgemon_storage_pending_rows 3\n"
            "# HELP edgemon_storage_dropped_rows_total History rows dropped (queue full or shutdown).\n"
            "# TYPE edgemon_storage_dropped_rows_total counter\n"
            "edgemon_storage_dropped_rows_total 0\n"
            "# HELP edgemon_storage_write_failures_total Failed history writes (each retry counts).\n"
            "# TYPE edgemon_storage_write_failures_total counter\n"
            "edgemon_storage_write_failures_total 0\n"
            "# HELP edgemon_storage_maintenance_runs_total History maintenance runs (rollups, retention).\n"
            "# TYPE edgemon_storage_maintenance_runs_total counter\n"
            "edgemon_storage_maintenance_runs_total 0\n"
            "# HELP edgemon_storage_maintenance_failures_total Failed history maintenance runs.\n"
            "# TYPE edgemon_storage_maintenance_failures_total counter\n"
            "edgemon_storage_maintenance_failures_total 0\n"
            "# HELP edgemon_metrics Metrics the gateway holds over every node.\n"
            "# TYPE edgemon_metrics gauge\n"
            "edgemon_metrics 7\n"
            "# HELP edgemon_metrics_refused_node_cap_total Metric names refused because their node reached limits.max_metrics_per_node.\n"
            "# TYPE edgemon_metrics_refused_node_cap_total counter\n"
            "edgemon_metrics_refused_node_cap_total 4\n"
            "# HELP edgemon_metrics_refused_fleet_cap_total Metric names refused because the fleet reached limits.max_metrics_total.\n"
            "# TYPE edgemon_metrics_refused_fleet_cap_total counter\n"
            "edgemon_metrics_refused_fleet_cap_total 5\n"
            "# HELP edgemon_ingress_queued_messages MQTT messages received and not yet ingested.\n"
            "# TYPE edgemon_ingress_queued_messages gauge\n"
            "edgemon_ingress_queued_messages 6\n"
            "# HELP edgemon_ingress_backpressure_waits_total Times the MQTT receive thread waited because the ingest queue was full.\n"
            "# TYPE edgemon_ingress_backpressure_waits_total counter\n"
            "edgemon_ingress_backpressure_waits_total 8\n"
            "# HELP edgemon_history_queries_total History queries answered by the reader thread.\n"
            "# TYPE edgemon_history_queries_total counter\n"
            "edgemon_history_queries_total 9\n"
            "# HELP edgemon_history_queries_refused_total History queries refused (503) because too many were waiting.\n"
            "# TYPE edgemon_history_queries_refused_total counter\n"
            "edgemon_history_queries_refused_total 10\n"
            "# HELP edgemon_io_slow_steps_total Steps of the io thread that took over 50 ms (each delays the WebSocket frames and HTTP answers behind it).\n"
            "# TYPE edgemon_io_slow_steps_total counter\n"
            "edgemon_io_slow_steps_total 12\n"
            "# HELP edgemon_clock_steps_total Steps of the wall clock the gateway detected.\n"
            "# TYPE edgemon_clock_steps_total counter\n"
            "edgemon_clock_steps_total 11\n"
            "# HELP edgemon_samples_tracked_nodes Nodes whose samples are accounted for (agent/sample_seq).\n"
            "# TYPE edgemon_samples_tracked_nodes gauge\n"
            "edgemon_samples_tracked_nodes 0\n"
            "# HELP edgemon_samples_received_total Numbered samples received, each once.\n"
            "# TYPE edgemon_samples_received_total counter\n"
            "edgemon_samples_received_total 0\n"
            "# HELP edgemon_samples_duplicate_total Numbered samples received again (replays) and not stored again.\n"
            "# TYPE edgemon_samples_duplicate_total counter\n"
            "edgemon_samples_duplicate_total 0\n"
            "# HELP edgemon_samples_missing_total Numbered samples that never arrived (holes in agent/sample_seq; DATA_LOSS events).\n"
            "# TYPE edgemon_samples_missing_total counter\n"
            "edgemon_samples_missing_total 0\n"
            "# HELP edgemon_samples_losses_total Holes in agent/sample_seq seen (DATA_LOSS events).\n"
            "# TYPE edgemon_samples_losses_total counter\n"
            "edgemon_samples_losses_total 0\n"
            "# HELP edgemon_samples_late_total Samples that arrived after their hole was reported.\n"
            "# TYPE edgemon_samples_late_total counter\n"
            "edgemon_samples_late_total 0\n"
            "# HELP edgemon_samples_numbering_resets_total Times a node's sample numbering started over (agent state wiped).\n"
            "# TYPE edgemon_samples_numbering_resets_total counter\n"
            "edgemon_samples_numbering_resets_total 0\n"
            "# HELP edgemon_nodes Nodes by status.\n"
            "# TYPE edgemon_nodes gauge\n"
            "edgemon_nodes{status=\"UNKNOWN\"} 0\n"
            "edgemon_nodes{status=\"HEALTHY\"} 0\n"
            "edgemon_nodes{status=\"DEGRADED\"} 1\n"
            "edgemon_nodes{status=\"DOWN\"} 0\n"
            "# HELP edgemon_node_up 1 when the node is online (HEALTHY or DEGRADED), 0 when DOWN; absent while UNKNOWN.\n"
            "# TYPE edgemon_node_up gauge\n"
            "edgemon_node_up{group=\"edge\",node=\"pi-01\"} 1\n"
            "# HELP edgemon_node_status 1 for the node's current status, 0 for the others.\n"
            "# TYPE edgemon_node_status gauge\n"
            "edgemon_node_status{group=\"edge\",node=\"pi-01\",status=\"UNKNOWN\"} 0\n"
            "edgemon_node_status{group=\"edge\",node=\"pi-01\",status=\"HEALTHY\"} 0\n"
            "edgemon_node_status{group=\"edge\",node=\"pi-01\",status=\"DEGRADED\"} 1\n"
            "edgemon_node_status{group=\"edge\",node=\"pi-01\",status=\"DOWN\"} 0\n"
            "# HELP edgemon_node_last_seen_timestamp_seconds Unix time the node was last heard from.\n"
            "# TYPE edgemon_node_last_seen_timestamp_seconds gauge\n"
            "edgemon_node_last_seen_timestamp_seconds{group=\"edge\",node=\"pi-01\"} 1700000000.5\n"
            "# HELP edgemon_node_uptime_ratio Share of the window the node was online (0..1).\n"
            "# TYPE edgemon_node_uptime_ratio gauge\n"
            "edgemon_node_uptime_ratio{group=\"edge\",node=\"pi-01\",window=\"1h\"} 0.5\n"
            "# HELP edgemon_node_cpu_usage_ratio Node CPU use over the last 5 minutes (0..1).\n"
            "# TYPE edgemon_node_cpu_usage_ratio gauge\n"
            "edgemon_node_cpu_usage_ratio{group=\"edge\",node=\"pi-01\",stat=\"avg_5m\"} 0.25\n"
            "# HELP edgemon_node_messages_per_minute Messages per minute from the node over the last 5 minutes.\n"
            "# TYPE edgemon_node_messages_per_minute gauge\n"
            "edgemon_node_messages_per_minute{group=\"edge\",node=\"pi-01\"} 12\n"
            "# HELP edgemon_target_active 1 while the target is reported by its agent, 0 once retired (not reported for a while).\n"
            "# TYPE edgemon_target_active gauge\n"
            "edgemon_target_active{group=\"edge\",node=\"pi-01\",family=\"ping\",target=\"10.0.0.1\"} 1\n"
            "# HELP edgemon_target_up 1 when the target's last round was up, 0 when down.\n"
            "# TYPE edgemon_target_up gauge\n"
            "edgemon_target_up{group=\"edge\",node=\"pi-01\",family=\"ping\",target=\"10.0.0.1\"} 0\n"
            "# HELP edgemon_target_state The agent's debounced target health: 0 unknown, 1 up, 2 degraded, 3 down.\n"
            "# TYPE edgemon_target_state gauge\n"
            "edgemon_target_state{group=\"edge\",node=\"pi-01\",family=\"ping\",target=\"10.0.0.1\"} 3\n"
            "# HELP edgemon_target_loss_ratio Packet loss over the target's recent rounds (0..1).\n"
            "# TYPE edgemon_target_loss_ratio gauge\n"
            "edgemon_target_loss_ratio{group=\"edge\",node=\"pi-01\",family=\"ping\",target=\"10.0.0.1\"} 0.35\n"
            "# HELP edgemon_target_rtt_seconds Round-trip time over the target's recent rounds.\n"
            "# TYPE edgemon_target_rtt_seconds gauge\n"
            "edgemon_target_rtt_seconds{group=\"edge\",node=\"pi-01\",family=\"ping\",target=\"10.0.0.1\",stat=\"avg\"} 0.0015\n"
            "# HELP edgemon_target_last_seen_timestamp_seconds Unix time of the target's last report.\n"
            "# TYPE edgemon_target_last_seen_timestamp_seconds gauge\n"
            "edgemon_target_last_seen_timestamp_seconds{group=\"edge\",node=\"pi-01\",family=\"ping\",target=\"10.0.0.1\"} 1700000000\n"
            "# HELP edgemon_target_uptime_ratio Share of the window's rounds the target was up (0..1).\n"
            "# TYPE edgemon_target_uptime_ratio gauge\n"
            "edgemon_target_uptime_ratio{group=\"edge\",node=\"pi-01\",family=\"ping\",target=\"10.0.0.1\",window=\"1h\"} 0.75\n");
}

TEST(GatewayMetrics, EmptyFleetRendersValidOutput) {
  const std::string out = metrics_text(GatewayStatus{}, {});
  EXPECT_TRUE(exposition_problems(out).empty()) << out;
  EXPECT_NE(out.find("edgemon_build_info{version=\"\"} 1\n"), std::string::npos);
  EXPECT_NE(out.find("edgemon_nodes{status=\"DOWN\"} 0\n"), std::string::npos);
  EXPECT_EQ(out.find("edgemon_node_"), std::string::npos);
  EXPECT_EQ(out.find("edgemon_target_"), std::string::npos);
  EXPECT_EQ(out.find("edgemon_messages_rejected_total"), std::string::npos);  // nothing rejected yet
}

TEST(GatewayMetrics, NodeUpFollowsStatusAndRetiredTargetsShowOnlyActiveAndUptime) {
  GatewayStatus s;
  s.fleet = fleet_counts(1, 1, 0, 1);
  NodeSummary down = node_summary("g/down", NodeStatus::kDown);
  down.targets[0].active = false;
  const std::vector<NodeSummary> nodes = {node_summary("g/ok", NodeStatus::kHealthy), down,
                                          node_summary("g/new", NodeStatus::kUnknown)};
  const std::string out = metrics_text(s, nodes);
  EXPECT_TRUE(exposition_problems(out).empty()) << out;
  EXPECT_NE(out.find("edgemon_node_up{group=\"g\",node=\"ok\"} 1\n"), std::string::npos);
  EXPECT_NE(out.find("edgemon_node_up{group=\"g\",node=\"down\"} 0\n"), std::string::npos);
  EXPECT_EQ(out.find("edgemon_node_up{group=\"g\",node=\"new\"}"), std::string::npos);
  EXPECT_NE(out.find("edgemon_node_status{group=\"g\",node=\"new\",status=\"UNKNOWN\"} 1\n"), std::string::npos);
  EXPECT_NE(out.find("edgemon_node_status{group=\"g\",node=\"new\",status=\"HEALTHY\"} 0\n"), std::string::npos);
  EXPECT_NE(out.find("edgemon_node_status{group=\"g\",node=\"down\",status=\"DOWN\"} 1\n"), std::string::npos);
  EXPECT_NE(out.find("edgemon_target_active{group=\"g\",node=\"down\",family=\"ping\",target=\"10.0.0.1\"} 0\n"),
            std::string::npos);
  for (const char* hidden : {"edgemon_target_up{", "edgemon_target_state{", "edgemon_target_loss_ratio{",
                             "edgemon_target_rtt_seconds{"}) {
    EXPECT_EQ(out.find(std::string(hidden) + "group=\"g\",node=\"down\""), std::string::npos) << hidden;
    EXPECT_NE(out.find(std::string(hidden) + "group=\"g\",node=\"ok\""), std::string::npos) << hidden;
  }
  EXPECT_NE(out.find("edgemon_target_uptime_ratio{group=\"g\",node=\"down\",family=\"ping\",target=\"10.0.0.1\",window=\"1h\"}"),
            std::string::npos);
  // edgemon_nodes is the fleet's count by status (the aggregator's), not a count of `nodes`.
  EXPECT_NE(out.find("edgemon_nodes{status=\"HEALTHY\"} 1\n"), std::string::npos);
  EXPECT_NE(out.find("edgemon_nodes{status=\"UNKNOWN\"} 1\n"), std::string::npos);
  EXPECT_NE(out.find("edgemon_nodes{status=\"DEGRADED\"} 0\n"), std::string::npos);
  EXPECT_NE(out.find("edgemon_nodes{status=\"DOWN\"} 1\n"), std::string::npos);
}

TEST(GatewayMetrics, MissingValuesAreLeftOutAndEveryFamilyAndWindowIsWritten) {
  NodeSummary n = node_summary("g/n", NodeStatus::kHealthy);
  n.uptime = UptimePct{99.0, 98.0, 97.0, 96.0};
  n.cpu_max_5m = 50.0;
  n.targets[0].family = Family::kHttp;
  n.targets[0].target = "api.lan";
  n.targets[0].rtt_min = 1.0;
  n.targets[0].rtt_max = 2.0;
  n.targets[0].uptime = UptimePct{90.0, std::nullopt, 70.0, std::nullopt};
  NodeSummary bare;  // a node known from stored uptime only
  bare.key = "g/bare";
  const std::vector<NodeSummary> nodes = {n, bare};
  const std::string out = metrics_text(GatewayStatus{}, nodes);
  EXPECT_TRUE(exposition_problems(out).empty()) << out;
  for (const char* line : {
           "edgemon_node_uptime_ratio{group=\"g\",node=\"n\",window=\"1h\"} 0.99\n",
           "edgemon_node_uptime_ratio{group=\"g\",node=\"n\",window=\"24h\"} 0.98\n",
           "edgemon_node_uptime_ratio{group=\"g\",node=\"n\",window=\"7d\"} 0.97\n",
           "edgemon_node_uptime_ratio{group=\"g\",node=\"n\",window=\"30d\"} 0.96\n",
           "edgemon_node_cpu_usage_ratio{group=\"g\",node=\"n\",stat=\"max_5m\"} 0.5\n",
           "edgemon_target_rtt_seconds{group=\"g\",node=\"n\",family=\"http\",target=\"api.lan\",stat=\"avg\"} 0.0015\n",
           "edgemon_target_rtt_seconds{group=\"g\",node=\"n\",family=\"http\",target=\"api.lan\",stat=\"min\"} 0.001\n",
           "edgemon_target_rtt_seconds{group=\"g\",node=\"n\",family=\"http\",target=\"api.lan\",stat=\"max\"} 0.002\n",
           "edgemon_target_uptime_ratio{group=\"g\",node=\"n\",family=\"http\",target=\"api.lan\",window=\"1h\"} 0.9\n",
           "edgemon_target_uptime_ratio{group=\"g\",node=\"n\",family=\"http\",target=\"api.lan\",window=\"7d\"} 0.7\n",
           "edgemon_node_status{group=\"g\",node=\"bare\",status=\"UNKNOWN\"} 1\n",
       }) {
    EXPECT_NE(out.find(line), std::string::npos) << line << out;
  }
  EXPECT_EQ(out.find("window=\"24h\"} ", out.find("family=\"http\"")), std::string::npos) << "null windows are left out";
  EXPECT_EQ(count(out, "edgemon_target_uptime_ratio{"), 2u);
  // The bare node: only its status family, nothing written as 0 for what it does not have.
  EXPECT_EQ(count(out, "node=\"bare\""), 4u) << out;
}

// Device-supplied strings at their worst, and numbers that are not finite.
GatewayStatus hostile_status() {
  GatewayStatus s;
  s.version = "1.0\"\\\n<script>";
  s.ingest.rejected = {{"bad \"topic\"\n\\", 1}, {"\xFF\xFE", 2}, {"\xFE\xFF", 3}, {"", 4}};
  s.fleet = fleet_counts(0, 0, 0, 2);
  return s;
}

std::vector<NodeSummary> hostile_nodes() {
  const std::vector<std::string> nasty = {
      "pi\"01",  "pi\\01",       "pi\n01",     "<script>alert('x')</script>", "pi\xFF",  "pi\xFE",
      "\xC0\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80", std::string("nul\0x", 5), "cr\r", "a/b/c", "\xE2\x82",
      "ok",      "{}=,\"",       "\\",         "\\\"",                          "é€😀",     "",        "x y"};
  const Family families[] = {Family::kPing, Family::kTcp, Family::kHttp, Family::kGrpc, Family::kDns, Family::kTls};
  std::vector<NodeSummary> out;
  std::size_t i = 0;
  for (const std::string& s : nasty) {
    NodeSummary n = node_summary("grp\"\n" + s + "/" + s, NodeStatus::kHealthy);
    n.targets[0].target = s;
    n.targets[0].family = families[i++ % std::size(families)];
    n.targets.push_back(n.targets[0]);  // a duplicate target
    n.targets.push_back(TargetSummary{});  // everything empty
    n.cpu_avg_5m = std::nan("");
    n.cpu_max_5m = HUGE_VAL;
    n.rate_per_min = -HUGE_VAL;
    n.uptime.h24 = std::nan("");
    n.targets[0].rtt_max = HUGE_VAL;
    out.push_back(n);
  }
  out.push_back(node_summary("nogroup", NodeStatus::kDegraded));
  out.push_back(node_summary("", NodeStatus::kDown));
  return out;
}

TEST(GatewayMetrics, HostileStringsRenderWellFormedText) {
  const std::string out = metrics_text(hostile_status(), hostile_nodes());
  const auto problems = exposition_problems(out);
  EXPECT_TRUE(problems.empty()) << ::testing::PrintToString(problems) << "\n" << out;
  EXPECT_NE(out.find("edgemon_build_info{version=\"1.0\\\"\\\\\\n<script>\"} 1\n"), std::string::npos);
  EXPECT_NE(out.find("target=\"<script>alert('x')</script>\""), std::string::npos);
  EXPECT_NE(out.find("edgemon_node_up{group=\"\",node=\"nogroup\"} 1\n"), std::string::npos);
  EXPECT_NE(out.find("edgemon_nodes{status=\"DOWN\"} 2\n"), std::string::npos);
  EXPECT_NE(out.find("edgemon_nodes{status=\"HEALTHY\"} 0\n"), std::string::npos);
  EXPECT_NE(out.find("stat=\"avg_5m\"} NaN\n"), std::string::npos);
  EXPECT_NE(out.find("stat=\"max_5m\"} +Inf\n"), std::string::npos);
  EXPECT_NE(out.find("edgemon_messages_rejected_total{reason=\"bad \\\"topic\\\"\\n\\\\\"} 1\n"), std::string::npos);
  // /api/health from the same status is valid JSON with the strings intact (invalid UTF-8 repaired).
  const Json health = Json::parse(health_json(hostile_status()));
  EXPECT_EQ(health["version"], "1.0\"\\\n<script>");
  EXPECT_EQ(health["rejected_by_reason"]["bad \"topic\"\n\\"], 1);
}

// Series name with labels -> value, from exposition text.
std::map<std::string, std::string> samples_of(const std::string& text) {
  std::map<std::string, std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const std::size_t sp = line.rfind(' ');
    EXPECT_TRUE(out.emplace(line.substr(0, sp), line.substr(sp + 1)).second) << line;
  }
  return out;
}

TEST(GatewayStatusOutputs, HealthAndMetricsShowTheSameCounters) {
  // Every counter a distinct value, so a field wired to the wrong place shows.
  GatewayStatus s;
  s.version = "9.9.9";
  s.mqtt_connected = true;
  s.nodes = 3;
  s.ingest.accepted = 1001;
  s.ingest.duplicates = 1002;
  s.ingest.gaps = 1003;
  s.ingest.rebirth_requests = 1004;
  s.ingest.metrics_refused_node_cap = 1005;
  s.ingest.metrics_refused_fleet_cap = 1006;
  s.ingest.notifications = 1007;
  s.ingest.clock_steps = 1008;
  s.ingest.rejected = {{"bad topic", 1009}, {"too big", 1010}};
  s.restore_failures = 1011;
  s.alerts_active = 1012;
  s.rules = 1013;
  s.dropped_subjects = 1014;
  s.metrics = 1015;
  s.ws.clients = 1016;
  s.ws.frames_sent = 1017;
  s.ws.coalesced = 1018;
  s.ws.resyncs = 1019;
  s.ws.dropped = 1020;
  s.ws.revoked = 1021;
  s.ws.resumes = 1022;
  s.storage.committed_rows = 1023;
  s.storage.committed_batches = 1024;
  s.storage.write_failures = 1025;
  s.storage.dropped_rows = 1026;
  s.storage.pending_rows = 1027;
  s.storage.maintenance_runs = 1028;
  s.storage.maintenance_failures = 1029;
  s.storage.storage_ok = false;
  s.storage.last_error = "disk full";
  s.ingress.queued = 1030;
  s.ingress.max_queued = 1031;
  s.ingress.backpressure_waits = 1032;
  s.history_queries = 1033;
  s.history_refused = 1034;
  s.io_slow_steps = 1039;
  s.ws.watches = 1040;
  s.ws.bad_messages = 1041;
  s.samples.nodes = 1042;
  s.samples.received = 1043;
  s.samples.duplicates = 1044;
  s.samples.missing = 1045;
  s.samples.losses = 1046;
  s.samples.late = 1047;
  s.samples.resets = 1048;
  s.schema_version = 7;
  s.fleet = fleet_counts(1035, 1036, 1037, 1038);

  struct Both {
    const char* health;  // JSON pointer into /api/health
    const char* metric;  // series in /metrics; nullptr: /api/health only
    Json value;          // in /api/health; /metrics has the number (true 1, false 0)
  };
  const std::vector<Both> table = {
      {"/mqtt_connected", "edgemon_mqtt_connected", true},
      {"/messages_accepted", "edgemon_messages_accepted_total", 1001},
      {"/duplicates", "edgemon_messages_duplicate_total", 1002},
      {"/sequence_gaps", "edgemon_sequence_gaps_total", 1003},
      {"/rebirth_requests", "edgemon_rebirth_requests_total", 1004},
      {"/limits/metrics_refused_node_cap", "edgemon_metrics_refused_node_cap_total", 1005},
      {"/limits/metrics_refused_fleet_cap", "edgemon_metrics_refused_fleet_cap_total", 1006},
      {"/notifications", "edgemon_notifications_total", 1007},
      {"/clock_steps", "edgemon_clock_steps_total", 1008},
      {"/rejected_by_reason/bad topic", "edgemon_messages_rejected_total{reason=\"bad topic\"}", 1009},
      {"/rejected_by_reason/too big", "edgemon_messages_rejected_total{reason=\"too big\"}", 1010},
      {"/messages_rejected", nullptr, 1009 + 1010},  // /metrics has it by reason (above)
      {"/restore_failures", "edgemon_restore_failures_total", 1011},
      {"/alerts_active", "edgemon_alerts_active", 1012},
      {"/rules", "edgemon_rules", 1013},
      {"/dropped_subjects", "edgemon_aggregator_dropped_subjects_total", 1014},
      {"/limits/metrics", "edgemon_metrics", 1015},
      {"/ws_clients", "edgemon_websocket_clients", 1016},
      {"/ws/clients", "edgemon_websocket_clients", 1016},
      {"/ws/frames_sent", "edgemon_websocket_frames_sent_total", 1017},
      {"/ws/frames_coalesced", "edgemon_websocket_frames_coalesced_total", 1018},
      {"/ws/resyncs", "edgemon_websocket_resyncs_total", 1019},
      {"/ws/clients_dropped", "edgemon_websocket_clients_dropped_total", 1020},
      {"/ws/clients_revoked", "edgemon_websocket_clients_revoked_total", 1021},
      {"/ws/resumes", "edgemon_websocket_resumes_total", 1022},
      {"/ws/watches", "edgemon_websocket_watches_total", 1040},
      {"/ws/bad_messages", "edgemon_websocket_bad_messages_total", 1041},
      {"/samples/nodes", "edgemon_samples_tracked_nodes", 1042},
      {"/samples/received", "edgemon_samples_received_total", 1043},
      {"/samples/duplicates", "edgemon_samples_duplicate_total", 1044},
      {"/samples/missing", "edgemon_samples_missing_total", 1045},
      {"/samples/losses", "edgemon_samples_losses_total", 1046},
      {"/samples/late", "edgemon_samples_late_total", 1047},
      {"/samples/resets", "edgemon_samples_numbering_resets_total", 1048},
      {"/storage/ok", "edgemon_storage_ok", false},
      {"/storage/committed_rows", "edgemon_storage_committed_rows_total", 1023},
      {"/storage/committed_batches", "edgemon_storage_committed_batches_total", 1024},
      {"/storage/write_failures", "edgemon_storage_write_failures_total", 1025},
      {"/store_failures", "edgemon_storage_write_failures_total", 1025},
      {"/storage/dropped_rows", "edgemon_storage_dropped_rows_total", 1026},
      {"/storage/pending_rows", "edgemon_storage_pending_rows", 1027},
      {"/storage/maintenance_runs", "edgemon_storage_maintenance_runs_total", 1028},
      {"/storage/maintenance_failures", "edgemon_storage_maintenance_failures_total", 1029},
      {"/ingress/queued", "edgemon_ingress_queued_messages", 1030},
      {"/ingress/max_queued", nullptr, 1031},  // a setting, not a measurement
      {"/ingress/backpressure_waits", "edgemon_ingress_backpressure_waits_total", 1032},
      {"/history/queries", "edgemon_history_queries_total", 1033},
      {"/history/refused_busy", "edgemon_history_queries_refused_total", 1034},
      {"/io/slow_steps", "edgemon_io_slow_steps_total", 1039},
      {"/fleet/UNKNOWN", "edgemon_nodes{status=\"UNKNOWN\"}", 1035},
      {"/fleet/HEALTHY", "edgemon_nodes{status=\"HEALTHY\"}", 1036},
      {"/fleet/DEGRADED", "edgemon_nodes{status=\"DEGRADED\"}", 1037},
      {"/fleet/DOWN", "edgemon_nodes{status=\"DOWN\"}", 1038},
      {"/version", "edgemon_build_info{version=\"9.9.9\"}", "9.9.9"},  // /metrics: 1 with the label
      {"/nodes", nullptr, 3},
      {"/schema_version", nullptr, 7},
      {"/status", nullptr, "ok"},
      {"/storage/last_error", nullptr, "disk full"},
  };

  const std::string health_text = health_json(s);
  const Json health = Json::parse(health_text);
  const std::string metrics = metrics_text(s, {});
  EXPECT_TRUE(exposition_problems(metrics).empty()) << metrics;
  const std::map<std::string, std::string> series = samples_of(metrics);

  std::set<std::string> known_health, known_metrics;
  for (const Both& b : table) {
    known_health.insert(b.health);
    const Json::json_pointer ptr(b.health);
    ASSERT_TRUE(health.contains(ptr)) << b.health << " missing from " << health_text;
    EXPECT_EQ(health.at(ptr), b.value) << b.health;
    if (b.metric == nullptr) continue;
    known_metrics.insert(b.metric);
    const auto it = series.find(b.metric);
    ASSERT_NE(it, series.end()) << b.metric << " missing from\n" << metrics;
    const std::string want = b.value.is_boolean() ? (b.value.get<bool>() ? "1" : "0")
                             : b.value.is_string() ? "1"
                                                   : std::to_string(b.value.get<std::uint64_t>());
    EXPECT_EQ(it->second, want) << b.metric << " vs " << b.health;
  }
  // Nothing on either side that the other (or this table) does not account for.
  const Json flat = health.flatten();
  for (const auto& [pointer, value] : flat.items()) {
    EXPECT_TRUE(known_health.count(pointer)) << "/api/health has " << pointer << " = " << value.dump()
                                             << "; /metrics should show it too (or add it here as health-only)";
  }
  for (const auto& [name, value] : series) {
    EXPECT_TRUE(known_metrics.count(name)) << "/metrics has " << name << " " << value
                                           << "; /api/health should show it too";
  }
}


// promtool from Debian's prometheus package (.ci/deps extracts it); ctest runs this as
// unit.promtool_render with EDGEMON_PROMTOOL set, and skips it elsewhere.
TEST(PromtoolRender, HostileFleetPassesPromtoolCheckMetrics) {
  const char* promtool = std::getenv("EDGEMON_PROMTOOL");
  if (promtool == nullptr || *promtool == '\0') GTEST_SKIP() << "EDGEMON_PROMTOOL not set";
  TempDir dir;
  const std::string metrics = dir.write("metrics.txt", metrics_text(hostile_status(), hostile_nodes()));
  const std::string output = dir.file("promtool.out");
  const std::string cmd = "'" + std::string(promtool) + "' check metrics < '" + metrics + "' > '" + output + "' 2>&1";
  const int status = std::system(cmd.c_str());
  std::ifstream in(output);
  const std::string said((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_TRUE(WIFEXITED(status)) << cmd;
  EXPECT_EQ(WEXITSTATUS(status), 0) << said;
  EXPECT_EQ(said, "");

  // And a check of the checker: promtool does complain about what we must never write.
  const std::string broken = dir.write("broken.txt", "# TYPE foo counter\nfoo{a=\"\xFF\"} 1\n");
  const std::string cmd2 = "'" + std::string(promtool) + "' check metrics < '" + broken + "' > '" + output + "' 2>&1";
  const int status2 = std::system(cmd2.c_str());
  ASSERT_TRUE(WIFEXITED(status2));
  EXPECT_NE(WEXITSTATUS(status2), 0);
}

}  // namespace
}  // namespace edgemon::gateway
