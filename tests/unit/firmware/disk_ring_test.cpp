// DiskRing: order, bounds, overflow accounting, persistence, crash and corruption recovery.
// Every test works in its own TempDir; no timing assertions (runs under qemu too).
#include "edgemon/firmware/disk_ring.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <initializer_list>
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

DiskRing::Options with_sequence(const std::string& path, const std::string& sequence,
                                std::size_t capacity = 64 * 1024) {
  DiskRing::Options o = options(path, capacity);
  o.sequence_path = sequence;
  return o;
}

std::vector<std::uint64_t> seq_range(std::uint64_t from, std::uint64_t to) {
  std::vector<std::uint64_t> v;
  for (std::uint64_t s = from; s < to; ++s) v.push_back(s);
  return v;
}

std::vector<std::uint64_t> without(std::vector<std::uint64_t> v, std::initializer_list<std::uint64_t> gone) {
  for (std::uint64_t g : gone) std::erase(v, g);
  return v;
}

// Every record from begin() to end(), read with a cursor (the ring is not changed).
std::vector<DiskRing::Record> walk(const DiskRing& ring) {
  std::vector<DiskRing::Record> out;
  DiskRing::Cursor c = ring.begin();
  for (std::size_t guard = 0; guard <= ring.size(); ++guard) {
    auto r = ring.read(c);
    if (!r) {
      EXPECT_EQ(r.error().code, ErrorCode::kNotFound) << r.error().message;
      EXPECT_EQ(c.seq, ring.next_seq()) << "the walk stopped before the end: " << r.error().message;
      return out;
    }
    out.push_back(r->first);
    c = r->second;
  }
  ADD_FAILURE() << "the walk did not end";
  return out;
}

std::vector<std::uint64_t> seqs_of(const std::vector<DiskRing::Record>& records) {
  std::vector<std::uint64_t> v;
  for (const DiskRing::Record& r : records) v.push_back(r.seq);
  return v;
}

// The ring holds exactly `seqs` (walked with a cursor), each with payload_for(seq, len) and `flags`.
void expect_holds(const DiskRing& ring, const std::vector<std::uint64_t>& seqs, std::size_t len, std::uint16_t flags) {
  const std::vector<DiskRing::Record> got = walk(ring);
  EXPECT_EQ(seqs_of(got), seqs);
  EXPECT_EQ(ring.size(), seqs.size());
  for (const DiskRing::Record& r : got) {
    EXPECT_EQ(r.payload, payload_for(r.seq, len)) << "payload of seq " << r.seq;
    EXPECT_EQ(r.flags, flags) << "flags of seq " << r.seq;
  }
  if (!seqs.empty()) {
    EXPECT_EQ(ring.front_seq(), seqs.front());
  }
}

std::deque<Expected> expected(const std::vector<std::uint64_t>& seqs, std::size_t len, std::uint16_t flags) {
  std::deque<Expected> want;
  for (std::uint64_t s : seqs) want.push_back({s, payload_for(s, len), flags});
  return want;
}

