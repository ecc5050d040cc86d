#include "edgemon/probe/service_checks.h"

#include <gtest/gtest.h>

namespace edgemon::probe {
namespace {

TEST(GrpcHealthWire, RequestFraming) {
  EXPECT_EQ(grpc_health_request(""), std::string("\0\0\0\0\0", 5));
  EXPECT_EQ(grpc_health_request("ab"), std::string("\0\0\0\0\x04\x0a\x02"
                                                   "ab",
                                                   9));
  const std::string long_name(200, 'x');
  const std::string r = grpc_health_request(long_name);
  EXPECT_EQ(r.size(), 5u + 1 + 2 + 200);
  EXPECT_EQ(static_cast<unsigned char>(r[6]), 0xc8);  // 200 as a varint: c8 01
  EXPECT_EQ(r[7], '\x01');
}

TEST(GrpcHealthWire, ResponseTable) {
  struct Case {
    const char* label;
    std::string bytes;
    int want;
  };
  const Case cases[] = {
      {"serving", std::string("\0\0\0\0\x02\x08\x01", 7), 1},
      {"not serving", std::string("\0\0\0\0\x02\x08\x02", 7), 2},
      {"service unknown", std::string("\0\0\0\0\x02\x08\x03", 7), 3},
      {"empty message = UNKNOWN", std::string("\0\0\0\0\0", 5), 0},
      {"short prefix", std::string("\0\0\0", 3), -1},
      {"compressed flag", std::string("\x01\0\0\0\x02\x08\x01", 7), -1},
      {"length lies (too long)", std::string("\0\0\0\0\x09\x08\x01", 7), -1},
      {"length lies (too short)", std::string("\0\0\0\0\x01\x08\x01", 7), -1},
      {"truncated varint", std::string("\0\0\0\0\x02\x08\x81", 7), -1},
      {"length-delimited field", std::string("\0\0\0\0\x02\x0a\x00", 7), -1},
      {"endless varint",
       std::string("\0\0\0\0\x0b\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", 16), -1},
  };
  for (const Case& c : cases) EXPECT_EQ(grpc_health_status(c.bytes), c.want) << c.label;
}

}  // namespace
}  // namespace edgemon::probe
