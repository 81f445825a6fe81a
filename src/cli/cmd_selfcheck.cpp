// `clintorch selfcheck`: proves the build works end to end (LibTorch, threads, CUDA detection).
#include <torch/torch.h>

#include <cstdio>

#include "cli/commands.h"
#include "util/error.h"
#include "util/version.h"

namespace clintorch::cli {

void add_selfcheck(CLI::App& app) {
  CLI::App* sub = app.add_subcommand("selfcheck", "Check that the build and LibTorch work");
  sub->callback([]() {
    std::printf("%s\n", version_report().c_str());
    torch::manual_seed(0);
    // (64, 64) @ (64, 64): a real matmul through LibTorch's CPU kernels.
    const auto a = torch::randn({64, 64});
    const auto identity = torch::eye(64);
    const double err = (torch::matmul(a, identity) - a).abs().max().item<double>();
    if (err > 1e-6) fail("selfcheck", "LibTorch matmul gave a wrong result (error " +
                                          std::to_string(err) + ")");
    std::printf("selfcheck: ok\n");
  });
}

}  // namespace clintorch::cli
