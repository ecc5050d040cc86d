#include "edgemon/firmware/disk_ring.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <ctime>

#include "edgemon/common/log.h"

namespace edgemon::firmware {
namespace {

constexpr const char* kLog = "buffer";
constexpr std::uint32_t kHeaderMagic = 0x454d5242;  // "EMRB"
constexpr std::uint32_t kHeaderVersion = 1;
constexpr std::uint32_t kRecordMagic = 0x454d5231;  // "EMR1"
constexpr std::uint32_t kWrapMagic = 0x57524150;    // "WRAP"
constexpr std::uint64_t kHeaderBlock = 4096;
constexpr std::uint64_t kSlotSize = 128;
constexpr std::uint64_t kRecordHeader = 24;

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
  std::uint32_t crc;
  std::uint32_t pad;
};
static_assert(sizeof(HeaderSlot) <= kSlotSize);

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

std::uint32_t record_crc(const RecordHeader& h, const void* payload) {
  std::uint32_t c = crc32(0, &h.flags, sizeof h.flags);
  c = crc32(c, &h.len, sizeof h.len);
  c = crc32(c, &h.seq, sizeof h.seq);
  return crc32(c, payload, h.len);
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

}  // namespace

Result<std::unique_ptr<DiskRing>> DiskRing::open(const Options& options) {
  if (options.capacity < 4096) return make_error(ErrorCode::kInvalidArgument, "buffer capacity must be at least 4096 bytes");
  auto ring = std::unique_ptr<DiskRing>(new DiskRing(options));
  ring->capacity_ = align8(options.capacity);
  ring->fd_ = ::open(options.path.c_str(), O_RDWR | O_CLOEXEC);
  if (ring->fd_ < 0) {
    if (errno != ENOENT) return io_error(options.path + ": cannot open buffer");
    if (Status s = ring->create_fresh(); !s) return s.error();
    return ring;
  }
  if (Status s = ring->recover(); !s) return s.error();
  return ring;
}

DiskRing::~DiskRing() {
  if (fd_ >= 0) {
    if (dirty_) ::fdatasync(fd_);
    ::close(fd_);
  }
}

Status DiskRing::create_fresh() {
  fd_ = ::open(options_.path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd_ < 0) return io_error(options_.path + ": cannot create buffer");
  // Reserve the blocks now so a full disk shows up at start, not in the middle of an outage.
  const int rc = ::posix_fallocate(fd_, 0, static_cast<off_t>(kHeaderBlock + capacity_));
  if (rc != 0 && rc != EOPNOTSUPP && rc != EINVAL) {
    errno = rc;
    return io_error(options_.path + ": cannot reserve buffer space");
  }
  if (rc != 0 && ::ftruncate(fd_, static_cast<off_t>(kHeaderBlock + capacity_)) != 0) {
    return io_error(options_.path + ": cannot size buffer");
  }
  head_ = tail_ = count_ = head_seq_ = next_seq_ = 0;
  generation_ = 0;
  if (Status s = write_header(); !s) return s;
  ::fdatasync(fd_);
  return Status::Ok();
}

Status DiskRing::write_header() {
  HeaderSlot slot{};
  slot.magic = kHeaderMagic;
  slot.version = kHeaderVersion;
  slot.capacity = capacity_;
  slot.head = head_;
  slot.tail = tail_;
  slot.count = count_;
  slot.head_seq = head_seq_;
  slot.next_seq = next_seq_;
  slot.generation = ++generation_;
  slot.dropped = stats_.dropped;
  slot.crc = crc32(0, &slot, offsetof(HeaderSlot, crc));
  const std::uint64_t where = (generation_ % 2) * kSlotSize;
  if (!pwrite_all(fd_, &slot, sizeof slot, where)) return io_error(options_.path + ": header write");
  dirty_ = true;
  return Status::Ok();
}

Status DiskRing::recover() {
  HeaderSlot best{};
  bool found = false;
  for (std::uint64_t i = 0; i < 2; ++i) {
    HeaderSlot s{};
    if (!pread_all(fd_, &s, sizeof s, i * kSlotSize)) continue;
    if (s.magic != kHeaderMagic || s.version != kHeaderVersion) continue;
    if (s.crc != crc32(0, &s, offsetof(HeaderSlot, crc))) continue;
    if (s.capacity < 4096 || s.head >= s.capacity || s.tail >= s.capacity) continue;
    if (!found || s.generation > best.generation) {
      best = s;
      found = true;
    }
  }
  struct stat st{};
  const bool size_ok = ::fstat(fd_, &st) == 0 && found &&
                       static_cast<std::uint64_t>(st.st_size) >= kHeaderBlock + best.capacity;
  if (!found || !size_ok) {
    const std::string aside = options_.path + ".corrupt-" + std::to_string(std::time(nullptr));
    log::error(kLog, "buffer file unreadable, set aside; starting an empty buffer",
               {{"path", options_.path}, {"moved_to", aside}});
    ::close(fd_);
    fd_ = -1;
    if (::rename(options_.path.c_str(), aside.c_str()) != 0) return io_error(options_.path + ": cannot set aside");
    stats_.set_aside = true;
    return create_fresh();
  }
  capacity_ = best.capacity;
  if (capacity_ != align8(options_.capacity)) {
    log::warn(kLog, "buffer capacity in the config differs from the file; the file's applies until it is recreated",
              {{"file_capacity", capacity_}, {"configured", options_.capacity}});
  }
  head_ = best.head;
  tail_ = best.tail;
  head_seq_ = best.head_seq;
  next_seq_ = best.next_seq;
  generation_ = best.generation;
  stats_.dropped = best.dropped;

  // Walk the records the header knows of; stop at the first bad one.
  std::uint64_t off = head_;
  std::uint64_t good = 0;
  for (; good < best.count; ++good) {
    std::uint64_t len = 0;
    std::uint64_t seq = 0;
    off = normalize(off);
    if (!read_record_header(off, len, seq) || seq != head_seq_ + good || !read_record(off)) break;
    off = next_offset(off, len);
  }
  if (good < best.count) {
    stats_.corrupt_records += best.count - good;
    log::error(kLog, "corrupt records in buffer; keeping the ones before them",
               {{"path", options_.path}, {"kept", good}, {"lost", best.count - good}});
    tail_ = off;
    next_seq_ = head_seq_ + good;
  }
  count_ = good;
  // Pick up records appended after the last header write (crash between the two writes).
  for (;;) {
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
    ++next_seq_;
  }
  if (Status s = write_header(); !s) return s;
  log::info(kLog, "buffer open", {{"path", options_.path}, {"records", count_}, {"capacity", capacity_},
                                  {"dropped_total", stats_.dropped}});
  return Status::Ok();
}

// Offsets at or past the point where no record header fits wrap to the start.
std::uint64_t DiskRing::normalize(std::uint64_t offset) const {
  return offset + kRecordHeader > capacity_ ? 0 : offset;
}

bool DiskRing::read_record_header(std::uint64_t offset, std::uint64_t& len, std::uint64_t& seq) const {
  RecordHeader h{};
  if (!pread_all(fd_, &h, sizeof h, kHeaderBlock + offset)) return false;
  if (h.magic != kRecordMagic) return false;
  if (offset + kRecordHeader + h.len > capacity_) return false;
  len = h.len;
  seq = h.seq;
  return true;
}

Result<DiskRing::Record> DiskRing::read_record(std::uint64_t offset) const {
  RecordHeader h{};
  if (!pread_all(fd_, &h, sizeof h, kHeaderBlock + offset) || h.magic != kRecordMagic ||
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

Status DiskRing::append(std::string_view payload, std::uint16_t flags) {
  const std::uint64_t need = align8(kRecordHeader + payload.size());
  if (need > capacity_ / 2) return make_error(ErrorCode::kResourceExhausted, "record larger than half the buffer");

  // Find room at tail, dropping the oldest records as needed. `wrapped`: the occupied region
  // runs from head to the end and continues from the start up to tail.
  const std::uint64_t saved_head = head_, saved_tail = tail_, saved_count = count_, saved_head_seq = head_seq_;
  const std::uint64_t saved_dropped = stats_.dropped;
  std::uint64_t at = tail_;
  bool wrote_marker = false;
  std::uint64_t marker_at = 0;
  for (;;) {
    if (count_ == 0) {
      head_ = tail_ = at = 0;
      head_seq_ = next_seq_;
      break;
    }
    const bool wrapped = at <= head_;
    if (!wrapped) {
      if (capacity_ - at >= need) break;
      // No room before the end: mark the wrap and continue from the start.
      if (capacity_ - at >= kRecordHeader) {
        wrote_marker = true;
        marker_at = at;
      }
      at = 0;
      continue;
    }
    if (head_ - at >= need) break;
    // Drop the oldest record.
    std::uint64_t len = 0;
    std::uint64_t seq = 0;
    if (!read_record_header(head_, len, seq)) {
      // Unreadable head: the ring is inconsistent; restart it empty rather than loop.
      log::error(kLog, "buffer head unreadable; discarding buffered records", {{"records", count_}});
      stats_.corrupt_records += count_;
      count_ = 0;
      continue;
    }
    head_ = next_offset(head_, len);
    ++head_seq_;
    --count_;
    ++stats_.dropped;
  }

  // Persist the drops before overwriting the dropped records' space.
  if (stats_.dropped != saved_dropped || count_ == 0) {
    if (Status s = write_header(); !s) {
      head_ = saved_head, tail_ = saved_tail, count_ = saved_count, head_seq_ = saved_head_seq;
      stats_.dropped = saved_dropped;
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
  ++next_seq_;
  if (Status s = write_header(); !s) return s;
  if (options_.fsync == Fsync::kAlways) {
    ::fdatasync(fd_);
    dirty_ = false;
  }
  return Status::Ok();
}

Result<DiskRing::Record> DiskRing::front() const {
  if (count_ == 0) return make_error(ErrorCode::kNotFound, "buffer empty");
  return read_record(head_);
}

Status DiskRing::pop_front() {
  if (count_ == 0) return make_error(ErrorCode::kNotFound, "buffer empty");
  std::uint64_t len = 0;
  std::uint64_t seq = 0;
  if (!read_record_header(head_, len, seq)) return make_error(ErrorCode::kIo, "buffer head unreadable");
  head_ = next_offset(head_, len);
  ++head_seq_;
  --count_;
  return write_header();
}

void DiskRing::sync_if_due(MonoTime now) {
  if (!dirty_ || options_.fsync == Fsync::kNever) return;
  if (options_.fsync == Fsync::kInterval && now - last_sync_ < options_.fsync_interval) return;
  ::fdatasync(fd_);
  dirty_ = false;
  last_sync_ = now;
}

}  // namespace edgemon::firmware
