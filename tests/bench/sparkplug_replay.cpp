// sparkplug_replay: a Sparkplug B load generator that can outrun the gateway (issue #13).
//
// edgemon-sim runs one Paho client per node and tops out near 5-7k msg/s on a 2-core machine,
// below what the gateway can take. This publisher replays a REAL agent's traffic as N virtual nodes
// over ONE MQTT connection:
//
//   capture  A private mosquitto, a SparkplugHost (tests/support) announcing the primary host's
//            STATE, and a real edgemon-agent pinging loopback addresses only (127.0.0.1 ..
//            127.0.0.<targets>) with its board sensors at --interval. Its NBIRTH and the NDATA that
//            follow it in the same session are recorded as raw bytes (payloads with historical,
//            i.e. store-and-forward, metrics are left out).
//   replay   Each recorded payload becomes a template (a small protobuf walk, no re-encoding): the
//            payload timestamp and every metric timestamp (kept relative to it) are rewritten to
//            the current wall time at send, the seq to the node's own 0..255 counter (NBIRTH: 0),
//            the NBIRTH's bdSeq to --bd-seq, agent/sample_seq to the node's own sample count (as
//            the agent numbers its samples: +1 per NDATA; the NBIRTH carries the last one, so the
//            gateway's sample accounting sees each node as a real agent and never a replay), the
//            topic's node id to <prefix>00001 ... Every
//            template is checked once against edgemon's own decoder (edgemon/common/telemetry.h)
//            before anything is sent. Node i's k-th NDATA is the capture's (k + 7 i) mod K-th.
//            The MQTT side is a minimal MQTT 3.1.1 client on a non-blocking socket (CONNECT,
//            PUBLISH QoS 1, PUBACK, PINGREQ, DISCONNECT): the due messages of each ~1 ms tick are
//            built into one buffer and written with one send(), so the publisher costs about a
//            microsecond per message and is never the ceiling (Paho/libmosquitto would allocate,
//            lock and hand over to a thread per message).
//            First every node's NBIRTH (paced at --birth-rate), then NDATA round-robin over the
//            nodes at --rate msg/s in aggregate for --seconds, then it waits (at most --ack-timeout)
//            for the PUBACKs of everything it sent. SIGINT/SIGTERM end the data phase early.
//
// The last line of output is machine-readable (ingest_bench and ws_bench parse it):
//   sparkplug_replay: nodes=N births=B data=D sent=S acked=A data_seconds=T data_rate=R ...
//
// Usage:
//   sparkplug_replay capture --out FILE [--seconds 5] [--interval 0.2] [--targets 10]
//   sparkplug_replay replay --port P [--broker 127.0.0.1] [--capture FILE | capture options]
//                    [--nodes 1000] [--rate 10000] [--seconds 10] [--prefix sim-] [--group G]
//                    [--bd-seq 0] [--birth-rate R] [--ack-timeout 30] [--max-inflight 30000] [--cpu C]
//   Without --capture, replay captures first (--capture-seconds, --interval, --targets).
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "edgemon/common/log.h"
#include "edgemon/common/telemetry.h"
#include "support/mosquitto_broker.h"
#include "support/process.h"
#include "support/sparkplug_host.h"

namespace {

using namespace std::chrono_literals;
using Steady = std::chrono::steady_clock;

std::atomic<bool> g_stop{false};

[[noreturn]] void fail(const std::string& what) { throw std::runtime_error(what); }

double seconds_since(Steady::time_point t) { return std::chrono::duration<double>(Steady::now() - t).count(); }

std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

double self_cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  const auto secs = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return secs(u.ru_utime) + secs(u.ru_stime);
}

// ---- capture ------------------------------------------------------------------------------------

struct Capture {
  std::string group;
  std::string birth;              // NBIRTH payload
  std::vector<std::string> data;  // NDATA payloads, in order
};

constexpr std::string_view kMagic = "edgemon-sparkplug-capture 1\n";

void put_u32(std::string& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFFU));
}

std::uint32_t get_u32(std::string_view in, std::size_t& at) {
  if (at + 4 > in.size()) fail("capture file truncated");
  std::uint32_t v = 0;
  for (std::size_t i = 0; i < 4; ++i) v |= static_cast<std::uint32_t>(static_cast<unsigned char>(in[at + i])) << (8 * i);
  at += 4;
  return v;
}

// File: the magic line, then records <kind byte 'G'|'B'|'D'><u32 LE length><bytes>.
void save_capture(const Capture& c, const std::string& path) {
  std::string out(kMagic);
  const auto record = [&out](char kind, const std::string& bytes) {
    out.push_back(kind);
    put_u32(out, static_cast<std::uint32_t>(bytes.size()));
    out += bytes;
  };
  record('G', c.group);
  record('B', c.birth);
  for (const std::string& d : c.data) record('D', d);
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(out.data(), static_cast<std::streamsize>(out.size()));
  if (!f) fail("cannot write " + path);
}

