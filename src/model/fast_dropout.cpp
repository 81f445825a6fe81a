#include "model/fast_dropout.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <mutex>

namespace clintorch::model {

namespace {

// A 32-bit integer hash with good avalanche (the "lowbias32" constants found by Chris
// Wellons' hash prospector); multiplies and shifts only, so the loops below vectorise.
inline uint32_t mix32(uint32_t x) {
  x ^= x >> 16;
  x *= 0x7feb352dU;
  x ^= x >> 15;
  x *= 0x846ca68bU;
  x ^= x >> 16;
  return x;
}

// The keep hash of element index = hi * 2^32 + lo: two rounds keyed by both halves of the seed.
// The index's high half enters the second round through `key` (round_key) so that tensors beyond
// 2^32 elements do not repeat masks, and the kernel's inner loop stays on 32-bit lanes.
inline uint32_t round_key(uint32_t seed_hi, uint32_t hi) {
  return seed_hi + hi * 0x9e3779b9U;
}
inline uint32_t keep_hash(uint32_t seed_lo, uint32_t key, uint32_t lo) {
  return mix32(mix32(lo ^ seed_lo) + key);
}

// out[i] = in[i] * scale where kept, else 0, for i in [begin, end). The range is cut where the
// index's high half changes, so the inner loop runs on 32-bit lanes only and vectorises; the
// float version is cloned for AVX2 (the build targets baseline x86-64).
template <typename T>
inline void mask_range_impl(const T* in, T* out, int64_t begin, int64_t end, uint32_t seed_lo,
                            uint32_t seed_hi, uint32_t threshold, float scale) {
  while (begin < end) {
    const auto hi = static_cast<uint64_t>(begin) >> 32;
    const int64_t stop = std::min<int64_t>(end, static_cast<int64_t>((hi + 1) << 32));
    const uint32_t key = round_key(seed_hi, static_cast<uint32_t>(hi));
    const auto base = static_cast<uint32_t>(begin);
    const auto n = static_cast<uint32_t>(stop - begin);
    const T* src = in + begin;
    T* dst = out + begin;
    for (uint32_t j = 0; j < n; ++j) {
      const uint32_t h = keep_hash(seed_lo, key, base + j);
      const float v = static_cast<float>(src[j]) * scale;
      dst[j] = static_cast<T>(h >= threshold ? v : 0.0f);
    }
    begin = stop;
  }
}

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
__attribute__((target_clones("avx2", "default")))
#endif
void mask_range(const float* in, float* out, int64_t begin, int64_t end, uint32_t seed_lo,
                uint32_t seed_hi, uint32_t threshold, float scale) {
  mask_range_impl(in, out, begin, end, seed_lo, seed_hi, threshold, scale);
}

template <typename T>
void mask_range(const T* in, T* out, int64_t begin, int64_t end, uint32_t seed_lo, uint32_t seed_hi,
                uint32_t threshold, float scale) {
  mask_range_impl(in, out, begin, end, seed_lo, seed_hi, threshold, scale);
}

uint32_t threshold_for(double p) {
  const double t = std::ldexp(p, 32);  // p * 2^32: drop when the hash is below it
  return t >= 4294967295.0 ? 0xffffffffU : static_cast<uint32_t>(t);
}

// Applies the mask of `seed` to x (same shape, contiguous result).
at::Tensor apply_mask(const at::Tensor& x, uint64_t seed, double p) {
  const at::Tensor in = x.contiguous();
  at::Tensor out = at::empty_like(in);
  const int64_t n = in.numel();
  const auto seed_lo = static_cast<uint32_t>(seed), seed_hi = static_cast<uint32_t>(seed >> 32);
  const uint32_t threshold = threshold_for(p);
  const auto scale = static_cast<float>(1.0 / (1.0 - p));
  constexpr int64_t kGrain = 32768;
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kBFloat16, at::kHalf, in.scalar_type(), "fast_dropout", [&] {
    const scalar_t* src = in.const_data_ptr<scalar_t>();
    scalar_t* dst = out.mutable_data_ptr<scalar_t>();
    at::parallel_for(0, n, kGrain, [&](int64_t begin, int64_t end) {
      // The float overload (AVX2 clone) for float, the template for the others.
      mask_range(src, dst, begin, end, seed_lo, seed_hi, threshold, scale);
    });
  });
  return out;
}

uint64_t draw_seed() {
  at::Generator gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  return at::check_generator<at::CPUGeneratorImpl>(gen)->random64();
}

class FastDropoutFunction : public torch::autograd::Function<FastDropoutFunction> {
 public:
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& x, double p) {
    const uint64_t seed = draw_seed();
    ctx->saved_data["seed"] = static_cast<int64_t>(seed);
    ctx->saved_data["p"] = p;
    return apply_mask(x, seed, p);
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto seed = static_cast<uint64_t>(ctx->saved_data["seed"].toInt());
    const double p = ctx->saved_data["p"].toDouble();
    return {apply_mask(grads[0], seed, p), at::Tensor()};
  }
};

}  // namespace

bool fast_dropout_keeps(uint64_t seed, uint64_t index, uint32_t threshold) {
  const uint32_t key =
      round_key(static_cast<uint32_t>(seed >> 32), static_cast<uint32_t>(index >> 32));
  return keep_hash(static_cast<uint32_t>(seed), key, static_cast<uint32_t>(index)) >= threshold;
}

at::Tensor fast_dropout(const at::Tensor& x, double p, bool training) {
  if (!training || p <= 0.0) return x;
  const auto type = x.scalar_type();
  const bool supported =
      type == at::kFloat || type == at::kDouble || type == at::kBFloat16 || type == at::kHalf;
  if (!x.device().is_cpu() || !supported || p >= 1.0) return at::dropout(x, p, true);
  return FastDropoutFunction::apply(x, p);
}

}  // namespace clintorch::model
