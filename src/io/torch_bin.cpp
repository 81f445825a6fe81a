#include "io/torch_bin.h"

#include <torch/torch.h>

#include <caffe2/serialize/inline_container.h>
#include <caffe2/serialize/read_adapter_interface.h>

#include <cstring>
#include <limits>
#include <map>

#include "io/pickle.h"
#include "util/error.h"

namespace clintorch::io {
namespace {

using pickle::Value;
using pickle::ValuePtr;
using Kind = Value::Kind;

constexpr int kStorageTag = 1;
constexpr int kTensorTag = 2;

// The legacy format's magic number 0x1950a86a20f9469cfc6c, as pickled: PROTO 2, LONG1 10 bytes.
constexpr uint8_t kLegacyPrefix[] = {0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c,
                                     0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19};
constexpr uint8_t kZipPrefix[] = {'P', 'K', 0x03, 0x04};

const char* kHint =
    "the file is corrupt or is not a state_dict saved by torch.save; re-save it with "
    "model.state_dict(), or convert it to safetensors";

// Storage classes torch.save names in persistent ids (typed-storage names, still written by torch
// 2.x for compatibility).
std::optional<DType> storage_dtype(const std::string& module, const std::string& name) {
  if (module != "torch") return std::nullopt;
  static const std::map<std::string, DType> kTypes = {
      {"FloatStorage", DType::kF32},     {"HalfStorage", DType::kF16},
      {"BFloat16Storage", DType::kBF16}, {"DoubleStorage", DType::kF64},
      {"LongStorage", DType::kI64},      {"IntStorage", DType::kI32},
      {"ShortStorage", DType::kI16},     {"CharStorage", DType::kI8},
      {"ByteStorage", DType::kU8},       {"BoolStorage", DType::kBool}};
  auto it = kTypes.find(name);
  if (it == kTypes.end()) return std::nullopt;
  return it->second;
}

struct Storage {
  DType dtype = DType::kF32;
  std::string key;          // the root storage's key (record name / legacy key)
  int64_t numel = 0;        // elements of this storage (a view's own size in legacy files)
  int64_t elem_offset = 0;  // legacy views: offset into the root storage, in elements
};

struct Tensor {
  std::string where;  // for messages before the name is known
  size_t storage = 0;
  int64_t offset = 0;
  std::vector<int64_t> shape, strides;
};

// Where a root storage's bytes are.
struct StorageBytes {
  const uint8_t* data = nullptr;
  size_t nbytes = 0;
  size_t file_offset = 0;             // when in the mapping
  std::shared_ptr<const void> owner;  // when inflated from a compressed record
};

class StateDictReader {
 public:
  explicit StateDictReader(const std::string& path) : path_(path) {}

  pickle::Callbacks callbacks() {
    pickle::Callbacks cb;
    cb.persistent_load = [this](const ValuePtr& pid) { return persistent_load(pid); };
    cb.reduce = [this](const std::string& module, const std::string& name, const ValuePtr& args) {
      return reduce(module, name, args);
    };
    return cb;
  }

  std::vector<Storage> storages;
  std::vector<Tensor> tensors;

 private:
  [[noreturn]] void bad(const std::string& what) const { fail(path_, what, kHint); }

  int64_t to_int(const ValuePtr& v, const std::string& what) const {
    if (!v || !v->is_int()) bad(what + " is not an integer");
    return v->integer;
  }
  std::vector<int64_t> to_ints(const ValuePtr& v, const std::string& what) const {
    if (!v || !v->is_sequence()) bad(what + " is not a tuple");
    std::vector<int64_t> out;
    for (const auto& item : v->items) {
      const int64_t i = to_int(item, what + " entry");
      if (i < 0) bad(what + " has a negative entry");
      out.push_back(i);
    }
    return out;
  }

