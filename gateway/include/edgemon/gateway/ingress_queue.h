// IngressQueue: MQTT messages from Paho's receive thread to the io thread, bounded.
//
// The io thread takes messages in batches (one post per batch, not per message). When the queue
// holds `max_messages` or `max_bytes`, push() waits for room: Paho's thread stops reading the
// socket, the broker keeps the backlog (within its own limits, which it counts), and the gateway's
// memory stays bounded however fast devices publish. Each wait is counted. close() ends waiting
// at shutdown; what is pushed after it is dropped and counted.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <vector>

#include "edgemon/common/mqtt_client.h"

namespace edgemon::gateway {

class IngressQueue {
 public:
  IngressQueue(std::size_t max_messages, std::size_t max_bytes) : max_messages_(max_messages), max_bytes_(max_bytes) {}

  // Producer. Returns true when the queue was empty (the consumer must be woken).
  bool push(MqttIncoming&& m) {
    std::unique_lock lock(mutex_);
    const std::size_t size = m.topic.size() + m.payload.size();
    if (!room(size)) {
      ++waits_;
      room_.wait(lock, [&] { return closed_ || room(size); });
    }
    if (closed_) {
      ++dropped_;
      return false;
    }
    const bool was_empty = queue_.empty();
    bytes_ += size;
    queue_.push_back(std::move(m));
    return was_empty;
  }

  // Consumer: moves up to `n` messages into `out` (cleared first). Returns how many remain.
  std::size_t take(std::vector<MqttIncoming>& out, std::size_t n) {
    out.clear();
    std::size_t left = 0;
    {
      const std::lock_guard lock(mutex_);
      while (!queue_.empty() && out.size() < n) {
        bytes_ -= queue_.front().topic.size() + queue_.front().payload.size();
        out.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      left = queue_.size();
    }
    room_.notify_all();
    return left;
  }

  void close() {
    {
      const std::lock_guard lock(mutex_);
      closed_ = true;
    }
    room_.notify_all();
  }

  std::size_t size() const {
    const std::lock_guard lock(mutex_);
    return queue_.size();
  }
  std::uint64_t waits() const {
    const std::lock_guard lock(mutex_);
    return waits_;
  }
  std::uint64_t dropped() const {
    const std::lock_guard lock(mutex_);
    return dropped_;
  }
  std::size_t max_messages() const { return max_messages_; }

 private:
  // A message larger than max_bytes still goes into an empty queue (it passed the broker).
  bool room(std::size_t size) const {
    return queue_.empty() || (queue_.size() < max_messages_ && bytes_ + size <= max_bytes_);
  }

  const std::size_t max_messages_;
  const std::size_t max_bytes_;
  mutable std::mutex mutex_;
  std::condition_variable room_;
  std::deque<MqttIncoming> queue_;
  std::size_t bytes_ = 0;
  std::uint64_t waits_ = 0;
  std::uint64_t dropped_ = 0;
  bool closed_ = false;
};

}  // namespace edgemon::gateway
