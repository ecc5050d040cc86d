// A libFuzzer-compatible driver for compilers without libFuzzer: runs every seed file, then
// `--iterations` inputs made from the seeds by deterministic mutations (flip, truncate, insert,
// duplicate, splice). Same seed, same inputs: a crash found here reproduces.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

std::vector<std::string> load_seeds(const std::vector<std::string>& paths) {
  std::vector<std::string> seeds;
  for (const std::string& p : paths) {
    std::vector<std::filesystem::path> files;
    if (std::filesystem::is_directory(p)) {
      for (const auto& e : std::filesystem::directory_iterator(p)) files.push_back(e.path());
    } else {
      files.emplace_back(p);
    }
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      std::ifstream in(f, std::ios::binary);
      seeds.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
  }
  if (seeds.empty()) seeds.emplace_back();
  return seeds;
}

std::string mutate(const std::string& a, const std::string& b, std::mt19937_64& rng) {
  std::string s = a;
  const int rounds = 1 + static_cast<int>(rng() % 4);
  for (int r = 0; r < rounds; ++r) {
    const std::size_t pos = s.empty() ? 0 : rng() % s.size();
    switch (rng() % 6) {
      case 0:
        if (!s.empty()) s[pos] = static_cast<char>(static_cast<unsigned>(s[pos]) ^ (1u << (rng() % 8)));
        break;
      case 1: s.resize(pos); break;
      case 2: s.insert(pos, 1, static_cast<char>(rng() % 256)); break;
      case 3: if (!s.empty()) s.insert(pos, s.substr(pos, 1 + rng() % 16)); break;
      case 4: s = s.substr(0, pos) + b.substr(b.empty() ? 0 : rng() % b.size()); break;
      default: {
        static const char* tokens[] = {"{", "}", "[", "]", "\"", ",", ":", "null", "-1", "1e999", "\\u0000", "\xff"};
        s.insert(pos, tokens[rng() % (sizeof tokens / sizeof tokens[0])]);
      }
    }
  }
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  long iterations = 10000;
  std::vector<std::string> paths;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--iterations") == 0 && i + 1 < argc) {
      iterations = std::strtol(argv[++i], nullptr, 10);
    } else {
      paths.emplace_back(argv[i]);
    }
  }
  const std::vector<std::string> seeds = load_seeds(paths);
  for (const std::string& s : seeds) {
    LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(s.data()), s.size());
  }
  std::mt19937_64 rng(0x5eed);
  for (long i = 0; i < iterations; ++i) {
    const std::string in = mutate(seeds[rng() % seeds.size()], seeds[rng() % seeds.size()], rng);
    LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(in.data()), in.size());
  }
  std::printf("fuzz smoke: %zu seeds + %ld mutated inputs, no crash\n", seeds.size(), iterations);
  return 0;
}