  ValuePtr persistent_load(const ValuePtr& pid) {
    // ('storage', <storage class>, key, location, numel[, view_metadata])
    if (pid->kind != Kind::kTuple || pid->items.size() < 5 || !pid->items[0]->is_string() ||
        pid->items[0]->text != "storage") {
      bad("unsupported persistent id (" + pid->kind_name() + ")");
    }
    const auto& type = pid->items[1];
    if (type->kind != Kind::kGlobal) bad("storage type is a " + type->kind_name());
    const auto dtype = storage_dtype(type->module, type->name);
    if (!dtype) bad("unsupported storage type " + type->module + "." + type->name);
    if (!pid->items[2]->is_string()) bad("storage key is not a string");
    Storage s;
    s.dtype = *dtype;
    s.key = pid->items[2]->text;
    s.numel = to_int(pid->items[4], "storage size");
    if (s.numel < 0) bad("storage '" + s.key + "' has a negative size");
    if (pid->items.size() >= 6 && pid->items[5]->kind != Kind::kNone) {
      // Legacy view: (view_key, offset, view_size) into the root storage `key`.
      const auto& view = pid->items[5];
      if (view->kind != Kind::kTuple || view->items.size() != 3) bad("malformed storage view");
      s.elem_offset = to_int(view->items[1], "storage view offset");
      s.numel = to_int(view->items[2], "storage view size");
      if (s.elem_offset < 0 || s.numel < 0) bad("storage view with a negative offset or size");
    }
    auto it = storage_index_.find(pid.get());
    if (it != storage_index_.end()) return external(kStorageTag, it->second);
    storages.push_back(s);
    storage_index_[pid.get()] = storages.size() - 1;
    return external(kStorageTag, storages.size() - 1);
  }

  static ValuePtr external(int tag, size_t index) {
    auto v = Value::make(Kind::kExternal);
    v->external_tag = tag;
    v->integer = static_cast<int64_t>(index);
    return v;
  }

  ValuePtr reduce(const std::string& module, const std::string& name, const ValuePtr& args) {
    const auto& a = args->items;
    if (module == "torch._utils" && (name == "_rebuild_tensor_v2" || name == "_rebuild_tensor")) {
      if (a.size() < 4) bad(name + " with " + std::to_string(a.size()) + " arguments");
      if (a[0]->kind != Kind::kExternal || a[0]->external_tag != kStorageTag) {
        bad(name + " without a storage");
      }
      Tensor t;
      t.storage = static_cast<size_t>(a[0]->integer);
      t.offset = to_int(a[1], "tensor storage offset");
      if (t.offset < 0) bad("negative tensor storage offset");
      t.shape = to_ints(a[2], "tensor size");
      t.strides = to_ints(a[3], "tensor stride");
      if (t.shape.size() != t.strides.size()) bad("tensor size and stride differ in length");
      tensors.push_back(std::move(t));
      return external(kTensorTag, tensors.size() - 1);
    }
    if (module == "torch._utils" && name == "_rebuild_parameter") {
      if (a.empty()) bad("_rebuild_parameter without data");
      return a[0];  // (data, requires_grad, backward_hooks): the data is the tensor
    }
    if (module == "torch._tensor" && name == "_rebuild_from_type_v2") {
      // (func, new_type, args, state): a tensor subclass; rebuild the plain tensor with func.
      if (a.size() < 3 || a[0]->kind != Kind::kGlobal || a[2]->kind != Kind::kTuple) {
        bad("malformed _rebuild_from_type_v2");
      }
      if (auto v = reduce(a[0]->module, a[0]->name, a[2])) return v;
      bad("unsupported tensor rebuild " + a[0]->module + "." + a[0]->name);
    }
    if (module == "torch.jit._pickle" && name == "restore_type_tag") {
      if (a.empty()) bad("restore_type_tag without a value");
      return a[0];  // (value, "Dict[str, Tensor]"): LibTorch's pickle_save tags typed containers
    }
    return nullptr;  // anything else stays an opaque object (an error if used as a tensor)
  }

