#include "util/device_spec.h"

namespace clintorch {

std::optional<DeviceSpec> parse_device_spec(std::string_view text) {
  if (text == "auto") return DeviceSpec{DeviceSpec::Kind::kAuto, -1};
  if (text == "cpu") return DeviceSpec{DeviceSpec::Kind::kCpu, -1};
  if (text == "cuda") return DeviceSpec{DeviceSpec::Kind::kCuda, -1};
  constexpr std::string_view prefix = "cuda:";
  if (text.substr(0, prefix.size()) != prefix || text.size() == prefix.size()) return std::nullopt;
  if (text.size() > prefix.size() + 4) return std::nullopt;  // no machine has 10,000 GPUs
  int index = 0;
  for (char c : text.substr(prefix.size())) {
    if (c < '0' || c > '9') return std::nullopt;
    index = index * 10 + (c - '0');
  }
  return DeviceSpec{DeviceSpec::Kind::kCuda, index};
}

}  // namespace clintorch
