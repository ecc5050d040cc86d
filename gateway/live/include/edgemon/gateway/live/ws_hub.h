// WsHub: fan-out of live updates to WebSocket clients (single io thread, no locks).
// Every broadcast frame carries a hub-wide sequence number. Each client has a bounded queue, and a
// client that cannot keep up never slows the others or grows memory:
//
//   1. Below kCoalesceAt queued frames every frame is queued as it is.
//   2. From kCoalesceAt on, a frame with a coalescing key (a node's key, or "alerts") REPLACES the
//      newest queued frame with the same key, in place: the client gets the newest state of that
//      node in the queue position (and under the seq) of the frame it replaces. Node and alerts
//      frames carry a whole state, not a difference, so nothing is lost but intermediate states;
//      the replaced seqs are simply never delivered (the client sees a gap in seq).
//   3. If the queue still reaches kMaxQueue, it is replaced by one fresh snapshot (a resync).
//   4. If it reaches kMaxQueue again while that snapshot is still unsent (the client made no
//      progress at all), the client is dropped: closed with 1008 and its connection aborted.
//
// Seq ordering seen by a client stays strictly increasing (rule 2 keeps the replaced frame's seq
// and position), so "the last seq I processed" remains a correct resume point: every frame after
// it is either still to come or is replayed from the history on resume.
//
// Resume: the hub keeps the last kHistory frames (as broadcast, never coalesced). A client that
// reconnects with the epoch of the snapshot it had and the last seq it saw (/ws?epoch=E&since=N)
// gets {"type":"resumed",...} and exactly the frames after N, if the hub still has every one of
// them and they are fewer than kMaxReplay; otherwise a snapshot. The epoch changes with every
// gateway start, so seqs of another run never match. Frames are kept for kResumeGrace after the
// last client left (wants_frames()), so a single dashboard can resume after a dropped connection;
// a change made after that is skipped() and cuts the history.
//
// Views (docs/protocol.md, "Views"; ADR 0008): a client sees every node in full (NodeView::kFull,
// the default) or, after /ws?view=card, every node as its card (NodeView::kCard: the overview's
// few metrics, a tenth of the bytes) except the nodes it watches ({"type":"watch","nodes":[...]},
// at most kMaxWatch), which come in full. A frame's seq is the same in both variants; the hub
// builds only the variants some client (or, with none connected, the last to leave) needs. When
// a client starts watching a node (and after its snapshot, resume or resync) it gets that node's
// full document at once as an unsequenced {"type":"detail","node":{...}} frame. Resume replays
// the variant a client needs; a full-view client whose missed frames exist only as cards gets a
// snapshot.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include <vector>

#include "edgemon/common/clock.h"
#include "edgemon/gateway/api/node_json.h"
#include "edgemon/gateway/asio_prelude.h"

namespace edgemon::gateway {

using Frame = std::shared_ptr<const std::string>;

// What a client's push did (the hub counts them).
enum class PushResult { kQueued, kCoalesced, kResynced, kDropped, kClosed };

// Who opened a WebSocket: what authenticated its handshake, so that a revocation (logout,
// password change, deleted user or token) can close it.
struct WsIdentity {
  enum class Via { kNone, kSession, kToken, kBasic };
  Via via = Via::kNone;
  std::string name;     // the user (kSession, kBasic) or the token's name (kToken)
  std::string session;  // kSession: the session's id hash (never the id itself)
};

class WsClient {
 public:
  explicit WsClient(asio::any_io_executor executor, WsIdentity identity = {})
      : signal_(executor, asio::steady_timer::time_point::max()), identity_(std::move(identity)) {}

  // `seq`: the frame's own seq; `key`: its coalescing key (0: never coalesced). `make_snapshot`
  // builds a snapshot in this client's view (a resync).
  PushResult push(Frame frame, std::uint64_t seq, std::uint32_t key,
                  const std::function<Frame(NodeView)>& make_snapshot, std::size_t coalesce_at, std::size_t max_queue);
  // Unconditional (attach: the snapshot or resume replay), no coalescing and no bound.
  void push_plain(Frame frame);
  // An unsequenced frame (a watched node's full document, an error), unconditional like
  // push_plain(); no later frame of `key` is coalesced into a slot queued before it.
  void push_unsequenced(Frame frame, std::uint32_t key);