// The file offset of the live record with `seq`, found by the documented record layout (magic
// "EMR1" at 0, seq at 16, 8-byte aligned after the header block); 0 when there is none.
std::uint64_t offset_of_seq(const std::string& path, std::uint64_t seq) {
  std::ifstream in(path, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::uint32_t magic = 0x454d5231;
  for (std::uint64_t off = kHeaderBlock; off + kRecordHeader <= bytes.size(); off += 8) {
    std::uint32_t m = 0;
    std::uint64_t s = 0;
    std::memcpy(&m, bytes.data() + off, sizeof m);
    std::memcpy(&s, bytes.data() + off + 16, sizeof s);
    if (m == magic && s == seq) return off;
  }
  return 0;
}

// Flips bits in `len` bytes at `offset` of the file (each byte changes).
void scramble(const std::string& path, std::uint64_t offset, std::size_t len, std::uint32_t seed) {
  std::string b = read_at(path, offset, len);
  std::mt19937 rng(seed);
  for (char& c : b) c = static_cast<char>(c ^ static_cast<char>(rng() | 1u));
  overwrite(path, offset, b);
}

// Damages the payload of the record with `seq`.
void damage_record(const std::string& path, std::uint64_t seq) {
  const std::uint64_t off = offset_of_seq(path, seq);
  ASSERT_NE(off, 0u) << "seq " << seq << " is not in the file";
  scramble(path, off + kRecordHeader + 5, 8, static_cast<std::uint32_t>(seq));
}

std::vector<std::string> corrupt_copies(const TempDir& dir) {
  std::vector<std::string> out;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("ring.corrupt", 0) == 0 || name.rfind("ring.salvage", 0) == 0) out.push_back(name);
  }
  return out;
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
  // A reader walks the ring with a cursor at its own pace (its own random stream, so the
  // appends and pops are the same as without it), restarting from begin() when overflow or a
  // pop removed the record under it.
  std::mt19937 reader_rng(99);
  DiskRing::Cursor cursor = ring->begin();
  std::uint64_t cursor_reads = 0, cursor_restarts = 0, cursor_at_end = 0;

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
    ASSERT_EQ(ring->end().seq, ring->next_seq());
    ASSERT_EQ(ring->begin().seq, model.empty() ? ring->next_seq() : model.front().seq);

    // Phases of 500 steps: faster than the pops (the reader waits at the end), then slower
    // (the pops and overflow overtake it).
    const auto pace = (step / 500) % 2 == 0 ? 4u : 2u;
    for (auto reads = reader_rng() % pace; reads > 0; --reads) {
      auto got = ring->read(cursor);
      if (cursor.seq < ring->front_seq() || cursor.seq == ring->next_seq()) {
        ASSERT_FALSE(got) << "step " << step << ": cursor at seq " << cursor.seq;
        ASSERT_EQ(got.error().code, ErrorCode::kNotFound);
        if (cursor.seq < ring->front_seq()) {
          cursor = ring->begin();
          ++cursor_restarts;
        } else {
          ++cursor_at_end;
        }
        continue;
      }
      ASSERT_TRUE(got) << "step " << step << ": " << got.error().message;
      const Expected& want = model[static_cast<std::size_t>(cursor.seq - model.front().seq)];
      ASSERT_EQ(got->first.seq, want.seq);
      ASSERT_EQ(got->first.flags, want.flags);
      ASSERT_EQ(got->first.payload, want.payload) << "step " << step;
      ASSERT_EQ(got->second.seq, want.seq + 1);
      if (want.seq + 1 == ring->next_seq()) {
        ASSERT_EQ(got->second.offset, ring->end().offset);
      }
      cursor = got->second;
      ++cursor_reads;
    }
  }
  // The run must actually have exercised wrap-around and overflow many times.
  EXPECT_GT(drop_events, 50u) << "the random walk never filled the ring; adjust the pop rate";
  EXPECT_GT(popped, 1000u);
  EXPECT_GT(bytes_written / kCapacity, 50u) << "fewer than 50 laps of the ring";
  EXPECT_GT(cursor_reads, 1000u) << cursor_restarts << " restarts, " << cursor_at_end << " at the end";
  EXPECT_GT(cursor_restarts, 100u) << "the reader was hardly ever overtaken; adjust its pace";
  EXPECT_GT(cursor_at_end, 100u) << "the reader hardly ever caught up; adjust its pace";
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
  EXPECT_EQ(ring->stats().salvaged, 0u);
  EXPECT_EQ(ring->stats().lost_on_open, 0u);
  EXPECT_EQ(ring->stats().damaged, 0u);
  EXPECT_FALSE(std::filesystem::exists(path + ".corrupt"));
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
  EXPECT_EQ(reopened->stats().salvaged, 0u);
  EXPECT_EQ(reopened->stats().lost_on_open, 0u);
  EXPECT_EQ(reopened->stats().damaged, 0u);
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
    EXPECT_EQ(ring->stats().salvaged, 0u);
    EXPECT_EQ(ring->stats().lost_on_open, 0u);
    EXPECT_FALSE(std::filesystem::exists(path + ".corrupt"));
    // Whichever slot survived (possibly one append older), no appended record is lost.
    std::deque<Expected> want;
    for (std::uint64_t s = 0; s < 10; ++s) want.push_back({s, payload_for(s, 64), 3});
    drain_and_compare(*ring, want);
  }
}

// --- Salvage: a damaged file loses only what is damaged, counted; seqs are never reused. ---

TEST(DiskRing, SalvageOfAFileCutInHalfKeepsTheRecordsBeforeTheCut) {
  TempDir dir;
  const std::string path = dir.file("ring");
  {
    auto ring = open_ok(options(path, 8192));
    ASSERT_TRUE(ring);
    for (std::uint64_t i = 0; i < 50; ++i) ASSERT_TRUE(ring->append(payload_for(i, 100), 2));
    ASSERT_EQ(ring->stats().dropped, 0u);
  }
  const auto full = std::filesystem::file_size(path);
  // 100-byte payloads take 128 bytes: the half that is left holds 2048 bytes of data, seqs 0..15.
  std::filesystem::resize_file(path, full / 2);
  auto ring = open_ok(options(path, 8192));
  ASSERT_TRUE(ring);
  expect_holds(*ring, seq_range(0, 16), 100, 2);
  EXPECT_EQ(ring->stats().salvaged, 16u);
  EXPECT_EQ(ring->stats().lost_on_open, 34u);
  EXPECT_EQ(ring->stats().damaged, 34u);
  EXPECT_EQ(ring->next_seq(), 50u);
  EXPECT_EQ(ring->capacity(), 8192u);
  EXPECT_EQ(std::filesystem::file_size(path), full) << "the new ring is full size";
  EXPECT_EQ(std::filesystem::file_size(path + ".corrupt"), full / 2) << "the damaged file is kept as it was";
  ASSERT_TRUE(ring->append(payload_for(50, 100), 2));
  ring.reset();

  auto again = open_ok(options(path, 8192));
  ASSERT_TRUE(again);
  EXPECT_EQ(again->stats().lost_on_open, 0u);
  EXPECT_EQ(again->stats().salvaged, 0u);
  EXPECT_EQ(again->stats().damaged, 34u) << "the damaged total is kept in the header";
  std::vector<std::uint64_t> want = seq_range(0, 16);
  want.push_back(50);
  expect_holds(*again, want, 100, 2);
  drain_and_compare(*again, expected(want, 100, 2));
}