Capture load_capture(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) fail("cannot read " + path);
  const std::string in((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  if (in.rfind(kMagic, 0) != 0) fail(path + ": not a sparkplug_replay capture");
  Capture c;
  std::size_t at = kMagic.size();
  for (int records = 0; at < in.size() && records < 1'000'000; ++records) {
    const char kind = in[at++];
    const std::uint32_t len = get_u32(in, at);
    if (at + len > in.size()) fail(path + ": record truncated");
    std::string bytes = in.substr(at, len);
    at += len;
    if (kind == 'G') c.group = std::move(bytes);
    else if (kind == 'B') c.birth = std::move(bytes);
    else if (kind == 'D') c.data.push_back(std::move(bytes));
    else fail(path + ": unknown record kind");
  }
  if (c.group.empty() || c.birth.empty() || c.data.empty()) fail(path + ": needs a group, an NBIRTH and at least one NDATA");
  return c;
}

struct CaptureOptions {
  double seconds = 5;
  double interval = 0.2;
  int targets = 10;
};

bool has_historical(const edgemon::TelemetryMessage& m) {
  return std::any_of(m.metrics.begin(), m.metrics.end(), [](const edgemon::Metric& x) { return x.historical; });
}

// A real agent against a private broker; its first session's NBIRTH and NDATA.
Capture capture_from_agent(const CaptureOptions& o) {
  edgemon::test::TempDir dir("edgemon-replay-capture");
  edgemon::test::MosquittoBroker broker(dir.path());
  const std::string group = "edgemon";
  const std::string node = "capture-node";
  edgemon::test::SparkplugHost host(broker.port(), "edgemon-gateway", group);  // the agent's default primary host
  host.set_online(true);
  const auto connect_until = Steady::now() + 10s;
  while (!host.connected() && Steady::now() < connect_until) std::this_thread::sleep_for(20ms);
  if (!host.connected()) fail("capture: the SparkplugHost did not connect to the private broker");
  host.set_online(true);

  // Loopback targets only: 127.0.0.1 .. 127.0.0.<targets>. Nothing else is ever pinged.
  std::string hosts;
  for (int i = 1; i <= o.targets; ++i) hosts += (i == 1 ? "" : ",") + std::string("127.0.0.") + std::to_string(i);
  std::ostringstream interval;
  interval << o.interval;
  edgemon::test::ChildProcess agent = edgemon::test::ChildProcess::start(
      {EDGEMON_AGENT_BIN, "--broker", "127.0.0.1", "--port", std::to_string(broker.port()), "--node-id", node, "--group",
       group, "--interval", interval.str(), "--hosts", hosts, "--state-dir", dir.file("agent"), "--log-level", "warn"},
      dir.file("agent.log"));

  // Until the birth was seen and then --seconds passed (bounded: 20 s for the birth).
  const auto birth_until = Steady::now() + 20s;
  std::optional<Steady::time_point> born;
  while (!g_stop.load()) {
    if (!born) {
      for (const auto& m : host.messages()) {
        if (m.topic.node == node && m.topic.kind == edgemon::MessageKind::kBirth) born = Steady::now();
      }
      if (!born && Steady::now() > birth_until) fail("capture: no NBIRTH from the agent in 20 s:\n" + agent.log());
    } else if (seconds_since(*born) >= o.seconds) {
      break;
    }
    if (!agent.running()) fail("capture: the agent exited:\n" + agent.log());
    std::this_thread::sleep_for(50ms);
  }
  agent.stop(SIGTERM, 5s);

  Capture c;
  c.group = group;
  std::size_t historical = 0;
  bool in_session = false;
  for (const auto& m : host.messages()) {
    if (m.topic.node != node) continue;
    if (m.topic.kind == edgemon::MessageKind::kBirth) {
      if (in_session) break;  // a second session: stop at the first one
      in_session = true;
      c.birth = m.raw;
    } else if (m.topic.kind == edgemon::MessageKind::kData && in_session) {
      if (has_historical(m.message)) {
        ++historical;
        continue;
      }
      c.data.push_back(m.raw);
    }
  }
  if (c.birth.empty() || c.data.empty()) fail("capture: no NBIRTH + NDATA recorded:\n" + agent.log());
  std::printf("capture: real edgemon-agent, %d loopback ping targets (127.0.0.1-127.0.0.%d) + board sensors, interval %s s,"
              " %.1f s: 1 NBIRTH + %zu NDATA recorded (%zu with historical metrics left out)\n",
              o.targets, o.targets, interval.str().c_str(), o.seconds, c.data.size(), historical);
  return c;
}

// ---- protobuf templates -------------------------------------------------------------------------

bool read_varint(std::string_view s, std::size_t& i, std::uint64_t& v) {
  v = 0;
  for (unsigned shift = 0; shift < 64; shift += 7) {
    if (i >= s.size()) return false;
    const auto b = static_cast<unsigned char>(s[i++]);
    v |= static_cast<std::uint64_t>(b & 0x7FU) << shift;
    if ((b & 0x80U) == 0) return true;
  }
  return false;
}

void put_varint(std::string& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7FU) | 0x80U));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

