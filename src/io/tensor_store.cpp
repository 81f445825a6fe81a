#include "io/tensor_store.h"

#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "io/safetensors.h"
#include "io/torch_bin.h"
#include "util/error.h"

namespace clintorch::io {

namespace fs = std::filesystem;

int64_t TensorEntry::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

bool TensorEntry::is_contiguous() const {
  int64_t expected = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    if (shape[i] != 1 && strides[i] != expected) return false;
    expected *= shape[i];
  }
  return true;
}

std::string shape_to_string(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

std::string TensorEntry::shape_string() const {
  return shape_to_string(shape);
}

namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// One file (not an index): safetensors or torch.save, decided by content.
void add_file(TensorStore& store, const std::string& path) {
  auto file = MappedFile::open(path);
  std::vector<TensorEntry> entries;
  if (looks_like_torch_save(*file)) {
    entries = read_torch_bin(file);
  } else {
    std::map<std::string, std::string> metadata;
    entries = read_safetensors(file, &metadata);
    if (store.metadata().empty()) store.mutable_metadata() = metadata;
  }
  for (auto& e : entries) store.add(std::move(e));
}

TensorStore open_index(const std::string& path) {
  std::ifstream in(path);
  if (!in) fail(path, "cannot open the shard index");
  nlohmann::json index;
  try {
    in >> index;
  } catch (const nlohmann::json::exception& e) {
    fail(path, std::string("the shard index is not valid JSON: ") + e.what());
  }
  if (!index.is_object() || !index.contains("weight_map") || !index["weight_map"].is_object()) {
    fail(path, "the shard index has no \"weight_map\" object",
         "a sharded checkpoint index maps each tensor name to its shard file");
  }
  TensorStore store;
  const fs::path dir = fs::path(path).parent_path();
  std::vector<std::string> shards;  // in first-seen order
  std::set<std::string> seen;
  for (const auto& [tensor, shard] : index["weight_map"].items()) {
    if (!shard.is_string()) fail(path, "weight_map[\"" + tensor + "\"] is not a file name");
    const std::string name = shard.get<std::string>();
    if (name.find('/') != std::string::npos || name == ".." || name.empty()) {
      fail(path,
           "weight_map[\"" + tensor + "\"] names '" + name + "', not a file beside the index");
    }
    if (seen.insert(name).second) shards.push_back(name);
  }
  for (const auto& shard : shards) add_file(store, (dir / shard).string());
  // Every tensor the index promises must be in the shard it names.
  for (const auto& [tensor, shard] : index["weight_map"].items()) {
    const std::string shard_path = (dir / shard.get<std::string>()).string();
    if (!store.contains(tensor)) {
      fail(path, "tensor '" + tensor + "' is listed in weight_map but missing from " + shard_path);
    }
    if (store.at(tensor).path != shard_path) {
      fail(path, "tensor '" + tensor + "' is listed in " + shard_path + " but found in " +
                     store.at(tensor).path);
    }
  }
  store.mutable_metadata().clear();
  if (index.contains("metadata") && index["metadata"].is_object()) {
    for (const auto& [k, v] : index["metadata"].items()) {
      store.mutable_metadata()[k] = v.is_string() ? v.get<std::string>() : v.dump();
    }
  }
  store.set_source(path + " (" + std::to_string(shards.size()) + " shards)");
  return store;
}

}  // namespace

TensorStore TensorStore::open(const std::string& path) {
  if (fs::is_directory(path)) {
    fail(path, "is a directory, not a checkpoint file",
         "pass the weights file, or open the directory with TensorStore::find_weights");
  }
  if (ends_with(path, ".index.json")) return open_index(path);
  TensorStore store;
  add_file(store, path);
  store.set_source(path);
  return store;
}

std::string TensorStore::find_weights(const std::string& model_dir) {
  static const char* kNames[] = {"model.safetensors", "model.safetensors.index.json",
                                 "pytorch_model.bin", "pytorch_model.bin.index.json"};
  if (!fs::is_directory(model_dir)) {
    fail(model_dir, fs::exists(model_dir) ? "is not a directory" : "no such directory",
         "pass a HuggingFace model directory (config.json, vocab.txt and the weights)");
  }
  for (const char* name : kNames) {
    const fs::path p = fs::path(model_dir) / name;
    if (fs::exists(p)) return p.string();
  }
  fail(model_dir,
       "no weights file found (looked for model.safetensors, "
       "model.safetensors.index.json, pytorch_model.bin, pytorch_model.bin.index.json)",
       "download the full model; TensorFlow (tf_model.h5) and Flax weights are not supported");
}

