// fast_dropout against the definition of dropout: keep rate 1 - p, kept values scaled by
// 1 / (1 - p), the backward pass zeroes exactly the dropped elements, reproducible from
// torch::manual_seed, independent between calls and between neighbouring elements.
#include <gtest/gtest.h>

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <cmath>

#include "model/fast_dropout.h"

namespace cm = clintorch::model;

namespace {

// Binomial standard deviations of the keep count over n elements.
double sigmas(double kept, double n, double p) {
  const double expected = n * (1.0 - p);
  return std::abs(kept - expected) / std::sqrt(n * p * (1.0 - p));
}

}  // namespace

TEST(FastDropout, KeepsOneMinusPAndScalesTheKeptValues) {
  for (const double p : {0.1, 0.5, 0.9}) {
    torch::manual_seed(7);
    const at::Tensor x = torch::rand({512, 1024}) + 0.5;  // no zeros of its own
    const at::Tensor y = cm::fast_dropout(x, p, /*training=*/true);
    const at::Tensor kept = y.ne(0);
    const double n = static_cast<double>(x.numel());
    EXPECT_LT(sigmas(kept.sum().item<double>(), n, p), 5.0) << "p=" << p;
    const at::Tensor expected = x * (1.0 / (1.0 - p));
    EXPECT_TRUE(torch::allclose(y.masked_select(kept), expected.masked_select(kept), 1e-6, 0));
  }
}

TEST(FastDropout, IsTheIdentityInEvalOrAtZero) {
  const at::Tensor x = torch::randn({4, 5});
  EXPECT_TRUE(cm::fast_dropout(x, 0.3, /*training=*/false).equal(x));
  EXPECT_TRUE(cm::fast_dropout(x, 0.0, /*training=*/true).equal(x));
  EXPECT_EQ(cm::fast_dropout(x, 1.0, /*training=*/true).abs().sum().item<float>(), 0.0f);
}

TEST(FastDropout, GradientIsTheMaskTimesTheScale) {
  torch::manual_seed(3);
  const at::Tensor x = (torch::rand({64, 33}) + 0.5).requires_grad_();
  const at::Tensor y = cm::fast_dropout(x, 0.25, /*training=*/true);
  const at::Tensor upstream = torch::randn({64, 33});
  (y * upstream).sum().backward();
  const at::Tensor mask = y.detach().ne(0).to(torch::kFloat);
  EXPECT_TRUE(torch::allclose(x.grad(), upstream * mask / 0.75, 1e-6, 1e-7));
}

TEST(FastDropout, NonContiguousGradientUsesTheSameMask) {
  torch::manual_seed(4);
  const at::Tensor x = (torch::rand({16, 24}) + 0.5).requires_grad_();
  const at::Tensor y = cm::fast_dropout(x, 0.5, /*training=*/true);
  const at::Tensor upstream = torch::randn({24, 16}).t();  // non-contiguous
  (y * upstream).sum().backward();
  const at::Tensor mask = y.detach().ne(0).to(torch::kFloat);
  EXPECT_TRUE(torch::allclose(x.grad(), upstream * mask * 2.0, 1e-6, 1e-7));
}

TEST(FastDropout, ReproducibleFromTheSeedAndFreshOnEveryCall) {
  const at::Tensor x = torch::ones({1000});
  torch::manual_seed(11);
  const at::Tensor a1 = cm::fast_dropout(x, 0.5, true), a2 = cm::fast_dropout(x, 0.5, true);
  torch::manual_seed(11);
  const at::Tensor b1 = cm::fast_dropout(x, 0.5, true);
  EXPECT_TRUE(a1.equal(b1));
  EXPECT_FALSE(a1.equal(a2));
  // Two calls' masks agree on about half the elements (independent masks at p = 0.5).
  const double agree = a1.eq(a2).sum().item<double>();
  EXPECT_LT(sigmas(agree, 1000, 0.5), 5.0);
}

TEST(FastDropout, BFloat16AndNeighbouringElementsIndependent) {
  torch::manual_seed(5);
  const at::Tensor x = torch::ones({200000}, torch::kBFloat16);
  const at::Tensor kept = cm::fast_dropout(x, 0.5, true).ne(0).to(torch::kFloat);
  EXPECT_LT(sigmas(kept.sum().item<double>(), 200000, 0.5), 5.0);
  // P(kept[i] and kept[i+1]) = 1/4 for independent neighbours.
  const double both = (kept.narrow(0, 0, 199999) * kept.narrow(0, 1, 199999)).sum().item<double>();
  EXPECT_LT(sigmas(both, 199999, 0.75), 5.0);
  // The keep decision itself, element by element, for one seed: rate 1 - p.
  int kept_count = 0;
  for (uint64_t i = 0; i < 100000; ++i) kept_count += cm::fast_dropout_keeps(42, i, 1U << 30);
  EXPECT_LT(sigmas(kept_count, 100000, 0.25), 5.0);
}

// The blocked kernels (float and bf16, a thread range starting at an odd element) keep exactly
// the elements the scalar definition keeps, and scale them in float, rounded once to the type.
TEST(FastDropout, KernelsKeepWhatTheDefinitionKeeps) {
  const int threads = at::get_num_threads();
  at::set_num_threads(2);  // 100,001 elements: the second thread's range starts at element 50,001
  for (const auto dtype : {torch::kFloat, torch::kBFloat16, torch::kDouble}) {
    torch::manual_seed(21);
    const at::Tensor x = (torch::rand({100001}) + 0.5).to(dtype);
    torch::manual_seed(8);
    const uint64_t seed =
        at::check_generator<at::CPUGeneratorImpl>(at::detail::getDefaultCPUGenerator())->random64();
    torch::manual_seed(8);
    const at::Tensor y = cm::fast_dropout(x, 0.3, /*training=*/true);
    const at::Tensor kept = y.ne(0);
    const uint32_t threshold = static_cast<uint32_t>(std::ldexp(0.3, 32));
    int64_t mismatches = 0;
    const auto k = kept.accessor<bool, 1>();
    for (int64_t i = 0; i < x.numel(); ++i) {
      mismatches += k[i] != cm::fast_dropout_keeps(seed, static_cast<uint64_t>(i), threshold);
    }
    EXPECT_EQ(mismatches, 0) << dtype;
    // Kept values: x * (1 / (1 - p)) computed in float, rounded once to the type.
    const at::Tensor expected = (x.to(torch::kFloat) * static_cast<float>(1.0 / 0.7)).to(dtype);
    EXPECT_TRUE(y.masked_select(kept).equal(expected.masked_select(kept))) << dtype;
  }
  at::set_num_threads(threads);
}
