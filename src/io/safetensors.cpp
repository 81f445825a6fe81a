#include "io/safetensors.h"

#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <set>

#include "util/error.h"

namespace clintorch::io {
namespace {

constexpr uint64_t kMaxHeaderBytes = 100u * 1024 * 1024;  // the reference library's limit too

const char* kCorruptHint =
    "the file is truncated or corrupt: download or export it again (sha256sum against the source "
    "helps)";

// a * b, or throws when it overflows size_t.
size_t checked_mul(size_t a, size_t b, const std::string& where, const std::string& what) {
  if (a != 0 && b > std::numeric_limits<size_t>::max() / a) fail(where, what + " overflows");
  return a * b;
}

uint64_t as_u64(const nlohmann::json& v, const std::string& where, const std::string& what) {
  if (!v.is_number_unsigned()) {
    fail(where, what + " must be a non-negative integer, got " + v.dump(), kCorruptHint);
  }
  return v.get<uint64_t>();
}

}  // namespace

// Long on purpose: the format's header checks in the order the spec states them (size, JSON,
// dtypes, shapes, offsets, no overlaps or holes), each error naming the file and the tensor.
std::vector<TensorEntry> read_safetensors(const std::shared_ptr<const MappedFile>& file,
                                          std::map<std::string, std::string>* metadata) {
  const std::string& path = file->path();
  const size_t size = file->size();
  if (size < 8) {
    fail(path, "file is " + std::to_string(size) + " bytes, too short for a safetensors header",
         kCorruptHint);
  }
  uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | file->data()[i];
  if (header_len > size - 8) {
    fail(path,
         "header length " + std::to_string(header_len) + " runs past the end of the file (" +
             std::to_string(size) + " bytes)",
         kCorruptHint);
  }
  if (header_len > kMaxHeaderBytes) {
    fail(path, "header length " + std::to_string(header_len) + " exceeds the 100 MB limit",
         kCorruptHint);
  }
  const char* header_begin = reinterpret_cast<const char*>(file->data()) + 8;
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(header_begin, header_begin + header_len);
  } catch (const nlohmann::json::exception& e) {
    fail(path, std::string("header is not valid JSON (") + e.what() + ")", kCorruptHint);
  }
  if (!header.is_object()) fail(path, "header is not a JSON object", kCorruptHint);

  const size_t data_start = 8 + header_len;
  const size_t data_size = size - data_start;
  std::vector<TensorEntry> entries;
  entries.reserve(header.size());
  std::vector<std::pair<uint64_t, uint64_t>> spans;  // (begin, end) relative to data_start
  for (const auto& [name, info] : header.items()) {
    if (name == "__metadata__") {
      if (!info.is_object()) fail(path, "\"__metadata__\" is not an object", kCorruptHint);
      for (const auto& [k, v] : info.items()) {
        if (!v.is_string()) {
          fail(path, "\"__metadata__\" value for '" + k + "' is not a string", kCorruptHint);
        }
        if (metadata) (*metadata)[k] = v.get<std::string>();
      }
      continue;
    }
    const std::string where = path + ": tensor '" + name + "'";
    if (!info.is_object() || !info.contains("dtype") || !info.contains("shape") ||
        !info.contains("data_offsets")) {
      fail(where, "needs \"dtype\", \"shape\" and \"data_offsets\"", kCorruptHint);
    }
    TensorEntry e;
    e.name = name;
    e.path = path;
    e.file = file;
    if (!info["dtype"].is_string()) fail(where, "\"dtype\" is not a string", kCorruptHint);
    const std::string dtype = info["dtype"].get<std::string>();
    const auto parsed = parse_dtype(dtype);
    if (!parsed) {
      fail(where, "unknown dtype '" + dtype + "'", "supported: " + supported_dtype_names());
    }
    e.dtype = *parsed;
    if (!info["shape"].is_array()) fail(where, "\"shape\" is not a list", kCorruptHint);
    size_t numel = 1;
    for (const auto& d : info["shape"]) {
      const uint64_t dim = as_u64(d, where, "a \"shape\" entry");
      if (dim > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        fail(where, "shape entry " + std::to_string(dim) + " is too large", kCorruptHint);
      }
      e.shape.push_back(static_cast<int64_t>(dim));
      numel = checked_mul(numel, dim, where, "the element count");
    }
    e.strides.assign(e.shape.size(), 1);
    for (size_t i = e.shape.size(); i-- > 1;) e.strides[i - 1] = e.strides[i] * e.shape[i];
    const auto& offsets = info["data_offsets"];
    if (!offsets.is_array() || offsets.size() != 2) {
      fail(where, "\"data_offsets\" must be [begin, end]", kCorruptHint);
    }
    const uint64_t begin = as_u64(offsets[0], where, "data_offsets[0]");
    const uint64_t end = as_u64(offsets[1], where, "data_offsets[1]");
    if (begin > end) {
      fail(
          where,
          "data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) + "] run backwards",
          kCorruptHint);
    }
    if (end > data_size) {
      fail(where,
           "data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) +
               "] lie outside the data section (" + std::to_string(data_size) + " bytes)",
           kCorruptHint);
    }
    const size_t nbytes = checked_mul(numel, element_size(e.dtype), where, "the byte size");
    if (end - begin != nbytes) {
      fail(where,
           "shape " + e.shape_string() + " of " + dtype + " needs " + std::to_string(nbytes) +
               " bytes but data_offsets span " + std::to_string(end - begin),
           kCorruptHint);
    }
    e.file_offset = data_start + begin;
    e.span_bytes = nbytes;
    e.data = nbytes ? file->data() + e.file_offset : nullptr;
    spans.emplace_back(begin, end);
    entries.push_back(std::move(e));
  }

  // File order, then: no overlaps, no holes, the data section fully used (as the format demands).
  std::vector<size_t> order(entries.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return spans[a] != spans[b] ? spans[a] < spans[b] : entries[a].name < entries[b].name;
  });
  uint64_t cursor = 0;
  const std::string* previous = nullptr;
  for (size_t i : order) {
    const auto [begin, end] = spans[i];
    if (begin == end) continue;  // an empty tensor occupies no bytes
    if (begin < cursor) {
      fail(path,
           "tensor '" + entries[i].name + "' (bytes " + std::to_string(begin) + "-" +
               std::to_string(end) + ") overlaps tensor '" + *previous + "'",
           kCorruptHint);
    }
    if (begin > cursor) {
      fail(path,
           "tensor '" + entries[i].name + "' starts at byte " + std::to_string(begin) +
               " of the data section, leaving a hole after byte " + std::to_string(cursor),
           kCorruptHint);
    }
    cursor = end;
    previous = &entries[i].name;
  }
  if (cursor != data_size) {
    fail(path,
         "the data section has " + std::to_string(data_size) + " bytes but the tensors use " +
             std::to_string(cursor),
         kCorruptHint);
  }
  std::vector<TensorEntry> sorted;
  sorted.reserve(entries.size());
  for (size_t i : order) sorted.push_back(std::move(entries[i]));
  return sorted;
}

