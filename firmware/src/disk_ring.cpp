#include "edgemon/firmware/disk_ring.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <tuple>
#include <vector>

#include "edgemon/common/log.h"

namespace edgemon::firmware {

// What a header slot, the sequence file or the open ring says about the ring.
struct DiskRing::Known {
  std::uint64_t head_seq = 0;  // seq of the oldest record (next_seq when empty)
  std::uint64_t next_seq = 0;
  std::uint64_t count = 0;
  std::uint64_t dropped = 0;
  std::uint64_t damaged = 0;
  std::uint64_t generation = 0;
};

namespace {

constexpr const char* kLog = "buffer";
constexpr std::uint32_t kHeaderMagic = 0x454d5242;  // "EMRB"
constexpr std::uint32_t kHeaderVersion = 1;
constexpr std::uint32_t kRecordMagic = 0x454d5231;  // "EMR1"
constexpr std::uint32_t kWrapMagic = 0x57524150;    // "WRAP"
constexpr std::uint32_t kSeqMagic = 0x454d5253;     // "EMRS"
constexpr std::uint32_t kSeqVersion = 1;
constexpr std::uint64_t kHeaderBlock = 4096;
constexpr std::uint64_t kSlotSize = 128;
constexpr std::uint64_t kSeqSlotSize = 64;
constexpr std::uint64_t kRecordHeader = 24;
constexpr std::size_t kScanWindow = std::size_t{64} * 1024;
constexpr std::size_t kMaxLoggedRanges = 8;

std::uint32_t crc32(std::uint32_t crc, const void* data, std::size_t len) {
  static const std::array<std::uint32_t, 256> table = [] {
    std::array<std::uint32_t, 256> t{};
    for (std::uint32_t i = 0; i < 256; ++i) {
      std::uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1u) != 0 ? 0xedb88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  const auto* p = static_cast<const std::uint8_t*>(data);
  crc = ~crc;
  for (std::size_t i = 0; i < len; ++i) crc = table[(crc ^ p[i]) & 0xffu] ^ (crc >> 8);
  return ~crc;
}

struct HeaderSlot {
  std::uint32_t magic;
  std::uint32_t version;
  std::uint64_t capacity;
  std::uint64_t head;
  std::uint64_t tail;
  std::uint64_t count;
  std::uint64_t head_seq;
  std::uint64_t next_seq;
  std::uint64_t generation;
  std::uint64_t dropped;
  std::uint32_t crc;  // over the fields above
  std::uint32_t pad;
  // Added after `crc` so the layout above stays what older agents read and write: they write
  // only up to `pad`, which leaves ext_crc stale, and damaged then reads as 0 (the sequence file
  // still has it).
  std::uint64_t damaged;
  std::uint32_t ext_crc;  // over everything above
  std::uint32_t pad2;
};
static_assert(offsetof(HeaderSlot, crc) == 72 && offsetof(HeaderSlot, damaged) == 80, "format version 1");
static_assert(sizeof(HeaderSlot) == 96 && sizeof(HeaderSlot) <= kSlotSize);

// One slot of the sequence file (two, written alternately like the header slots).
struct SeqSlot {
  std::uint32_t magic;
  std::uint32_t version;
  std::uint64_t next_seq;
  std::uint64_t head_seq;
  std::uint64_t count;
  std::uint64_t dropped;
  std::uint64_t damaged;
  std::uint64_t generation;  // the ring header's generation written with it
  std::uint32_t crc;
  std::uint32_t pad;
};
static_assert(sizeof(SeqSlot) == kSeqSlotSize && offsetof(SeqSlot, crc) == 56);

struct RecordHeader {
  std::uint32_t magic;
  std::uint16_t flags;
  std::uint16_t reserved;
  std::uint32_t len;
  std::uint32_t crc;
  std::uint64_t seq;
};
static_assert(sizeof(RecordHeader) == kRecordHeader);

std::uint64_t align8(std::uint64_t n) { return (n + 7) & ~std::uint64_t{7}; }

// The CRC of a record's header fields; the payload continues it.
std::uint32_t record_header_crc(const RecordHeader& h) {
  std::uint32_t c = crc32(0, &h.flags, sizeof h.flags);
  c = crc32(c, &h.len, sizeof h.len);
  return crc32(c, &h.seq, sizeof h.seq);
}

std::uint32_t record_crc(const RecordHeader& h, const void* payload) {
  return crc32(record_header_crc(h), payload, h.len);
}

bool header_slot_valid(const HeaderSlot& s) {
  return s.magic == kHeaderMagic && s.version == kHeaderVersion && s.crc == crc32(0, &s, offsetof(HeaderSlot, crc)) &&
         s.capacity >= 4096 && s.capacity % 8 == 0 && s.head < s.capacity && s.tail < s.capacity &&
         s.head % 8 == 0 && s.tail % 8 == 0 && s.head_seq <= s.next_seq && s.count <= s.next_seq - s.head_seq &&
         s.count <= s.capacity / kRecordHeader;
}

std::uint64_t header_slot_damaged(const HeaderSlot& s) {
  return s.ext_crc == crc32(0, &s, offsetof(HeaderSlot, ext_crc)) ? s.damaged : 0;
}

bool seq_slot_valid(const SeqSlot& s) {
  return s.magic == kSeqMagic && s.version == kSeqVersion && s.crc == crc32(0, &s, offsetof(SeqSlot, crc)) &&
         s.head_seq <= s.next_seq && s.count <= s.next_seq - s.head_seq;
}

bool pread_all(int fd, void* buf, std::size_t len, std::uint64_t off) {
  auto* p = static_cast<char*>(buf);
  while (len > 0) {
    const ssize_t n = ::pread(fd, p, len, static_cast<off_t>(off));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    len -= static_cast<std::size_t>(n);
    off += static_cast<std::uint64_t>(n);
  }
  return true;
}

bool pwrite_all(int fd, const void* buf, std::size_t len, std::uint64_t off) {
  const auto* p = static_cast<const char*>(buf);
  while (len > 0) {
    const ssize_t n = ::pwrite(fd, p, len, static_cast<off_t>(off));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    len -= static_cast<std::size_t>(n);
    off += static_cast<std::uint64_t>(n);
  }
  return true;
}

Error io_error(const std::string& what) {
  const int err = errno;
  return make_error(err == ENOSPC ? ErrorCode::kResourceExhausted : ErrorCode::kIo, what + ": " + std::strerror(err));
}

// Sizes a new ring file, reserving the blocks now so a full disk shows up at start, not in the
// middle of an outage.
Status reserve(int fd, std::uint64_t bytes, const std::string& path) {
  const int rc = ::posix_fallocate(fd, 0, static_cast<off_t>(bytes));
  if (rc != 0 && rc != EOPNOTSUPP && rc != EINVAL) {
    errno = rc;
    return io_error(path + ": cannot reserve buffer space");
  }
  if (rc != 0 && ::ftruncate(fd, static_cast<off_t>(bytes)) != 0) return io_error(path + ": cannot size buffer");
  return Status::Ok();
}

// Makes renames in the directory of `path` durable.
void fsync_dir(const std::string& path) {
  const auto slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

// Reads the data area of a damaged ring file through a window, for the salvage scan.
class ScanWindow {
 public:
  ScanWindow(int fd, std::uint64_t limit) : fd_(fd), limit_(limit), buf_(kScanWindow) {}
  std::uint64_t limit() const { return limit_; }

  // Copies n (<= kScanWindow) bytes at data offset `off`. False past the limit or on a read
  // error (an unreadable block is skipped, the rest of the file still scanned).
  bool read(std::uint64_t off, void* dst, std::size_t n) {
    if (off > limit_ || n > limit_ - off) return false;
    if (off < start_ || off + n > start_ + have_) {
      const auto len = static_cast<std::size_t>(std::min<std::uint64_t>(kScanWindow, limit_ - off));
      // Inside a block that failed to read, read only what is asked (the bad sector is smaller).
      if ((off >= bad_start_ && off < bad_end_) || !pread_all(fd_, buf_.data(), len, kHeaderBlock + off)) {
        if (off < bad_start_ || off >= bad_end_) {
          bad_start_ = off;
          bad_end_ = off + len;
        }
        have_ = 0;
        return pread_all(fd_, dst, n, kHeaderBlock + off);
      }
      start_ = off;
      have_ = len;
    }
    std::memcpy(dst, buf_.data() + (off - start_), n);
    return true;
  }

 private:
  int fd_;
  std::uint64_t limit_;
  std::vector<char> buf_;
  std::uint64_t start_ = 0;
  std::uint64_t have_ = 0;
  std::uint64_t bad_start_ = 0;
  std::uint64_t bad_end_ = 0;
};

// A record found by the salvage scan (its payload stays on disk until it is copied).
struct Found {
  std::uint64_t seq;
  std::uint64_t offset;
  std::uint64_t len;
};

// True when the record at data offset `off` has the magic, a length that fits and a matching
// CRC. The payload is checked in chunks, so a bogus length costs time, not memory.
bool intact_at(ScanWindow& w, std::uint64_t off, RecordHeader& h) {
  if (!w.read(off, &h, sizeof h) || h.magic != kRecordMagic) return false;
  if (h.len > w.limit() - off - kRecordHeader) return false;
  std::uint32_t crc = record_header_crc(h);
  std::array<char, 4096> chunk{};
  for (std::uint64_t done = 0; done < h.len;) {
    const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(chunk.size(), h.len - done));
    if (!w.read(off + kRecordHeader + done, chunk.data(), n)) return false;
    crc = crc32(crc, chunk.data(), n);
    done += n;
  }
  return crc == h.crc;
}

// Every intact record with seq >= min_seq in the first `limit` bytes of the data area, looked for
// at each 8-byte offset; in seq order, one per seq.
std::vector<Found> scan_records(int fd, std::uint64_t limit, std::uint64_t min_seq) {
  std::vector<Found> found;
  ScanWindow w(fd, limit);
  RecordHeader h{};
  for (std::uint64_t off = 0; off + kRecordHeader <= limit;) {
    if (!intact_at(w, off, h)) {
      off += 8;
      continue;
    }
    if (h.seq >= min_seq) found.push_back({h.seq, off, h.len});
    off += align8(kRecordHeader + h.len);  // an intact record's payload is not searched for records
  }
  std::sort(found.begin(), found.end(),
            [](const Found& a, const Found& b) { return a.seq != b.seq ? a.seq < b.seq : a.offset < b.offset; });
  found.erase(std::unique(found.begin(), found.end(), [](const Found& a, const Found& b) { return a.seq == b.seq; }),
              found.end());
  return found;
}

// The seqs in [lo, hi) that are not in `kept` (sorted by seq), as "3-5,9", at most
// kMaxLoggedRanges ranges.
std::string missing_ranges(const std::vector<Found>& kept, std::uint64_t lo, std::uint64_t hi) {
  std::string out;
  std::size_t ranges = 0;
  const auto add = [&](std::uint64_t from, std::uint64_t to) {  // [from, to)
    if (from >= to) return;
    if (++ranges > kMaxLoggedRanges) return;
    if (!out.empty()) out += ',';
    out += std::to_string(from);
    if (to - from > 1) out += '-' + std::to_string(to - 1);
  };
  std::uint64_t next = lo;
  for (const Found& f : kept) {
    if (f.seq < next) continue;
    add(next, f.seq);
    next = f.seq + 1;
  }
  add(next, hi);
  if (ranges > kMaxLoggedRanges) out += ",+" + std::to_string(ranges - kMaxLoggedRanges) + " more ranges";
  return out.empty() ? "none" : out;
}

}  // namespace

Result<std::unique_ptr<DiskRing>> DiskRing::open(const Options& options) {
  if (options.capacity < 4096) return make_error(ErrorCode::kInvalidArgument, "buffer capacity must be at least 4096 bytes");
  auto ring = std::unique_ptr<DiskRing>(new DiskRing(options));
  ring->capacity_ = align8(options.capacity);
  Known sequence;
  bool have_sequence = false;
  if (!options.sequence_path.empty()) {
    auto loaded = ring->open_sequence_file(sequence);
    if (!loaded) return loaded.error();
    have_sequence = *loaded;
  }
  ring->fd_ = ::open(options.path.c_str(), O_RDWR | O_CLOEXEC);
  if (ring->fd_ < 0) {
    if (errno != ENOENT) return io_error(options.path + ": cannot open buffer");
    if (!have_sequence) {
      if (Status s = ring->create_fresh(); !s) return s.error();
      return ring;
    }
    // The ring is gone but the sequence file remembers it: seqs continue, its records are lost.
    if (Status s = ring->salvage(&sequence, sequence, 0, ring->capacity_, true, "buffer file missing"); !s) {
      return s.error();
    }
    return ring;
  }
  if (Status s = ring->recover(have_sequence ? &sequence : nullptr); !s) return s.error();
  return ring;
}

DiskRing::~DiskRing() {
  if (fd_ >= 0 && dirty_) sync_files();
  if (fd_ >= 0) ::close(fd_);
  if (seq_fd_ >= 0) ::close(seq_fd_);
}

Result<bool> DiskRing::open_sequence_file(Known& out) {
  seq_fd_ = ::open(options_.sequence_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (seq_fd_ < 0) return io_error(options_.sequence_path + ": cannot open sequence file");
  bool found = false;
  for (std::uint64_t i = 0; i < 2; ++i) {
    SeqSlot s{};
    if (!pread_all(seq_fd_, &s, sizeof s, i * kSeqSlotSize) || !seq_slot_valid(s)) continue;
    if (!found || s.generation > out.generation) {
      out = Known{s.head_seq, s.next_seq, s.count, s.dropped, s.damaged, s.generation};
      found = true;
    }
  }
  struct stat st{};
  if (!found && ::fstat(seq_fd_, &st) == 0 && st.st_size > 0) {
    log::warn(kLog, "sequence file unreadable; rewriting it from the buffer", {{"path", options_.sequence_path}});
  }
  return found;
}

Status DiskRing::create_fresh() {
  fd_ = ::open(options_.path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd_ < 0) return io_error(options_.path + ": cannot create buffer");
  if (Status s = reserve(fd_, kHeaderBlock + capacity_, options_.path); !s) return s;
  head_ = tail_ = count_ = head_seq_ = last_seq_ = next_seq_ = 0;
  generation_ = 0;
  if (Status s = write_header(); !s) return s;
  sync_files();
  return Status::Ok();
}

Status DiskRing::write_header() {
  ++generation_;
  if (!write_header_slot(fd_)) return io_error(options_.path + ": header write");
  write_sequence_slot();
  dirty_ = true;
  return Status::Ok();
}

bool DiskRing::write_header_slot(int fd) {
  HeaderSlot slot{};
  slot.magic = kHeaderMagic;
  slot.version = kHeaderVersion;
  slot.capacity = capacity_;
  slot.head = head_;
  slot.tail = tail_;
  slot.count = count_;
  slot.head_seq = head_seq_;
  slot.next_seq = next_seq_;
  slot.generation = generation_;
  slot.dropped = stats_.dropped;
  slot.crc = crc32(0, &slot, offsetof(HeaderSlot, crc));
  slot.damaged = stats_.damaged;
  slot.ext_crc = crc32(0, &slot, offsetof(HeaderSlot, ext_crc));
  return pwrite_all(fd, &slot, sizeof slot, (generation_ % 2) * kSlotSize);
}

// Follows every header write. A failure is logged (once per run of failures) and does not fail
// the caller: the ring itself is intact.
void DiskRing::write_sequence_slot() {
  if (seq_fd_ < 0) return;
  SeqSlot s{};
  s.magic = kSeqMagic;
  s.version = kSeqVersion;
  s.next_seq = next_seq_;
  s.head_seq = count_ == 0 ? next_seq_ : head_seq_;
  s.count = count_;
  s.dropped = stats_.dropped;
  s.damaged = stats_.damaged;
  s.generation = generation_;
  s.crc = crc32(0, &s, offsetof(SeqSlot, crc));
  const bool ok = pwrite_all(seq_fd_, &s, sizeof s, (generation_ % 2) * kSeqSlotSize);
  if (!ok && !seq_write_failed_) {
    log::error(kLog, "sequence file write failed", {{"path", options_.sequence_path}, {"error", std::strerror(errno)}});
  }
  seq_write_failed_ = !ok;
}

void DiskRing::sync_files() {
  ::fdatasync(fd_);
  if (seq_fd_ >= 0) ::fdatasync(seq_fd_);
  dirty_ = false;
}

Status DiskRing::recover(const Known* sequence) {
  HeaderSlot best{};
  bool found = false;
  for (std::uint64_t i = 0; i < 2; ++i) {
    HeaderSlot s{};
    if (!pread_all(fd_, &s, sizeof s, i * kSlotSize) || !header_slot_valid(s)) continue;
    if (!found || s.generation > best.generation) {
      best = s;
      found = true;
    }
  }
  struct stat st{};
  if (::fstat(fd_, &st) != 0) return io_error(options_.path + ": cannot stat buffer");
  const auto file_size = static_cast<std::uint64_t>(st.st_size);

  // The floor: whatever any source remembers; seqs and totals never go below it.
  Known header;
  Known floor = sequence != nullptr ? *sequence : Known{};
  if (found) {
    header = Known{best.head_seq, best.next_seq, best.count, best.dropped, header_slot_damaged(best), best.generation};
    floor.next_seq = std::max(floor.next_seq, header.next_seq);
    floor.dropped = std::max(floor.dropped, header.dropped);
    floor.damaged = std::max(floor.damaged, header.damaged);
    floor.generation = std::max(floor.generation, header.generation);
  }

  std::string problem;
  if (!found) {
    problem = file_size == 0 ? "empty file" : "no valid header";
  } else if (file_size < kHeaderBlock + best.capacity) {
    problem = "file shorter than its capacity";
  } else {
    capacity_ = best.capacity;
    head_ = best.head;
    tail_ = best.tail;
    count_ = best.count;
    head_seq_ = best.head_seq;
    next_seq_ = best.next_seq;
    // Every record the header knows of must be intact, the first at head_seq, then increasing.
    std::uint64_t off = head_;
    for (std::uint64_t i = 0; i < count_; ++i) {
      off = normalize(off);
      std::uint64_t len = 0;
      std::uint64_t seq = 0;
      if (!read_record_header(off, len, seq)) {
        problem = "unreadable record header";
      } else if ((i == 0 ? seq != head_seq_ : seq <= last_seq_) || seq >= next_seq_) {
        problem = "record seq out of order";
      } else if (!read_record(off)) {
        problem = "record checksum mismatch";
      }
      if (!problem.empty()) {
        problem += " at offset " + std::to_string(off);
        break;
      }
      last_seq_ = seq;
      off = next_offset(off, len);
    }
    // Pick up records appended after the last header write (crash between the two writes).
    while (problem.empty()) {
      const std::uint64_t at = normalize(tail_);
      std::uint64_t len = 0;
      std::uint64_t seq = 0;
      if (!read_record_header(at, len, seq) || seq != next_seq_ || !read_record(at)) break;
      if (count_ == 0) {
        head_ = at;
        head_seq_ = seq;
      }
      tail_ = next_offset(at, len);
      ++count_;
      last_seq_ = seq;
      ++next_seq_;
    }
    if (problem.empty() && sequence != nullptr && sequence->next_seq > next_seq_) {
      problem = "the sequence file knows of records missing from the buffer";
    }
  }

  if (!problem.empty()) {
    // The newer of header and sequence file says where the ring started (their generations are
    // the same counter) and how many records it held.
    const Known* reference = found ? &header : nullptr;
    if (sequence != nullptr && (!found || sequence->generation > header.generation)) reference = sequence;
    std::uint64_t scan_limit = file_size > kHeaderBlock ? file_size - kHeaderBlock : 0;
    if (found) scan_limit = std::min(scan_limit, best.capacity);
    return salvage(reference, floor, scan_limit, found ? best.capacity : align8(options_.capacity), true, problem);
  }

  if (capacity_ != align8(options_.capacity)) {
    log::warn(kLog, "buffer capacity in the config differs from the file; the file's applies until it is recreated",
              {{"file_capacity", capacity_}, {"configured", options_.capacity}});
  }
  // A newer sequence file (the header's last writes lost with the page cache) knows of pops.
  if (sequence != nullptr && sequence->generation > header.generation) {
    while (count_ > 0 && head_seq_ < sequence->head_seq && drop_head()) {
    }
  }
  stats_.dropped = floor.dropped;
  stats_.damaged = floor.damaged;
  generation_ = floor.generation;
  if (Status s = write_header(); !s) return s;
  log::info(kLog, "buffer open", {{"path", options_.path}, {"records", count_}, {"capacity", capacity_},
                                  {"next_seq", next_seq_}, {"dropped_total", stats_.dropped},
                                  {"damaged_total", stats_.damaged}});
  return Status::Ok();
}

// Writes a fresh ring holding exactly the intact records of the current file (fd_, or none when
// fd_ < 0) with seq >= reference->head_seq, keeps the old file as <path>.corrupt and puts the new
// one in its place. `floor` holds the largest next_seq and totals any source remembers.
Status DiskRing::salvage(const Known* reference, const Known& floor, std::uint64_t scan_limit,
                         std::uint64_t new_capacity, bool at_open, const std::string& reason) {
  const int old_fd = fd_;
  std::vector<Found> found;
  if (old_fd >= 0) found = scan_records(old_fd, scan_limit, reference != nullptr ? reference->head_seq : 0);

  const std::uint64_t lo = reference != nullptr ? reference->head_seq
                           : found.empty()      ? floor.next_seq
                                                : found.front().seq;
  std::uint64_t hi = std::max(floor.next_seq, lo);
  if (reference != nullptr) hi = std::max(hi, reference->next_seq);
  if (!found.empty()) hi = std::max(hi, found.back().seq + 1);
  // The newest records that fit the new file are kept.
  std::uint64_t bytes = 0;
  std::size_t first = found.size();
  while (first > 0 && bytes + align8(kRecordHeader + found[first - 1].len) <= new_capacity) {
    bytes += align8(kRecordHeader + found[first - 1].len);
    --first;
  }
  found.erase(found.begin(), found.begin() + static_cast<std::ptrdiff_t>(first));
  const auto kept = static_cast<std::uint64_t>(found.size());
  // Expected: what the reference says the ring held, plus the seqs appended after it. Without a
  // reference, every seq from the lowest found on.
  const std::uint64_t expected = reference != nullptr ? reference->count + (hi - reference->next_seq) : hi - lo;
  const std::uint64_t lost = expected > kept ? expected - kept : 0;

  // The older damaged copy goes first: the new ring needs its space more.
  const std::string corrupt = options_.path + ".corrupt";
  if (old_fd >= 0) ::unlink(corrupt.c_str());
  const std::string tmp = options_.path + ".salvage";
  const int new_fd = ::open(tmp.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (new_fd < 0) return io_error(tmp + ": cannot create buffer");
  const auto fail = [&](Error e) {
    ::close(new_fd);
    ::unlink(tmp.c_str());
    return e;
  };
  if (Status s = reserve(new_fd, kHeaderBlock + new_capacity, tmp); !s) return fail(s.error());
  // Copy one record at a time: memory stays at one record, whatever the ring holds.
  std::string block;
  std::uint64_t at = 0;
  for (const Found& f : found) {
    const std::uint64_t size = align8(kRecordHeader + f.len);
    block.assign(static_cast<std::size_t>(size), '\0');
    if (!pread_all(old_fd, block.data(), static_cast<std::size_t>(kRecordHeader + f.len), kHeaderBlock + f.offset) ||
        !pwrite_all(new_fd, block.data(), block.size(), kHeaderBlock + at)) {
      return fail(io_error(tmp + ": cannot copy a record"));
    }
    at += size;
  }

  const auto saved = std::make_tuple(capacity_, head_, tail_, count_, head_seq_, last_seq_, next_seq_, generation_,
                                     stats_.dropped, stats_.damaged);
  const auto restore = [&] {
    std::tie(capacity_, head_, tail_, count_, head_seq_, last_seq_, next_seq_, generation_, stats_.dropped,
             stats_.damaged) = saved;
  };
  capacity_ = new_capacity;
  head_ = 0;
  tail_ = at >= new_capacity ? 0 : at;
  count_ = kept;
  head_seq_ = kept > 0 ? found.front().seq : hi;
  last_seq_ = kept > 0 ? found.back().seq : 0;
  next_seq_ = hi;
  generation_ = std::max(generation_, floor.generation) + 1;
  stats_.dropped = std::max(stats_.dropped, floor.dropped);
  stats_.damaged = std::max(stats_.damaged, floor.damaged) + lost;
  if (!write_header_slot(new_fd) || ::fdatasync(new_fd) != 0) {
    Error e = io_error(tmp + ": header write");
    restore();
    return fail(e);
  }

  // Keep the damaged file for inspection (one copy), then put the new ring in its place.
  bool moved = false;
  if (old_fd >= 0) {
    if (::link(options_.path.c_str(), corrupt.c_str()) != 0) {  // no hard links here: move it
      moved = ::rename(options_.path.c_str(), corrupt.c_str()) == 0;
      if (!moved) {
        log::warn(kLog, "cannot keep the damaged buffer file", {{"path", corrupt}, {"error", std::strerror(errno)}});
      }
    }
  }
  if (::rename(tmp.c_str(), options_.path.c_str()) != 0) {
    Error e = io_error(options_.path + ": cannot put the salvaged buffer in place");
    if (moved) (void)::rename(corrupt.c_str(), options_.path.c_str());  // best effort: put it back
    restore();
    return fail(e);
  }
  fsync_dir(options_.path);
  if (old_fd >= 0) ::close(old_fd);
  fd_ = new_fd;
  write_sequence_slot();
  sync_files();
  stats_.salvaged = kept;
  if (at_open) stats_.lost_on_open += lost;

  if (old_fd >= 0 || lost > 0) {
    log::error(kLog, "buffer damaged; kept its intact records",
               {{"path", options_.path}, {"reason", reason}, {"kept", kept}, {"lost", lost},
                {"missing_seqs", missing_ranges(found, lo, hi)}, {"next_seq", next_seq_},
                {"damaged_total", stats_.damaged}, {"set_aside", old_fd >= 0 ? corrupt : std::string("none")}});
  } else {
    log::warn(kLog, "buffer file missing; a new buffer continues the sequence",
              {{"path", options_.path}, {"next_seq", next_seq_}});
  }
  return Status::Ok();
}

// For damage found while the ring is open: the ring's own state is the reference.
Status DiskRing::salvage_in_place(const std::string& reason) {
  const Known now{count_ == 0 ? next_seq_ : head_seq_, next_seq_, count_, stats_.dropped, stats_.damaged, generation_};
  std::uint64_t limit = capacity_;
  struct stat st{};
  if (::fstat(fd_, &st) == 0) {
    const auto size = static_cast<std::uint64_t>(st.st_size);
    limit = std::min(limit, size > kHeaderBlock ? size - kHeaderBlock : 0);
  }
  return salvage(&now, now, limit, capacity_, false, reason);
}

// Offsets at or past the point where no record header fits wrap to the start.
std::uint64_t DiskRing::normalize(std::uint64_t offset) const {
  return offset >= capacity_ || capacity_ - offset < kRecordHeader ? 0 : offset;
}

bool DiskRing::read_record_header(std::uint64_t offset, std::uint64_t& len, std::uint64_t& seq) const {
  RecordHeader h{};
  if (offset >= capacity_ || !pread_all(fd_, &h, sizeof h, kHeaderBlock + offset)) return false;
  if (h.magic != kRecordMagic) return false;
  if (offset + kRecordHeader + h.len > capacity_) return false;
  len = h.len;
  seq = h.seq;
  return true;
}

Result<DiskRing::Record> DiskRing::read_record(std::uint64_t offset) const {
  RecordHeader h{};
  if (offset >= capacity_ || !pread_all(fd_, &h, sizeof h, kHeaderBlock + offset) || h.magic != kRecordMagic ||
      offset + kRecordHeader + h.len > capacity_) {
    return make_error(ErrorCode::kIo, "bad record header");
  }
  Record r;
  r.payload.resize(h.len);
  if (h.len > 0 && !pread_all(fd_, r.payload.data(), h.len, kHeaderBlock + offset + kRecordHeader)) {
    return make_error(ErrorCode::kIo, "short record");
  }
  if (record_crc(h, r.payload.data()) != h.crc) return make_error(ErrorCode::kIo, "record checksum mismatch");
  r.flags = h.flags;
  r.seq = h.seq;
  return r;
}

std::uint64_t DiskRing::next_offset(std::uint64_t offset, std::uint64_t len) const {
  std::uint64_t next = offset + align8(kRecordHeader + len);
  if (next >= capacity_) return 0;
  // A wrap marker (or no room for a header) sends the reader back to the start.
  if (next + kRecordHeader > capacity_) return 0;
  std::uint32_t magic = 0;
  if (pread_all(fd_, &magic, sizeof magic, kHeaderBlock + next) && magic == kWrapMagic) return 0;
  return next;
}

// Removes the oldest record from the ring's state (not from disk), taking the new head's seq from
// its record header: after a salvage seqs may have holes. False when the oldest record or the
// one after it is unreadable (nothing changed; the caller salvages).
bool DiskRing::drop_head() {
  std::uint64_t len = 0;
  std::uint64_t seq = 0;
  if (count_ == 0 || !read_record_header(head_, len, seq) || seq != head_seq_) return false;
  const std::uint64_t next = next_offset(head_, len);
  if (count_ == 1) {
    head_ = next;
    head_seq_ = next_seq_;
    count_ = 0;
    return true;
  }
  std::uint64_t next_len = 0;
  std::uint64_t next_seq = 0;
  if (!read_record_header(next, next_len, next_seq) || next_seq <= seq || next_seq >= next_seq_) return false;
  head_ = next;
  head_seq_ = next_seq;
  --count_;
  return true;
}

// Finds room for `need` bytes at the tail, dropping the oldest records as needed. `at`: where the
// record goes; `wrote_marker`/`marker_at`: a wrap marker is due there. kIo when a record to drop
// is unreadable (the state is as before the call).
Status DiskRing::make_room(std::uint64_t need, std::uint64_t& at, bool& wrote_marker, std::uint64_t& marker_at) {
  const auto saved = std::make_tuple(head_, count_, head_seq_, stats_.dropped);
  at = tail_;
  wrote_marker = false;
  for (;;) {
    if (count_ == 0) {
      head_ = tail_ = at = 0;
      head_seq_ = next_seq_;
      return Status::Ok();
    }
    // `wrapped`: the occupied region runs from head to the end and continues from the start up
    // to tail.
    const bool wrapped = at <= head_;
    if (!wrapped) {
      if (capacity_ - at >= need) return Status::Ok();
      // No room before the end: mark the wrap and continue from the start.
      if (capacity_ - at >= kRecordHeader) {
        wrote_marker = true;
        marker_at = at;
      }
      at = 0;
      continue;
    }
    if (head_ - at >= need) return Status::Ok();
    if (!drop_head()) {
      std::tie(head_, count_, head_seq_, stats_.dropped) = saved;
      return make_error(ErrorCode::kIo, "buffer head unreadable");
    }
    ++stats_.dropped;
  }
}

Status DiskRing::append(std::string_view payload, std::uint16_t flags) {
  const std::uint64_t need = align8(kRecordHeader + payload.size());
  if (need > capacity_ / 2) return make_error(ErrorCode::kResourceExhausted, "record larger than half the buffer");

  auto saved = std::make_tuple(head_, tail_, count_, head_seq_, stats_.dropped);
  std::uint64_t at = 0;
  std::uint64_t marker_at = 0;
  bool wrote_marker = false;
  if (Status room = make_room(need, at, wrote_marker, marker_at); !room) {
    // A record to drop is unreadable: keep the intact ones, count the rest, then try again.
    if (Status s = salvage_in_place("unreadable record while dropping the oldest"); !s) return s;
    saved = std::make_tuple(head_, tail_, count_, head_seq_, stats_.dropped);
    if (Status again = make_room(need, at, wrote_marker, marker_at); !again) return again;
  }

  // Persist the drops before overwriting the dropped records' space.
  if (stats_.dropped != std::get<4>(saved) || count_ == 0) {
    if (Status s = write_header(); !s) {
      std::tie(head_, tail_, count_, head_seq_, stats_.dropped) = saved;
      return s;
    }
  }
  if (wrote_marker) {
    const std::uint32_t marker = kWrapMagic;
    if (!pwrite_all(fd_, &marker, sizeof marker, kHeaderBlock + marker_at)) return io_error(options_.path + ": write");
  }
  RecordHeader h{};
  h.magic = kRecordMagic;
  h.flags = flags;
  h.len = static_cast<std::uint32_t>(payload.size());
  h.seq = next_seq_;
  h.crc = record_crc(h, payload.data());
  std::string block(static_cast<std::size_t>(need), '\0');  // need <= capacity / 2, which fits
  std::memcpy(block.data(), &h, sizeof h);
  std::memcpy(block.data() + sizeof h, payload.data(), payload.size());
  if (!pwrite_all(fd_, block.data(), block.size(), kHeaderBlock + at)) return io_error(options_.path + ": write");
  if (count_ == 0) {
    head_ = at;
    head_seq_ = next_seq_;
  }
  tail_ = at + need;
  if (tail_ >= capacity_) tail_ = 0;
  ++count_;
  last_seq_ = next_seq_;
  ++next_seq_;
  if (Status s = write_header(); !s) return s;
  if (options_.fsync == Fsync::kAlways) sync_files();
  return Status::Ok();
}

Result<DiskRing::Record> DiskRing::front() const {
  if (count_ == 0) return make_error(ErrorCode::kNotFound, "buffer empty");
  return read_record(head_);
}

Status DiskRing::pop_front() {
  if (count_ == 0) return make_error(ErrorCode::kNotFound, "buffer empty");
  const std::uint64_t popping = head_seq_;
  // A record that fails its CRC cannot have been delivered (front() reported kIo): popping it
  // loses it to damage.
  const bool intact = read_record(head_).ok();
  if (drop_head()) {
    if (!intact) ++stats_.damaged;
    return write_header();
  }
  // The oldest record or the next one is unreadable: keep the intact ones, count the rest.
  if (Status s = salvage_in_place("unreadable record at the head"); !s) return s;
  if (count_ == 0 || head_seq_ != popping) return Status::Ok();  // it was lost, and is counted
  if (!drop_head()) return make_error(ErrorCode::kIo, "buffer head unreadable");
  return write_header();
}

DiskRing::Cursor DiskRing::begin() const { return count_ == 0 ? end() : Cursor{head_, head_seq_}; }

DiskRing::Cursor DiskRing::end() const { return Cursor{tail_, next_seq_}; }

// The record with c.seq sits at c.offset, or at 0 when it was appended after the cursor was taken
// at end() and wrapped (or went into an empty ring); otherwise (records moved by a salvage) the
// ring is walked from the head.
Result<std::uint64_t> DiskRing::locate(const Cursor& c) const {
  std::uint64_t len = 0;
  std::uint64_t seq = 0;
  for (const std::uint64_t at : {normalize(c.offset), std::uint64_t{0}}) {
    if (at % 8 == 0 && read_record_header(at, len, seq) && seq == c.seq) return at;
  }
  std::uint64_t at = head_;
  for (std::uint64_t i = 0; i < count_; ++i) {
    at = normalize(at);
    if (!read_record_header(at, len, seq)) return make_error(ErrorCode::kIo, "buffer record unreadable");
    if (seq == c.seq) return at;
    if (seq > c.seq) break;
    at = next_offset(at, len);
  }
  return make_error(ErrorCode::kNotFound, "record not in the buffer");
}

Result<std::pair<DiskRing::Record, DiskRing::Cursor>> DiskRing::read(Cursor c) const {
  if (c.seq >= next_seq_) return make_error(ErrorCode::kNotFound, "at the end of the buffer");
  if (count_ == 0 || c.seq < head_seq_) return make_error(ErrorCode::kNotFound, "record no longer in the buffer");
  auto at = locate(c);
  if (!at) return at.error();
  auto record = read_record(*at);
  if (!record) return record.error();
  Cursor next = end();
  if (record->seq != last_seq_) {
    // Seqs may have holes: the next cursor takes its seq from the next record's header.
    next.offset = next_offset(*at, record->payload.size());
    std::uint64_t len = 0;
    std::uint64_t seq = 0;
    next.seq = read_record_header(next.offset, len, seq) && seq > record->seq ? seq : record->seq + 1;
  }
  return std::pair<Record, Cursor>{std::move(*record), next};
}

void DiskRing::sync_if_due(MonoTime now) {
  if (!dirty_ || options_.fsync == Fsync::kNever) return;
  if (options_.fsync == Fsync::kInterval && now - last_sync_ < options_.fsync_interval) return;
  sync_files();
  last_sync_ = now;
}

}  // namespace edgemon::firmware