std::size_t varint_size(std::uint64_t v) {
  std::size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

struct Field {
  std::uint64_t number = 0;
  unsigned wire = 0;
  std::size_t begin = 0;        // the tag
  std::size_t value_begin = 0;  // the value (for length-delimited: after the length)
  std::size_t end = 0;
  std::uint64_t varint = 0;     // wire type 0
};

std::vector<Field> fields_of(std::string_view s) {
  std::vector<Field> out;
  std::size_t i = 0;
  while (i < s.size()) {
    Field f;
    f.begin = i;
    std::uint64_t tag = 0;
    if (!read_varint(s, i, tag)) fail("protobuf: bad tag");
    f.number = tag >> 3;
    f.wire = static_cast<unsigned>(tag & 7U);
    f.value_begin = i;
    switch (f.wire) {
      case 0:
        if (!read_varint(s, i, f.varint)) fail("protobuf: bad varint");
        break;
      case 1: i += 8; break;
      case 5: i += 4; break;
      case 2: {
        std::uint64_t len = 0;
        if (!read_varint(s, i, len) || len > s.size() - i) fail("protobuf: bad length");
        f.value_begin = i;
        i += static_cast<std::size_t>(len);
        break;
      }
      default: fail("protobuf: unsupported wire type " + std::to_string(f.wire));
    }
    if (i > s.size()) fail("protobuf: truncated field");
    f.end = i;
    out.push_back(f);
  }
  return out;
}

// Millisecond timestamps from 1971 to 2109 are 6-byte varints: rewriting one never moves a byte.
constexpr std::uint64_t kTsMin = std::uint64_t{1} << 35;
constexpr std::uint64_t kTsMax = std::uint64_t{1} << 42;
constexpr std::size_t kTsBytes = 6;

void write_ts6(char* at, std::uint64_t v) {
  if (v < kTsMin || v >= kTsMax) fail("timestamp outside the 6-byte varint range");
  for (std::size_t i = 0; i < kTsBytes; ++i) {
    const auto b = static_cast<unsigned char>(v & 0x7FU);
    at[i] = static_cast<char>(i + 1 < kTsBytes ? (b | 0x80U) : b);
    v >>= 7;
  }
}

// One recorded payload without its timestamp and seq: the metric fields (and any other field)
// verbatim, with the offsets of the metric timestamps to rewrite.
struct Template {
  std::string body;
  struct Slot {
    std::size_t offset;  // of a 6-byte varint in body
    std::int64_t delta;  // metric ts - payload ts in the capture
  };
  std::vector<Slot> slots;
  std::size_t metrics = 0;
  std::optional<std::size_t> sample_seq;  // offset in body of agent/sample_seq's 8-byte varint value
};

constexpr std::size_t kSeqBytes = 8;

// A varint in exactly 8 bytes (56 bits; protobuf decoders accept the padded form).
void write_varint8(char* at, std::uint64_t v) {
  for (std::size_t i = 0; i < kSeqBytes; ++i) {
    const auto b = static_cast<unsigned char>(v & 0x7FU);
    at[i] = static_cast<char>(i + 1 < kSeqBytes ? (b | 0x80U) : b);
    v >>= 7;
  }
}

// `seq_alias`: the alias of agent/sample_seq, learnt from the NBIRTH (whose metrics have names)
// and used to find it in NDATA (whose metrics have only aliases).
Template make_template(std::string_view payload, std::optional<std::uint64_t> bd_seq,
                       std::optional<std::uint64_t>& seq_alias) {
  Template t;
  std::optional<std::uint64_t> payload_ts;
  for (const Field& f : fields_of(payload)) {
    if (f.number == 1 && f.wire == 0) payload_ts = f.varint;
  }
  if (!payload_ts || *payload_ts < kTsMin || *payload_ts >= kTsMax) fail("capture: payload timestamp missing or out of range");
  bool saw_bdseq = false;
  for (const Field& f : fields_of(payload)) {
    if ((f.number == 1 || f.number == 3) && f.wire == 0) continue;  // timestamp, seq: written at send
    if (f.number != 2 || f.wire != 2) {
      t.body.append(payload.substr(f.begin, f.end - f.begin));
      continue;
    }
    ++t.metrics;
    const std::string_view metric = payload.substr(f.value_begin, f.end - f.value_begin);
    const std::vector<Field> mf = fields_of(metric);
    bool is_bdseq = false;
    bool is_sample_seq = false;
    std::optional<std::uint64_t> alias;
    bool named = false;
    for (const Field& x : mf) {
      const std::string_view name = x.number == 1 && x.wire == 2 ? metric.substr(x.value_begin, x.end - x.value_begin) : "";
      if (name == "bdSeq") is_bdseq = true;
      if (name == "agent/sample_seq") is_sample_seq = true;
      if (x.number == 1 && x.wire == 2) named = true;
      if (x.number == 2 && x.wire == 0) alias = x.varint;
    }
    if (is_sample_seq && alias) seq_alias = alias;
    if (!named && alias && seq_alias && *alias == *seq_alias) is_sample_seq = true;
    std::string inner;
    std::optional<std::size_t> seq_value_at;  // in inner
    if (is_sample_seq) {
      for (const Field& x : mf) {
        if (x.number != 11 && x.number != 7) inner.append(metric.substr(x.begin, x.end - x.begin));  // not long_value, is_null
      }
      put_varint(inner, (11U << 3) | 0U);  // long_value, written at send
      seq_value_at = inner.size();
      inner.append(kSeqBytes, '\0');
      write_varint8(inner.data() + *seq_value_at, 0);
    } else if (is_bdseq && bd_seq) {
      saw_bdseq = true;
      for (const Field& x : mf) {
        if (x.number != 11) inner.append(metric.substr(x.begin, x.end - x.begin));
      }
      put_varint(inner, (11U << 3) | 0U);  // long_value
      put_varint(inner, *bd_seq);
    } else {
      inner = std::string(metric);
    }
    t.body.push_back(static_cast<char>((2U << 3) | 2U));
    put_varint(t.body, inner.size());
    const std::size_t inner_at = t.body.size();
    t.body += inner;
    if (seq_value_at) t.sample_seq = inner_at + *seq_value_at;
    for (const Field& x : fields_of(inner)) {
      if (x.number != 3 || x.wire != 0) continue;
      if (x.end - x.value_begin != kTsBytes) fail("capture: a metric timestamp is not a 6-byte varint");
      t.slots.push_back({inner_at + x.value_begin, static_cast<std::int64_t>(x.varint) - static_cast<std::int64_t>(*payload_ts)});
    }
  }
  if (bd_seq && !saw_bdseq) fail("capture: the NBIRTH has no bdSeq metric");
  return t;
}

// Appends the payload of `t` at wall time `now_ms` with `seq` and agent/sample_seq `sample_seq`;
// returns its size.
std::size_t append_payload(std::string& out, const Template& t, std::int64_t now_ms, unsigned seq,
                           std::uint64_t sample_seq) {
  const std::size_t start = out.size();
  out.push_back(0x08);  // field 1 (timestamp), varint
  out.append(kTsBytes, '\0');
  write_ts6(out.data() + start + 1, static_cast<std::uint64_t>(now_ms));
  out.push_back(0x18);  // field 3 (seq), varint
  put_varint(out, seq);
  const std::size_t body_at = out.size();
  out += t.body;
  for (const Template::Slot& s : t.slots) write_ts6(out.data() + body_at + s.offset, static_cast<std::uint64_t>(now_ms + s.delta));
  if (t.sample_seq) write_varint8(out.data() + body_at + *t.sample_seq, sample_seq);
  return out.size() - start;
}

std::size_t payload_size(const Template& t, unsigned seq) { return 1 + kTsBytes + 1 + varint_size(seq) + t.body.size(); }

// Every template once through edgemon's decoder: the timestamps, seq and bdSeq it will see.
void check_template(const Template& t, edgemon::MessageKind kind, std::optional<std::uint64_t> bd_seq,
                    std::string_view original) {
  const std::int64_t now = wall_ms();
  for (unsigned seq : {0U, 5U, 200U}) {
    std::string bytes;
    constexpr std::uint64_t kSampleSeq = 123456789;
    append_payload(bytes, t, now, seq, kSampleSeq);
    auto got = edgemon::decode(bytes, kind);
    if (!got) fail("replayed payload does not decode: " + got.error().message);
    auto orig = edgemon::decode(original, kind);
    if (!orig) fail("captured payload does not decode: " + orig.error().message);
    if (got->timestamp_ms != now || got->seq != seq || got->metrics.size() != orig->metrics.size()) {
      fail("replayed payload decodes to a different timestamp, seq or metric count");
    }
    if (bd_seq && got->bd_seq != *bd_seq) fail("replayed NBIRTH has bdSeq " + std::to_string(got->bd_seq));
    for (std::size_t i = 0; i < got->metrics.size(); ++i) {
      const auto& a = got->metrics[i];
      const auto& b = orig->metrics[i];
      const bool sample_seq = t.sample_seq && a.value == static_cast<double>(kSampleSeq);
      if (a.name != b.name || a.alias != b.alias || (a.value != b.value && !sample_seq) || a.text != b.text ||
          a.ts_ms - now != b.ts_ms - orig->timestamp_ms) {
        fail("replayed metric " + std::to_string(i) + " (" + b.name + ") differs from the capture");
      }
    }
  }
}

// ---- a minimal MQTT 3.1.1 publisher -------------------------------------------------------------

class Publisher {
 public:
  Publisher(const std::string& host, std::uint16_t port, const std::string& client_id, std::size_t max_inflight)
      : max_inflight_(std::min<std::size_t>(max_inflight, 65000)), inflight_id_(65536, 0) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) fail(std::string("socket: ") + std::strerror(errno));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    if (::inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) fail("--broker must be an IPv4 address: " + host);
    if (::connect(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
      fail("connect " + host + ":" + std::to_string(port) + ": " + std::strerror(errno));
    }
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    int sndbuf = 4 << 20;
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
    // CONNECT: clean session, keepalive 60 s.
    std::string vh("\x00\x04MQTT\x04\x02\x00\x3C", 10);
    vh.push_back(static_cast<char>((client_id.size() >> 8) & 0xFFU));
    vh.push_back(static_cast<char>(client_id.size() & 0xFFU));
    vh += client_id;
    out_.push_back('\x10');
    put_varint(out_, vh.size());
    out_ += vh;
    ::fcntl(fd_, F_SETFL, ::fcntl(fd_, F_GETFL) | O_NONBLOCK);
    const auto until = Steady::now() + 10s;
    while (!connacked_) {
      if (Steady::now() > until) fail("no CONNACK from the broker in 10 s");
      pump(10);
    }
  }
  ~Publisher() {
    if (fd_ >= 0) ::close(fd_);
  }
  Publisher(const Publisher&) = delete;
  Publisher& operator=(const Publisher&) = delete;

  bool can_queue() const { return inflight_ < max_inflight_ && out_.size() - out_off_ < (8U << 20) && !inflight_id_[next_id_]; }
  // Appends one QoS 1 PUBLISH; the payload is written by `fill` straight into the buffer.
  template <typename Fill>
  void queue(std::string_view topic, std::size_t payload_len, Fill&& fill) {
    const std::uint16_t id = next_id_;
    next_id_ = static_cast<std::uint16_t>(next_id_ == 65535 ? 1 : next_id_ + 1);
    inflight_id_[id] = 1;
    ++inflight_;
    inflight_max_ = std::max(inflight_max_, inflight_);
    ++queued_;
    out_.push_back('\x32');  // PUBLISH, QoS 1
    put_varint(out_, 2 + topic.size() + 2 + payload_len);
    out_.push_back(static_cast<char>((topic.size() >> 8) & 0xFFU));
    out_.push_back(static_cast<char>(topic.size() & 0xFFU));
    out_.append(topic);
    out_.push_back(static_cast<char>(id >> 8));
    out_.push_back(static_cast<char>(id & 0xFFU));
    const std::size_t before = out_.size();
    fill(out_);
    if (out_.size() - before != payload_len) fail("payload size mismatch");
    last_send_ = Steady::now();
  }
  // Writes what it can, reads what arrived; waits at most `timeout_ms` for either.
  void pump(int timeout_ms) {
    flush();
    if (Steady::now() - last_send_ > 30s) {  // keepalive 60 s
      out_.append("\xC0\x00", 2);
      last_send_ = Steady::now();
    }
    pollfd p{fd_, static_cast<short>(POLLIN | (pending() ? POLLOUT : 0)), 0};
    const int r = ::poll(&p, 1, timeout_ms);
    if (r < 0 && errno != EINTR) fail(std::string("poll: ") + std::strerror(errno));
    if (r > 0 && (p.revents & (POLLERR | POLLHUP)) != 0 && (p.revents & POLLIN) == 0) fail("broker closed the connection");
    if (r > 0 && (p.revents & POLLIN) != 0) read_packets();
    flush();
  }
  // DISCONNECT; the broker closes the connection on it, so nothing is read any more.
  void disconnect() {
    out_.append("\xE0\x00", 2);
    const auto until = Steady::now() + 2s;
    try {
      for (flush(); pending() && Steady::now() < until; flush()) {
        pollfd p{fd_, POLLOUT, 0};
        if (::poll(&p, 1, 10) < 0 && errno != EINTR) break;
      }
    } catch (const std::exception&) {
      // the broker went first: nothing left to say
    }
    ::shutdown(fd_, SHUT_WR);
  }
  bool pending() const { return out_off_ < out_.size(); }
  std::uint64_t queued() const { return queued_; }
  std::uint64_t acked() const { return acked_; }
  std::size_t inflight() const { return inflight_; }
  std::size_t inflight_max() const { return inflight_max_; }

 private:
  void flush() {
    while (out_off_ < out_.size()) {
      const ssize_t n = ::send(fd_, out_.data() + out_off_, out_.size() - out_off_, MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        if (errno == EINTR) continue;
        fail(std::string("send: ") + std::strerror(errno));
      }
      out_off_ += static_cast<std::size_t>(n);
    }
    if (out_off_ == out_.size()) {
      out_.clear();
      out_off_ = 0;
    } else if (out_off_ > (1U << 20)) {
      out_.erase(0, out_off_);
      out_off_ = 0;
    }
  }
  void read_packets() {
    char buf[65536];
    for (int rounds = 0; rounds < 64; ++rounds) {
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n == 0) fail("broker closed the connection");
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        if (errno == EINTR) continue;
        fail(std::string("recv: ") + std::strerror(errno));
      }
      in_.append(buf, static_cast<std::size_t>(n));
    }
    std::size_t at = 0;
    while (at + 2 <= in_.size()) {
      std::size_t i = at + 1;
      std::uint64_t len = 0;
      if (!read_varint(in_, i, len)) break;  // incomplete length
      if (i + len > in_.size()) break;
      const auto type = static_cast<unsigned char>(in_[at]) >> 4;
      if (type == 2) {  // CONNACK
        if (len < 2 || in_[i + 1] != 0) fail("broker refused the connection (CONNACK " + std::to_string(in_[i + 1]) + ")");
        connacked_ = true;
      } else if (type == 4 && len >= 2) {  // PUBACK
        const auto id = static_cast<std::uint16_t>((static_cast<unsigned char>(in_[i]) << 8) | static_cast<unsigned char>(in_[i + 1]));
        if (inflight_id_[id]) {
          inflight_id_[id] = 0;
          --inflight_;
          ++acked_;
        }
      }
      at = i + static_cast<std::size_t>(len);
    }
    in_.erase(0, at);
  }

  int fd_ = -1;
  std::size_t max_inflight_;
  std::vector<std::uint8_t> inflight_id_;
  std::uint16_t next_id_ = 1;
  std::size_t inflight_ = 0;
  std::size_t inflight_max_ = 0;
  std::uint64_t queued_ = 0;
  std::uint64_t acked_ = 0;
  bool connacked_ = false;
  std::string out_;
  std::size_t out_off_ = 0;
  std::string in_;
  Steady::time_point last_send_ = Steady::now();
};

