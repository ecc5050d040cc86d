#include "edgemon/gateway/ws_hub.h"

namespace edgemon::gateway {

void WsClient::push(Frame frame, std::size_t max_queue, const std::function<Frame()>& make_snapshot) {
  if (closed_) return;
  if (queue_.size() >= max_queue) {
    queue_.clear();
    queue_.push_back(make_snapshot());
    ++resyncs_;
  } else {
    queue_.push_back(std::move(frame));
  }
  signal_.cancel();
}

Frame WsClient::pop() {
  Frame f = std::move(queue_.front());
  queue_.pop_front();
  return f;
}

void WsClient::close() {
  closed_ = true;
  signal_.cancel();
}

Frame WsHub::snapshot() {
  auto text = std::make_shared<std::string>();
  *text = R"({"type":"snapshot","seq":)" + std::to_string(seq_) + R"(,"epoch":")" + epoch_ + R"(","nodes":)" +
          snapshot_body_() + "}";
  return text;
}

bool WsHub::attach(const std::shared_ptr<WsClient>& client, std::optional<std::uint64_t> since, std::string_view epoch) {
  clients_.insert(client);
  const auto make_snapshot = [this] { return snapshot(); };
  // Resumable: same run, not from the future, every frame after `since` kept, and few enough to
  // fit the client's queue.
  const bool kept = since && *since <= seq_ &&
                    (*since == seq_ || (!history_.empty() && history_.front().first <= *since + 1));
  if (!kept || epoch != epoch_ || seq_ - *since >= kMaxQueue) {
    client->push(snapshot(), kMaxQueue, make_snapshot);
    return false;
  }
  ++resumes_;
  client->push(std::make_shared<const std::string>(R"({"type":"resumed","since":)" + std::to_string(*since) +
                                                   R"(,"seq":)" + std::to_string(seq_) + R"(,"epoch":")" + epoch_ + "\"}"),
               kMaxQueue, make_snapshot);
  for (const auto& [seq, frame] : history_) {
    if (seq > *since) client->push(frame, kMaxQueue, make_snapshot);
  }
  return true;
}

void WsHub::fan_out(const Frame& frame) {
  // Clients that overflow on this frame all get the same snapshot: built once, not once each
  // (with many clients and nodes, one snapshot per client stalled the io thread).
  Frame shared_snapshot;
  const auto make_snapshot = [&] {
    if (!shared_snapshot) {
      shared_snapshot = snapshot();
      ++snapshots_built_;
    }
    return shared_snapshot;
  };
  for (const auto& c : clients_) c->push(frame, kMaxQueue, make_snapshot);
}

void WsHub::record(Frame frame) {
  history_.emplace_back(seq_, std::move(frame));
  if (history_.size() > kHistory) history_.pop_front();
}

void WsHub::detach(const std::shared_ptr<WsClient>& client) { clients_.erase(client); }

void WsHub::broadcast_node(const std::string& node_json) {
  ++seq_;
  if (clients_.empty()) {
    history_.clear();  // a gap: nobody can resume across it
    return;
  }
  auto frame = std::make_shared<const std::string>(R"({"type":"node","seq":)" + std::to_string(seq_) +
                                                   R"(,"node":)" + node_json + "}");
  fan_out(frame);
  record(std::move(frame));
}

void WsHub::broadcast(std::string_view type, const std::string& body_json) {
  ++seq_;
  if (clients_.empty()) {
    history_.clear();
    return;
  }
  auto frame = std::make_shared<const std::string>(R"({"type":")" + std::string(type) + R"(","seq":)" +
                                                   std::to_string(seq_) + R"(,"data":)" + body_json + "}");
  fan_out(frame);
  record(std::move(frame));
}

void WsHub::close_all() {
  for (const auto& c : clients_) c->close();
}

}  // namespace edgemon::gateway
