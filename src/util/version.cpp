#include "util/version.h"

#include "util/cuda_support.h"

#include <ATen/Context.h>
#include <ATen/Parallel.h>
#include <ATen/detail/CUDAHooksInterface.h>
#include <torch/cuda.h>
#include <torch/version.h>

#include <sstream>

namespace clintorch {

std::string version_report() {
  std::ostringstream out;
  out << "clintorch " << CLINTORCH_VERSION << "\n";
  out << "LibTorch " << TORCH_VERSION << "\n";
  // The CUDA hooks are registered only when libtorch_cuda is loaded (util/cuda_support.h).
  const std::string note = cuda_support_note();
  const auto& cuda = at::detail::getCUDAHooks();
  const bool compiled = cuda.isBuilt();
  const bool available = torch::cuda::is_available();
  out << "CUDA: " << (compiled ? "compiled in" : "not loaded");
  if (compiled && cuda.versionCUDART() > 0) {
    const long v = cuda.versionCUDART();
    out << " (runtime " << v / 1000 << "." << (v % 1000) / 10 << ")";
  }
  out << ", available: " << (available ? "yes" : "no");
  if (available) out << " (" << torch::cuda::device_count() << " devices)";
  out << "\nCUDA support: " << note << "\n";
  out << "threads: " << at::get_num_threads() << " intra-op";
  return out.str();
}

}  // namespace clintorch
