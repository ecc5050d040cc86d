// Arbitrary received datagrams through the ICMP reply decoder, raw and unprivileged layouts.
#include <cstdint>

#include "edgemon/firmware/icmp_pinger.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  edgemon::firmware::EchoReply reply;
  (void)edgemon::firmware::decode_echo_reply(data, size, true, reply);
  (void)edgemon::firmware::decode_echo_reply(data, size, false, reply);
  return 0;
}