TEST(DiskRing, SalvageWithBothHeaderSlotsGarbageKeepsEveryRecord) {
  TempDir dir;
  const std::string path = dir.file("ring");
  {
    auto ring = open_ok(options(path, 8192));
    ASSERT_TRUE(ring);
    for (std::uint64_t i = 0; i < 10; ++i) ASSERT_TRUE(ring->append(payload_for(i, 64), 3));
  }
  overwrite(path, 0, garbage(256, 1234));
  auto ring = open_ok(options(path, 8192));
  ASSERT_TRUE(ring);
  expect_holds(*ring, seq_range(0, 10), 64, 3);
  EXPECT_EQ(ring->stats().salvaged, 10u);
  EXPECT_EQ(ring->stats().lost_on_open, 0u);
  EXPECT_EQ(ring->stats().damaged, 0u);
  EXPECT_EQ(ring->next_seq(), 10u);
  EXPECT_EQ(read_at(path + ".corrupt", 0, 256), garbage(256, 1234));
  ASSERT_TRUE(ring->append(payload_for(10, 64), 3));
  ring.reset();

  auto again = open_ok(options(path, 8192));
  ASSERT_TRUE(again);
  EXPECT_EQ(again->stats().salvaged, 0u);
  drain_and_compare(*again, expected(seq_range(0, 11), 64, 3));
}

TEST(DiskRing, SalvageOfDamagedRecordsInTheMiddleLeavesHolesAndCountsThem) {
  struct Case {
    const char* label;
    std::vector<std::uint64_t> bad;
    bool header;  // scramble the record header instead of the payload
  };
  const Case cases[] = {
      {"one payload", {4}, false},
      {"two payloads apart", {3, 8}, false},
      {"two adjacent payloads", {5, 6}, false},
      {"a record header", {7}, true},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.label);
    TempDir dir;
    const std::string path = dir.file("ring");
    {
      auto ring = open_ok(options(path, 8192));
      ASSERT_TRUE(ring);
      for (std::uint64_t i = 0; i < 12; ++i) ASSERT_TRUE(ring->append(payload_for(i, 50), 0));
    }
    for (std::uint64_t seq : c.bad) {
      if (c.header) {
        const std::uint64_t off = offset_of_seq(path, seq);
        ASSERT_NE(off, 0u);
        scramble(path, off, kRecordHeader, 5);
      } else {
        damage_record(path, seq);
      }
    }
    std::vector<std::uint64_t> want = seq_range(0, 12);
    for (std::uint64_t seq : c.bad) std::erase(want, seq);

    auto ring = open_ok(options(path, 8192));
    ASSERT_TRUE(ring);
    expect_holds(*ring, want, 50, 0);
    EXPECT_EQ(ring->stats().lost_on_open, c.bad.size());
    EXPECT_EQ(ring->stats().damaged, c.bad.size());
    EXPECT_EQ(ring->stats().salvaged, want.size());
    EXPECT_EQ(ring->next_seq(), 12u);
    ring.reset();

    ring = open_ok(options(path, 8192));
    ASSERT_TRUE(ring);
    EXPECT_EQ(ring->stats().lost_on_open, 0u);
    EXPECT_EQ(ring->stats().damaged, c.bad.size());
    expect_holds(*ring, want, 50, 0);
    // front/pop step over the holes: front_seq() follows the records, not seq + 1.
    for (std::uint64_t seq : want) {
      ASSERT_EQ(ring->front_seq(), seq);
      auto f = ring->front();
      ASSERT_TRUE(f);
      ASSERT_EQ(f->seq, seq);
      ASSERT_EQ(f->payload, payload_for(seq, 50));
      ASSERT_TRUE(ring->pop_front());
    }
    EXPECT_TRUE(ring->empty());
    EXPECT_EQ(ring->front_seq(), 12u);
    ASSERT_TRUE(ring->append("after", 1));
    EXPECT_EQ(ring->front()->seq, 12u) << "a lost seq is not reused";
  }
}

