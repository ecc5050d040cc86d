// DiskRing: the agent's store-and-forward buffer — a bounded ring of records in one preallocated
// file, so flash sees no file creation churn and the size never grows.
//
// Layout: a 4 KiB header block with two checksummed header slots written alternately (a torn
// write leaves the other valid), then `capacity` bytes of records. A record is
// [magic][flags][len][crc32][seq][payload] aligned to 8 bytes; it never straddles the end (a
// wrap marker sends readers back to the start).
//
// Guarantees:
//  - Order: records come out in the order they went in (seq increases by one).
//  - Bounded: when a new record does not fit, the oldest records are dropped and counted
//    (dropped()); a record larger than capacity / 2 is refused.
//  - Process crash (kill -9): every append that returned is kept — data and header are written
//    with pwrite before append() returns, and on open the ring also picks up records written
//    after the last header update (valid CRC and the next expected seq).
//  - Power loss: with fsync = kAlways each append is fsynced; kInterval (default) fsyncs at most
//    every fsync_interval, so up to that much may be lost; kNever leaves it to the kernel.
//  - Corruption: a record that fails its CRC truncates the ring there (older records are kept)
//    and is counted; a file whose headers are both invalid is renamed to <path>.corrupt-<time>
//    and a fresh ring is started. Either way the agent starts.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "edgemon/common/clock.h"
#include "edgemon/common/result.h"

namespace edgemon::firmware {

class DiskRing {
 public:
  enum class Fsync { kNever, kInterval, kAlways };
  struct Options {
    std::string path;
    std::size_t capacity = 4 * 1024 * 1024;
    Fsync fsync = Fsync::kInterval;
    std::chrono::milliseconds fsync_interval{5000};
  };
  struct Record {
    std::string payload;
    std::uint16_t flags = 0;
    std::uint64_t seq = 0;
  };
  struct Stats {
    std::uint64_t dropped = 0;        // lost to overflow, since the file was created
    std::uint64_t corrupt_records = 0;  // found bad on open, this process
    bool set_aside = false;           // the file was unreadable and was renamed on open
  };

  // Errors: kIo (cannot create/open/size the file), kInvalidArgument (capacity < 4 KiB).
  static Result<std::unique_ptr<DiskRing>> open(const Options& options);
  ~DiskRing();
  DiskRing(const DiskRing&) = delete;
  DiskRing& operator=(const DiskRing&) = delete;

  // Errors: kResourceExhausted (record > capacity / 2), kIo (write failed, e.g. ENOSPC; the
  // ring is unchanged).
  Status append(std::string_view payload, std::uint16_t flags);
  bool empty() const { return count_ == 0; }
  std::size_t size() const { return static_cast<std::size_t>(count_); }
  // The oldest record. Errors: kNotFound (empty), kIo.
  Result<Record> front() const;
  // Drops the oldest record (after it was delivered). Errors: kNotFound, kIo.
  Status pop_front();
  // fsyncs if the policy says it is due.
  void sync_if_due(MonoTime now);
  const Stats& stats() const { return stats_; }
  std::size_t capacity() const { return static_cast<std::size_t>(capacity_); }
  // The seq of the oldest record (meaningful when not empty).
  std::uint64_t front_seq() const { return head_seq_; }
  // The seq the next appended record gets (persists across restarts).
  std::uint64_t next_seq() const { return next_seq_; }

 private:
  explicit DiskRing(Options options) : options_(std::move(options)) {}
  Status create_fresh();
  Status recover();
  Status write_header();
  bool read_record_header(std::uint64_t offset, std::uint64_t& len, std::uint64_t& seq) const;
  Result<Record> read_record(std::uint64_t offset) const;
  std::uint64_t next_offset(std::uint64_t offset, std::uint64_t len) const;
  std::uint64_t normalize(std::uint64_t offset) const;

  Options options_;
  int fd_ = -1;
  std::uint64_t capacity_ = 0;
  std::uint64_t head_ = 0;      // offset of the oldest record
  std::uint64_t tail_ = 0;      // where the next record goes
  std::uint64_t count_ = 0;
  std::uint64_t head_seq_ = 0;  // seq of the oldest record
  std::uint64_t next_seq_ = 0;  // seq of the next record appended
  std::uint64_t generation_ = 0;
  bool dirty_ = false;
  MonoTime last_sync_{};
  Stats stats_;
};

}  // namespace edgemon::firmware