// ---- replay -------------------------------------------------------------------------------------

struct ReplayOptions {
  std::string broker = "127.0.0.1";
  int port = 0;
  std::string capture;  // file; empty: capture now
  std::string save_capture;
  CaptureOptions capture_options;
  int nodes = 1000;
  double rate = 10000;
  double seconds = 10;
  std::string prefix = "sim-";
  std::string group;  // empty: the capture's
  std::uint64_t bd_seq = 0;
  double birth_rate = 0;  // 0: max(--rate, 1000)
  double ack_timeout = 30;
  std::size_t max_inflight = 30000;
  int cpu = -1;
};

int replay(const ReplayOptions& o) {
  if (o.cpu >= 0) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(static_cast<std::size_t>(o.cpu), &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0) fail("sched_setaffinity: " + std::string(std::strerror(errno)));
  }
  Capture cap = o.capture.empty() ? capture_from_agent(o.capture_options) : load_capture(o.capture);
  if (!o.save_capture.empty()) save_capture(cap, o.save_capture);
  const std::string group = o.group.empty() ? cap.group : o.group;
  if (!edgemon::valid_id(group)) fail("invalid group " + group);

  std::optional<std::uint64_t> seq_alias;
  const Template birth = make_template(cap.birth, o.bd_seq, seq_alias);
  check_template(birth, edgemon::MessageKind::kBirth, o.bd_seq, cap.birth);
  if (!birth.sample_seq || !seq_alias) fail("capture: the NBIRTH has no aliased agent/sample_seq");
  std::vector<Template> data;
  std::size_t data_bytes = 0;
  std::size_t data_metrics = 0;
  for (const std::string& d : cap.data) {
    data.push_back(make_template(d, std::nullopt, seq_alias));
    check_template(data.back(), edgemon::MessageKind::kData, std::nullopt, d);
    if (!data.back().sample_seq) fail("capture: an NDATA without agent/sample_seq");
    data_bytes += payload_size(data.back(), 1);
    data_metrics += data.back().metrics;
  }
  const std::size_t k = data.size();

  struct Node {
    std::string birth_topic;
    std::string data_topic;
    unsigned seq = 0;
    std::uint64_t sent = 0;  // NDATA, also the node's last agent/sample_seq
  };
  std::vector<Node> nodes(static_cast<std::size_t>(o.nodes));
  for (int i = 0; i < o.nodes; ++i) {
    char id[80];
    std::snprintf(id, sizeof id, "%s%05d", o.prefix.c_str(), i + 1);
    if (!edgemon::valid_id(id)) fail(std::string("invalid node id ") + id);
    nodes[static_cast<std::size_t>(i)].birth_topic = edgemon::format_topic(group, edgemon::MessageKind::kBirth, id);
    nodes[static_cast<std::size_t>(i)].data_topic = edgemon::format_topic(group, edgemon::MessageKind::kData, id);
  }
  std::printf("replay: %d nodes (%s%05d..) in group %s, NBIRTH %zu B with %zu metrics (bdSeq %llu), %zu NDATA templates "
              "(average %.0f B, %.1f metrics); %.0f msg/s for %.1f s over one MQTT connection, QoS 1\n",
              o.nodes, o.prefix.c_str(), 1, group.c_str(), payload_size(birth, 0), birth.metrics,
              static_cast<unsigned long long>(o.bd_seq), k, static_cast<double>(data_bytes) / static_cast<double>(k),
              static_cast<double>(data_metrics) / static_cast<double>(k), o.rate, o.seconds);
  std::fflush(stdout);

  Publisher pub(o.broker, static_cast<std::uint16_t>(o.port), "sparkplug-replay-" + std::to_string(::getpid()),
                o.max_inflight);
  const double cpu0 = self_cpu_seconds();
  std::uint64_t stalls = 0;  // ticks where the in-flight window or the socket held sending back

  // Births, paced.
  const double birth_rate = o.birth_rate > 0 ? o.birth_rate : std::max(o.rate, 1000.0);
  const auto births_start = Steady::now();
  std::size_t births = 0;
  while (births < nodes.size() && !g_stop.load()) {
    const auto due = static_cast<std::size_t>(std::min<double>(static_cast<double>(nodes.size()),
                                                                seconds_since(births_start) * birth_rate + 1));
    const std::int64_t now = wall_ms();
    while (births < due && pub.can_queue()) {
      Node& n = nodes[births++];
      n.seq = 0;
      pub.queue(n.birth_topic, payload_size(birth, 0), [&](std::string& out) { append_payload(out, birth, now, 0, n.sent); });
    }
    pub.pump(births < due && pub.can_queue() ? 0 : 1);
    if (seconds_since(births_start) > 120) fail("births took more than 120 s");
  }
  const auto births_until = Steady::now() + std::chrono::milliseconds(static_cast<std::int64_t>(o.ack_timeout * 1000));
  while (pub.acked() < births && Steady::now() < births_until && !g_stop.load()) pub.pump(5);
  const double births_s = seconds_since(births_start);

  // NDATA round-robin over the nodes at --rate, for --seconds.
  const auto start = Steady::now();
  const auto total = static_cast<std::uint64_t>(std::llround(o.rate * o.seconds));
  std::uint64_t sent = 0;
  std::size_t next_node = 0;
  while (sent < total && !g_stop.load()) {
    const double t = seconds_since(start);
    if (t > o.seconds + 60) break;  // bounded even if the broker stops reading
    const auto due = std::min<std::uint64_t>(total, static_cast<std::uint64_t>(t * o.rate) + 1);
    if (sent < due) {
      const std::int64_t now = wall_ms();
      std::uint64_t batch = 0;
      while (sent < due && batch < 20000 && pub.can_queue()) {
        Node& n = nodes[next_node];
        n.seq = (n.seq + 1) & 0xFFU;
        const Template& tpl = data[(n.sent + 7 * next_node) % k];
        ++n.sent;
        pub.queue(n.data_topic, payload_size(tpl, n.seq), [&](std::string& out) { append_payload(out, tpl, now, n.seq, n.sent); });
        ++sent;
        ++batch;
        next_node = next_node + 1 == nodes.size() ? 0 : next_node + 1;
      }
      if (sent < due && !pub.can_queue()) ++stalls;  // per tick
    }
    // Sleep until the next message is due (1 ms ticks); when behind, only until the socket or the
    // in-flight window has room again.
    pub.pump(sent < due && pub.can_queue() ? 0 : 1);
  }
  while (pub.pending() && seconds_since(start) < o.seconds + 60) pub.pump(5);
  const double data_s = seconds_since(start);
  const auto ack_start = Steady::now();
  const auto ack_until = ack_start + std::chrono::milliseconds(static_cast<std::int64_t>(o.ack_timeout * 1000));
  while (pub.acked() < pub.queued() && Steady::now() < ack_until) pub.pump(5);
  const double ack_wait = seconds_since(ack_start);
  const double cpu = self_cpu_seconds() - cpu0;
  pub.disconnect();

  const std::uint64_t queued = pub.queued();
  std::printf("replay: births %zu in %.2f s; data %llu in %.3f s = %.0f msg/s (target %.0f); acked %llu of %llu (%.3f s after "
              "the last send); publisher CPU %.3f s = %.2f us/msg; in flight at most %zu%s\n",
              births, births_s, static_cast<unsigned long long>(sent), data_s, static_cast<double>(sent) / data_s, o.rate,
              static_cast<unsigned long long>(pub.acked()), static_cast<unsigned long long>(queued), ack_wait, cpu,
              queued ? 1e6 * cpu / static_cast<double>(queued) : 0.0, pub.inflight_max(),
              stalls ? " (the in-flight window or the socket held sending back)" : "");
  std::printf("sparkplug_replay: nodes=%d births=%zu data=%llu sent=%llu acked=%llu data_seconds=%.4f data_rate=%.1f "
              "target_rate=%.1f ack_wait=%.4f cpu_seconds=%.4f inflight_max=%zu stalls=%llu interrupted=%d\n",
              o.nodes, births, static_cast<unsigned long long>(sent), static_cast<unsigned long long>(queued),
              static_cast<unsigned long long>(pub.acked()), data_s, static_cast<double>(sent) / data_s, o.rate, ack_wait,
              cpu, pub.inflight_max(), static_cast<unsigned long long>(stalls), g_stop.load() ? 1 : 0);
  std::fflush(stdout);
  return pub.acked() == queued ? 0 : 3;
}