  std::string path_;
  std::map<const Value*, size_t> storage_index_;
};

// Turns the unpickled state_dict plus the located storages into entries.
std::vector<TensorEntry> make_entries(const std::shared_ptr<const MappedFile>& file,
                                      const ValuePtr& root, const StateDictReader& reader,
                                      const std::map<std::string, StorageBytes>& bytes) {
  const std::string& path = file->path();
  if (root->kind != Kind::kDict) {
    fail(path, "holds a " + root->kind_name() + ", not a state_dict (a dict of tensors)", kHint);
  }
  std::vector<TensorEntry> entries;
  for (const auto& [key, value] : root->dict) {
    if (!key->is_string()) fail(path, "state_dict key is a " + key->kind_name(), kHint);
    const std::string& name = key->text;
    const std::string where = path + ": tensor '" + name + "'";
    if (value->kind != Kind::kExternal || value->external_tag != kTensorTag) {
      fail(where, "is a " + value->kind_name() + ", not a tensor",
           value->kind == Kind::kDict
               ? "this looks like a training checkpoint; save model.state_dict() on its own"
               : kHint);
    }
    const Tensor& t = reader.tensors.at(static_cast<size_t>(value->integer));
    const Storage& s = reader.storages.at(t.storage);
    auto it = bytes.find(s.key);
    if (it == bytes.end()) fail(where, "its storage '" + s.key + "' is missing", kHint);
    const StorageBytes& b = it->second;
    const size_t esize = element_size(s.dtype);
    // In 128 bits: sizes come from the file and may be absurd.
    const __int128 declared = (static_cast<__int128>(s.elem_offset) + s.numel) * esize;
    if (declared > static_cast<__int128>(b.nbytes)) {
      fail(where,
           "storage '" + s.key + "' holds " + std::to_string(b.nbytes) +
               " bytes, fewer than its declared " + std::to_string(s.numel) + " elements",
           kHint);
    }
    TensorEntry e;
    e.name = name;
    e.path = path;
    e.dtype = s.dtype;
    e.shape = t.shape;
    e.strides = t.strides;
    // Highest element index touched, checked against the storage without overflow.
    __int128 last = 0;
    bool empty = false;
    for (size_t i = 0; i < t.shape.size(); ++i) {
      if (t.shape[i] == 0) empty = true;
      last += static_cast<__int128>(t.shape[i] > 0 ? t.shape[i] - 1 : 0) * t.strides[i];
    }
    if (!empty) {
      if (static_cast<__int128>(t.offset) + last >= s.numel) {
        fail(where,
             "shape " + e.shape_string() + " with offset " + std::to_string(t.offset) +
                 " reaches past its storage of " + std::to_string(s.numel) + " elements",
             kHint);
      }
      const size_t first_byte = static_cast<size_t>(s.elem_offset + t.offset) * esize;
      e.data = b.data + first_byte;
      e.span_bytes = static_cast<size_t>(last + 1) * esize;
      if (b.owner) {
        e.owner = b.owner;
      } else {
        e.file = file;
        e.file_offset = b.file_offset + first_byte;
      }
    } else {
      e.owner = b.owner;
    }
    entries.push_back(std::move(e));
  }
  return entries;
}

// PyTorchStreamReader reads through this from our mapping.
class MappedReadAdapter : public caffe2::serialize::ReadAdapterInterface {
 public:
  explicit MappedReadAdapter(std::shared_ptr<const MappedFile> file) : file_(std::move(file)) {}
  size_t size() const override { return file_->size(); }
  size_t read(uint64_t pos, void* buf, size_t n, const char* /*what*/) const override {
    if (pos >= file_->size()) return 0;
    const size_t count = std::min<size_t>(n, file_->size() - pos);
    std::memcpy(buf, file_->data() + pos, count);
    return count;
  }

