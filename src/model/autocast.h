// RAII mixed precision, the C++ counterpart of Python's `with torch.autocast(device, dtype)`:
// inside the scope, matmuls and linear layers run in `dtype` (bf16 by default) while reductions
// such as softmax and LayerNorm stay in fp32, per LibTorch's autocast policy for the device.
#pragma once

#include <c10/core/DeviceType.h>
#include <c10/core/ScalarType.h>

namespace clintorch::model {

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
