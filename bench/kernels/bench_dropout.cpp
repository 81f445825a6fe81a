// Dropout on the CPU, forward + backward, on the shapes of a MiniLM NER step (batch 16, ~36 real
// tokens, padded to ~70): clintorch's fast_dropout against torch's dropout (what transformers
// calls), same tensors, same threads, alternating, best of N. Prints ms per call and the ratio.
//
//   build/bench/clintorch_bench_dropout [threads=2] [repeats=20]
#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>

#include "model/fast_dropout.h"

namespace {

double best_ms(const std::function<void()>& fn, int repeats) {
  double best = 1e30;
  for (int r = 0; r < repeats; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    fn();
    const std::chrono::duration<double, std::milli> dt = std::chrono::steady_clock::now() - t0;
    best = std::min(best, dt.count());
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  const int threads = argc > 1 ? std::atoi(argv[1]) : 2;
  const int repeats = argc > 2 ? std::atoi(argv[2]) : 20;
  torch::set_num_threads(threads);
  struct Shape {
    const char* what;
    std::vector<int64_t> sizes;
  };
  const Shape shapes[] = {{"hidden (576 tokens x 384)", {576, 384}},
                          {"attention probs (16 x 12 x 70 x 70)", {16, 12, 70, 70}},
                          {"FFN-sized (576 x 1536)", {576, 1536}}};
  std::printf("threads %d, best of %d, forward + backward, p = 0.1\n", threads, repeats);
  std::printf("%-38s %12s %12s %8s\n", "tensor", "torch ms", "fast ms", "ratio");
  for (const auto& s : shapes) {
    const at::Tensor x = torch::randn(s.sizes).requires_grad_();
    const at::Tensor up = torch::randn(s.sizes);
    auto run = [&](bool fast) {
      return [&, fast] {
        const at::Tensor y =
            fast ? clintorch::model::fast_dropout(x, 0.1, true) : torch::dropout(x, 0.1, true);
        y.backward(up);
        x.mutable_grad().reset();
      };
    };
    double torch_ms = 1e30, fast_ms = 1e30;
    for (int round = 0; round < 3; ++round) {  // alternate so drift hits both
      torch_ms = std::min(torch_ms, best_ms(run(false), repeats));
      fast_ms = std::min(fast_ms, best_ms(run(true), repeats));
    }
    std::printf("%-38s %12.3f %12.3f %7.2fx\n", s.what, torch_ms, fast_ms, torch_ms / fast_ms);
  }
  return 0;
}
