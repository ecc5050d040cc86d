// Arbitrary datagrams through edgemon::probe::decode_icmp in every layout a socket can deliver:
// IPv4 with and without the IP header, ICMPv6 with and without it. The input is copied to an
// exact-size buffer so ASan catches any read past the byte count.
#include <sys/socket.h>

#include <cstdint>
#include <cstring>
#include <memory>

#include "edgemon/probe/icmp_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto copy = std::make_unique<std::uint8_t[]>(size == 0 ? 1 : size);
  if (size != 0) std::memcpy(copy.get(), data, size);
  const std::span<const std::uint8_t> in(copy.get(), size);
  for (int family : {AF_INET, AF_INET6}) {
    for (bool header : {true, false}) {
      const edgemon::probe::DecodeResult r = edgemon::probe::decode_icmp(in, family, header);
      if (r.status == edgemon::probe::DecodeStatus::kOk && r.message.ttl > 255) __builtin_trap();
    }
  }
  return 0;
}