void TensorStore::add(TensorEntry entry) {
  if (entries_.count(entry.name)) {
    fail(entry.path, "tensor '" + entry.name + "' appears twice (also in " +
                         entries_.at(entry.name).path + ")");
  }
  order_.push_back(entry.name);
  std::string name = entry.name;
  entries_.emplace(std::move(name), std::move(entry));
}

const TensorEntry& TensorStore::at(const std::string& name) const {
  auto it = entries_.find(name);
  if (it == entries_.end()) fail(source_, "no tensor named '" + name + "'");
  return it->second;
}

namespace {

// A CPU tensor viewing the entry's bytes (no copy) when they are suitably aligned, else an
// aligned copy. Only valid while the entry's file/owner lives.
at::Tensor view_of(const TensorEntry& e) {
  const auto type = to_scalar_type(e.dtype);
  const size_t esize = element_size(e.dtype);
  auto options = torch::TensorOptions().dtype(type).device(torch::kCPU);
  if (reinterpret_cast<uintptr_t>(e.data) % esize == 0) {
    return torch::from_blob(const_cast<uint8_t*>(e.data), e.shape, e.strides, options);
  }
  // Misaligned (possible in safetensors files whose header is not padded): copy the span.
  auto buffer = torch::empty({static_cast<int64_t>(e.span_bytes / esize)}, options);
  std::memcpy(buffer.data_ptr(), e.data, e.span_bytes);
  return buffer.as_strided(e.shape, e.strides);
}

}  // namespace

at::Tensor TensorStore::get(const std::string& name) const {
  const TensorEntry& e = at(name);
  auto out = torch::empty(e.shape, torch::TensorOptions().dtype(to_scalar_type(e.dtype)));
  copy_into(name, out);
  return out;
}

void TensorStore::copy_into(const std::string& name, const at::Tensor& dst) const {
  const TensorEntry& e = at(name);
  if (dst.sizes().vec() != e.shape) {
    fail(e.path,
         "tensor '" + e.name + "' has shape " + e.shape_string() + " but the model expects " +
             shape_to_string(dst.sizes().vec()),
         "the checkpoint does not match config.json (or the model it was built for)");
  }
  const int64_t n = e.numel();
  if (n == 0) return;
  torch::NoGradGuard no_grad;
  const auto type = to_scalar_type(e.dtype);
  const size_t esize = element_size(e.dtype);
  if (dst.device().is_cpu() && dst.is_contiguous() && e.is_contiguous()) {
    // Chunk by chunk, letting each chunk's file pages go right after: resident memory grows by
    // the parameter alone, not parameter + mapped tensor (the largest, the word embeddings, is
    // 94 MB in BERT-base).
    constexpr int64_t kChunkBytes = 8 << 20;
    const int64_t chunk = std::max<int64_t>(1, kChunkBytes / static_cast<int64_t>(esize));
    const at::Tensor flat_dst = dst.view({n});
    const bool same_type = dst.scalar_type() == type;
    for (int64_t start = 0; start < n; start += chunk) {
      const int64_t count = std::min(chunk, n - start);
      const uint8_t* src = e.data + static_cast<size_t>(start) * esize;
      if (same_type) {
        std::memcpy(static_cast<uint8_t*>(dst.data_ptr()) + start * dst.element_size(), src,
                    static_cast<size_t>(count) * esize);
      } else {
        TensorEntry part = e;
        part.data = src;
        part.shape = {count};
        part.strides = {1};
        part.span_bytes = static_cast<size_t>(count) * esize;
        flat_dst.narrow(0, start, count).copy_(view_of(part));
      }
      if (e.file) {
        e.file->release(e.file_offset + static_cast<size_t>(start) * esize,
                        static_cast<size_t>(count) * esize);
      }
    }
    return;
  }
  dst.copy_(view_of(e));
  if (e.file) e.file->release(e.file_offset, e.span_bytes);
}

}  // namespace clintorch::io
