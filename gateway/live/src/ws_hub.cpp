#include "edgemon/gateway/live/ws_hub.h"

#include <algorithm>

#include "edgemon/gateway/api/body_reader.h"
#include "edgemon/gateway/api/json_writer.h"

namespace edgemon::gateway {

PushResult WsClient::push(Frame frame, std::uint64_t seq, std::uint32_t key,
                          const std::function<Frame(NodeView)>& make_snapshot, std::size_t coalesce_at,
                          std::size_t max_queue) {
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
    snap.frame = make_snapshot(view_);
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

void WsClient::push_unsequenced(Frame frame, std::uint32_t key) {
  if (closed_) return;
  if (key != 0) last_.erase(key);  // a newer frame of `key` must not land before this one
  push_plain(std::move(frame));
}

bool WsClient::watches(std::string_view node) const {
  return std::find(watched_.begin(), watched_.end(), node) != watched_.end();
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

Frame WsHub::snapshot(NodeView view) {
  auto text = std::make_shared<std::string>();
  *text = R"({"type":"snapshot","seq":)" + std::to_string(seq_) + R"(,"epoch":")" + epoch_ + R"(","nodes":)" +
          snapshot_body_(view) + "}";
  return text;
}

void WsHub::push_details(WsClient& client, const std::vector<std::string>* only) {
  if (client.view() == NodeView::kFull || !node_body_) return;
  for (const std::string& node : only != nullptr ? *only : client.watched()) {
    std::optional<std::string> body = node_body_(node);
    if (!body) continue;  // not (yet) known: its first frame comes in full anyway
    client.push_unsequenced(std::make_shared<const std::string>(R"({"type":"detail","node":)" + *body + "}"),
                            node_key_id(node));
  }
}

void WsHub::refuse(WsClient& client, const std::string& error) {
  ++stats_.bad_messages;
  JsonWriter w;
  w.begin_object().member("type", "error").member("error", error).end_object();
  client.push_unsequenced(std::make_shared<const std::string>(w.take()), 0);
}

void WsHub::client_message(const std::shared_ptr<WsClient>& client, std::string_view text) {
  if (client->closed()) return;
  BodyReader b(text, R"(needs {"type":"watch","nodes":["<group>/<node>",...]})");
  const std::optional<std::string> type = b.text("type", 32, true);
  if (b.ok() && *type != "watch") b.fail("type: unknown message type (known: watch)");
  const auto nodes = b.strings("nodes", kMaxWatch, kMaxNodeKey, true);
  if (Status s = b.finish(); !s) return refuse(*client, s.error().message);
  std::vector<std::string> added;
  for (const std::string& n : *nodes) {
    if (!client->watches(n)) added.push_back(n);
  }
  client->set_watched(*nodes);
  ++stats_.watches;
  push_details(*client, &added);
}

WsHub::Variants WsHub::node_variants(std::string_view key) const {
  Variants v;
  if (clients_.empty()) {
    (left_view_ == NodeView::kFull ? v.full : v.card) = true;
    return v;
  }
  for (const auto& c : clients_) {
    (c->view_of(key) == NodeView::kFull ? v.full : v.card) = true;
    if (v.full && v.card) break;
  }
  return v;
}

bool WsHub::attach(const std::shared_ptr<WsClient>& client, std::optional<std::uint64_t> since, std::string_view epoch) {
  clients_.insert(client);
  // Resumable: same run, not from the future, every frame after `since` kept, and few enough.
  const bool kept = since && *since <= seq_ &&
                    (*since == seq_ || (!history_.empty() && history_.front().seq <= *since + 1));
  // A full-view client cannot be given cards: replay only if every frame it missed was built in full.
  const bool has_variant =
      kept && (client->view() == NodeView::kCard ||
               std::all_of(history_.begin(), history_.end(), [&](const Kept& k) { return k.seq <= *since || k.full; }));
  if (!kept || !has_variant || epoch != epoch_ || seq_ - *since >= kMaxReplay) {
    client->push_plain(snapshot(client->view()));
    push_details(*client);
    return false;
  }
  ++stats_.resumes;
  client->push_plain(std::make_shared<const std::string>(R"({"type":"resumed","since":)" + std::to_string(*since) +
                                                         R"(,"seq":)" + std::to_string(seq_) + R"(,"epoch":")" +
                                                         epoch_ + "\"}"));
  for (const Kept& k : history_) {
    if (k.seq <= *since) continue;
    const bool full = client->view_of(k.node) == NodeView::kFull;
    client->push_plain(full ? (k.full ? k.full : k.card) : (k.card ? k.card : k.full));
  }
  push_details(*client);
  return true;
}

std::uint32_t WsHub::key_id(std::string_view key) {
  if (key.empty()) return 0;
  const auto [it, added] = keys_.try_emplace(std::string(key), static_cast<std::uint32_t>(keys_.size() + 1));
  return it->second;
}

void WsHub::fan_out(const Kept& kept, std::uint32_t key) {
  // Clients that overflow on this frame all get the same snapshot (one per view): built once, not
  // once each (with many clients and nodes, one snapshot per client stalled the io thread).
  Frame shared[2];
  const std::function<Frame(NodeView)> make_snapshot = [&](NodeView view) {
    Frame& snap = shared[view == NodeView::kFull ? 0 : 1];
    if (!snap) {
      snap = snapshot(view);
      ++stats_.snapshots_built;
    }
    return snap;
  };
  for (const auto& c : clients_) {
    const bool full = c->view_of(kept.node) == NodeView::kFull;
    Frame frame = full ? (kept.full ? kept.full : kept.card) : (kept.card ? kept.card : kept.full);
    switch (c->push(std::move(frame), seq_, key, make_snapshot, kCoalesceAt, kMaxQueue)) {
      case PushResult::kCoalesced: ++stats_.coalesced; break;
      case PushResult::kResynced:
        ++stats_.resyncs;
        push_details(*c);
        break;
      case PushResult::kDropped: ++stats_.dropped; break;
      default: break;
    }
  }
}

void WsHub::record(Kept kept) {
  history_.push_back(std::move(kept));
  if (history_.size() > kHistory) history_.pop_front();
}

void WsHub::detach(const std::shared_ptr<WsClient>& client) {
  if (clients_.erase(client) > 0 && clients_.empty()) {
    left_at_ = clock_.mono();
    left_view_ = client->view();
  }
}

void WsHub::broadcast_node(std::string_view key, const std::string& full_json, const std::string& card_json) {
  if (!wants_frames()) return skipped();  // nobody to resume: a gap
  ++seq_;
  const std::string head = R"({"type":"node","seq":)" + std::to_string(seq_) + R"(,"node":)";
  Kept kept;
  kept.seq = seq_;
  kept.node = std::string(key);
  if (!full_json.empty() || card_json.empty()) kept.full = std::make_shared<const std::string>(head + full_json + "}");
  if (!card_json.empty()) kept.card = std::make_shared<const std::string>(head + card_json + "}");
  if (!clients_.empty()) fan_out(kept, key.empty() ? 0 : node_key_id(key));
  record(std::move(kept));
}

void WsHub::broadcast(std::string_view type, const std::string& body_json) {
  if (!wants_frames()) return skipped();
  ++seq_;
  Kept kept;
  kept.seq = seq_;
  kept.full = std::make_shared<const std::string>(R"({"type":")" + std::string(type) + R"(","seq":)" +
                                                  std::to_string(seq_) + R"(,"data":)" + body_json + "}");
  if (!clients_.empty()) fan_out(kept, key_id(std::string("type:").append(type)));
  record(std::move(kept));
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
