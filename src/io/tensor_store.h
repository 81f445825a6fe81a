// A read-only view of the tensors of one checkpoint (one file, or the shards of an index), in any
// supported format: safetensors, torch.save's pytorch_model.bin (zip or legacy), and sharded
// *.index.json of either. Tensor bytes stay in the memory-mapped file until copy_into() copies
// them, once, into a destination tensor (a model parameter).
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "io/dtype.h"
#include "io/mapped_file.h"

namespace clintorch::io {

// One tensor of a checkpoint: where its bytes are and how to read them.
struct TensorEntry {
  std::string name;               // key exactly as stored in the file
  DType dtype = DType::kF32;      // element type as stored
  std::vector<int64_t> shape;     // e.g. (vocab, hidden)
  std::vector<int64_t> strides;   // in elements; row-major contiguous except in some .bin files
  const uint8_t* data = nullptr;  // the first element; nullptr when the tensor has no elements
  size_t span_bytes = 0;          // bytes from `data` that hold every element
  std::string path;               // file the tensor comes from (for messages)
  std::shared_ptr<const MappedFile> file;  // the mapping holding `data`, or null when owned
  size_t file_offset = 0;                  // offset of `data` in `file`
  std::shared_ptr<const void> owner;       // keeps a non-mapped buffer alive

  int64_t numel() const;
  bool is_contiguous() const;
  // "[2, 3]" for messages.
  std::string shape_string() const;
};

// "[2, 3]" for messages.
std::string shape_to_string(const std::vector<int64_t>& shape);

class TensorStore {
 public:
  TensorStore() = default;

  // Opens one checkpoint file: *.safetensors, a torch.save file (pytorch_model.bin, *.pt), or a
  // *.safetensors.index.json / *.bin.index.json listing shards. The format is detected from the
  // content, not the name. Errors name the file and, when it applies, the tensor.
  static TensorStore open(const std::string& path);

  // The weights file(s) of a HuggingFace model directory, in transformers' order of preference:
  // model.safetensors, model.safetensors.index.json, pytorch_model.bin,
  // pytorch_model.bin.index.json. Throws an Error listing what was looked for when none exists.
  static std::string find_weights(const std::string& model_dir);

  // Adds an entry; throws when the name is already present (e.g. in two shards).
  void add(TensorEntry entry);

  // Tensor names in file order (shards in index order).
  const std::vector<std::string>& names() const { return order_; }
  bool contains(const std::string& name) const { return entries_.count(name) != 0; }
  size_t size() const { return order_.size(); }
  // Throws an Error naming the checkpoint when `name` is absent.
  const TensorEntry& at(const std::string& name) const;

  // A new CPU tensor with the stored dtype and shape (a copy; the file may be closed after).
  at::Tensor get(const std::string& name) const;

  // Copies the tensor into `dst` (any device, any floating dtype: converted on the way), then lets
  // the file's pages go. Throws an Error naming the file and the tensor when the shapes differ.
  void copy_into(const std::string& name, const at::Tensor& dst) const;

  // The file, or "INDEX (N shards)", for messages.
  const std::string& source() const { return source_; }
  void set_source(std::string source) { source_ = std::move(source); }

  // The safetensors "__metadata__" (first shard) or an index's "metadata" strings.
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  std::map<std::string, std::string>& mutable_metadata() { return metadata_; }

 private:
  std::vector<std::string> order_;
  std::unordered_map<std::string, TensorEntry> entries_;
  std::string source_;
  std::map<std::string, std::string> metadata_;
};

}  // namespace clintorch::io
