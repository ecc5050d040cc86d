// DiskRing: order, bounds, overflow accounting, persistence, crash and corruption recovery.
// Every test works in its own TempDir; no timing assertions (runs under qemu too).
#include "edgemon/firmware/disk_ring.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <deque>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "temp_dir.h"

namespace edgemon::firmware {
namespace {

using testing_support::TempDir;

// Layout constants from disk_ring.h's documented format (4 KiB header block, 2 x 128-byte
// slots, 24-byte record header, records aligned to 8 bytes).
constexpr std::uint64_t kHeaderBlock = 4096;
constexpr std::uint64_t kRecordHeader = 24;
std::uint64_t record_bytes(std::size_t payload) { return (kRecordHeader + payload + 7) & ~std::uint64_t{7}; }

DiskRing::Options options(const std::string& path, std::size_t capacity = 64 * 1024) {
  DiskRing::Options o;
  o.path = path;
  o.capacity = capacity;
  o.fsync = DiskRing::Fsync::kNever;  // the page cache is what the tests (and kill -9) see
  return o;
}

std::unique_ptr<DiskRing> open_ok(const DiskRing::Options& o) {
  auto r = DiskRing::open(o);
  if (!r) {
    ADD_FAILURE() << "open " << o.path << ": " << r.error().message;
    return nullptr;
  }
  return std::move(*r);
}

// Payload whose bytes depend on (seq, i), so a record read back from the wrong place or with a
// flipped byte is noticed.
std::string payload_for(std::uint64_t seq, std::size_t len) {
  std::string p(len, '\0');
  std::uint32_t x = static_cast<std::uint32_t>(seq * 2654435761u + 12345u);
  for (std::size_t i = 0; i < len; ++i) {
    x = x * 1103515245u + 12345u;
    p[i] = static_cast<char>(x >> 24);
  }
  return p;
}

struct Expected {
  std::uint64_t seq;
  std::string payload;
  std::uint16_t flags;
};

// Pops everything, checking each record against `want` in order.
void drain_and_compare(DiskRing& ring, const std::deque<Expected>& want) {
  ASSERT_EQ(ring.size(), want.size());
  for (const Expected& e : want) {
    auto rec = ring.front();
    ASSERT_TRUE(rec) << "seq " << e.seq << ": " << rec.error().message;
    ASSERT_EQ(rec->seq, e.seq);
    ASSERT_EQ(rec->flags, e.flags);
    ASSERT_EQ(rec->payload, e.payload) << "payload of seq " << e.seq << " differs";
    ASSERT_TRUE(ring.pop_front());
  }
  EXPECT_TRUE(ring.empty());
}

void overwrite(const std::string& path, std::uint64_t offset, const std::string& bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::pwrite(fd, bytes.data(), bytes.size(), static_cast<off_t>(offset)), static_cast<ssize_t>(bytes.size()));
  ::close(fd);
}

std::string read_at(const std::string& path, std::uint64_t offset, std::size_t len) {
  std::string out(len, '\0');
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  EXPECT_GE(fd, 0);
  EXPECT_EQ(::pread(fd, out.data(), len, static_cast<off_t>(offset)), static_cast<ssize_t>(len));
  ::close(fd);
  return out;
}

std::string garbage(std::size_t len, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::string g(len, '\0');
  for (char& c : g) c = static_cast<char>(rng());
  return g;
}

TEST(DiskRing, CapacityBelowFourKibIsInvalidArgument) {
  TempDir dir;
  for (std::size_t capacity : {std::size_t{0}, std::size_t{1}, std::size_t{4095}}) {
    auto r = DiskRing::open(options(dir.file("ring"), capacity));
    ASSERT_FALSE(r) << "capacity " << capacity;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument) << "capacity " << capacity;
  }
  EXPECT_FALSE(std::filesystem::exists(dir.file("ring"))) << "a refused open must not create the file";
  auto ok = DiskRing::open(options(dir.file("ring"), 4096));
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ((*ok)->capacity(), 4096u);
}

