#include "edgemon/board/file_reader.h"

#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "temp_dir.h"

namespace edgemon::board {
namespace {

using testing_support::TempDir;

TEST(ReadSmallFile, ReturnsExactContents) {
  TempDir dir;
  const std::string path = dir.write("f", "12345\n");
  std::array<char, 64> buf{};
  auto r = read_small_file(path, buf);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(*r, "12345\n");
  EXPECT_EQ(r->data(), buf.data()) << "the view points into the caller's buffer";
}

TEST(ReadSmallFile, EmptyFileIsAnEmptyView) {
  TempDir dir;
  const std::string path = dir.write("f", "");
  std::array<char, 8> buf{};
  auto r = read_small_file(path, buf);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(r->empty());
}

TEST(ReadSmallFile, MissingFileIsUnsupported) {
  TempDir dir;
  std::array<char, 8> buf{};
  auto r = read_small_file(dir.file("absent"), buf);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kUnsupported);
  EXPECT_NE(r.error().message.find(dir.file("absent")), std::string::npos) << r.error().message;
}

TEST(ReadSmallFile, PathThroughARegularFileIsUnsupported) {
  TempDir dir;
  dir.write("file", "x");
  std::array<char, 8> buf{};
  auto r = read_small_file(dir.file("file/child"), buf);  // ENOTDIR
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kUnsupported);
}

TEST(ReadSmallFile, DirectoryIsAnIoError) {
  TempDir dir;
  std::array<char, 8> buf{};
  auto r = read_small_file(dir.path(), buf);  // open succeeds, read fails with EISDIR
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kIo);
}

TEST(ReadSmallFile, UnreadableFileIsPermissionDenied) {
  if (::geteuid() == 0) GTEST_SKIP() << "root ignores file modes";
  TempDir dir;
  const std::string path = dir.write("secret", "x");
  ASSERT_EQ(::chmod(path.c_str(), 0), 0);
  std::array<char, 8> buf{};
  auto r = read_small_file(path, buf);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kPermissionDenied);
}

struct SizeCase {
  const char* label;
  std::size_t file_size;
  bool fits;
};

TEST(ReadSmallFile, BufferSizeBoundary) {
  constexpr std::size_t kBuf = 16;
  const SizeCase cases[] = {
      {"one byte smaller than the buffer", kBuf - 1, true},
      {"exactly the buffer size", kBuf, true},
      {"one byte larger than the buffer", kBuf + 1, false},
      {"much larger than the buffer", 10 * kBuf, false},
  };
  for (const SizeCase& c : cases) {
    SCOPED_TRACE(c.label);
    TempDir dir;
    const std::string content(c.file_size, 'x');
    const std::string path = dir.write("f", content);
    std::array<char, kBuf> buf{};
    auto r = read_small_file(path, buf);
    if (c.fits) {
      ASSERT_TRUE(r.ok()) << r.error().message;
      EXPECT_EQ(*r, content);
    } else {
      ASSERT_FALSE(r.ok());
      EXPECT_EQ(r.error().code, ErrorCode::kResourceExhausted);
    }
  }
}

TEST(ReadFileGrowing, GrowsOnceForALargerFileThenReusesTheBuffer) {
  TempDir dir;
  const std::string content(10000, 'g');
  const std::string path = dir.write("big", content);
  std::vector<char> buf;
  auto r = read_file_growing(path, buf);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(*r, content);
  EXPECT_GE(buf.size(), content.size());
  const std::size_t grown = buf.size();
  const char* storage = buf.data();
  auto again = read_file_growing(path, buf);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(buf.size(), grown);
  EXPECT_EQ(buf.data(), storage) << "steady state does not reallocate";
}

TEST(ReadFileGrowing, StopsAtTheCap) {
  TempDir dir;
  const std::string path = dir.write("huge", std::string(9000, 'h'));
  std::vector<char> buf;
  auto r = read_file_growing(path, buf, 8192);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kResourceExhausted);
  EXPECT_LE(buf.size(), 8192u);
}

TEST(ReadFileGrowing, MissingFileIsUnsupported) {
  TempDir dir;
  std::vector<char> buf;
  auto r = read_file_growing(dir.file("absent"), buf);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kUnsupported);
}

TEST(ListDirectory, FiltersByPrefixAndSortsNumericSuffixesNaturally) {
  TempDir dir;
  for (const char* name : {"zone10", "zone2", "zone0", "cooling_device0", "zone1"}) dir.write(name, "");
  auto r = list_directory(dir.path(), "zone");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(*r, (std::vector<std::string>{"zone0", "zone1", "zone2", "zone10"}));
}

TEST(ListDirectory, EmptyPrefixListsEverythingButDotEntries) {
  TempDir dir;
  dir.write("a", "");
  dir.write("b", "");
  auto r = list_directory(dir.path(), "");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(*r, (std::vector<std::string>{"a", "b"}));
}

TEST(ListDirectory, MissingDirectoryIsUnsupported) {
  TempDir dir;
  auto r = list_directory(dir.file("class/thermal"), "zone");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kUnsupported);
}

}  // namespace
}  // namespace edgemon::board