TEST(DiskRing, SalvageOfAnEmptyFileCountsWhatTheSequenceFileSaysWasInTheRing) {
  TempDir dir;
  const std::string path = dir.file("ring");
  const std::string seq = dir.file("ring.seq");
  {
    auto ring = open_ok(with_sequence(path, seq, 8192));
    ASSERT_TRUE(ring);
    for (std::uint64_t i = 0; i < 10; ++i) ASSERT_TRUE(ring->append(payload_for(i, 30), 0));
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(ring->pop_front());
  }
  std::filesystem::resize_file(path, 0);
  auto ring = open_ok(with_sequence(path, seq, 8192));
  ASSERT_TRUE(ring);
  EXPECT_TRUE(ring->empty());
  EXPECT_EQ(ring->stats().lost_on_open, 7u) << "seqs 3..9 were in the ring";
  EXPECT_EQ(ring->stats().damaged, 7u);
  EXPECT_EQ(ring->stats().salvaged, 0u);
  EXPECT_EQ(ring->next_seq(), 10u);
  EXPECT_EQ(ring->capacity(), 8192u);
  EXPECT_TRUE(std::filesystem::exists(path + ".corrupt"));
  ASSERT_TRUE(ring->append(payload_for(10, 30), 0));
  ring.reset();

  auto again = open_ok(with_sequence(path, seq, 8192));
  ASSERT_TRUE(again);
  EXPECT_EQ(again->stats().lost_on_open, 0u);
  EXPECT_EQ(again->stats().damaged, 7u);
  drain_and_compare(*again, expected({10}, 30, 0));
}

TEST(DiskRing, DeletedRingFileContinuesTheSequenceFromTheSequenceFile) {
  struct Case {
    const char* label;
    std::uint64_t held;  // records in the ring when it was deleted
  };
  const Case cases[] = {{"the ring was empty", 0}, {"the ring held four records", 4}};
  for (const Case& c : cases) {
    SCOPED_TRACE(c.label);
    TempDir dir;
    const std::string path = dir.file("ring");
    const std::string seq = dir.file("ring.seq");
    {
      auto ring = open_ok(with_sequence(path, seq, 8192));
      ASSERT_TRUE(ring);
      for (std::uint64_t i = 0; i < 9; ++i) ASSERT_TRUE(ring->append(payload_for(i, 30), 0));
      for (std::uint64_t i = 0; i < 9 - c.held; ++i) ASSERT_TRUE(ring->pop_front());
    }
    ASSERT_TRUE(std::filesystem::remove(path));
    auto ring = open_ok(with_sequence(path, seq, 8192));
    ASSERT_TRUE(ring);
    EXPECT_TRUE(ring->empty());
    EXPECT_EQ(ring->next_seq(), 9u);
    EXPECT_EQ(ring->stats().lost_on_open, c.held);
    EXPECT_EQ(ring->stats().damaged, c.held);
    EXPECT_TRUE(corrupt_copies(dir).empty()) << "there was no file to keep";
    ASSERT_TRUE(ring->append("next", 0));
    EXPECT_EQ(ring->front()->seq, 9u);
    ring.reset();
    auto again = open_ok(with_sequence(path, seq, 8192));
    ASSERT_TRUE(again);
    EXPECT_EQ(again->stats().damaged, c.held);
    EXPECT_EQ(again->next_seq(), 10u);
  }
}

TEST(DiskRing, MissingOrGarbageSequenceFileIsRecreatedFromAHealthyRing) {
  struct Case {
    const char* label;
    bool remove;
    std::string content;
  };
  const Case cases[] = {{"missing", true, ""}, {"garbage", false, garbage(128, 77)}, {"too short", false, "EMRS"}};
  for (const Case& c : cases) {
    SCOPED_TRACE(c.label);
    TempDir dir;
    const std::string path = dir.file("ring");
    const std::string seq = dir.file("ring.seq");
    {
      auto ring = open_ok(with_sequence(path, seq, 8192));
      ASSERT_TRUE(ring);
      for (std::uint64_t i = 0; i < 6; ++i) ASSERT_TRUE(ring->append(payload_for(i, 30), 0));
      ASSERT_TRUE(ring->pop_front());
    }
    if (c.remove) {
      ASSERT_TRUE(std::filesystem::remove(seq));
    } else {
      std::filesystem::resize_file(seq, 0);
      overwrite(seq, 0, c.content);
    }
    {
      auto ring = open_ok(with_sequence(path, seq, 8192));
      ASSERT_TRUE(ring);
      expect_holds(*ring, seq_range(1, 6), 30, 0);
      EXPECT_EQ(ring->stats().salvaged, 0u);
      EXPECT_EQ(ring->stats().lost_on_open, 0u);
      EXPECT_EQ(ring->stats().damaged, 0u);
      EXPECT_TRUE(corrupt_copies(dir).empty());
    }
    // The recreated sequence file carries the ring's state: without the ring, seqs continue and
    // the five records it held are counted.
    ASSERT_TRUE(std::filesystem::remove(path));
    auto ring = open_ok(with_sequence(path, seq, 8192));
    ASSERT_TRUE(ring);
    EXPECT_EQ(ring->next_seq(), 6u);
    EXPECT_EQ(ring->stats().lost_on_open, 5u);
  }
}

