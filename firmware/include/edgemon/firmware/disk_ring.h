// DiskRing: the agent's store-and-forward buffer — a bounded ring of records in one preallocated
// file, so flash sees no file creation churn and the size never grows.
//
// Layout: a 4 KiB header block with two checksummed header slots written alternately (a torn
// write leaves the other valid), then `capacity` bytes of records. A record is
// [magic][flags][len][crc32][seq][payload] aligned to 8 bytes; it never straddles the end (a
// wrap marker sends readers back to the start). Optionally a sequence file (Options::
// sequence_path) kept apart from the ring: two checksummed slots, written alternately with the
// header, holding next_seq, head_seq, the record count, the dropped and damaged totals and the
// header's generation.
//
// Guarantees:
//  - Order: records come out in the order they went in; seqs strictly increase. An append takes
//    next_seq() and adds one, so a ring that never saw damage has no holes in seq; salvage (below)
//    may leave holes where records were lost.
//  - A seq is never reused while the ring header or the sequence file survives (see power loss
//    for what survives): on open next_seq() is the largest of the header's, the sequence file's
//    and (highest salvaged seq + 1). With both of them lost, seqs continue after the highest
//    intact record found in the file.
//  - Bounded: when a new record does not fit, the oldest records are dropped and counted
//    (stats().dropped, persisted); a record larger than capacity / 2 is refused.
//  - Process crash (kill -9): every append that returned is kept — data and header are written
//    with pwrite before append() returns, and on open the ring also picks up records written
//    after the last header update (valid CRC and the next expected seq).
//  - Power loss: with fsync = kAlways each append is fsynced (the sequence file too); kInterval
//    (default) fsyncs at most every fsync_interval, so up to that much may be lost: counted as
//    damaged when the sequence file reached the disk and the records did not; when neither did,
//    the appends are forgotten and their seqs may be given out again. kNever leaves it to the
//    kernel.
//  - Damage is salvaged, never discarded: when the file is not fully consistent on open (both
//    header slots invalid, file shorter than header block + capacity, empty, missing while the
//    sequence file exists, a record in the header's range failing magic/length/CRC/seq order,
//    or the sequence file knowing of later records), every 8-byte offset of the data area is
//    scanned for intact records. Those with seq in [lo, next_seq) are kept with their seq and
//    flags, in seq order (lo: head seq of the newer of header and sequence file; with neither,
//    the lowest seq found, so then stale records of older laps may come back and the seqs
//    between them and the live ones count as lost). The damaged file is kept as <path>.corrupt
//    (one copy, replacing an older one) and a fresh full-size ring with the kept records takes
//    its place. Lost = records the newer source says were in the ring (plus seqs above its
//    next_seq not found) − kept; it is added to stats().damaged (persisted in the header and
//    the sequence file) and logged as one error line. A record header that becomes unreadable
//    while the ring is open (found by pop_front() or an overflow drop) is salvaged the same way;
//    a record popped while failing its CRC (front() said kIo) counts as damaged too.
//    Either way the agent starts.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

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
    // The sequence file, kept apart from the ring so that a destroyed ring does not reset seqs or
    // the loss totals; created if missing. Empty: none.
    std::string sequence_path{};
  };
  struct Record {
    std::string payload;
    std::uint16_t flags = 0;
    std::uint64_t seq = 0;
  };
  struct Stats {
    std::uint64_t dropped = 0;       // lost to overflow, total (persisted)
    std::uint64_t damaged = 0;       // lost to damage, total (persisted)
    std::uint64_t salvaged = 0;      // records kept by the last salvage, this process
    std::uint64_t lost_on_open = 0;  // records lost to damage found by open()
  };
  // A position in the ring: the record with `seq` at `offset` (offset is a hint; seq decides).
  struct Cursor {
    std::uint64_t offset = 0;
    std::uint64_t seq = 0;
  };

  // Errors: kIo (cannot create/open/size the file or the sequence file, or write the salvaged
  // ring), kResourceExhausted (no space for them), kInvalidArgument (capacity < 4 KiB).
  static Result<std::unique_ptr<DiskRing>> open(const Options& options);
  ~DiskRing();
  DiskRing(const DiskRing&) = delete;
  DiskRing& operator=(const DiskRing&) = delete;

  // Errors: kResourceExhausted (record > capacity / 2, or disk full), kIo (write failed; the
  // ring is unchanged).
  Status append(std::string_view payload, std::uint16_t flags);
  bool empty() const { return count_ == 0; }
  std::size_t size() const { return static_cast<std::size_t>(count_); }
  // The oldest record. Errors: kNotFound (empty), kIo.
  Result<Record> front() const;
  // Drops the oldest record (after it was delivered). Errors: kNotFound, kIo.
  Status pop_front();
  // A cursor at the oldest record (== end() when empty).
  Cursor begin() const;
  // The cursor where the next appended record will be (seq == next_seq()).
  Cursor end() const;
  // The record at `c` and the cursor after it (end() after the newest). Errors: kNotFound when
  // `c` is at end() or is no longer in the ring (dropped by overflow or popped: c.seq <
  // front_seq(); restart from begin()), kIo for an unreadable record. Records are removed only
  // by pop_front() and overflow, so a cursor stays valid across appends.
  Result<std::pair<Record, Cursor>> read(Cursor c) const;
  // fsyncs if the policy says it is due.
  void sync_if_due(MonoTime now);
  const Stats& stats() const { return stats_; }
  std::size_t capacity() const { return static_cast<std::size_t>(capacity_); }
  // The seq of the oldest record (next_seq() when empty).
  std::uint64_t front_seq() const { return head_seq_; }
  // The seq the next appended record gets (persists across restarts).
  std::uint64_t next_seq() const { return next_seq_; }

 private:
  struct Known;  // what a header slot or the sequence file says (disk_ring.cpp)

  explicit DiskRing(Options options) : options_(std::move(options)) {}
  Result<bool> open_sequence_file(Known& out);
  Status create_fresh();
  Status recover(const Known* sequence);
  Status salvage(const Known* reference, const Known& floor, std::uint64_t scan_limit,
                 std::uint64_t new_capacity, bool at_open, const std::string& reason);
  Status salvage_in_place(const std::string& reason);
  Status write_header();
  bool write_header_slot(int fd);
  void write_sequence_slot();
  void sync_files();
  bool drop_head();
  Status make_room(std::uint64_t need, std::uint64_t& at, bool& wrote_marker, std::uint64_t& marker_at);
  bool read_record_header(std::uint64_t offset, std::uint64_t& len, std::uint64_t& seq) const;
  Result<Record> read_record(std::uint64_t offset) const;
  Result<std::uint64_t> locate(const Cursor& c) const;
  std::uint64_t next_offset(std::uint64_t offset, std::uint64_t len) const;
  std::uint64_t normalize(std::uint64_t offset) const;

  Options options_;
  int fd_ = -1;
  int seq_fd_ = -1;             // the sequence file (-1: none)
  bool seq_write_failed_ = false;
  std::uint64_t capacity_ = 0;
  std::uint64_t head_ = 0;      // offset of the oldest record
  std::uint64_t tail_ = 0;      // where the next record goes
  std::uint64_t count_ = 0;
  std::uint64_t head_seq_ = 0;  // seq of the oldest record (next_seq_ when empty)
  std::uint64_t last_seq_ = 0;  // seq of the newest record (meaningful when not empty)
  std::uint64_t next_seq_ = 0;  // seq of the next record appended
  std::uint64_t generation_ = 0;
  bool dirty_ = false;
  MonoTime last_sync_{};
  Stats stats_;
};

}  // namespace edgemon::firmware