 private:
  std::shared_ptr<const MappedFile> file_;
};

std::string first_line(const std::string& s) {
  const auto nl = s.find('\n');
  return nl == std::string::npos ? s : s.substr(0, nl);
}

std::vector<TensorEntry> read_zip(const std::shared_ptr<const MappedFile>& file) {
  const std::string& path = file->path();
  try {
    caffe2::serialize::PyTorchStreamReader zip(std::make_shared<MappedReadAdapter>(file));
    if (!zip.hasRecord("data.pkl")) {
      fail(path, "the zip archive has no data.pkl record", kHint);
    }
    if (zip.hasRecord("byteorder")) {
      auto [ptr, n] = zip.getRecord("byteorder");
      const std::string order(static_cast<const char*>(ptr.get()), n);
      if (order != "little") fail(path, "big-endian tensors are not supported", kHint);
    }
    auto [pkl, pkl_size] = zip.getRecord("data.pkl");
    StateDictReader reader(path);
    size_t pos = 0;
    const ValuePtr root = pickle::unpickle(static_cast<const uint8_t*>(pkl.get()), pkl_size, pos,
                                           reader.callbacks(), path + " (data.pkl)");
    std::map<std::string, StorageBytes> bytes;
    for (const Storage& s : reader.storages) {
      if (bytes.count(s.key)) continue;
      const std::string record = "data/" + s.key;
      if (!zip.hasRecord(record)) fail(path, "storage record " + record + " is missing", kHint);
      StorageBytes b;
      b.nbytes = zip.getRecordSize(record);
      const size_t header = zip.getRecordHeaderOffset(record);
      if (header > file->size() || file->size() - header < 30) {
        fail(path, "record " + record + " lies outside the file", kHint);
      }
      const uint16_t method =
          static_cast<uint16_t>(file->data()[header + 8] | (file->data()[header + 9] << 8));
      if (method == 0) {  // stored: point into the mapping
        b.file_offset = zip.getRecordOffset(record);
        if (b.file_offset > file->size() || file->size() - b.file_offset < b.nbytes) {
          fail(path, "record " + record + " runs past the end of the file (truncated?)", kHint);
        }
        b.data = file->data() + b.file_offset;
      } else {  // compressed by some zip tool: inflate into our own buffer
        auto [ptr, n] = zip.getRecord(record);
        auto holder = std::make_shared<at::DataPtr>(std::move(ptr));
        b.data = static_cast<const uint8_t*>(holder->get());
        b.nbytes = n;
        b.owner = holder;
      }
      bytes[s.key] = b;
    }
    return make_entries(file, root, reader, bytes);
  } catch (const c10::Error& e) {
    fail(path,
         "not a readable torch.save zip archive (" + first_line(e.what_without_backtrace()) + ")",
         kHint);
  }
}

std::vector<TensorEntry> read_legacy(const std::shared_ptr<const MappedFile>& file) {
  const std::string& path = file->path();
  const uint8_t* data = file->data();
  const size_t size = file->size();
  size_t pos = 0;
  pickle::Callbacks plain;
  pickle::unpickle(data, size, pos, plain, path);  // magic number (checked by the caller)
  const ValuePtr protocol = pickle::unpickle(data, size, pos, plain, path);
  if (!protocol->is_int() || protocol->integer != 1001) {
    fail(path, "unsupported legacy torch.save protocol", kHint);
  }
  const ValuePtr sys_info = pickle::unpickle(data, size, pos, plain, path);
  if (sys_info->kind == Kind::kDict) {
    for (const auto& [k, v] : sys_info->dict) {
      if (k->is_string() && k->text == "little_endian" && v->kind == Kind::kBool && !v->boolean) {
        fail(path, "big-endian tensors are not supported", kHint);
      }
    }
  }
  StateDictReader reader(path);
  const ValuePtr root = pickle::unpickle(data, size, pos, reader.callbacks(), path);
  const ValuePtr keys = pickle::unpickle(data, size, pos, plain, path);
  if (keys->kind != Kind::kList) fail(path, "the storage key list is missing", kHint);
  // Root storages follow in key order, each as an int64 element count and the raw bytes.
  std::map<std::string, DType> root_types;
  for (const Storage& s : reader.storages) {
    if (s.elem_offset == 0 && !root_types.count(s.key)) root_types[s.key] = s.dtype;
  }
  for (const Storage& s : reader.storages) root_types.emplace(s.key, s.dtype);
  std::map<std::string, StorageBytes> bytes;
  for (const auto& key : keys->items) {
    if (!key->is_string()) fail(path, "a storage key is not a string", kHint);
    auto type = root_types.find(key->text);
    if (type == root_types.end()) fail(path, "storage '" + key->text + "' is never used", kHint);
    if (size - pos < 8)
      fail(path, "the file ends before storage '" + key->text + "' (truncated)", kHint);
    uint64_t numel = 0;
    for (int i = 7; i >= 0; --i) numel = (numel << 8) | data[pos + i];
    pos += 8;
    const size_t esize = element_size(type->second);
    if (numel > (size - pos) / esize) {
      fail(path, "storage '" + key->text + "' runs past the end of the file (truncated)", kHint);
    }
    StorageBytes b;
    b.nbytes = static_cast<size_t>(numel) * esize;
    b.file_offset = pos;
    b.data = data + pos;
    bytes[key->text] = b;
    pos += b.nbytes;
  }
  return make_entries(file, root, reader, bytes);
}

}  // namespace

bool looks_like_torch_save(const MappedFile& file) {
  if (file.size() >= sizeof kZipPrefix &&
      std::memcmp(file.data(), kZipPrefix, sizeof kZipPrefix) == 0) {
    return true;
  }
  return file.size() >= sizeof kLegacyPrefix &&
         std::memcmp(file.data(), kLegacyPrefix, sizeof kLegacyPrefix) == 0;
}

std::vector<TensorEntry> read_torch_bin(const std::shared_ptr<const MappedFile>& file) {
  if (file->size() >= sizeof kZipPrefix &&
      std::memcmp(file->data(), kZipPrefix, sizeof kZipPrefix) == 0) {
    return read_zip(file);
  }
  if (file->size() >= sizeof kLegacyPrefix &&
      std::memcmp(file->data(), kLegacyPrefix, sizeof kLegacyPrefix) == 0) {
    return read_legacy(file);
  }
  fail(file->path(), "is not a torch.save file (neither a zip archive nor a legacy pickle)", kHint);
}

}  // namespace clintorch::io
