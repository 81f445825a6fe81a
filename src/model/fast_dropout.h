// Dropout for CPU training whose keep-mask is a counter-based hash of (seed, element index)
// instead of a stream of Bernoulli draws. torch's CPU dropout draws one 64-bit random number per
// element (CPUGeneratorImpl::random64, serial) and stores a mask for the backward pass; here one
// 64-bit seed is drawn from the default CPU generator per call, the mask is recomputed from it in
// the backward pass (nothing stored) and both passes are parallel and vectorised.
//
// Semantics are torch.nn.functional.dropout's: each element is kept with probability 1 - p and
// scaled by 1 / (1 - p). Results depend on the default generator's state, so torch::manual_seed
// and the trainer's saved RNG states make a run reproducible bitwise, as with torch's dropout
// (the masks themselves differ from torch's).
//
//   at::Tensor y = clintorch::model::fast_dropout(x, 0.1, is_training());
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>

namespace clintorch::model {

// x with elements zeroed with probability p and the rest scaled by 1 / (1 - p); differentiable.
// Returns x itself when !training or p == 0. CUDA tensors and types other than float, double,
// bf16 and fp16 go to at::dropout.
at::Tensor fast_dropout(const at::Tensor& x, double p, bool training);

// The keep decision of element `index` for `seed` at drop probability threshold / 2^32 (resolved
// to 1/2^16: elements 2k and 2k+1 take the two 16-bit halves of one hash): exposed for the tests
// (keep rate, independence of neighbouring elements).
bool fast_dropout_keeps(uint64_t seed, uint64_t index, uint32_t threshold);

}  // namespace clintorch::model
