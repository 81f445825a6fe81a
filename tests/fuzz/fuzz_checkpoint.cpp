// libFuzzer target over the checkpoint readers: TensorStore::open (the format is detected from
// the content: safetensors, torch.save zip, legacy torch.save pickle) and a copy of every tensor
// it lists, as loading a model does. Built twice: CLINTORCH_FUZZ_FILE_NAME "model.safetensors"
// (seeds: corpus/safetensors) and "pytorch_model.bin" (seeds: corpus/torch_bin, zip and legacy).
#include <ATen/core/Tensor.h>

#include <cstdint>

#include "fuzz_util.h"
#include "io/tensor_store.h"
#include "util/error.h"

#ifndef CLINTORCH_FUZZ_FILE_NAME
#define CLINTORCH_FUZZ_FILE_NAME "model.safetensors"
#endif

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = clintorch::fuzz::write_input(data, size, CLINTORCH_FUZZ_FILE_NAME);
  try {
    const auto store = clintorch::io::TensorStore::open(path);
    for (const auto& name : store.names()) {
      const at::Tensor t = store.get(name);
      if (t.numel() != store.at(name).numel()) std::abort();  // shape and bytes disagree
    }
  } catch (const clintorch::Error&) {
    // a clear error for a bad file: expected
  }
  return 0;
}
