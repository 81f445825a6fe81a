#include "util/cuda_support.h"

#include <ATen/detail/CUDAHooksInterface.h>

#include <cstdlib>
#include <mutex>
#include <string>

#if defined(CLINTORCH_LAZY_CUDA)
#include <dlfcn.h>
#include <unistd.h>
#endif

namespace clintorch {

namespace {

std::string g_note;  // set once, under the call_once below

#if defined(CLINTORCH_LAZY_CUDA)
bool driver_present() {
  for (const char* node :
       {"/dev/nvidiactl", "/dev/nvidia0", "/proc/driver/nvidia/version", "/dev/dxg" /* WSL2 */}) {
    if (access(node, F_OK) == 0) return true;
  }
  return false;
}

// The folder of the libtorch_cpu.so this process runs (libtorch_cuda.so sits beside it).
std::string torch_lib_dir() {
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&at::detail::getCUDAHooks), &info) == 0 ||
      info.dli_fname == nullptr) {
    return "";
  }
  const std::string path = info.dli_fname;
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? std::string(".") : path.substr(0, slash);
}

void load_once() {
  const char* env = std::getenv("CLINTORCH_CUDA");
  const std::string want = env ? env : "";
  if (want == "0") {
    g_note = "not loaded (CLINTORCH_CUDA=0)";
    return;
  }
  if (want != "1" && !driver_present()) {
    g_note = "not loaded (no NVIDIA driver on this machine; CLINTORCH_CUDA=1 forces it)";
    return;
  }
  const std::string dir = torch_lib_dir();
  const std::string lib = (dir.empty() ? std::string() : dir + "/") + "libtorch_cuda.so";
  if (dlopen(lib.c_str(), RTLD_NOW | RTLD_GLOBAL) == nullptr) {
    const char* why = dlerror();
    g_note = "not loaded: " + lib + ": " + (why ? why : "dlopen failed");
    return;
  }
  g_note = "loaded from " + lib;
}
#endif

}  // namespace

bool load_cuda_support() {
#if defined(CLINTORCH_LAZY_CUDA)
  static std::once_flag once;
  std::call_once(once, load_once);
#endif
  return at::detail::getCUDAHooks().isBuilt();
}

std::string cuda_support_note() {
#if defined(CLINTORCH_LAZY_CUDA)
  load_cuda_support();
  return g_note;
#else
  return at::detail::getCUDAHooks().isBuilt() ? "linked" : "not in this LibTorch";
#endif
}

}  // namespace clintorch
