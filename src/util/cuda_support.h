// LibTorch's CUDA half on demand. The CUDA build of LibTorch (the PyPI wheel) links
// libtorch_cuda.so, and through it cuBLAS, cuDNN, cuFFT, NCCL, ...: about 0.35 s of start-up and
// 300 MB of resident memory for every process, GPU or not. clintorch links libtorch_cpu only
// (CMake option CLINTORCH_LAZY_CUDA, on when LibTorch has CUDA) and loads libtorch_cuda.so, from
// the folder of libtorch_cpu.so, when the machine has an NVIDIA driver. Loading registers the CUDA
// kernels and hooks exactly as linking does, so it must come before the first question to them
// (torch::cuda::is_available, torch::manual_seed): the CLI does it first thing, and
// model::select_device does it again (a no-op after the first call).
//
// CLINTORCH_CUDA=0 never loads it (CPU only), CLINTORCH_CUDA=1 loads it even without a driver
// device node (e.g. an unusual container layout).
#pragma once

#include <string>

namespace clintorch {

// Loads CUDA support once if wanted and present; returns whether LibTorch now has it.
bool load_cuda_support();

// One line on the state of CUDA support, for --version: loaded, not wanted, or why not loaded.
std::string cuda_support_note();

}  // namespace clintorch
