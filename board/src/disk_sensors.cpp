#include "edgemon/board/disk_sensors.h"

#include <sys/statvfs.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

#include "edgemon/board/file_reader.h"

namespace edgemon::board {
namespace {

Error bad(const std::string& path, std::string_view what) {
  return make_error(ErrorCode::kInvalidArgument, path + ": " + std::string(what));
}

// Decodes the octal escapes the kernel writes for ' ', '\t', '\n' and '\\' in mount paths.
// Returns false if the result does not fit `out`.
bool unescape_mount_field(std::string_view in, std::span<char> out, std::size_t& len) {
  len = 0;
  for (std::size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '\\' && in.size() - i >= 4) {
      const char a = in[i + 1], b = in[i + 2], d = in[i + 3];
      if (a >= '0' && a <= '3' && b >= '0' && b <= '7' && d >= '0' && d <= '7') {
        c = static_cast<char>((a - '0') * 64 + (b - '0') * 8 + (d - '0'));
        i += 3;
      }
    }
    if (len == out.size()) return false;
    out[len++] = c;
  }
  return true;
}

std::string mount_metric_name(std::string_view mount_point) {
  if (mount_point == "/") return "root";
  while (!mount_point.empty() && mount_point.front() == '/') mount_point.remove_prefix(1);
  std::string name = sanitize_name(mount_point);
  std::replace(name.begin(), name.end(), '.', '_');
  return name;
}

}  // namespace

// ---- FsStat sources ----

PosixFsStat::PosixFsStat(std::string root) : root_(std::move(root)) {
  while (!root_.empty() && root_.back() == '/') root_.pop_back();
}

Result<FsUsage> PosixFsStat::stat(const std::string& mount_point) {
  scratch_.assign(root_);
  scratch_ += mount_point;
  struct statvfs s {};
  if (::statvfs(scratch_.c_str(), &s) != 0) {
    const int err = errno;
    const ErrorCode code = err == ENOENT ? ErrorCode::kUnsupported
                           : (err == EACCES || err == EPERM) ? ErrorCode::kPermissionDenied
                                                             : ErrorCode::kIo;
    return make_error(code, "statvfs " + scratch_ + ": " + std::strerror(err));
  }
  const std::uint64_t frsize = s.f_frsize != 0 ? s.f_frsize : s.f_bsize;
  return FsUsage{static_cast<std::uint64_t>(s.f_blocks) * frsize, static_cast<std::uint64_t>(s.f_bfree) * frsize,
                 static_cast<std::uint64_t>(s.f_bavail) * frsize};
}

Result<std::unique_ptr<RecordedFsStat>> RecordedFsStat::load(const std::string& path) {
  std::vector<char> buffer;
  auto text = read_file_growing(path, buffer, 256 * 1024);
  if (!text) return text.error();
  auto out = std::make_unique<RecordedFsStat>();
  LineScanner lines(*text);
  std::string_view line;
  std::size_t number = 0;
  while (lines.next(line)) {
    ++number;
    line = trim(line);
    if (line.empty() || line.front() == '#') continue;
    const std::string_view mount = next_field(line);
    std::uint64_t f[4] = {};
    for (std::uint64_t& v : f) {
      if (!parse_u64(next_field(line), v)) return bad(path, "line " + std::to_string(number) + ": bad number");
    }
    if (f[2] > f[1] || f[3] > f[1] || f[0] == 0) return bad(path, "line " + std::to_string(number) + ": inconsistent");
    std::array<char, 4096> decoded{};
    std::size_t len = 0;
    if (!unescape_mount_field(mount, decoded, len)) return bad(path, "line " + std::to_string(number) + ": path too long");
    out->entries_.emplace_back(std::string(decoded.data(), len), FsUsage{f[1] * f[0], f[2] * f[0], f[3] * f[0]});
  }
  return out;
}

Result<FsUsage> RecordedFsStat::stat(const std::string& mount_point) {
  for (const auto& [m, usage] : entries_) {
    if (m == mount_point) return usage;
  }
  return make_error(ErrorCode::kUnsupported, "no recorded statvfs for " + mount_point);
}