TEST(DiskRing, EmptyRingReportsNotFound) {
  TempDir dir;
  auto ring = open_ok(options(dir.file("ring")));
  ASSERT_TRUE(ring);
  EXPECT_TRUE(ring->empty());
  EXPECT_EQ(ring->size(), 0u);
  auto f = ring->front();
  ASSERT_FALSE(f);
  EXPECT_EQ(f.error().code, ErrorCode::kNotFound);
  Status p = ring->pop_front();
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().code, ErrorCode::kNotFound);
}

TEST(DiskRing, AppendFrontPopKeepOrderSeqAndFlags) {
  TempDir dir;
  auto ring = open_ok(options(dir.file("ring")));
  ASSERT_TRUE(ring);
  EXPECT_EQ(ring->next_seq(), 0u);
  ASSERT_TRUE(ring->append("first", 1));
  ASSERT_TRUE(ring->append("", 0));  // an empty payload is a valid record
  ASSERT_TRUE(ring->append(std::string("bin\0ary", 7), 0xbeef));
  EXPECT_EQ(ring->size(), 3u);
  EXPECT_EQ(ring->front_seq(), 0u);
  EXPECT_EQ(ring->next_seq(), 3u);

  // front() does not consume.
  auto again = ring->front();
  ASSERT_TRUE(again);
  EXPECT_EQ(again->payload, "first");
  drain_and_compare(*ring, {{0, "first", 1}, {1, "", 0}, {2, std::string("bin\0ary", 7), 0xbeef}});
  // Seqs keep counting after the ring ran empty.
  ASSERT_TRUE(ring->append("fourth", 0));
  EXPECT_EQ(ring->front_seq(), 3u);
  EXPECT_EQ(ring->front()->seq, 3u);
}