  // The view (set before attach) and the nodes watched in full ("<group>/<node>").
  void set_view(NodeView view) { view_ = view; }
  NodeView view() const { return view_; }
  void set_watched(std::vector<std::string> nodes) { watched_ = std::move(nodes); }
  const std::vector<std::string>& watched() const { return watched_; }
  bool watches(std::string_view node) const;
  // What this client is sent for `node` ("" for frames that are not a node's: kFull).
  NodeView view_of(std::string_view node) const {
    return view_ == NodeView::kFull || node.empty() || watches(node) ? NodeView::kFull : NodeView::kCard;
  }
  bool empty() const { return queue_.empty(); }
  std::size_t queued() const { return queue_.size(); }
  // The next frame to write. A coalesced frame is rewritten with the seq of the slot it took.
  Frame pop();
  // Stops the writer; it sends a close frame with `code` and `reason` (1001 going away by default).
  void close(std::uint16_t code = 1001, std::string reason = {});
  // close() and abort the connection at once (set_abort): for a client that does not read.
  void drop(std::uint16_t code, std::string reason);
  bool closed() const { return closed_; }
  std::uint16_t close_code() const { return close_code_; }
  const std::string& close_reason() const { return close_reason_; }
  void set_abort(std::function<void()> abort) { abort_ = std::move(abort); }
  asio::steady_timer& signal() { return signal_; }
  const WsIdentity& identity() const { return identity_; }
  std::uint64_t resyncs() const { return resyncs_; }
  std::uint64_t coalesced() const { return coalesced_; }

 private:
  struct Entry {
    Frame frame;
    std::uint64_t seq = 0;    // the seq `frame` was broadcast with
    std::uint64_t label = 0;  // the seq the client sees (the slot's first frame's seq)
    std::uint32_t key = 0;
    bool resync = false;  // the snapshot of a resync (rule 3)
  };
  std::deque<Entry> queue_;
  std::uint64_t popped_ = 0;                              // absolute index of queue_.front()
  std::unordered_map<std::uint32_t, std::uint64_t> last_;  // key -> absolute index of its newest entry
  asio::steady_timer signal_;  // cancelled to wake the writer
  WsIdentity identity_;
  std::function<void()> abort_;
  bool closed_ = false;
  std::uint16_t close_code_ = 1001;
  std::string close_reason_;
  std::uint64_t resyncs_ = 0;
  std::uint64_t coalesced_ = 0;
  NodeView view_ = NodeView::kFull;
  std::vector<std::string> watched_;
};

// Hub-wide counters (/api/health "ws", /metrics edgemon_ws_*).
struct WsStats {
  std::uint64_t frames_sent = 0;  // frames written to a socket (counted by the writer: frame_sent())
  std::uint64_t coalesced = 0;    // queued frames replaced by a newer one of the same key (rule 2)
  std::uint64_t resyncs = 0;      // queues replaced by a snapshot on overflow (rule 3)
  std::uint64_t dropped = 0;      // clients dropped for overflowing again before their resync (rule 4)
  std::uint64_t revoked = 0;      // clients closed because their credentials were revoked
  std::uint64_t resumes = 0;
  std::uint64_t snapshots_built = 0;  // snapshots built for clients that fell behind
  std::uint64_t watches = 0;          // watch messages applied
  std::uint64_t bad_messages = 0;     // client messages refused (answered with an error frame)
};

class WsHub {
 public:
  static constexpr std::size_t kCoalesceAt = 64;
  static constexpr std::size_t kMaxQueue = 4096;
  static constexpr std::size_t kHistory = 1024;
  static constexpr std::size_t kMaxReplay = 256;  // resume replays at most kMaxReplay - 1 frames
  static constexpr std::chrono::seconds kResumeGrace{60};

  static constexpr std::size_t kMaxWatch = 16;
  static constexpr std::size_t kMaxNodeKey = 512;

  // The JSON array of all nodes in a view (the hub wraps it with type, seq and epoch).
  using SnapshotBody = std::function<std::string(NodeView)>;
  // One node's full document ("<group>/<node>"); nullopt when the node is not known.
  using NodeBody = std::function<std::optional<std::string>(std::string_view key)>;

