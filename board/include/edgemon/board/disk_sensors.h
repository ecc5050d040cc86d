// Disk usage per mounted filesystem and disk I/O rates per block device.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "edgemon/board/counter_rates.h"
#include "edgemon/board/sensor.h"
#include "edgemon/common/result.h"

namespace edgemon::board {

// What statvfs(3) says about one filesystem, already multiplied by f_frsize.
struct FsUsage {
  std::uint64_t total_bytes = 0;  // f_blocks
  std::uint64_t free_bytes = 0;   // f_bfree (includes blocks reserved for root)
  std::uint64_t avail_bytes = 0;  // f_bavail (what unprivileged users can still write)
};

// The statvfs seam: live boards call statvfs(), fixture trees supply recorded numbers.
class FsStatSource {
 public:
  virtual ~FsStatSource() = default;
  // `mount_point` is the path as listed in the mount table ("/", "/boot/firmware").
  // Errors: kUnsupported (no such mount), kIo, kPermissionDenied.
  virtual Result<FsUsage> stat(const std::string& mount_point) = 0;
};

// statvfs(<root><mount_point>). Only meaningful with root "/" (or a chroot-like bind of it).
class PosixFsStat final : public FsStatSource {
 public:
  explicit PosixFsStat(std::string root = "/");
  Result<FsUsage> stat(const std::string& mount_point) override;

 private:
  std::string root_;
  std::string scratch_;  // reused path buffer: capacity grows once to the longest mount path
};

// Numbers recorded on a real board (tests/data/boards/*/edgemon-statvfs), one mount per line:
//   <mount point> <f_frsize> <f_blocks> <f_bfree> <f_bavail>
// as printed by `stat -f -c '%S %b %f %a' <mount point>` ('#' starts a comment).
class RecordedFsStat final : public FsStatSource {
 public:
  // Errors: kUnsupported (file missing), kInvalidArgument (bad line, with its number).
  static Result<std::unique_ptr<RecordedFsStat>> load(const std::string& path);
  Result<FsUsage> stat(const std::string& mount_point) override;

 private:
  std::vector<std::pair<std::string, FsUsage>> entries_;
};

// Per real filesystem in <root>/proc/self/mounts (falls back to <root>/proc/mounts), in bytes:
// "disk/<name>/total", "disk/<name>/used" (total - free), "disk/<name>/avail",
// "disk/<name>/used_percent" (used / (used + avail), as df computes Use%).
// <name> is "root" for "/", otherwise the mount point without the leading '/' and with '/'
// replaced by '_' ("/boot/firmware" -> "boot_firmware").
// Pseudo, virtual and network filesystems are skipped (proc, sysfs, tmpfs, devtmpfs, cgroup*,
// overlay is kept because it is the root of containers; squashfs snaps, fuse.*, nfs/cifs are
// skipped: a hung network mount must never block the sampling loop). A device mounted twice
// (bind mounts) is reported once, at its first mount point.
// A mount whose statvfs fails has empty values; fetch() fails only when the table is unreadable.
class DiskUsageSensor final : public Sensor {
 public:
  DiskUsageSensor(std::string_view root, std::unique_ptr<FsStatSource> stats);
  std::string_view id() const override { return "disk"; }
  Status fetch() override;
  std::span<const SensorValue> values() const override { return values_; }
  Status ingest(std::string_view mounts);

  // True for filesystem types this sensor never reports.
  static bool is_pseudo_fs(std::string_view type);

 private:
  struct Mount {
    std::string mount_point;
    std::string device;
    bool seen = false;
  };
  std::string path_;
  std::string fallback_path_;
  std::unique_ptr<FsStatSource> stats_;
  std::vector<Mount> mounts_;
  std::vector<SensorValue> values_;  // 4 per mount
  std::vector<char> buffer_;
};

// Per whole block device in <root>/proc/diskstats (partitions, loop, ram, sr and fd devices
// skipped): "diskio/<dev>/read_bytes_per_s", "write_bytes_per_s", "reads_per_s", "writes_per_s",
// "busy_percent" (share of wall time with I/O in flight).
class DiskIoSensor final : public Sensor {
 public:
  DiskIoSensor(std::string_view root, const Clock& clock, std::shared_ptr<const BootEpoch> epoch);
  std::string_view id() const override { return "disk_io"; }
  Status fetch() override;
  std::span<const SensorValue> values() const override { return rates_.values(); }
  Status ingest(std::string_view diskstats);

 private:
  std::string path_;
  CounterRates rates_;
  std::vector<char> buffer_;
};

}  // namespace edgemon::board
