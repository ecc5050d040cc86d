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
  *text = R"({"type":"snapshot","seq":)" + std::to_string(seq_) + R"(,"nodes":)" + snapshot_body_() + "}";
  return text;
}

void WsHub::attach(const std::shared_ptr<WsClient>& client) {
  clients_.insert(client);
  client->push(snapshot(), kMaxQueue, [this] { return snapshot(); });
}

void WsHub::detach(const std::shared_ptr<WsClient>& client) { clients_.erase(client); }

void WsHub::broadcast_node(const std::string& node_json) {
  ++seq_;
  if (clients_.empty()) return;
  auto frame = std::make_shared<const std::string>(R"({"type":"node","seq":)" + std::to_string(seq_) +
                                                   R"(,"node":)" + node_json + "}");
  const auto make_snapshot = [this] { return snapshot(); };
  for (const auto& c : clients_) c->push(frame, kMaxQueue, make_snapshot);
}

void WsHub::broadcast(std::string_view type, const std::string& body_json) {
  ++seq_;
  if (clients_.empty()) return;
  auto frame = std::make_shared<const std::string>(R"({"type":")" + std::string(type) + R"(","seq":)" +
                                                   std::to_string(seq_) + R"(,"data":)" + body_json + "}");
  const auto make_snapshot = [this] { return snapshot(); };
  for (const auto& c : clients_) c->push(frame, kMaxQueue, make_snapshot);
}

void WsHub::close_all() {
  for (const auto& c : clients_) c->close();
}

}  // namespace edgemon::gateway
