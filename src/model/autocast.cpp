#include "model/autocast.h"

#include <ATen/autocast_mode.h>

#include <fstream>
#include <sstream>

#include "util/error.h"

namespace clintorch::model {

bool cpu_has_native_bf16() {
  static const bool native = [] {
    std::ifstream in("/proc/cpuinfo");
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind("flags", 0) != 0) continue;
      std::istringstream words(line);
      std::string word;
      while (words >> word) {
        if (word == "avx512_bf16" || word == "amx_bf16") return true;
      }
      return false;  // every core lists the same flags
    }
    return false;
  }();
  return native;
}

std::string inference_autocast(const std::string& dtype, c10::DeviceType device,
                               const std::string& flag) {
  if (dtype == "fp32") return "";
  if (dtype == "bf16") return "bf16";
  if (dtype == "auto") return device == c10::DeviceType::CPU && cpu_has_native_bf16() ? "bf16" : "";
  throw UsageError(flag + ": unknown dtype '" + dtype + "' (use auto, fp32 or bf16)");
}

AutocastScope::AutocastScope(c10::DeviceType device, c10::ScalarType dtype, bool enabled)
    : device_(device), active_(enabled) {
  if (!active_) return;
  previous_enabled_ = at::autocast::is_autocast_enabled(device_);
  previous_dtype_ = at::autocast::get_autocast_dtype(device_);
  at::autocast::set_autocast_enabled(device_, true);
  at::autocast::set_autocast_dtype(device_, dtype);
  at::autocast::increment_nesting();
}

AutocastScope::~AutocastScope() {
  if (!active_) return;
  // Leaving the outermost scope drops the cache of casted weights, as torch.autocast does.
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  at::autocast::set_autocast_enabled(device_, previous_enabled_);
  at::autocast::set_autocast_dtype(device_, previous_dtype_);
}

}  // namespace clintorch::model
