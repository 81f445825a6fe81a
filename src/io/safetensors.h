// Our own safetensors reader and writer (https://github.com/huggingface/safetensors, format:
// 8-byte little-endian header length N, N bytes of JSON, then the raw tensor bytes).
#pragma once

#include <ATen/core/Tensor.h>

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "io/mapped_file.h"
#include "io/tensor_store.h"

namespace clintorch::io {

// Parses and validates a whole safetensors file: the header length lies inside the file, the
// header is a JSON object, every dtype is known, every shape matches its byte span, offsets lie
// inside the data section and neither overlap nor leave holes. Entries point into the mapping.
// Throws clintorch::Error naming the file and the tensor.
std::vector<TensorEntry> read_safetensors(const std::shared_ptr<const MappedFile>& file,
                                          std::map<std::string, std::string>* metadata);

// Writes `tensors` (any device, any dtype listed in dtype.h) in the given order, with
// `metadata` as "__metadata__". Writes PATH.tmp then renames it, so a failed write leaves no
// partial file. Throws clintorch::Error naming the path on I/O failure or duplicate names.
void write_safetensors(const std::string& path,
                       const std::vector<std::pair<std::string, at::Tensor>>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

}  // namespace clintorch::io
