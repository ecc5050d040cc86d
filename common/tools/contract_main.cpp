// edgemon-contract: writes the telemetry contract (common/src/metric_key.cpp) as TypeScript, so
// the dashboard's metric constants come from the same table as the agent's and the gateway's.
//   edgemon-contract <out.ts>     (the web build runs it; the file is not committed)
#include <cstdio>
#include <fstream>
#include <string>

#include "edgemon/common/metric_key.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: edgemon-contract <out.ts>\n");
    return 2;
  }
  const std::string text = edgemon::contract_typescript();
  std::ifstream old(argv[1], std::ios::binary);
  const std::string current((std::istreambuf_iterator<char>(old)), std::istreambuf_iterator<char>());
  if (current == text) return 0;  // unchanged: keep the timestamp, so nothing rebuilds
  std::ofstream out(argv[1], std::ios::binary | std::ios::trunc);
  out << text;
  if (!out) {
    std::fprintf(stderr, "edgemon-contract: cannot write %s\n", argv[1]);
    return 1;
  }
  return 0;
}
