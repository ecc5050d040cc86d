// The agent's small state files: atomic replacement, and the bdSeq that survives restarts.
#include "edgemon/firmware/state_file.h"

#include <sys/stat.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "temp_dir.h"

namespace edgemon::firmware {
namespace {

using testing_support::TempDir;

std::string read(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(StateFile, WriteReplacesTheFileAndLeavesNoTemporary) {
  TempDir dir;
  const std::string path = dir.path() + "/state";
  ASSERT_TRUE(write_file_atomic(path, "one\n").ok());
  ASSERT_TRUE(write_file_atomic(path, "two\n").ok());
  EXPECT_EQ(read(path), "two\n");
  struct stat st {};
  EXPECT_NE(::stat((path + ".tmp").c_str(), &st), 0) << "the temporary was renamed into place";
  const Status bad = write_file_atomic(dir.path() + "/missing-dir/state", "x");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("missing-dir"), std::string::npos) << bad.error().message;
}

TEST(BdSeqFile, CountsFromZeroAndWrapsAfter255) {
  EXPECT_EQ(BdSeqFile::next(std::nullopt), 0);
  EXPECT_EQ(BdSeqFile::next(0), 1);
  EXPECT_EQ(BdSeqFile::next(254), 255);
  EXPECT_EQ(BdSeqFile::next(255), 0);
}

TEST(BdSeqFile, StoresAndLoadsTheLastSession) {
  TempDir dir;
  const BdSeqFile f(dir.path() + "/bdseq");
  BdSeqFile::Loaded first = f.load();
  EXPECT_FALSE(first.last.has_value()) << "no file: first start";
  EXPECT_TRUE(first.problem.empty());
  for (const std::uint8_t v : {std::uint8_t{0}, std::uint8_t{17}, std::uint8_t{255}}) {
    ASSERT_TRUE(f.store(v).ok());
    const BdSeqFile::Loaded l = f.load();
    ASSERT_TRUE(l.last.has_value());
    EXPECT_EQ(*l.last, v);
  }
  EXPECT_EQ(read(f.path()), "255\n");
}

TEST(BdSeqFile, ADamagedFileIsReportedAndNotUsed) {
  TempDir dir;
  const std::string path = dir.path() + "/bdseq";
  const BdSeqFile f(path);
  const std::vector<std::string> damaged = {"", "256\n", "-1\n", "12abc\n", "99999999999999999999\n",
                                            std::string("\x01\xff", 2)};
  for (const std::string& bad : damaged) {
    {
      std::ofstream out(path, std::ios::trunc | std::ios::binary);
      out << bad;
    }
    const BdSeqFile::Loaded l = f.load();
    EXPECT_FALSE(l.last.has_value()) << bad;
    EXPECT_FALSE(l.problem.empty()) << bad;
  }
}

}  // namespace
}  // namespace edgemon::firmware