// ---- DiskUsageSensor ----

bool DiskUsageSensor::is_pseudo_fs(std::string_view type) {
  static constexpr std::array<std::string_view, 34> kSkip = {
      "proc",     "sysfs",      "tmpfs",     "devtmpfs",   "devpts",    "cgroup",   "cgroup2",
      "securityfs", "pstore",   "bpf",       "debugfs",    "tracefs",   "configfs", "fusectl",
      "mqueue",   "hugetlbfs",  "autofs",    "binfmt_misc", "rpc_pipefs", "nsfs",    "ramfs",
      "efivarfs", "squashfs",   "selinuxfs", "nfs",        "nfs4",      "cifs",     "smb3",
      "smbfs",    "sshfs",      "nfsd",      "iso9660",    "udf",       "none"};
  if (std::find(kSkip.begin(), kSkip.end(), type) != kSkip.end()) return true;
  return type.substr(0, 5) == "fuse.";
}

DiskUsageSensor::DiskUsageSensor(std::string_view root, std::unique_ptr<FsStatSource> stats)
    : path_(join_root(root, "proc/self/mounts")),
      fallback_path_(join_root(root, "proc/mounts")),
      stats_(std::move(stats)),
      buffer_(16 * 1024) {}

Status DiskUsageSensor::fetch() {
  auto text = read_file_growing(path_, buffer_);
  if (!text && text.error().code == ErrorCode::kUnsupported) text = read_file_growing(fallback_path_, buffer_);
  if (!text) return text.error();
  return ingest(*text);
}

Status DiskUsageSensor::ingest(std::string_view text) {
  for (Mount& m : mounts_) m.seen = false;
  std::array<char, 4096> mount_buf{};
  std::array<char, 4096> device_buf{};
  LineScanner lines(text);
  std::string_view line;
  std::size_t entries = 0;
  while (lines.next(line)) {
    if (trim(line).empty()) continue;
    const std::string_view device_raw = next_field(line);
    const std::string_view mount_raw = next_field(line);
    const std::string_view type = next_field(line);
    const std::string_view options = next_field(line);
    if (device_raw.empty() || mount_raw.empty() || type.empty() || options.empty() || mount_raw.front() != '/') {
      return bad(path_, "malformed mount line");
    }
    ++entries;
    if (is_pseudo_fs(type)) continue;
    std::size_t mount_len = 0;
    std::size_t device_len = 0;
    if (!unescape_mount_field(mount_raw, mount_buf, mount_len) ||
        !unescape_mount_field(device_raw, device_buf, device_len)) {
      continue;  // a path longer than PATH_MAX cannot be statvfs'd anyway
    }
    const std::string_view mount_point(mount_buf.data(), mount_len);
    const std::string_view device(device_buf.data(), device_len);
    // A device already reported at an earlier mount point this round is a bind mount.
    bool duplicate = false;
    std::size_t index = mounts_.size();
    for (std::size_t i = 0; i < mounts_.size(); ++i) {
      if (mounts_[i].mount_point == mount_point) index = i;
      else if (mounts_[i].seen && mounts_[i].device == device && device.front() == '/') duplicate = true;
    }
    if (duplicate || (index < mounts_.size() && mounts_[index].seen)) continue;
    if (index == mounts_.size()) {
      mounts_.push_back(Mount{std::string(mount_point), std::string(device), false});
      const std::string base = "disk/" + mount_metric_name(mount_point) + "/";
      values_.push_back(SensorValue{base + "total", "B", {}});
      values_.push_back(SensorValue{base + "used", "B", {}});
      values_.push_back(SensorValue{base + "avail", "B", {}});
      values_.push_back(SensorValue{base + "used_percent", "%", {}});
    }
    Mount& m = mounts_[index];
    m.seen = true;
    SensorValue* out = values_.data() + index * 4;
    auto usage = stats_->stat(m.mount_point);
    if (!usage || usage->total_bytes == 0) {
      for (std::size_t i = 0; i < 4; ++i) out[i].value.reset();
      continue;
    }
    const std::uint64_t used = usage->total_bytes - std::min(usage->free_bytes, usage->total_bytes);
    out[0].value = static_cast<double>(usage->total_bytes);
    out[1].value = static_cast<double>(used);
    out[2].value = static_cast<double>(usage->avail_bytes);
    const std::uint64_t denom = used + usage->avail_bytes;
    out[3].value = denom == 0 ? 0.0 : 100.0 * static_cast<double>(used) / static_cast<double>(denom);
  }
  if (entries == 0) return bad(path_, "empty mount table");
  for (std::size_t i = 0; i < mounts_.size(); ++i) {
    if (mounts_[i].seen) continue;
    for (std::size_t j = 0; j < 4; ++j) values_[i * 4 + j].value.reset();
  }
  return Status::Ok();
}

