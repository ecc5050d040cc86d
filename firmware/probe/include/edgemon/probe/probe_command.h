// `edgemon-agent probe [--count N] HOST...`: one round against every HOST, printed like fping's
// -c summary (one line per target, plus median/p95/stddev/jitter, TTL and the verdict).
//
// Exit status (fping's): 0 every target answered; 1 some target is DOWN (no reply in the round);
// 2 some name did not resolve; 3 bad arguments; 4 no ICMP socket (CAP_NET_RAW / ping_group_range).
#pragma once

#include <iosfwd>

namespace edgemon::probe {

// argv[0] is the subcommand name ("probe"); output goes to `out`, diagnostics to `err`.
int run_probe_command(int argc, char** argv, std::ostream& out, std::ostream& err);
// Same, on std::cout / std::cerr.
int run_probe_command(int argc, char** argv);

}  // namespace edgemon::probe
