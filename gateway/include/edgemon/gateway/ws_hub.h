// WsHub: fan-out of live updates to WebSocket clients (single io thread, no locks).
// Every broadcast frame carries a hub-wide sequence number. Each client has a bounded queue: a
// client that falls more than kMaxQueue frames behind has its queue replaced by one fresh snapshot
// (it is resynchronised, never allowed to slow the others or grow memory).
//
// Resume: the hub keeps the last kHistory frames. A client that reconnects with the epoch of the
// snapshot it had and the last seq it saw (/ws?epoch=E&since=N) gets {"type":"resumed",...} and
// exactly the frames after N, if the hub still has every one of them; otherwise a snapshot. The
// epoch changes with every gateway start, so seqs of another run never match.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <unordered_set>

#include "edgemon/gateway/asio_prelude.h"

namespace edgemon::gateway {

using Frame = std::shared_ptr<const std::string>;

class WsClient {
 public:
  explicit WsClient(asio::any_io_executor executor) : signal_(executor, asio::steady_timer::time_point::max()) {}
  void push(Frame frame, std::size_t max_queue, const std::function<Frame()>& make_snapshot);
  bool empty() const { return queue_.empty(); }
  Frame pop();
  void close();
  bool closed() const { return closed_; }
  asio::steady_timer& signal() { return signal_; }
  std::uint64_t resyncs() const { return resyncs_; }

 private:
  std::deque<Frame> queue_;
  asio::steady_timer signal_;  // cancelled to wake the writer
  bool closed_ = false;
  std::uint64_t resyncs_ = 0;
};

class WsHub {
 public:
  static constexpr std::size_t kMaxQueue = 256;
  static constexpr std::size_t kHistory = 1024;

  // `snapshot_body` returns the JSON of all nodes (an array); the hub wraps it with type, seq and
  // epoch. `epoch`: this run's identity (the gateway's start time).
  explicit WsHub(std::function<std::string()> snapshot_body, std::string epoch = "0")
      : snapshot_body_(std::move(snapshot_body)), epoch_(std::move(epoch)) {}

  // Queues a snapshot, or (resume) the frames after `since` when `epoch` is this hub's and every
  // one of them is still kept. Returns true if it resumed.
  bool attach(const std::shared_ptr<WsClient>& client, std::optional<std::uint64_t> since = std::nullopt,
              std::string_view epoch = {});
  void detach(const std::shared_ptr<WsClient>& client);
  // `body` is the JSON object for one changed node.
  void broadcast_node(const std::string& node_json);
  // {"type":<type>,"seq":N,"data":<body JSON>}, e.g. the active alerts after a change.
  void broadcast(std::string_view type, const std::string& body_json);
  void close_all();

  std::size_t clients() const { return clients_.size(); }
  std::uint64_t seq() const { return seq_; }
  const std::string& epoch() const { return epoch_; }
  std::uint64_t resumes() const { return resumes_; }
  std::uint64_t snapshots_built() const { return snapshots_built_; }  // for clients that fell behind

 private:
  Frame snapshot();
  void record(Frame frame);
  void fan_out(const Frame& frame);

  std::function<std::string()> snapshot_body_;
  std::string epoch_;
  std::unordered_set<std::shared_ptr<WsClient>> clients_;
  std::uint64_t seq_ = 0;
  std::deque<std::pair<std::uint64_t, Frame>> history_;  // contiguous seqs, oldest first
  std::uint64_t resumes_ = 0;
  std::uint64_t snapshots_built_ = 0;
};

}  // namespace edgemon::gateway