TEST(DiskRing, RingHeaderAndSequenceFileBothGarbageStillNeverReuseASeq) {
  TempDir dir;
  const std::string path = dir.file("ring");
  const std::string seq = dir.file("ring.seq");
  {
    auto ring = open_ok(with_sequence(path, seq, 8192));
    ASSERT_TRUE(ring);
    for (std::uint64_t i = 0; i < 20; ++i) ASSERT_TRUE(ring->append(payload_for(i, 60), 1));
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(ring->pop_front());  // 0..4 stay intact on disk
  }
  overwrite(path, 0, garbage(256, 3));
  overwrite(seq, 0, garbage(128, 4));
  damage_record(path, 12);
  auto ring = open_ok(with_sequence(path, seq, 8192));
  ASSERT_TRUE(ring);
  // Nothing says where the ring started: every intact record comes back, the popped ones too
  // (documented), and seqs continue after the highest one in the file.
  expect_holds(*ring, without(seq_range(0, 20), {12}), 60, 1);
  EXPECT_EQ(ring->next_seq(), 20u);
  EXPECT_EQ(ring->stats().lost_on_open, 1u);
  EXPECT_EQ(ring->stats().damaged, 1u);
  ASSERT_TRUE(ring->append("next", 0));
  ring.reset();
  auto again = open_ok(with_sequence(path, seq, 8192));
  ASSERT_TRUE(again);
  EXPECT_EQ(again->stats().damaged, 1u);
  EXPECT_EQ(again->next_seq(), 21u);
}

TEST(DiskRing, SalvageOfAWrappedRingDoesNotBringBackOlderLaps) {
  struct Case {
    const char* label;
    bool header_garbage;  // then the sequence file says where the ring started
  };
  const Case cases[] = {{"header valid, one record damaged", false},
                        {"header garbage, sequence file valid, one record damaged", true}};
  for (const Case& c : cases) {
    SCOPED_TRACE(c.label);
    TempDir dir;
    const std::string path = dir.file("ring");
    const std::string seq = dir.file("ring.seq");
    std::uint64_t head = 0;
    {
      auto ring = open_ok(with_sequence(path, seq, 4096));
      ASSERT_TRUE(ring);
      // 128-byte records, 32 to a lap: 100 appends make about three laps.
      for (std::uint64_t i = 0; i < 100; ++i) ASSERT_TRUE(ring->append(payload_for(i, 100), 0));
      ASSERT_GT(ring->stats().dropped, 60u);
      for (int i = 0; i < 10; ++i) ASSERT_TRUE(ring->pop_front());
      head = ring->front_seq();
    }
    ASSERT_NE(offset_of_seq(path, head - 1), 0u) << "the popped records are still on disk";
    if (c.header_garbage) overwrite(path, 0, garbage(256, 8));
    damage_record(path, 90);
    auto ring = open_ok(with_sequence(path, seq, 4096));
    ASSERT_TRUE(ring);
    expect_holds(*ring, without(seq_range(head, 100), {90}), 100, 0);
    EXPECT_EQ(ring->stats().lost_on_open, 1u);
    EXPECT_EQ(ring->stats().damaged, 1u);
    EXPECT_EQ(ring->next_seq(), 100u);
    EXPECT_GT(ring->stats().dropped, 60u) << "the dropped total survives";
  }
}

TEST(DiskRing, SalvageIntoASmallerConfiguredCapacityKeepsTheNewest) {
  TempDir dir;
  const std::string path = dir.file("ring");
  {
    auto ring = open_ok(options(path, 16 * 1024));
    ASSERT_TRUE(ring);
    for (std::uint64_t i = 0; i < 100; ++i) ASSERT_TRUE(ring->append(payload_for(i, 100), 0));
    ASSERT_EQ(ring->size(), 100u);
  }
  overwrite(path, 0, garbage(256, 9));
  // Without a valid header the configured capacity applies: 4096 bytes hold 32 records.
  auto ring = open_ok(options(path, 4096));
  ASSERT_TRUE(ring);
  EXPECT_EQ(ring->capacity(), 4096u);
  expect_holds(*ring, seq_range(68, 100), 100, 0);
  EXPECT_EQ(ring->stats().lost_on_open, 68u);
  EXPECT_EQ(ring->next_seq(), 100u);
  EXPECT_EQ(std::filesystem::file_size(path), kHeaderBlock + 4096);
}

