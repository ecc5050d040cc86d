// WsHub: fan-out of live updates to WebSocket clients (single io thread, no locks).
// Every broadcast frame carries a hub-wide sequence number. Each client has a bounded queue: a
// client that falls more than kMaxQueue frames behind has its queue replaced by one fresh snapshot
// (it is resynchronised, never allowed to slow the others or grow memory).
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
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

  // `snapshot_body` returns the JSON of all nodes (an array); the hub wraps it with type and seq.
  explicit WsHub(std::function<std::string()> snapshot_body) : snapshot_body_(std::move(snapshot_body)) {}

  void attach(const std::shared_ptr<WsClient>& client);
  void detach(const std::shared_ptr<WsClient>& client);
  // `body` is the JSON object for one changed node.
  void broadcast_node(const std::string& node_json);
  // {"type":<type>,"seq":N,"data":<body JSON>}, e.g. the active alerts after a change.
  void broadcast(std::string_view type, const std::string& body_json);
  void close_all();

  std::size_t clients() const { return clients_.size(); }
  std::uint64_t seq() const { return seq_; }

 private:
  Frame snapshot();

  std::function<std::string()> snapshot_body_;
  std::unordered_set<std::shared_ptr<WsClient>> clients_;
  std::uint64_t seq_ = 0;
};

}  // namespace edgemon::gateway
