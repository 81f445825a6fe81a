// Runs every fuzz target of tests/fuzz/ on the files of CORPUS/<target>/ (the committed seeds and
// the inputs of past findings), the way libFuzzer replays a corpus: one call per file. A crash or
// an abort fails the run; the last "replay:" line on stderr names the file. Usage:
//   clintorch_fuzz_replay tests/fuzz/corpus [TARGET ...]
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace {

struct FuzzTarget {
  const char* name;
  int (*one)(const uint8_t*, size_t);
  int (*init)(int*, char***);
};

#include "fuzz_targets.inc"

namespace fs = std::filesystem;

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR [TARGET ...]\n", argv[0]);
    return 2;
  }
  const fs::path root = argv[1];
  std::vector<std::string> only(argv + 2, argv + argc);
  size_t files = 0;
  size_t targets = 0;
  for (const FuzzTarget& t : kTargets) {
    if (!only.empty() && std::find(only.begin(), only.end(), t.name) == only.end()) continue;
    const fs::path dir = root / t.name;
    if (!fs::is_directory(dir)) {
      std::fprintf(stderr, "replay: no seed corpus %s for target %s\n", dir.c_str(), t.name);
      return 1;
    }
    if (t.init != nullptr) t.init(&argc, &argv);
    std::vector<fs::path> inputs;
    for (const auto& e : fs::directory_iterator(dir)) {
      if (e.is_regular_file()) inputs.push_back(e.path());
    }
    std::sort(inputs.begin(), inputs.end());
    for (const fs::path& p : inputs) {
      std::fprintf(stderr, "replay: %s %s\n", t.name, p.filename().c_str());
      std::ifstream in(p, std::ios::binary);
      const std::string bytes((std::istreambuf_iterator<char>(in)),
                              std::istreambuf_iterator<char>());
      t.one(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
      ++files;
    }
    if (inputs.empty()) {
      std::fprintf(stderr, "replay: the corpus of %s is empty\n", t.name);
      return 1;
    }
    ++targets;
  }
  std::printf("replay: %zu files through %zu fuzz targets, no crash\n", files, targets);
  return 0;
}
