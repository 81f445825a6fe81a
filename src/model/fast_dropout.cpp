#include "model/fast_dropout.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/custom_function.h>

#include <algorithm>
#include <cmath>
#include <cstring>
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

// The keep hash of pair index = hi * 2^32 + lo: two rounds keyed by both halves of the seed.
// The index's high half enters the second round through `key` (round_key) so that tensors beyond
// 2^33 elements do not repeat masks, and the kernel's inner loop stays on 32-bit lanes.
inline uint32_t round_key(uint32_t seed_hi, uint32_t hi) {
  return seed_hi + hi * 0x9e3779b9U;
}
inline uint32_t keep_hash(uint32_t seed_lo, uint32_t key, uint32_t lo) {
  return mix32(mix32(lo ^ seed_lo) + key);
}

inline float bf16_to_float(uint16_t bits) {
  const uint32_t u = static_cast<uint32_t>(bits) << 16;
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

// Round to nearest even, as c10::BFloat16 does (NaN stays NaN).
inline uint16_t float_to_bf16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  if ((u & 0x7fffffffU) > 0x7f800000U) return 0x7fc0;
  return static_cast<uint16_t>((u + 0x7fffU + ((u >> 16) & 1U)) >> 16);
}

// The block loops below are cloned for AVX-512 and AVX2 (the build targets baseline x86-64).
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define CLINTORCH_DROPOUT_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define CLINTORCH_DROPOUT_CLONES
#endif

// The keep decisions of elements [2 * pair0, 2 * (pair0 + n)): one hash per pair of elements,
// its low 16 bits for the even element and its high 16 bits for the odd one (p is resolved to
// 1/65536, i.e. within 8e-6 of the requested rate). Written as 16-bit lanes into `lanes` in
// element order (little-endian), so the loop that applies them runs on plain arrays.
CLINTORCH_DROPOUT_CLONES
void hash_block(uint32_t* lanes, uint64_t pair0, uint32_t n, uint32_t seed_lo, uint32_t seed_hi) {
  uint64_t pair = pair0;
  uint32_t done = 0;
  while (done < n) {  // cut where the pair index's high half changes (32-bit lanes inside)
    const auto hi = static_cast<uint32_t>(pair >> 32);
    const uint64_t next_hi = (static_cast<uint64_t>(hi) + 1) << 32;
    const auto count = static_cast<uint32_t>(std::min<uint64_t>(n - done, next_hi - pair));
    const uint32_t key = round_key(seed_hi, hi);
    const auto base = static_cast<uint32_t>(pair);
    for (uint32_t j = 0; j < count; ++j) lanes[done + j] = keep_hash(seed_lo, key, base + j);
    done += count;
    pair += count;
  }
}

// Applies 16-bit keep lanes to n elements: out = in * scale where lane >= threshold, else 0.
CLINTORCH_DROPOUT_CLONES
void apply_block(const float* in, float* out, const uint16_t* lanes, uint32_t n, uint16_t threshold,
                 float scale) {
  for (uint32_t j = 0; j < n; ++j) out[j] = lanes[j] >= threshold ? in[j] * scale : 0.0f;
}

CLINTORCH_DROPOUT_CLONES
void apply_block(const uint16_t* in, uint16_t* out, const uint16_t* lanes, uint32_t n,
                 uint16_t threshold, float scale) {  // bf16 bits
  for (uint32_t j = 0; j < n; ++j) {
    out[j] = lanes[j] >= threshold ? float_to_bf16(bf16_to_float(in[j]) * scale) : uint16_t{0};
  }
}

template <typename T>
void apply_block(const T* in, T* out, const uint16_t* lanes, uint32_t n, uint16_t threshold,
                 float scale) {
  for (uint32_t j = 0; j < n; ++j) {
    out[j] = lanes[j] >= threshold ? static_cast<T>(static_cast<float>(in[j]) * scale) : T(0);
  }
}

