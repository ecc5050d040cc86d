#include "edgemon/gateway/live/ws_hub.h"

namespace edgemon::gateway {

PushResult WsClient::push(Frame frame, std::uint64_t seq, std::uint32_t key, const std::function<Frame()>& make_snapshot,
                          std::size_t coalesce_at, std::size_t max_queue) {
  if (closed_) return PushResult::kClosed;
  PushResult result = PushResult::kQueued;
  if (key != 0 && queue_.size() >= coalesce_at) {
    if (const auto it = last_.find(key); it != last_.end()) {
      Entry& e = queue_[static_cast<std::size_t>(it->second - popped_)];
      e.frame = std::move(frame);  // in place: keeps the slot's position and label (its seq)
      e.seq = seq;
      ++coalesced_;
      return PushResult::kCoalesced;  // the writer already has something to do: no wake-up needed
    }
  }
  if (queue_.size() >= max_queue) {
    if (!queue_.empty() && queue_.front().resync) {
      // Not even the previous resync's snapshot went out: the client does not read.
      drop(1008, "too slow: the client does not read its WebSocket");
      return PushResult::kDropped;
    }
    queue_.clear();
    last_.clear();
    popped_ = 0;
    Entry snap;
    snap.frame = make_snapshot();
    snap.resync = true;
    queue_.push_back(std::move(snap));
    ++resyncs_;
    result = PushResult::kResynced;
  } else {
    if (key != 0) last_[key] = popped_ + queue_.size();
    queue_.push_back(Entry{std::move(frame), seq, seq, key, false});
  }
  signal_.cancel();
  return result;
}

void WsClient::push_plain(Frame frame) {
  if (closed_) return;
  queue_.push_back(Entry{std::move(frame), 0, 0, 0, false});
  signal_.cancel();
}

Frame WsClient::pop() {
  Entry e = std::move(queue_.front());
  queue_.pop_front();
  if (e.key != 0) {
    if (const auto it = last_.find(e.key); it != last_.end() && it->second == popped_) last_.erase(it);
  }
  ++popped_;
  if (e.label == e.seq) return std::move(e.frame);
  // Coalesced: the newest frame of this key, under the seq of the slot it took. Every frame starts
  // with {"type":"...","seq":<digits>.
  const std::string& text = *e.frame;
  const std::string_view tag = "\"seq\":";
  const auto at = text.find(tag);
  if (at == std::string::npos) return std::move(e.frame);
  auto end = at + tag.size();
  while (end < text.size() && text[end] >= '0' && text[end] <= '9') ++end;
  auto out = std::make_shared<std::string>();
  out->reserve(text.size() + 8);
  out->append(text, 0, at + tag.size());
  out->append(std::to_string(e.label));
  out->append(text, end);
  return out;
}

void WsClient::close(std::uint16_t code, std::string reason) {
  if (closed_) return;
  closed_ = true;
  close_code_ = code;
  close_reason_ = std::move(reason);
  queue_.clear();
  last_.clear();
  signal_.cancel();
}

void WsClient::drop(std::uint16_t code, std::string reason) {
  close(code, std::move(reason));
  if (auto abort = std::move(abort_)) abort();
}

Frame WsHub::snapshot() {
  auto text = std::make_shared<std::string>();
  *text = R"({"type":"snapshot","seq":)" + std::to_string(seq_) + R"(,"epoch":")" + epoch_ + R"(","nodes":)" +
          snapshot_body_() + "}";
  return text;
}

bool WsHub::attach(const std::shared_ptr<WsClient>& client, std::optional<std::uint64_t> since, std::string_view epoch) {
  clients_.insert(client);
  // Resumable: same run, not from the future, every frame after `since` kept, and few enough.
  const bool kept = since && *since <= seq_ &&
                    (*since == seq_ || (!history_.empty() && history_.front().first <= *since + 1));
  if (!kept || epoch != epoch_ || seq_ - *since >= kMaxReplay) {
    client->push_plain(snapshot());
    return false;
  }
  ++stats_.resumes;
  client->push_plain(std::make_shared<const std::string>(R"({"type":"resumed","since":)" + std::to_string(*since) +
                                                         R"(,"seq":)" + std::to_string(seq_) + R"(,"epoch":")" +
                                                         epoch_ + "\"}"));
  for (const auto& [seq, frame] : history_) {
    if (seq > *since) client->push_plain(frame);
  }
  return true;
}

std::uint32_t WsHub::key_id(std::string_view key) {
  if (key.empty()) return 0;
  const auto [it, added] = keys_.try_emplace(std::string(key), static_cast<std::uint32_t>(keys_.size() + 1));
  return it->second;
}

void WsHub::fan_out(const Frame& frame, std::uint32_t key) {
  // Clients that overflow on this frame all get the same snapshot: built once, not once each
  // (with many clients and nodes, one snapshot per client stalled the io thread).
  Frame shared_snapshot;
  const std::function<Frame()> make_snapshot = [&] {
    if (!shared_snapshot) {
      shared_snapshot = snapshot();
      ++stats_.snapshots_built;
    }
    return shared_snapshot;
  };
  for (const auto& c : clients_) {
    switch (c->push(frame, seq_, key, make_snapshot, kCoalesceAt, kMaxQueue)) {
      case PushResult::kCoalesced: ++stats_.coalesced; break;
      case PushResult::kResynced: ++stats_.resyncs; break;
      case PushResult::kDropped: ++stats_.dropped; break;
      default: break;
    }
  }
}

void WsHub::record(Frame frame) {
  history_.emplace_back(seq_, std::move(frame));
  if (history_.size() > kHistory) history_.pop_front();
}

void WsHub::detach(const std::shared_ptr<WsClient>& client) {
  if (clients_.erase(client) > 0 && clients_.empty()) left_at_ = clock_.mono();
}

void WsHub::broadcast_node(std::string_view key, const std::string& node_json) {
  if (!wants_frames()) return skipped();  // nobody to resume: a gap
  ++seq_;
  auto frame = std::make_shared<const std::string>(R"({"type":"node","seq":)" + std::to_string(seq_) +
                                                   R"(,"node":)" + node_json + "}");
  if (!clients_.empty()) fan_out(frame, key.empty() ? 0 : key_id(std::string("node:").append(key)));
  record(std::move(frame));
}

void WsHub::broadcast(std::string_view type, const std::string& body_json) {
  if (!wants_frames()) return skipped();
  ++seq_;
  auto frame = std::make_shared<const std::string>(R"({"type":")" + std::string(type) + R"(","seq":)" +
                                                   std::to_string(seq_) + R"(,"data":)" + body_json + "}");
  if (!clients_.empty()) fan_out(frame, key_id(std::string("type:").append(type)));
  record(std::move(frame));
}

void WsHub::close_all() {
  for (const auto& c : clients_) c->close();
}

std::size_t WsHub::close_if(const std::function<bool(const WsIdentity&)>& match, std::uint16_t code,
                            const std::string& reason) {
  std::size_t n = 0;
  for (const auto& c : clients_) {
    if (c->closed() || !match(c->identity())) continue;
    c->close(code, reason);
    ++n;
  }
  stats_.revoked += n;
  return n;
}

}  // namespace edgemon::gateway