TEST(DiskRing, RingFileOlderThanTheSequenceFileCountsTheRecordsItLacks) {
  TempDir dir;
  const std::string path = dir.file("ring");
  const std::string seq = dir.file("ring.seq");
  const std::string old_copy = dir.file("old");
  {
    auto ring = open_ok(with_sequence(path, seq, 8192));
    ASSERT_TRUE(ring);
    for (std::uint64_t i = 0; i < 5; ++i) ASSERT_TRUE(ring->append(payload_for(i, 40), 0));
    std::filesystem::copy_file(path, old_copy);
    for (std::uint64_t i = 5; i < 10; ++i) ASSERT_TRUE(ring->append(payload_for(i, 40), 0));
  }
  std::filesystem::copy_file(old_copy, path, std::filesystem::copy_options::overwrite_existing);
  auto ring = open_ok(with_sequence(path, seq, 8192));
  ASSERT_TRUE(ring);
  expect_holds(*ring, seq_range(0, 5), 40, 0);
  EXPECT_EQ(ring->next_seq(), 10u);
  EXPECT_EQ(ring->stats().lost_on_open, 5u);
}

TEST(DiskRing, SalvageKeepsOneCorruptCopy) {
  TempDir dir;
  const std::string path = dir.file("ring");
  {
    auto ring = open_ok(options(path, 8192));
    ASSERT_TRUE(ring);
    for (std::uint64_t i = 0; i < 6; ++i) ASSERT_TRUE(ring->append(payload_for(i, 40), 0));
  }
  for (std::uint32_t round = 0; round < 3; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    overwrite(path, 0, garbage(256, round));
    auto ring = open_ok(options(path, 8192));
    ASSERT_TRUE(ring);
    EXPECT_EQ(ring->stats().salvaged, 6u);
    EXPECT_EQ(corrupt_copies(dir), std::vector<std::string>{"ring.corrupt"});
    EXPECT_EQ(read_at(path + ".corrupt", 0, 256), garbage(256, round)) << "the newest damaged file";
  }
}

TEST(DiskRing, HeaderSlotsWrittenByAnOlderAgentStillOpen) {
  TempDir dir;
  const std::string path = dir.file("ring");
  const std::string seq = dir.file("ring.seq");
  {
    auto ring = open_ok(with_sequence(path, seq, 8192));
    ASSERT_TRUE(ring);
    for (std::uint64_t i = 0; i < 10; ++i) ASSERT_TRUE(ring->append(payload_for(i, 40), 0));
  }
  damage_record(path, 4);
  {
    auto ring = open_ok(with_sequence(path, seq, 8192));
    ASSERT_TRUE(ring);
    ASSERT_EQ(ring->stats().damaged, 1u);
  }
  // An older agent writes the header slots only up to `pad` (80 bytes); what follows is stale.
  overwrite(path, 80, garbage(16, 1));
  overwrite(path, 128 + 80, garbage(16, 2));
  {
    auto ring = open_ok(options(path, 8192));  // without the sequence file: opens as it is
    ASSERT_TRUE(ring);
    EXPECT_EQ(ring->stats().salvaged, 0u);
    expect_holds(*ring, without(seq_range(0, 10), {4}), 40, 0);
  }
  auto ring = open_ok(with_sequence(path, seq, 8192));
  ASSERT_TRUE(ring);
  EXPECT_EQ(ring->stats().salvaged, 0u);
  EXPECT_EQ(ring->stats().damaged, 1u) << "the sequence file still has the damaged total";
  expect_holds(*ring, without(seq_range(0, 10), {4}), 40, 0);
}

TEST(DiskRing, FileShorterThanOneHeaderSlotOpens) {
  TempDir dir;
  const std::string path = dir.write("ring", "EMRB");
  auto ring = open_ok(options(path, 8192));
  ASSERT_TRUE(ring);
  EXPECT_TRUE(ring->empty());
  EXPECT_EQ(ring->stats().lost_on_open, 0u);
  EXPECT_EQ(ring->next_seq(), 0u);
  EXPECT_EQ(read_at(path + ".corrupt", 0, 4), "EMRB");
  ASSERT_TRUE(ring->append("works", 0));
  EXPECT_EQ(ring->front()->payload, "works");
}

// --- Damage found while the ring is open. ---

