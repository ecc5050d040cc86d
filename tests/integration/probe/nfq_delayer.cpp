// nfq_delayer: a user-space impairment for ICMP echo requests queued by nft (`queue num N`) in a
// test namespace. The kernel here has no netem. Each request is dropped or held and released after
// a delay; both decisions are a pure function of (seed, ICMP sequence number), so two pingers
// that number their probes 0..n-1 (fping and edgemon) meet exactly the same impairment.
//
//   nfq_delayer --queue 3 --delay-ms 50 --jitter-ms 5 --loss 0.10 --seed 7 --max-seconds 60 --stats
//   FILE
//
// Prints "ready" once bound. Exits on SIGTERM/SIGINT or after --max-seconds, writing per-ident
// counts to --stats: "ident accepted dropped delay_sum_ms".
#include <arpa/inet.h>
#include <libnetfilter_queue/libnetfilter_queue.h>
#include <linux/netfilter.h>
#include <poll.h>
#include <signal.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <queue>
#include <string>
#include <vector>

namespace {

volatile sig_atomic_t g_stop = 0;
void on_signal(int) {
  g_stop = 1;
}

using Clock = std::chrono::steady_clock;

struct Held {
  Clock::time_point release;
  std::uint32_t id;
  bool operator>(const Held& o) const { return release > o.release; }
};

struct Counts {
  std::uint64_t accepted = 0, dropped = 0;
  double delay_sum_ms = 0;
};

struct State {
  std::uint64_t seed = 1;
  double delay_ms = 50, jitter_ms = 5, loss = 0;
  std::priority_queue<Held, std::vector<Held>, std::greater<>> held;
  std::map<std::uint16_t, Counts> counts;
  nfq_q_handle* qh = nullptr;
};

// splitmix64: a well-mixed hash of (seed, seq, stream).
std::uint64_t mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}
double unit(std::uint64_t seed, std::uint16_t seq, std::uint64_t stream) {
  return static_cast<double>(mix(seed ^ (static_cast<std::uint64_t>(seq) << 16) ^ (stream << 40)) >>
                             11) *
         0x1.0p-53;
}

int on_packet(nfq_q_handle* qh, nfgenmsg*, nfq_data* nfa, void* data) {
  auto* st = static_cast<State*>(data);
  const nfqnl_msg_packet_hdr* ph = nfq_get_msg_packet_hdr(nfa);
  if (ph == nullptr) return 0;
  const std::uint32_t id = ntohl(ph->packet_id);
  unsigned char* payload = nullptr;
  const int len = nfq_get_payload(nfa, &payload);
  std::size_t ihl = len >= 20 ? static_cast<std::size_t>(payload[0] & 0x0f) * 4 : 0;
  if (len < 20 || ihl < 20 || static_cast<std::size_t>(len) < ihl + 8 || payload[9] != 1) {
    return nfq_set_verdict(qh, id, NF_ACCEPT, 0, nullptr);
  }
  const std::uint16_t ident = static_cast<std::uint16_t>(payload[ihl + 4] << 8 | payload[ihl + 5]);
  const std::uint16_t seq = static_cast<std::uint16_t>(payload[ihl + 6] << 8 | payload[ihl + 7]);
  Counts& c = st->counts[ident];
  if (unit(st->seed, seq, 1) < st->loss) {
    ++c.dropped;
    return nfq_set_verdict(qh, id, NF_DROP, 0, nullptr);
  }
  const double d = st->delay_ms + (2 * unit(st->seed, seq, 2) - 1) * st->jitter_ms;
  ++c.accepted;
  c.delay_sum_ms += d;
  st->held.push(Held{Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                        std::chrono::duration<double, std::milli>(d)),
                     id});
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  State st;
  int queue = 0;
  double max_seconds = 60;
  std::string stats_path;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    const char* v = argv[i + 1];
    if (k == "--queue")
      queue = std::atoi(v);
    else if (k == "--delay-ms")
      st.delay_ms = std::atof(v);
    else if (k == "--jitter-ms")
      st.jitter_ms = std::atof(v);
    else if (k == "--loss")
      st.loss = std::atof(v);
    else if (k == "--seed")
      st.seed = std::strtoull(v, nullptr, 10);
    else if (k == "--max-seconds")
      max_seconds = std::atof(v);
    else if (k == "--stats")
      stats_path = v;
    else {
      std::fprintf(stderr, "unknown option %s\n", k.c_str());
      return 2;
    }
  }
  signal(SIGTERM, on_signal);
  signal(SIGINT, on_signal);
  nfq_handle* h = nfq_open();
  if (h == nullptr) {
    std::perror("nfq_open");
    return 1;
  }
  st.qh = nfq_create_queue(h, static_cast<std::uint16_t>(queue), &on_packet, &st);
  if (st.qh == nullptr) {
    std::perror("nfq_create_queue");
    return 1;
  }
  if (nfq_set_mode(st.qh, NFQNL_COPY_PACKET, 128) < 0) {
    std::perror("nfq_set_mode");
    return 1;
  }
  const int fd = nfq_fd(h);
  std::printf("ready\n");
  std::fflush(stdout);
  const auto end = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                      std::chrono::duration<double>(max_seconds));
  alignas(8) char buf[65536];
  while (g_stop == 0 && Clock::now() < end) {
    const auto now = Clock::now();
    while (!st.held.empty() && st.held.top().release <= now) {
      nfq_set_verdict(st.qh, st.held.top().id, NF_ACCEPT, 0, nullptr);
      st.held.pop();
    }
    int timeout_ms = 100;
    if (!st.held.empty()) {
      const auto wait =
          std::chrono::ceil<std::chrono::microseconds>(st.held.top().release - now).count();
      timeout_ms = 0;
      if (wait > 1000)
        timeout_ms = static_cast<int>((wait - 500) / 1000);  // wake a little early, then spin
    }
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, timeout_ms) > 0) {
      const ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
      if (n > 0) nfq_handle_packet(h, buf, static_cast<int>(n));
    }
  }
  while (!st.held.empty()) {  // release what is still held
    nfq_set_verdict(st.qh, st.held.top().id, NF_ACCEPT, 0, nullptr);
    st.held.pop();
  }
  nfq_destroy_queue(st.qh);
  nfq_close(h);
  if (!stats_path.empty()) {
    if (FILE* f = std::fopen(stats_path.c_str(), "w")) {
      for (const auto& [ident, c] : st.counts) {
        std::fprintf(f, "%u %llu %llu %.6f\n", ident, static_cast<unsigned long long>(c.accepted),
                     static_cast<unsigned long long>(c.dropped), c.delay_sum_ms);
      }
      std::fclose(f);
    }
  }
  return 0;
}