TEST(DiskRing, RecordsLargerThanHalfTheCapacityAreRefused) {
  // The limit counts the whole record (24-byte header + payload, aligned to 8).
  struct Case {
    const char* label;
    std::size_t payload;
    bool accepted;
  };
  const Case cases[] = {
      {"exactly half with its header", 4096 / 2 - kRecordHeader, true},
      {"one byte over half (alignment pushes it to 2056)", 4096 / 2 - kRecordHeader + 1, false},
      {"payload alone is half", 4096 / 2, false},
      {"larger than the whole ring", 10'000, false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.label);
    TempDir dir;
    auto ring = open_ok(options(dir.file("ring"), 4096));
    ASSERT_TRUE(ring);
    ASSERT_TRUE(ring->append("keep", 0));
    Status s = ring->append(std::string(c.payload, 'x'), 0);
    EXPECT_EQ(s.ok(), c.accepted);
    if (!c.accepted) {
      EXPECT_EQ(s.error().code, ErrorCode::kResourceExhausted);
      EXPECT_EQ(ring->size(), 1u) << "a refused record leaves the ring unchanged";
      EXPECT_EQ(ring->next_seq(), 1u);
      EXPECT_EQ(ring->stats().dropped, 0u);
      EXPECT_EQ(ring->front()->payload, "keep");
    }
  }
}

// Model-based: 10,000 appends of random sizes with random pops against a std::deque. After every
// step the ring must hold exactly the newest suffix of what was appended and not popped, with
// contiguous seqs, byte-exact payloads, and `dropped` counting exactly what overflow removed.
TEST(DiskRing, ModelBasedWrapAroundWithRandomSizesAndPops) {
  TempDir dir;
  constexpr std::size_t kCapacity = 64 * 1024;
  constexpr std::size_t kMaxPayload = 900;
  auto ring = open_ok(options(dir.file("ring"), kCapacity));
  ASSERT_TRUE(ring);

  std::mt19937 rng(20240611);
  std::uniform_int_distribution<std::size_t> size_dist(1, kMaxPayload);
  std::uniform_int_distribution<int> pct(0, 99);
  std::deque<Expected> model;
  std::uint64_t model_bytes = 0;  // on-disk bytes of the records in the model
  std::uint64_t appended = 0, popped = 0, dropped = 0, drop_events = 0, bytes_written = 0;

  for (int step = 0; step < 10'000; ++step) {
    const std::size_t len = size_dist(rng);
    const auto flags = static_cast<std::uint16_t>(rng());
    const std::string payload = payload_for(appended, len);
    const std::uint64_t used_before = model_bytes;
    ASSERT_TRUE(ring->append(payload, flags)) << "step " << step;
    model.push_back({appended, payload, flags});
    model_bytes += record_bytes(len);
    ++appended;
    bytes_written += record_bytes(len);

    // Overflow dropped the oldest: the ring's front seq says how many.
    std::uint64_t dropped_now = 0;
    while (!model.empty() && model.front().seq < ring->front_seq()) {
      model_bytes -= record_bytes(model.front().payload.size());
      model.pop_front();
      ++dropped_now;
    }
    dropped += dropped_now;
    ASSERT_EQ(ring->size(), model.size()) << "step " << step;
    ASSERT_EQ(ring->stats().dropped, dropped) << "step " << step;
    ASSERT_EQ(ring->stats().dropped, appended - popped - ring->size()) << "step " << step;
    ASSERT_EQ(ring->next_seq(), appended);
    ASSERT_FALSE(model.empty()) << "the record just appended must survive";
    ASSERT_EQ(model.back().seq, appended - 1);
    ASSERT_LE(model_bytes, kCapacity) << "ring holds more than its capacity";
    if (dropped_now > 0) {
      ++drop_events;
      // Drops only when the ring was nearly full (the wrap gap and the hole in front of the head
      // are each smaller than one record), and it never drops more than it needs.
      EXPECT_GT(used_before + 2 * record_bytes(kMaxPayload) + record_bytes(len), kCapacity) << "step " << step;
      EXPECT_GE(model_bytes + 3 * record_bytes(kMaxPayload), kCapacity) << "dropped too much at step " << step;
    }

    auto front = ring->front();
    ASSERT_TRUE(front) << "step " << step << ": " << front.error().message;
    ASSERT_EQ(front->seq, model.front().seq);
    ASSERT_EQ(front->flags, model.front().flags);
    ASSERT_EQ(front->payload, model.front().payload) << "step " << step;

    // Pop 0..3 records, about as often as we append, so the ring both fills and drains.
    const int r = pct(rng);
    const int pops = r < 45 ? 0 : r < 80 ? 1 : r < 95 ? 2 : 3;
    for (int k = 0; k < pops && !model.empty(); ++k) {
      auto f = ring->front();
      ASSERT_TRUE(f);
      ASSERT_EQ(f->seq, model.front().seq);
      ASSERT_EQ(f->payload, model.front().payload) << "step " << step;
      ASSERT_TRUE(ring->pop_front());
      model_bytes -= record_bytes(model.front().payload.size());
      model.pop_front();
      ++popped;
    }
    ASSERT_EQ(ring->size(), model.size());
  }
  // The run must actually have exercised wrap-around and overflow many times.
  EXPECT_GT(drop_events, 50u) << "the random walk never filled the ring; adjust the pop rate";
  EXPECT_GT(popped, 1000u);
  EXPECT_GT(bytes_written / kCapacity, 50u) << "fewer than 50 laps of the ring";
  drain_and_compare(*ring, model);
}

TEST(DiskRing, OverflowDropsExactlyTheOldest) {
  TempDir dir;
  auto ring = open_ok(options(dir.file("ring"), 4096));
  ASSERT_TRUE(ring);
  // 100-byte payloads take 128 bytes: 32 fit in 4096 at most.
  for (std::uint64_t i = 0; i < 100; ++i) ASSERT_TRUE(ring->append(payload_for(i, 100), 0));
  EXPECT_EQ(ring->next_seq(), 100u);
  EXPECT_EQ(ring->stats().dropped, 100u - ring->size());
  EXPECT_GE(ring->size(), 31u);  // at most one record's worth lost to the wrap
  EXPECT_LE(ring->size(), 32u);
  std::deque<Expected> want;
  for (std::uint64_t s = 100 - ring->size(); s < 100; ++s) want.push_back({s, payload_for(s, 100), 0});
  drain_and_compare(*ring, want);
}

TEST(DiskRing, ReopenKeepsRecordsSeqsAndDroppedCount) {
  TempDir dir;
  const std::string path = dir.file("ring");
  std::uint64_t dropped = 0, next = 0, front = 0;
  std::size_t size = 0;
  {
    auto ring = open_ok(options(path, 4096));
    ASSERT_TRUE(ring);
    for (std::uint64_t i = 0; i < 60; ++i) ASSERT_TRUE(ring->append(payload_for(i, 100), static_cast<std::uint16_t>(i)));
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(ring->pop_front());
    dropped = ring->stats().dropped;
    next = ring->next_seq();
    front = ring->front_seq();
    size = ring->size();
    ASSERT_GT(dropped, 0u);
  }
  auto ring = open_ok(options(path, 4096));
  ASSERT_TRUE(ring);
  EXPECT_FALSE(ring->stats().set_aside);
  EXPECT_EQ(ring->stats().corrupt_records, 0u);
  EXPECT_EQ(ring->stats().dropped, dropped);
  EXPECT_EQ(ring->next_seq(), next);
  EXPECT_EQ(ring->front_seq(), front);
  ASSERT_EQ(ring->size(), size);
  ASSERT_TRUE(ring->append("after reopen", 7));
  std::deque<Expected> want;
  for (std::uint64_t s = front; s < next; ++s) want.push_back({s, payload_for(s, 100), static_cast<std::uint16_t>(s)});
  want.push_back({next, "after reopen", 7});
  drain_and_compare(*ring, want);
}

TEST(DiskRing, FileCapacityWinsOverAChangedConfig) {
  TempDir dir;
  const std::string path = dir.file("ring");
  {
    auto ring = open_ok(options(path, 8192));
    ASSERT_TRUE(ring);
    ASSERT_TRUE(ring->append("kept", 0));
  }
  auto ring = open_ok(options(path, 4096));
  ASSERT_TRUE(ring);
  EXPECT_EQ(ring->capacity(), 8192u);
  EXPECT_EQ(ring->front()->payload, "kept");
}

// kill -9 leaves what was written with pwrite in the page cache: a copy of the file taken while
// the ring is open is exactly that state.
TEST(DiskRing, CopyTakenWhileOpenHasEveryAppendedRecord) {
  TempDir dir;
  const std::string path = dir.file("ring");
  auto ring = open_ok(options(path, 16 * 1024));
  ASSERT_TRUE(ring);
  std::mt19937 rng(7);
  std::deque<Expected> model;
  for (std::uint64_t i = 0; i < 400; ++i) {
    const std::size_t len = 1 + rng() % 700;
    ASSERT_TRUE(ring->append(payload_for(i, len), static_cast<std::uint16_t>(i & 0xffff)));
    model.push_back({i, payload_for(i, len), static_cast<std::uint16_t>(i & 0xffff)});
    while (model.front().seq < ring->front_seq()) model.pop_front();
    if (rng() % 3 == 0) {
      ASSERT_TRUE(ring->pop_front());
      model.pop_front();
    }
  }
  ASSERT_FALSE(model.empty());
  const std::string copy = dir.file("crashed");
  std::filesystem::copy_file(path, copy);
  auto reopened = open_ok(options(copy, 16 * 1024));
  ASSERT_TRUE(reopened);
  EXPECT_EQ(reopened->stats().dropped, ring->stats().dropped);
  EXPECT_EQ(reopened->stats().corrupt_records, 0u);
  EXPECT_EQ(reopened->next_seq(), ring->next_seq());
  drain_and_compare(*reopened, model);
}

// A crash between writing a record and updating the header: the header on disk is one append
// behind. Recovery picks the record up (valid CRC, next expected seq).
TEST(DiskRing, RecordWrittenAfterTheLastHeaderUpdateIsPickedUp) {
  TempDir dir;
  const std::string path = dir.file("ring");
  auto ring = open_ok(options(path, 8192));
  ASSERT_TRUE(ring);
  for (std::uint64_t i = 0; i < 5; ++i) ASSERT_TRUE(ring->append(payload_for(i, 50), 0));
  const std::string old_header = read_at(path, 0, kHeaderBlock);
  ASSERT_TRUE(ring->append(payload_for(5, 50), 0));
  const std::string copy = dir.file("torn");
  std::filesystem::copy_file(path, copy);
  overwrite(copy, 0, old_header);

  auto reopened = open_ok(options(copy, 8192));
  ASSERT_TRUE(reopened);
  EXPECT_EQ(reopened->next_seq(), 6u);
  std::deque<Expected> want;
  for (std::uint64_t s = 0; s < 6; ++s) want.push_back({s, payload_for(s, 50), 0});
  drain_and_compare(*reopened, want);
}

TEST(DiskRing, OneGarbageHeaderSlotStillOpensWithTheOther) {
  for (std::uint64_t slot_offset : {std::uint64_t{0}, std::uint64_t{128}}) {
    SCOPED_TRACE("garbage in the slot at offset " + std::to_string(slot_offset));
    TempDir dir;
    const std::string path = dir.file("ring");
    {
      auto ring = open_ok(options(path, 8192));
      ASSERT_TRUE(ring);
      for (std::uint64_t i = 0; i < 10; ++i) ASSERT_TRUE(ring->append(payload_for(i, 64), 3));
    }
    overwrite(path, slot_offset, garbage(128, 99));
    auto ring = open_ok(options(path, 8192));
    ASSERT_TRUE(ring);
    EXPECT_FALSE(ring->stats().set_aside);
    EXPECT_EQ(ring->stats().corrupt_records, 0u);
    // Whichever slot survived (possibly one append older), no appended record is lost.
    std::deque<Expected> want;
    for (std::uint64_t s = 0; s < 10; ++s) want.push_back({s, payload_for(s, 64), 3});
    drain_and_compare(*ring, want);
  }
}

TEST(DiskRing, BothHeaderSlotsGarbageSetsTheFileAsideAndStartsFresh) {
  TempDir dir;
  const std::string path = dir.file("ring");
  {
    auto ring = open_ok(options(path, 8192));
    ASSERT_TRUE(ring);
    for (std::uint64_t i = 0; i < 10; ++i) ASSERT_TRUE(ring->append(payload_for(i, 64), 0));
  }
  overwrite(path, 0, garbage(256, 1234));
  auto ring = open_ok(options(path, 8192));
  ASSERT_TRUE(ring);
  EXPECT_TRUE(ring->stats().set_aside);
  EXPECT_TRUE(ring->empty());
  EXPECT_EQ(ring->next_seq(), 0u);
  EXPECT_EQ(ring->stats().dropped, 0u);

  std::vector<std::string> aside;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("ring.corrupt-", 0) == 0) aside.push_back(entry.path().string());
  }
  ASSERT_EQ(aside.size(), 1u) << "expected ring.corrupt-<time> next to the ring";
  EXPECT_GT(std::filesystem::file_size(aside[0]), kHeaderBlock) << "the old contents are kept for inspection";
  EXPECT_EQ(read_at(aside[0], 0, 256), garbage(256, 1234));

  // The fresh ring works and persists.
  ASSERT_TRUE(ring->append("fresh", 0));
  ring.reset();
  auto again = open_ok(options(path, 8192));
  ASSERT_TRUE(again);
  EXPECT_FALSE(again->stats().set_aside);
  drain_and_compare(*again, {{0, "fresh", 0}});
}