  // `epoch`: this run's identity (the gateway's start time). `clock`: its monotonic time measures
  // the resume grace.
  WsHub(SnapshotBody snapshot_body, NodeBody node_body, std::string epoch = "0",
        const Clock& clock = SystemClock::instance())
      : snapshot_body_(std::move(snapshot_body)),
        node_body_(std::move(node_body)),
        epoch_(std::move(epoch)),
        clock_(clock) {}

  // Queues a snapshot, or (resume) the frames after `since` when `epoch` is this hub's and every
  // one of them is still kept. Returns true if it resumed.
  bool attach(const std::shared_ptr<WsClient>& client, std::optional<std::uint64_t> since = std::nullopt,
              std::string_view epoch = {});
  void detach(const std::shared_ptr<WsClient>& client);
  // A client's text message: {"type":"watch","nodes":["<group>/<node>",...]} replaces the set of
  // nodes it watches. Anything else is answered with an unsequenced {"type":"error","error":...}
  // frame, counted, and changes nothing.
  void client_message(const std::shared_ptr<WsClient>& client, std::string_view text);

  // Which variants of a frame for `key` the clients need (none connected: the last one's view).
  struct Variants {
    bool full = false;
    bool card = false;
  };
  Variants node_variants(std::string_view key) const;
  // A changed node: its full document and/or its card (an empty string: not built, nobody needs
  // it; node_variants() says which). `key` ("<group>/<node>") lets a slow client's queued frame
  // for the same node be replaced (empty: never coalesced).
  void broadcast_node(std::string_view key, const std::string& full_json, const std::string& card_json = {});
  void broadcast_node(const std::string& node_json) { broadcast_node({}, node_json); }
  // {"type":<type>,"seq":N,"data":<body JSON>}, e.g. the active alerts after a change. Frames of
  // the same type are coalesced like a node's (each carries the whole list).
  void broadcast(std::string_view type, const std::string& body_json);
  void close_all();
  // Closes (code, reason) every client whose identity matches; returns how many.
  std::size_t close_if(const std::function<bool(const WsIdentity&)>& match, std::uint16_t code,
                       const std::string& reason);
  // The writer wrote one frame.
  void frame_sent() { ++stats_.frames_sent; }

  // Whether a change is worth a frame: a client is connected, or the last one left less than
  // kResumeGrace ago (a dashboard whose connection dropped reconnects and resumes). Otherwise the
  // caller skips building the frame and calls skipped() instead.
  bool wants_frames() const { return !clients_.empty() || (left_at_ && clock_.mono() - *left_at_ < kResumeGrace); }
  // A change that was not broadcast: it takes a seq and the history is cut, so nobody resumes
  // across it (they get a snapshot).
  void skipped() {
    ++seq_;
    history_.clear();
  }
  std::size_t clients() const { return clients_.size(); }
  std::uint64_t seq() const { return seq_; }
  const std::string& epoch() const { return epoch_; }
  std::uint64_t resumes() const { return stats_.resumes; }
  std::uint64_t snapshots_built() const { return stats_.snapshots_built; }
  const WsStats& stats() const { return stats_; }

 private:
  struct Kept {
    std::uint64_t seq = 0;
    Frame full;  // either may be null (not built), never both
    Frame card;
    std::string node;  // "<group>/<node>" for a node's frame
  };

  Frame snapshot(NodeView view);
  void record(Kept kept);
  void fan_out(const Kept& kept, std::uint32_t key);
  std::uint32_t key_id(std::string_view key);
  std::uint32_t node_key_id(std::string_view node) { return key_id(std::string("node:").append(node)); }
  // The full document of each node `client` watches (those in `only`, if given), unsequenced.
  void push_details(WsClient& client, const std::vector<std::string>* only = nullptr);
  void refuse(WsClient& client, const std::string& error);

  SnapshotBody snapshot_body_;
  NodeBody node_body_;
  std::string epoch_;
  std::unordered_set<std::shared_ptr<WsClient>> clients_;
  const Clock& clock_;
  std::optional<MonoTime> left_at_;  // the last client detached then
  NodeView left_view_ = NodeView::kFull;  // ... and its view
  std::uint64_t seq_ = 0;
  std::deque<Kept> history_;  // contiguous seqs, oldest first
  std::unordered_map<std::string, std::uint32_t> keys_;   // coalescing key -> id (1, 2, ...)
  WsStats stats_;
};

}  // namespace edgemon::gateway