// ---- DiskIoSensor ----

namespace {

bool skipped_block_device(std::string_view name) {
  for (const std::string_view prefix : {"loop", "ram", "sr", "fd"}) {
    if (name.substr(0, prefix.size()) == prefix) return true;
  }
  return false;
}

}  // namespace

DiskIoSensor::DiskIoSensor(std::string_view root, const Clock& clock, std::shared_ptr<const BootEpoch> epoch)
    : path_(join_root(root, "proc/diskstats")),
      rates_("diskio",
             {{"read_bytes_per_s", "B/s", 512.0},
              {"write_bytes_per_s", "B/s", 512.0},
              {"reads_per_s", "1/s", 1.0},
              {"writes_per_s", "1/s", 1.0},
              {"busy_percent", "%", 0.1}},  // ms of I/O per s -> percent
             clock, std::move(epoch)),
      buffer_(16 * 1024) {}

Status DiskIoSensor::fetch() {
  auto text = read_file_growing(path_, buffer_);
  if (!text) return text.error();
  return ingest(*text);
}

Status DiskIoSensor::ingest(std::string_view text) {
  rates_.begin();
  // Whole disks seen so far this round, to recognise their partitions ("sda1", "mmcblk0p2").
  std::array<std::string_view, 64> disks{};
  std::size_t disk_count = 0;
  std::size_t lines_ok = 0;
  LineScanner lines(text);
  std::string_view line;
  while (lines.next(line)) {
    if (trim(line).empty()) continue;
    std::uint64_t major = 0;
    std::uint64_t minor = 0;
    if (!parse_u64(next_field(line), major) || !parse_u64(next_field(line), minor)) {
      rates_.end();
      return bad(path_, "malformed line");
    }
    const std::string_view name = next_field(line);
    std::array<std::uint64_t, 11> f{};
    for (std::uint64_t& v : f) {
      if (!parse_u64(next_field(line), v)) {
        rates_.end();
        return bad(path_, "malformed counters");
      }
    }
    ++lines_ok;
    if (name.empty() || skipped_block_device(name)) continue;
    bool partition = false;
    for (std::size_t i = 0; i < disk_count && !partition; ++i) {
      const std::string_view d = disks[i];
      if (name.size() <= d.size() || name.substr(0, d.size()) != d) continue;
      std::string_view rest = name.substr(d.size());
      if (rest.front() == 'p') rest.remove_prefix(1);
      partition = !rest.empty() && std::all_of(rest.begin(), rest.end(), [](char c) { return c >= '0' && c <= '9'; });
    }
    if (partition) continue;
    if (disk_count < disks.size()) disks[disk_count++] = name;
    // f: reads, reads merged, sectors read, ms reading, writes, writes merged, sectors written,
    //    ms writing, in flight, ms doing I/O, weighted ms.
    const std::array<std::uint64_t, 5> counters = {f[2], f[6], f[0], f[4], f[9]};
    rates_.update(name, counters);
  }
  rates_.end();
  if (lines_ok == 0) return bad(path_, "empty");
  return Status::Ok();
}

}  // namespace edgemon::board