TEST(DiskRing, FlippedPayloadByteTruncatesTheRingBeforeThatRecord) {
  struct Case {
    const char* label;
    std::uint64_t bad_index;
  };
  const Case cases[] = {{"the oldest record", 0}, {"a middle record", 5}, {"the newest record", 9}};
  for (const Case& c : cases) {
    SCOPED_TRACE(c.label);
    TempDir dir;
    const std::string path = dir.file("ring");
    std::uint64_t offset = kHeaderBlock;  // no wrap: records are laid out from the start
    {
      auto ring = open_ok(options(path, 8192));
      ASSERT_TRUE(ring);
      for (std::uint64_t i = 0; i < 10; ++i) ASSERT_TRUE(ring->append(payload_for(i, static_cast<std::size_t>(40 + i)), 0));
    }
    for (std::uint64_t i = 0; i < c.bad_index; ++i) offset += record_bytes(static_cast<std::size_t>(40 + i));
    const std::uint64_t byte_at = offset + kRecordHeader + 3;
    std::string b = read_at(path, byte_at, 1);
    b[0] = static_cast<char>(b[0] ^ 0x10);
    overwrite(path, byte_at, b);

    auto ring = open_ok(options(path, 8192));
    ASSERT_TRUE(ring);
    EXPECT_FALSE(ring->stats().set_aside);
    EXPECT_EQ(ring->stats().corrupt_records, 10 - c.bad_index);
    ASSERT_EQ(ring->size(), c.bad_index);
    // New records continue the sequence right after the last good one.
    ASSERT_TRUE(ring->append("after", 1));
    std::deque<Expected> want;
    for (std::uint64_t s = 0; s < c.bad_index; ++s) want.push_back({s, payload_for(s, static_cast<std::size_t>(40 + s)), 0});
    want.push_back({c.bad_index, "after", 1});
    drain_and_compare(*ring, want);
  }
}

