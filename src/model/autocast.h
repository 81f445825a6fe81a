// RAII mixed precision, the C++ counterpart of Python's `with torch.autocast(device, dtype)`:
// inside the scope, matmuls and linear layers run in `dtype` (bf16 by default) while reductions
// such as softmax and LayerNorm stay in fp32, per LibTorch's autocast policy for the device.
#pragma once

#include <c10/core/DeviceType.h>
#include <c10/core/ScalarType.h>

#include <string>

namespace clintorch::model {

// Whether this CPU multiplies bf16 in hardware (AVX512-BF16 or AMX-BF16, from /proc/cpuinfo).
// Without either, oneDNN is not used and ATen's bf16 matmul is a fallback many times slower than
// fp32 (0.2 GFLOP/s against 47 on the 2-core AVX2 development machine): bf16 then only costs.
bool cpu_has_native_bf16();

// The autocast dtype name ("" = fp32, "bf16") for an inference `--dtype` value: "fp32", "bf16",
// or "auto" = bf16 on a CPU with native bf16 (above), fp32 elsewhere (CUDA included: pass bf16
// explicitly on a GPU that has it). Throws a UsageError naming `flag` for any other value.
std::string inference_autocast(const std::string& dtype, c10::DeviceType device,
                               const std::string& flag = "--dtype");

class AutocastScope {
 public:
  // `device`: kCPU or kCUDA. `enabled` = false makes the scope a no-op (handy for a flag).
  explicit AutocastScope(c10::DeviceType device, c10::ScalarType dtype = c10::ScalarType::BFloat16,
                         bool enabled = true);
  ~AutocastScope();
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

 private:
  c10::DeviceType device_;
  bool active_;
  bool previous_enabled_ = false;
  c10::ScalarType previous_dtype_ = c10::ScalarType::BFloat16;
};

}  // namespace clintorch::model
