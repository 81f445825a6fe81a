// libclintorch_nccl.so: c10d's NCCL backend for data-parallel training on CUDA, in a library of
// its own because it needs libtorch_cuda.so, which clintorch itself only loads at run time on
// machines with an NVIDIA driver (util/cuda_support.h). train/distributed.cpp opens it the first
// time CUDA tensors are reduced; the CPU-side collectives stay on Gloo.
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>

#include <chrono>
#include <cstdint>
#include <string>

namespace {
std::string g_error;
}

// A ProcessGroupNCCL on `store` (the caller keeps its reference), returned with one reference
// that the caller reclaims (c10::intrusive_ptr<c10d::Backend>::reclaim); null on failure, with
// the reason in clintorch_nccl_error().
extern "C" c10d::Backend* clintorch_create_nccl_backend(c10d::Store* store, int rank, int size,
                                                        int64_t timeout_ms) {
  try {
    auto options = c10d::ProcessGroupNCCL::Options::create();
    options->timeout = std::chrono::milliseconds(timeout_ms);
    auto s = c10::intrusive_ptr<c10d::Store>::unsafe_reclaim_from_nonowning(store);
    return c10::make_intrusive<c10d::ProcessGroupNCCL>(s, rank, size, options).release();
  } catch (const std::exception& e) {
    g_error = e.what();
    return nullptr;
  }
}

extern "C" const char* clintorch_nccl_error() {
  return g_error.c_str();
}