TEST(DiskRing, TruncatedFileOpensWithoutCrashAndIsUsable) {
  TempDir dir;
  const std::string path = dir.file("ring");
  {
    auto ring = open_ok(options(path, 8192));
    ASSERT_TRUE(ring);
    for (std::uint64_t i = 0; i < 50; ++i) ASSERT_TRUE(ring->append(payload_for(i, 100), 0));
  }
  const auto full = std::filesystem::file_size(path);
  std::filesystem::resize_file(path, full / 2);
  auto ring = open_ok(options(path, 8192));
  ASSERT_TRUE(ring);
  EXPECT_TRUE(ring->stats().set_aside) << "a file shorter than its capacity cannot be trusted";
  ASSERT_TRUE(ring->append("works", 0));
  auto f = ring->front();
  ASSERT_TRUE(f);
  EXPECT_EQ(f->payload, "works");
}

TEST(DiskRing, FileShorterThanOneHeaderSlotOpens) {
  TempDir dir;
  const std::string path = dir.write("ring", "EMRB");
  auto ring = open_ok(options(path, 8192));
  ASSERT_TRUE(ring);
  EXPECT_TRUE(ring->stats().set_aside);
  EXPECT_TRUE(ring->empty());
}

TEST(DiskRing, SyncPoliciesKeepTheData) {
  // fsync itself is not observable here; this checks the kAlways/kInterval paths do not disturb
  // the ring's contents or error out.
  for (DiskRing::Fsync policy : {DiskRing::Fsync::kAlways, DiskRing::Fsync::kInterval}) {
    TempDir dir;
    auto o = options(dir.file("ring"), 4096);
    o.fsync = policy;
    o.fsync_interval = std::chrono::milliseconds(1000);
    auto ring = open_ok(o);
    ASSERT_TRUE(ring);
    const MonoTime t0{};
    for (std::uint64_t i = 0; i < 5; ++i) {
      ASSERT_TRUE(ring->append(payload_for(i, 30), 0));
      ring->sync_if_due(t0 + std::chrono::seconds(static_cast<long>(i)));
    }
    std::deque<Expected> want;
    for (std::uint64_t s = 0; s < 5; ++s) want.push_back({s, payload_for(s, 30), 0});
    drain_and_compare(*ring, want);
  }
}

}  // namespace
}  // namespace edgemon::firmware