inline uint16_t lane_of(uint64_t index, uint32_t seed_lo, uint32_t seed_hi) {
  const uint64_t pair = index >> 1;
  const uint32_t h = keep_hash(seed_lo, round_key(seed_hi, static_cast<uint32_t>(pair >> 32)),
                               static_cast<uint32_t>(pair));
  return static_cast<uint16_t>((index & 1) ? h >> 16 : h & 0xffffU);
}

// out[i] = in[i] * scale where kept, else 0, for i in [begin, end), in blocks of kBlock
// elements whose keep lanes are hashed into a stack buffer first.
template <typename T, typename Bits>
void mask_range(const T* in, T* out, int64_t begin, int64_t end, uint32_t seed_lo, uint32_t seed_hi,
                uint16_t threshold, float scale) {
  const auto* src = reinterpret_cast<const Bits*>(in);
  auto* dst = reinterpret_cast<Bits*>(out);
  if (begin < end && (begin & 1)) {  // an odd first element: its pair started before the range
    const uint16_t lane = lane_of(static_cast<uint64_t>(begin), seed_lo, seed_hi);
    apply_block(src + begin, dst + begin, &lane, 1, threshold, scale);
    ++begin;
  }
  constexpr int64_t kBlock = 2048;  // elements (an even number)
  alignas(64) uint32_t lanes[kBlock / 2];
  while (begin < end) {
    const int64_t n = std::min<int64_t>(kBlock, end - begin);
    const auto pairs = static_cast<uint32_t>((n + 1) / 2);
    hash_block(lanes, static_cast<uint64_t>(begin) >> 1, pairs, seed_lo, seed_hi);
    apply_block(src + begin, dst + begin, reinterpret_cast<const uint16_t*>(lanes),
                static_cast<uint32_t>(n), threshold, scale);
    begin += n;
  }
}

// mask_range on the element type's bits: float and bf16 (as uint16_t) have vectorised blocks.
template <typename T>
void mask_any(const T* in, T* out, int64_t begin, int64_t end, uint32_t seed_lo, uint32_t seed_hi,
              uint16_t threshold, float scale) {
  mask_range<T, T>(in, out, begin, end, seed_lo, seed_hi, threshold, scale);
}
void mask_any(const at::BFloat16* in, at::BFloat16* out, int64_t begin, int64_t end,
              uint32_t seed_lo, uint32_t seed_hi, uint16_t threshold, float scale) {
  mask_range<at::BFloat16, uint16_t>(in, out, begin, end, seed_lo, seed_hi, threshold, scale);
}

uint16_t threshold_for(double p) {
  const double t = std::round(std::ldexp(p, 16));  // p * 2^16: drop when the lane is below it
  return t >= 65535.0 ? uint16_t{0xffff} : static_cast<uint16_t>(t);
}

// Applies the mask of `seed` to x (same shape, contiguous result).
at::Tensor apply_mask(const at::Tensor& x, uint64_t seed, double p) {
  const at::Tensor in = x.contiguous();
  at::Tensor out = at::empty_like(in);
  const int64_t n = in.numel();
  const auto seed_lo = static_cast<uint32_t>(seed), seed_hi = static_cast<uint32_t>(seed >> 32);
  const uint16_t threshold = threshold_for(p);
  const auto scale = static_cast<float>(1.0 / (1.0 - p));
  constexpr int64_t kGrain = 32768;
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kBFloat16, at::kHalf, in.scalar_type(), "fast_dropout", [&] {
    const scalar_t* src = in.const_data_ptr<scalar_t>();
    scalar_t* dst = out.mutable_data_ptr<scalar_t>();
    at::parallel_for(0, n, kGrain, [&](int64_t begin, int64_t end) {
      mask_any(src, dst, begin, end, seed_lo, seed_hi, threshold, scale);
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
  const uint16_t lane =
      lane_of(index, static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32));
  return lane >= ((static_cast<uint64_t>(threshold) + 0x8000U) >> 16);
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
