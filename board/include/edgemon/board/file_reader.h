// Reads small procfs/sysfs files into a caller-owned buffer with one open/read/close and no
// allocation. All board readers go through here so tests can point them at fixture trees.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "edgemon/common/result.h"

namespace edgemon::board {

// Reads at most buffer.size() bytes of `path`. Errors: kUnsupported (ENOENT/ENOTDIR),
// kPermissionDenied, kResourceExhausted (file larger than the buffer), kIo.
Result<std::string_view> read_small_file(const std::string& path, std::span<char> buffer);

}  // namespace edgemon::board

namespace edgemon::board {

// Like read_small_file, but a file larger than `buffer` grows it (doubling, up to max_bytes) and
// retries. Growth happens only when the source itself grew (more mounts, more devices), so the
// steady state reads into the same storage without allocating.
Result<std::string_view> read_file_growing(const std::string& path, std::vector<char>& buffer,
                                           std::size_t max_bytes = 1024 * 1024);

}  // namespace edgemon::board

namespace edgemon::board {

// Names of the entries of `dir` that start with `prefix`, sorted (natural order for a numeric
// suffix: "zone2" before "zone10"). Allocates: call at discovery time, not per sample.
// Errors: kUnsupported (no such directory), kIo.
Result<std::vector<std::string>> list_directory(const std::string& dir, std::string_view prefix);

}  // namespace edgemon::board
