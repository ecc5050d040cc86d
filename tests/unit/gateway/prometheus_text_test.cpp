#include "edgemon/gateway/api/prometheus_text.h"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

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

Json node_summary(const std::string& key, const std::string& status) {
  Json n = Json::parse(R"({"key":"","status":"","status_reason":"target 10.0.0.1 down","last_seen":1700000000500,
    "uptime":{"1h":50.0,"24h":null,"7d":null,"30d":null},"rate_per_min":12.0,
    "cpu":{"avg_5m":25.0,"max_5m":null},
    "targets":[{"key":"","family":"ping","target":"10.0.0.1","active":true,"state":3,"up":0,
                "loss_pct":35.0,"rtt_avg":1.5,"rtt_min":null,"rtt_max":null,"rounds":60,
                "last_seen":1700000000000,"last_up":null,
                "uptime":{"1h":75.0,"24h":null,"7d":null,"30d":null}}]})");
  n["key"] = key;
  n["status"] = status;
  n["targets"][0]["key"] = key + "/ping/10.0.0.1";
  return n;
}

TEST(GatewayMetrics, RendersASmallGatewayExactly) {
  GatewayMetricsInput in;
  in.version = "0.4.0";
  in.mqtt_connected = true;
  in.messages_accepted = 120;
  in.rejected_by_reason = {{"missing seq", 2}};
  in.duplicates = 1;
  in.committed_rows = 1000;
  in.pending_rows = 3;
  in.fleet_summary = Json::parse(R"({"counts":{"DEGRADED":1,"DOWN":0,"HEALTHY":0,"UNKNOWN":0},"nodes":[]})");
  in.node_summaries.push_back(node_summary("edge/pi-01", "DEGRADED"));
  EXPECT_EQ(render_gateway_metrics(in),
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
  const std::string out = render_gateway_metrics(GatewayMetricsInput{});
  EXPECT_TRUE(exposition_problems(out).empty()) << out;
  EXPECT_NE(out.find("edgemon_build_info{version=\"\"} 1\n"), std::string::npos);
  EXPECT_NE(out.find("edgemon_nodes{status=\"DOWN\"} 0\n"), std::string::npos);
  EXPECT_EQ(out.find("edgemon_node_"), std::string::npos);
  EXPECT_EQ(out.find("edgemon_target_"), std::string::npos);
  EXPECT_EQ(out.find("edgemon_messages_rejected_total"), std::string::npos);  // nothing rejected yet
}

TEST(GatewayMetrics, NodeUpFollowsStatusAndRetiredTargetsShowOnlyActiveAndUptime) {
  GatewayMetricsInput in;
  Json down = node_summary("g/down", "DOWN");
  down["targets"][0]["active"] = false;
  in.node_summaries = {node_summary("g/ok", "HEALTHY"), down, node_summary("g/new", "UNKNOWN"), nullptr};
  const std::string out = render_gateway_metrics(in);
  EXPECT_TRUE(exposition_problems(out).empty()) << out;
  EXPECT_NE(out.find("edgemon_node_up{group=\"g\",node=\"ok\"} 1\n"), std::string::npos);
  EXPECT_NE(out.find("edgemon_node_up{group=\"g\",node=\"down\"} 0\n"), std::string::npos);
  EXPECT_EQ(out.find("edgemon_node_up{group=\"g\",node=\"new\"}"), std::string::npos);
  EXPECT_NE(out.find("edgemon_node_status{group=\"g\",node=\"new\",status=\"UNKNOWN\"} 1\n"), std::string::npos);
  EXPECT_NE(out.find("edgemon_target_active{group=\"g\",node=\"down\",family=\"ping\",target=\"10.0.0.1\"} 0\n"),
            std::string::npos);
  EXPECT_EQ(out.find("edgemon_target_up{group=\"g\",node=\"down\""), std::string::npos);
  EXPECT_NE(out.find("edgemon_target_uptime_ratio{group=\"g\",node=\"down\",family=\"ping\",target=\"10.0.0.1\",window=\"1h\"}"),
            std::string::npos);
  // No "counts" in fleet_summary: counted from the summaries.
  EXPECT_NE(out.find("edgemon_nodes{status=\"HEALTHY\"} 1\n"), std::string::npos);
  EXPECT_NE(out.find("edgemon_nodes{status=\"UNKNOWN\"} 1\n"), std::string::npos);
}

// Device-supplied strings at their worst, plus summaries with fields of the wrong type.
GatewayMetricsInput hostile_input() {
  GatewayMetricsInput in;
  in.version = "1.0\"\\\n<script>";
  in.rejected_by_reason = {{"bad \"topic\"\n\\", 1}, {"\xFF\xFE", 2}, {"\xFE\xFF", 3}, {"", 4}};
  const std::vector<std::string> nasty = {
      "pi\"01",  "pi\\01",       "pi\n01",     "<script>alert('x')</script>", "pi\xFF",  "pi\xFE",
      "\xC0\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80", std::string("nul\0x", 5), "cr\r", "a/b/c", "\xE2\x82",
      "ok",      "{}=,\"",       "\\",         "\\\"",                          "é€😀",     "",        "x y"};
  for (const std::string& s : nasty) {
    Json n = node_summary("grp\"\n" + s + "/" + s, "HEALTHY");
    n["targets"][0]["target"] = s;
    n["targets"][0]["family"] = s;
    n["targets"].push_back(n["targets"][0]);  // a duplicate target
    n["targets"].push_back({{"family", 7}, {"target", nullptr}, {"up", "1"}, {"uptime", "x"}});
    n["cpu"] = {{"avg_5m", std::nan("")}, {"max_5m", HUGE_VAL}};
    in.node_summaries.push_back(n);
  }
  in.node_summaries.push_back(Json{{"key", 5}});
  in.node_summaries.push_back(Json::array());
  in.node_summaries.push_back(node_summary("nogroup", "DEGRADED"));
  in.fleet_summary = Json{{"counts", {{"HEALTHY", "many"}, {"DOWN", 2}}}};
  return in;
}

TEST(GatewayMetrics, HostileStringsRenderWellFormedText) {
  const std::string out = render_gateway_metrics(hostile_input());
  const auto problems = exposition_problems(out);
  EXPECT_TRUE(problems.empty()) << ::testing::PrintToString(problems) << "\n" << out;
  EXPECT_NE(out.find("edgemon_build_info{version=\"1.0\\\"\\\\\\n<script>\"} 1\n"), std::string::npos);
  EXPECT_NE(out.find("target=\"<script>alert('x')</script>\""), std::string::npos);
  EXPECT_NE(out.find("edgemon_node_up{group=\"\",node=\"nogroup\"} 1\n"), std::string::npos);
  EXPECT_NE(out.find("edgemon_nodes{status=\"DOWN\"} 2\n"), std::string::npos);
  EXPECT_NE(out.find("edgemon_nodes{status=\"HEALTHY\"} 0\n"), std::string::npos);
  EXPECT_NE(out.find("stat=\"avg_5m\"} NaN\n"), std::string::npos);
  EXPECT_NE(out.find("stat=\"max_5m\"} +Inf\n"), std::string::npos);
}

// promtool from Debian's prometheus package (.ci/deps extracts it); ctest runs this as
// unit.promtool_render with EDGEMON_PROMTOOL set, and skips it elsewhere.
TEST(PromtoolRender, HostileFleetPassesPromtoolCheckMetrics) {
  const char* promtool = std::getenv("EDGEMON_PROMTOOL");
  if (promtool == nullptr || *promtool == '\0') GTEST_SKIP() << "EDGEMON_PROMTOOL not set";
  TempDir dir;
  const std::string metrics = dir.write("metrics.txt", render_gateway_metrics(hostile_input()));
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