// ---- command line -------------------------------------------------------------------------------

double clamp_d(double v, double lo, double hi, const char* what) {
  if (!(v >= lo && v <= hi)) fail(std::string(what) + " must be between " + std::to_string(lo) + " and " + std::to_string(hi));
  return v;
}

}  // namespace

int main(int argc, char** argv) try {
  std::signal(SIGPIPE, SIG_IGN);
  edgemon::log::set_level(edgemon::log::Level::kWarn);  // the capture's SparkplugHost (Paho) logs at info
  std::signal(SIGINT, [](int) { g_stop = true; });
  std::signal(SIGTERM, [](int) { g_stop = true; });
  const std::string usage =
      "usage: sparkplug_replay capture --out FILE [--seconds 5 --interval 0.2 --targets 10]\n"
      "       sparkplug_replay replay --port P [--broker 127.0.0.1] [--capture FILE | --capture-seconds 5 --interval 0.2"
      " --targets 10 --save-capture FILE] [--nodes 1000 --rate 10000 --seconds 10 --prefix sim- --group G --bd-seq 0"
      " --birth-rate R --ack-timeout 30 --max-inflight 30000 --cpu C]";
  if (argc < 2) fail(usage);
  const std::string mode = argv[1];
  ReplayOptions o;
  std::string out;
  for (int i = 2; i < argc; i += 2) {
    const std::string k = argv[i];
    if (i + 1 >= argc) fail("missing value after " + k + "\n" + usage);
    const std::string v = argv[i + 1];
    if (k == "--out") out = v;
    else if (k == "--seconds" && mode == "capture") o.capture_options.seconds = clamp_d(std::stod(v), 0.5, 120, "--seconds");
    else if (k == "--capture-seconds") o.capture_options.seconds = clamp_d(std::stod(v), 0.5, 120, "--capture-seconds");
    else if (k == "--interval") o.capture_options.interval = clamp_d(std::stod(v), 0.05, 10, "--interval");
    else if (k == "--targets") o.capture_options.targets = static_cast<int>(clamp_d(std::stod(v), 1, 250, "--targets"));
    else if (k == "--broker") o.broker = v;
    else if (k == "--port") o.port = static_cast<int>(clamp_d(std::stod(v), 1, 65535, "--port"));
    else if (k == "--capture") o.capture = v;
    else if (k == "--save-capture") o.save_capture = v;
    else if (k == "--nodes") o.nodes = static_cast<int>(clamp_d(std::stod(v), 1, 100000, "--nodes"));
    else if (k == "--rate") o.rate = clamp_d(std::stod(v), 1, 1e6, "--rate");
    else if (k == "--seconds") o.seconds = clamp_d(std::stod(v), 0.1, 3600, "--seconds");
    else if (k == "--prefix") o.prefix = v;
    else if (k == "--group") o.group = v;
    else if (k == "--bd-seq") o.bd_seq = static_cast<std::uint64_t>(clamp_d(std::stod(v), 0, 255, "--bd-seq"));
    else if (k == "--birth-rate") o.birth_rate = clamp_d(std::stod(v), 1, 1e6, "--birth-rate");
    else if (k == "--ack-timeout") o.ack_timeout = clamp_d(std::stod(v), 0, 600, "--ack-timeout");
    else if (k == "--max-inflight") o.max_inflight = static_cast<std::size_t>(clamp_d(std::stod(v), 1, 65000, "--max-inflight"));
    else if (k == "--cpu") o.cpu = static_cast<int>(clamp_d(std::stod(v), 0, 1023, "--cpu"));
    else fail("unknown option " + k + "\n" + usage);
  }
  if (mode == "capture") {
    if (out.empty()) fail("capture needs --out FILE\n" + usage);
    save_capture(capture_from_agent(o.capture_options), out);
    std::printf("capture written to %s\n", out.c_str());
    return 0;
  }
  if (mode != "replay") fail(usage);
  if (o.port == 0) fail("replay needs --port\n" + usage);
  return replay(o);
} catch (const std::exception& e) {
  std::fprintf(stderr, "sparkplug_replay: %s\n", e.what());
  return 1;
}