void write_safetensors(const std::string& path,
                       const std::vector<std::pair<std::string, at::Tensor>>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  nlohmann::json header = nlohmann::json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::set<std::string> names;
  uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    if (name == "__metadata__" || !names.insert(name).second) {
      fail(path, "cannot write tensor name '" + name + "' twice (or the reserved __metadata__)");
    }
    if (!t.defined()) fail(path, "tensor '" + name + "' is undefined");
    const DType dtype = from_scalar_type(t.scalar_type());
    const uint64_t nbytes = static_cast<uint64_t>(t.numel()) * element_size(dtype);
    header[name] = {{"dtype", dtype_name(dtype)},
                    {"shape", t.sizes().vec()},
                    {"data_offsets", {offset, offset + nbytes}}};
    offset += nbytes;
  }
  std::string text = header.dump();
  // Pad with spaces so the data section starts 8-byte aligned (as the reference writer does).
  while ((8 + text.size()) % 8 != 0) text.push_back(' ');

  const std::string tmp = path + ".tmp";
  std::FILE* out = std::fopen(tmp.c_str(), "wb");
  if (!out) fail(path, "cannot create " + tmp, "check that the directory exists and is writable");
  auto write = [&](const void* p, size_t n) {
    if (n && std::fwrite(p, 1, n, out) != n) {
      const int err = errno;
      std::fclose(out);
      std::remove(tmp.c_str());
      fail(path, std::string("cannot be written: ") + std::strerror(err),
           err == ENOSPC ? "the disk is full" : "check free space and permissions");
    }
  };
  uint8_t len[8];
  for (int i = 0; i < 8; ++i)
    len[i] = static_cast<uint8_t>(static_cast<uint64_t>(text.size()) >> (8 * i));
  write(len, 8);
  write(text.data(), text.size());
  for (const auto& [name, t] : tensors) {
    // One tensor at a time on the CPU, contiguous: at most one extra copy alive.
    const at::Tensor cpu = t.detach().to(torch::kCPU).contiguous();
    write(cpu.data_ptr(), static_cast<size_t>(cpu.numel()) * cpu.element_size());
  }
  if (std::fclose(out) != 0) {
    const int err = errno;
    std::remove(tmp.c_str());
    fail(path, std::string("cannot be written: ") + std::strerror(err),
         err == ENOSPC ? "the disk is full" : "check free space and permissions");
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::remove(tmp.c_str());
    fail(path, "cannot rename " + tmp + ": " + ec.message());
  }
}

}  // namespace clintorch::io