TEST(DiskRing, RecordDamagedWhileOpenIsSalvagedWhenPopReachesIt) {
  TempDir dir;
  const std::string path = dir.file("ring");
  auto ring = open_ok(options(path, 8192));
  ASSERT_TRUE(ring);
  for (std::uint64_t i = 0; i < 10; ++i) ASSERT_TRUE(ring->append(payload_for(i, 50), 0));
  const std::uint64_t off = offset_of_seq(path, 5);
  ASSERT_NE(off, 0u);
  scramble(path, off, kRecordHeader, 6);  // the page cache is shared: the open ring sees it
  for (std::uint64_t s = 0; s < 5; ++s) {
    ASSERT_EQ(ring->front()->seq, s);
    ASSERT_TRUE(ring->pop_front()) << "seq " << s;
  }
  EXPECT_EQ(ring->front_seq(), 6u);
  EXPECT_EQ(ring->stats().damaged, 1u);
  EXPECT_EQ(ring->stats().lost_on_open, 0u);
  EXPECT_EQ(ring->stats().salvaged, 5u) << "seqs 4, 6..9";
  EXPECT_TRUE(std::filesystem::exists(path + ".corrupt"));
  expect_holds(*ring, seq_range(6, 10), 50, 0);
  ASSERT_TRUE(ring->append(payload_for(10, 50), 0));
  ring.reset();
  auto again = open_ok(options(path, 8192));
  ASSERT_TRUE(again);
  EXPECT_EQ(again->stats().damaged, 1u);
  drain_and_compare(*again, expected(seq_range(6, 11), 50, 0));
}

TEST(DiskRing, PoppingARecordThatFailsItsChecksumCountsItAsDamaged) {
  TempDir dir;
  const std::string path = dir.file("ring");
  auto ring = open_ok(options(path, 8192));
  ASSERT_TRUE(ring);
  for (std::uint64_t i = 0; i < 3; ++i) ASSERT_TRUE(ring->append(payload_for(i, 50), 0));
  damage_record(path, 0);
  auto bad = ring->front();
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::kIo);
  ASSERT_TRUE(ring->pop_front());  // what the agent does with an unreadable record
  EXPECT_EQ(ring->stats().damaged, 1u);
  EXPECT_EQ(ring->stats().dropped, 0u);
  ASSERT_TRUE(ring->pop_front());
  EXPECT_EQ(ring->stats().damaged, 1u) << "an intact record popped is not damaged";
  ring.reset();
  auto again = open_ok(options(path, 8192));
  ASSERT_TRUE(again);
  EXPECT_EQ(again->stats().damaged, 1u);
  drain_and_compare(*again, expected({2}, 50, 0));
}

TEST(DiskRing, RecordDamagedWhileOpenIsSalvagedWhenOverflowReachesIt) {
  TempDir dir;
  const std::string path = dir.file("ring");
  auto ring = open_ok(options(path, 4096));
  ASSERT_TRUE(ring);
  for (std::uint64_t i = 0; i < 32; ++i) ASSERT_TRUE(ring->append(payload_for(i, 100), 0));
  ASSERT_EQ(ring->size(), 32u) << "the ring is full";
  const std::uint64_t off = offset_of_seq(path, 1);
  ASSERT_NE(off, 0u);
  scramble(path, off, kRecordHeader, 7);
  // Dropping seq 0 finds seq 1 unreadable: salvage frees its space, so nothing is dropped.
  ASSERT_TRUE(ring->append(payload_for(32, 100), 0));
  std::vector<std::uint64_t> want = seq_range(2, 33);
  want.insert(want.begin(), 0);
  expect_holds(*ring, want, 100, 0);
  EXPECT_EQ(ring->stats().damaged, 1u);
  EXPECT_EQ(ring->stats().dropped, 0u);
}

// --- Cursor: reading beyond the head. ---

TEST(DiskRing, CursorWalksFromBeginToEndWithoutConsuming) {
  TempDir dir;
  auto ring = open_ok(options(dir.file("ring")));
  ASSERT_TRUE(ring);
  EXPECT_EQ(ring->begin().seq, 0u);
  EXPECT_EQ(ring->end().seq, 0u);
  auto none = ring->read(ring->begin());
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, ErrorCode::kNotFound);

  for (std::uint64_t i = 0; i < 10; ++i) {
    ASSERT_TRUE(ring->append(payload_for(i, static_cast<std::size_t>(20 + i)), static_cast<std::uint16_t>(i)));
  }
  DiskRing::Cursor c = ring->begin();
  for (std::uint64_t i = 0; i < 10; ++i) {
    ASSERT_EQ(c.seq, i);
    auto r = ring->read(c);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->first.seq, i);
    EXPECT_EQ(r->first.flags, i);
    EXPECT_EQ(r->first.payload, payload_for(i, static_cast<std::size_t>(20 + i)));
    c = r->second;
  }
  EXPECT_EQ(c.seq, ring->end().seq);
  EXPECT_EQ(c.offset, ring->end().offset);
  auto end = ring->read(c);
  ASSERT_FALSE(end);
  EXPECT_EQ(end.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(ring->size(), 10u) << "reading does not consume";
  EXPECT_EQ(ring->front()->seq, 0u);
}

