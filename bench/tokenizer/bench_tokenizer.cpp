// Times clintorch::tok::Tokenizer::encode_batch on a corpus file (one text per line) and prints
// one JSON line: {"threads", "seconds" (best wall time of --repeat), "cpu_seconds" (best process
// CPU time), "bytes", "tokens", "texts"}.
// bench/tokenizer/run.py runs it next to HF `tokenizers` on the same file.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <string>
#include <vector>

#include "tokenizer/tokenizer.h"
#include "util/error.h"

namespace {

[[noreturn]] void usage() {
  std::fprintf(stderr,
               "usage: clintorch_bench_tokenizer --model DIR --corpus FILE [--threads N] "
               "[--repeat R] [--lowercase|--no-lowercase]\n");
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  std::string model, corpus;
  size_t threads = 1, repeat = 5;
  clintorch::tok::TokenizerOptions options;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage();
      return argv[++i];
    };
    if (a == "--model") {
      model = value();
    } else if (a == "--corpus") {
      corpus = value();
    } else if (a == "--threads") {
      threads = std::stoul(value());
    } else if (a == "--repeat") {
      repeat = std::max<size_t>(1, std::stoul(value()));
    } else if (a == "--lowercase") {
      options.do_lower_case = true;
    } else if (a == "--no-lowercase") {
      options.do_lower_case = false;
    } else {
      usage();
    }
  }
  if (model.empty() || corpus.empty()) usage();
  try {
    options.warn_cased_vocab_lowercased = false;
    const auto tk = clintorch::tok::Tokenizer::from_dir(model, options);
    std::ifstream in(corpus, std::ios::binary);
    if (!in) clintorch::fail(corpus, "cannot open the corpus file");
    std::vector<std::string> texts;
    size_t bytes = 0;
    for (std::string line; std::getline(in, line);) {
      bytes += line.size();
      texts.push_back(std::move(line));
    }
    const std::vector<std::string_view> views(texts.begin(), texts.end());
    auto cpu_now = [] {
      timespec ts{};
      clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
      return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
    };
    double best = 1e30, best_cpu = 1e30;
    size_t tokens = 0;
    for (size_t r = 0; r < repeat + 1; ++r) {  // the first run warms caches and is not counted
      const double c0 = cpu_now();
      const auto t0 = std::chrono::steady_clock::now();
      const auto batch = tk.encode_batch(views, {}, threads);
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      const double cpu = cpu_now() - c0;
      tokens = 0;
      for (const auto& e : batch.encodings) tokens += e.size();
      if (r > 0) {
        best = std::min(best, s);
        best_cpu = std::min(best_cpu, cpu);
      }
    }
    std::printf(
        "{\"threads\": %zu, \"seconds\": %.6f, \"cpu_seconds\": %.6f, \"bytes\": %zu, "
        "\"tokens\": %zu, \"texts\": %zu}\n",
        threads, best, best_cpu, bytes, tokens, texts.size());
  } catch (const clintorch::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
