// The one grammar of device names, shared by recipes (training.device) and every command's
// --device: auto | cpu | cuda | cuda:N. Syntax only (no LibTorch); model/device.h turns a spec into
// a c10::Device on this machine.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace clintorch {

struct DeviceSpec {
  enum class Kind { kAuto, kCpu, kCuda };
  Kind kind = Kind::kCpu;
  // CUDA ordinal of cuda:N; -1 for "cuda" (device 0) and for auto/cpu.
  int index = -1;
};

// The spec `text` names, or nullopt when it is not auto, cpu, cuda or cuda:N.
std::optional<DeviceSpec> parse_device_spec(std::string_view text);

// What parse_device_spec accepts, for messages and help texts.
inline constexpr char kDeviceChoices[] = "auto, cpu, cuda or cuda:N";

}  // namespace clintorch