TEST(DiskRing, CursorAtTheEndSeesRecordsAppendedLater) {
  TempDir dir;
  auto ring = open_ok(options(dir.file("ring")));
  ASSERT_TRUE(ring);
  for (std::uint64_t i = 0; i < 3; ++i) ASSERT_TRUE(ring->append(payload_for(i, 40), 0));
  DiskRing::Cursor c = ring->begin();
  for (int i = 0; i < 3; ++i) c = ring->read(c)->second;
  ASSERT_EQ(c.seq, 3u);
  ASSERT_FALSE(ring->read(c));
  ASSERT_TRUE(ring->append(payload_for(3, 40), 0));
  ASSERT_TRUE(ring->pop_front());  // the confirmed head goes; the cursor is past it
  ASSERT_TRUE(ring->append(payload_for(4, 40), 0));
  for (std::uint64_t want = 3; want < 5; ++want) {
    auto r = ring->read(c);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->first.seq, want);
    EXPECT_EQ(r->first.payload, payload_for(want, 40));
    c = r->second;
  }
  EXPECT_EQ(c.seq, 5u);
  EXPECT_FALSE(ring->read(c));
}

TEST(DiskRing, CursorWhoseRecordWasPoppedOrDroppedIsNotFound) {
  TempDir dir;
  auto ring = open_ok(options(dir.file("ring"), 4096));
  ASSERT_TRUE(ring);
  for (std::uint64_t i = 0; i < 5; ++i) ASSERT_TRUE(ring->append(payload_for(i, 100), 0));
  const DiskRing::Cursor at0 = ring->begin();
  const DiskRing::Cursor at1 = ring->read(at0)->second;
  ASSERT_EQ(at1.seq, 1u);
  ASSERT_TRUE(ring->pop_front());
  auto popped = ring->read(at0);
  ASSERT_FALSE(popped);
  EXPECT_EQ(popped.error().code, ErrorCode::kNotFound);
  ASSERT_EQ(ring->read(at1)->first.seq, 1u);

  // Overflow drops the record under the cursor; the reader restarts from begin().
  std::uint64_t next = 5;
  while (ring->front_seq() <= 1) ASSERT_TRUE(ring->append(payload_for(next++, 100), 0));
  EXPECT_GT(ring->stats().dropped, 0u);
  auto dropped = ring->read(at1);
  ASSERT_FALSE(dropped);
  EXPECT_EQ(dropped.error().code, ErrorCode::kNotFound);
  auto restart = ring->read(ring->begin());
  ASSERT_TRUE(restart);
  EXPECT_EQ(restart->first.seq, ring->front_seq());
  EXPECT_EQ(restart->first.payload, payload_for(ring->front_seq(), 100));
}

TEST(DiskRing, CursorTakenAtEndBeforeAnAppendThatWraps) {
  TempDir dir;
  auto ring = open_ok(options(dir.file("ring"), 4096));
  ASSERT_TRUE(ring);
  // 200-byte payloads take 224 bytes: after 18 the tail is at 4032 and the next one wraps.
  for (std::uint64_t i = 0; i < 18; ++i) ASSERT_TRUE(ring->append(payload_for(i, 200), 0));
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(ring->pop_front());
  const DiskRing::Cursor end = ring->end();
  ASSERT_EQ(end.seq, 18u);
  ASSERT_EQ(end.offset, 4032u);
  ASSERT_TRUE(ring->append(payload_for(18, 200), 0));
  EXPECT_EQ(ring->stats().dropped, 0u) << "the record went to offset 0, in front of the head";
  auto r = ring->read(end);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->first.seq, 18u);
  EXPECT_EQ(r->first.payload, payload_for(18, 200));
  EXPECT_EQ(r->second.seq, ring->end().seq);
  EXPECT_EQ(r->second.offset, ring->end().offset);
  expect_holds(*ring, seq_range(3, 19), 200, 0);

  // An empty ring puts the next record at offset 0 too.
  while (!ring->empty()) ASSERT_TRUE(ring->pop_front());
  const DiskRing::Cursor empty_end = ring->end();
  ASSERT_NE(empty_end.offset, 0u);
  ASSERT_TRUE(ring->append(payload_for(19, 200), 0));
  auto e = ring->read(empty_end);
  ASSERT_TRUE(e) << e.error().message;
  EXPECT_EQ(e->first.seq, 19u);
  EXPECT_EQ(e->first.payload, payload_for(19, 200));
}

TEST(DiskRing, SyncPoliciesKeepTheData) {
  // fsync itself is not observable here; this checks the kAlways/kInterval paths do not disturb
  // the ring's contents or error out.
  for (DiskRing::Fsync policy : {DiskRing::Fsync::kAlways, DiskRing::Fsync::kInterval}) {
    TempDir dir;
    auto o = with_sequence(dir.file("ring"), dir.file("ring.seq"), 4096);
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
