// Inference-only linear layers on the CPU through oneDNN with weights packed once (the path
// torch.compile's CPU freezing takes): `mkldnn::_reorder_linear_weight` lays a weight out for
// oneDNN's GEMM kernels, `mkldnn::_linear_pointwise` multiplies by it and applies GELU/ReLU or a
// residual add in the GEMM's epilogue instead of in separate passes over the output.
//
// Where it is used (model/bert.cpp): no gradient, module in eval mode, CPU tensors, and a
// LibTorch built with oneDNN. On the AVX512-BF16 EPYC of bench/RESULTS.md, fp32 GEMMs of
// MiniLM's shapes run ~1.13x faster than ATen's (MKL) and a fused GELU saves a pass.
// fp32 results differ from ATen's in the last bits (another summation order), as two BLAS
// libraries do.
//
//   PackedLinear packed;  // one per layer (a member of the module)
//   if (PackedLinear::usable(x, is_training())) y = packed.run(x, {&dense->weight}, dense->bias,
//                                                              PackedLinear::Epilogue::kGelu);
#pragma once

#include <ATen/core/Tensor.h>

#include <memory>
#include <mutex>
#include <vector>

namespace clintorch::model {

class PackedLinear {
 public:
  enum class Epilogue { kNone, kGelu, kGeluTanh, kRelu, kAdd };

  PackedLinear() = default;
  // Copies (module clone()) start with no packed weight of their own.
  PackedLinear(const PackedLinear&) {}
  PackedLinear& operator=(const PackedLinear&) { return *this; }

  // Whether `x` can take this path now: CPU, no gradient recorded, not training, fp32 or bf16
  // (after autocast), and the oneDNN operators present in this LibTorch.
  static bool usable(const at::Tensor& x, bool training);
  // Whether this LibTorch has the oneDNN operators (and CLINTORCH_PACKED_LINEAR is not 0).
  static bool available();

  // act(x W^T + b) (+ residual for kAdd), x: (..., in) -> (..., out). `weights` are stacked
  // along the output dimension (one for a plain layer, Q/K/V for the fused projection), as
  // `biases`. Under CPU autocast the GEMM runs in the autocast dtype, as torch::linear would.
  // The packed weight is rebuilt when a weight changes (its version counter: an optimizer step)
  // or the compute dtype does.
  at::Tensor run(const at::Tensor& x, const std::vector<const at::Tensor*>& weights,
                 const std::vector<const at::Tensor*>& biases, Epilogue epilogue,
                 const at::Tensor& residual = {});

 private:
  struct Key {
    std::vector<const void*> data;
    std::vector<int64_t> versions;
    c10::ScalarType dtype = c10::ScalarType::Undefined;
    bool operator==(const Key& o) const {
      return data == o.data && versions == o.versions && dtype == o.dtype;
    }
  };
  std::mutex mutex_;  // forward() may run on several threads (serving)
  Key key_;
  at::Tensor weight_;  // packed (oneDNN layout)
  at::Tensor bias_;    // (out) in the compute dtype; undefined without bias
};

}  // namespace clintorch::model
