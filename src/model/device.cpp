#include "model/device.h"

#include <torch/cuda.h>

#include "util/cuda_support.h"
#include "util/device_spec.h"
#include "util/error.h"

namespace clintorch::model {

c10::Device select_device(const std::string& name, const std::string& where) {
  const std::optional<DeviceSpec> spec = parse_device_spec(name);
  if (!spec) {
    fail(where, "unknown device '" + name + "'", std::string("use ") + kDeviceChoices);
  }
  load_cuda_support();
  const bool cuda = torch::cuda::is_available();
  switch (spec->kind) {
    case DeviceSpec::Kind::kCpu:
      return c10::Device(c10::DeviceType::CPU);
    case DeviceSpec::Kind::kAuto:
      return cuda ? c10::Device(c10::DeviceType::CUDA, 0) : c10::Device(c10::DeviceType::CPU);
    case DeviceSpec::Kind::kCuda:
      break;
  }
  if (!cuda) {
    fail(where, "device " + name + " asked for, but CUDA is not available",
         "use cpu or auto (this LibTorch build or machine has no usable GPU)");
  }
  const int index = spec->index < 0 ? 0 : spec->index;
  const auto count = static_cast<int>(torch::cuda::device_count());
  if (index >= count) {
    fail(where,
         "device " + name + " asked for, but this machine has " + std::to_string(count) +
             " CUDA device(s)",
         "use cuda:0 .. cuda:" + std::to_string(count - 1) + " or auto");
  }
  return c10::Device(c10::DeviceType::CUDA, static_cast<c10::DeviceIndex>(index));
}

}  // namespace clintorch::model
