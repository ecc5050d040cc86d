// Small state the agent keeps beside its buffer in the state directory (the remote configuration,
// the bdSeq), written atomically: a temporary file, fsync, rename — so a crash or a power cut
// leaves the old content or the new, never a mix.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "edgemon/common/result.h"

namespace edgemon::firmware {

// Replaces `path` with `body` (via `path`.tmp). Errors: kIo, naming the file and the reason.
Status write_file_atomic(const std::string& path, const std::string& body);

// Sparkplug's bdSeq, kept across restarts ("previous + 1", docs/protocol.md): 0..255, one per MQTT
// session, 255 followed by 0. The file holds the last session's number as decimal text.
class BdSeqFile {
 public:
  explicit BdSeqFile(std::string path) : path_(std::move(path)) {}

  struct Loaded {
    std::optional<std::uint8_t> last;  // the last session's bdSeq; none: no file, or unreadable
    std::string problem;               // why a file that exists was not used ("" otherwise)
  };
  Loaded load() const;
  Status store(std::uint8_t bd_seq) const;
  const std::string& path() const { return path_; }

  // The bdSeq of the session after `last` (the first ever: 0).
  static std::uint8_t next(std::optional<std::uint8_t> last) {
    return last ? static_cast<std::uint8_t>((*last + 1U) & 0xFFU) : std::uint8_t{0};
  }

 private:
  std::string path_;
};

}  // namespace edgemon::firmware
