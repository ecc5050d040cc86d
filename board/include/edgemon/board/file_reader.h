// Reads small procfs/sysfs files into a caller-owned buffer with one open/read/close and no
// allocation. All board readers go through here so tests can point them at fixture trees.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "edgemon/common/result.h"

namespace edgemon::board {

// Reads at most buffer.size() bytes of `path`. Errors: kUnsupported (ENOENT/ENOTDIR),
// kPermissionDenied, kResourceExhausted (file larger than the buffer), kIo.
Result<std::string_view> read_small_file(const std::string& path, std::span<char> buffer);

}  // namespace edgemon::board
