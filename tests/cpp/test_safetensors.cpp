// Our safetensors reader/writer, torch.save reader and shard index: round trips, and every kind
// of corrupt or truncated file gives a clintorch::Error naming the file (and the tensor), never a
// crash. The Python tests check the same files against the reference libraries.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "io/safetensors.h"
#include "io/tensor_store.h"
#include "util/error.h"

namespace fs = std::filesystem;
using clintorch::io::TensorStore;

namespace {

// A fresh directory per test under the system temp dir.
fs::path temp_dir(const std::string& name) {
  const fs::path dir =
      fs::temp_directory_path() / ("clintorch_st_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

std::string read_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_bytes(const fs::path& p, const std::string& bytes) {
  std::ofstream(p, std::ios::binary) << bytes;
}

// A safetensors file from a header (as JSON text) and a data section, with a correct length.
std::string make_file(const std::string& header, const std::string& data) {
  std::string out(8, '\0');
  uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((n >> (8 * i)) & 0xff);
  return out + header + data;
}

// Expects open() to throw an Error whose message contains every one of `needles`.
void expect_error(const fs::path& file, std::initializer_list<std::string> needles) {
  try {
    TensorStore::open(file.string());
    FAIL() << "no error for " << file;
  } catch (const clintorch::Error& e) {
    const std::string msg = e.what();
    for (const auto& n : needles) EXPECT_NE(msg.find(n), std::string::npos) << msg;
  }
}

}  // namespace

TEST(Safetensors, RoundTripsEveryDtypeShapeAndMetadata) {
  const auto dir = temp_dir("roundtrip");
  torch::manual_seed(0);
  std::vector<std::pair<std::string, at::Tensor>> tensors = {
      {"f32", torch::randn({3, 4})},
      {"f16", torch::randn({5}).to(torch::kHalf)},
      {"bf16", torch::randn({2, 2, 2}).to(torch::kBFloat16)},
      {"f64", torch::randn({2}, torch::kDouble)},
      {"i64", torch::arange(6, torch::kLong).view({2, 3})},
      {"i32", torch::arange(4, torch::kInt)},
      {"i16", torch::arange(3, torch::kShort)},
      {"i8", torch::arange(-2, 2, torch::kChar)},
      {"u8", torch::arange(7, torch::kByte)},
      {"bool", torch::tensor({true, false, true})},
      {"scalar", torch::tensor(3.5f)},
      {"empty", torch::zeros({0, 4})},
      {"strided", torch::randn({4, 3}).t()},  // written contiguous
  };
  const auto path = dir / "t.safetensors";
  clintorch::io::write_safetensors(path.string(), tensors, {{"format", "pt"}});
  const auto store = TensorStore::open(path.string());
  EXPECT_EQ(store.metadata().at("format"), "pt");
  ASSERT_EQ(store.size(), tensors.size());
  for (const auto& [name, t] : tensors) {
    const at::Tensor back = store.get(name);
    EXPECT_EQ(back.scalar_type(), t.scalar_type()) << name;
    EXPECT_EQ(back.sizes(), t.sizes()) << name;
    EXPECT_TRUE(torch::equal(back, t)) << name;
  }
  // The header is padded so the data section starts 8-byte aligned.
  const std::string bytes = read_bytes(path);
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<uint8_t>(bytes[i]);
  EXPECT_EQ((8 + n) % 8, 0u);
  fs::remove_all(dir);
}

TEST(Safetensors, CopyIntoConvertsDtypeAndChecksShape) {
  const auto dir = temp_dir("copyinto");
  const auto path = (dir / "t.safetensors").string();
  const at::Tensor w = torch::randn({3, 2}).to(torch::kBFloat16);
  clintorch::io::write_safetensors(path, {{"w", w}});
  const auto store = TensorStore::open(path);
  at::Tensor dst = torch::zeros({3, 2});
  store.copy_into("w", dst);
  EXPECT_TRUE(torch::equal(dst, w.to(torch::kFloat)));
  at::Tensor wrong = torch::zeros({2, 3});
  try {
    store.copy_into("w", wrong);
    FAIL();
  } catch (const clintorch::Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(path), std::string::npos) << msg;
    EXPECT_NE(msg.find("'w'"), std::string::npos) << msg;
    EXPECT_NE(msg.find("[3, 2]"), std::string::npos) << msg;
  }
  fs::remove_all(dir);
}

TEST(SafetensorsCorrupt, MissingFile) {
  expect_error("/nonexistent/dir/model.safetensors",
               {"/nonexistent/dir/model.safetensors", "cannot open"});
}

TEST(SafetensorsCorrupt, EmptyAndTooShortFiles) {
  const auto dir = temp_dir("short");
  write_bytes(dir / "empty.safetensors", "");
  expect_error(dir / "empty.safetensors", {"empty.safetensors", "too short"});
  write_bytes(dir / "short.safetensors", "abc");
  expect_error(dir / "short.safetensors", {"short.safetensors", "too short"});
  fs::remove_all(dir);
}

TEST(SafetensorsCorrupt, HeaderLengthPastEndOfFile) {
  const auto dir = temp_dir("hdrlen");
  std::string bytes =
      make_file(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", "abcd");
  bytes[0] = static_cast<char>(0xff);  // length now 255+..., beyond the file
  bytes[3] = 0x10;
  write_bytes(dir / "m.safetensors", bytes);
  expect_error(dir / "m.safetensors", {"m.safetensors", "header length", "past the end"});
  fs::remove_all(dir);
}

TEST(SafetensorsCorrupt, TruncatedDataSection) {
  const auto dir = temp_dir("trunc");
  const auto path = dir / "m.safetensors";
  clintorch::io::write_safetensors(path.string(),
                                   {{"embeddings.word_embeddings.weight", torch::randn({10, 4})},
                                    {"pooler.dense.bias", torch::randn({4})}});
  std::string bytes = read_bytes(path);
  write_bytes(path, bytes.substr(0, bytes.size() - 10));
  expect_error(path, {"m.safetensors", "pooler.dense.bias", "outside the data section"});
  fs::remove_all(dir);
}

TEST(SafetensorsCorrupt, HeaderIsNotJson) {
  const auto dir = temp_dir("json");
  write_bytes(dir / "m.safetensors", make_file("{\"a\": [1, 2", ""));
  expect_error(dir / "m.safetensors", {"m.safetensors", "not valid JSON"});
  write_bytes(dir / "n.safetensors", make_file("[1, 2]", ""));
  expect_error(dir / "n.safetensors", {"n.safetensors", "not a JSON object"});
  fs::remove_all(dir);
}

TEST(SafetensorsCorrupt, UnknownDtype) {
  const auto dir = temp_dir("dtype");
  write_bytes(dir / "m.safetensors",
              make_file(R"({"w":{"dtype":"F8_E4M3","shape":[2],"data_offsets":[0,2]}})", "ab"));
  expect_error(dir / "m.safetensors", {"m.safetensors", "'w'", "unknown dtype 'F8_E4M3'", "BF16"});
  fs::remove_all(dir);
}

TEST(SafetensorsCorrupt, OverlappingOffsets) {
  const auto dir = temp_dir("overlap");
  write_bytes(dir / "m.safetensors",
              make_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                        R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                        std::string(12, 'x')));
  expect_error(dir / "m.safetensors", {"m.safetensors", "'b'", "overlaps", "'a'"});
  fs::remove_all(dir);
}

TEST(SafetensorsCorrupt, OffsetsOutOfRange) {
  const auto dir = temp_dir("range");
  write_bytes(
      dir / "m.safetensors",
      make_file(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", std::string(8, 'x')));
  expect_error(dir / "m.safetensors", {"m.safetensors", "'a'", "outside the data section"});
  write_bytes(
      dir / "n.safetensors",
      make_file(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[8,4]}})", std::string(8, 'x')));
  expect_error(dir / "n.safetensors", {"n.safetensors", "'a'", "backwards"});
  write_bytes(dir / "o.safetensors",
              make_file(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}})", ""));
  expect_error(dir / "o.safetensors", {"o.safetensors", "'a'", "non-negative integer"});
  fs::remove_all(dir);
}

TEST(SafetensorsCorrupt, ShapeDoesNotMatchByteSpan) {
  const auto dir = temp_dir("span");
  write_bytes(
      dir / "m.safetensors",
      make_file(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", std::string(8, 'x')));
  expect_error(dir / "m.safetensors", {"m.safetensors", "'a'", "needs 12 bytes", "span 8"});
  // An element count that overflows must not wrap around.
  write_bytes(dir / "n.safetensors",
              make_file(R"({"a":{"dtype":"F32","shape":[4294967296,4294967296,16],)"
                        R"("data_offsets":[0,0]}})",
                        ""));
  expect_error(dir / "n.safetensors", {"n.safetensors", "'a'", "overflows"});
  fs::remove_all(dir);
}

TEST(SafetensorsCorrupt, HoleOrTrailingBytesInDataSection) {
  const auto dir = temp_dir("hole");
  write_bytes(
      dir / "m.safetensors",
      make_file(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", std::string(8, 'x')));
  expect_error(dir / "m.safetensors", {"m.safetensors", "'a'", "hole"});
  write_bytes(
      dir / "n.safetensors",
      make_file(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", std::string(8, 'x')));
  expect_error(dir / "n.safetensors", {"n.safetensors", "data section has 8 bytes"});
  fs::remove_all(dir);
}

TEST(SafetensorsCorrupt, MissingFieldsAndBadMetadata) {
  const auto dir = temp_dir("fields");
  write_bytes(dir / "m.safetensors", make_file(R"({"a":{"dtype":"F32","shape":[1]}})", "abcd"));
  expect_error(dir / "m.safetensors", {"m.safetensors", "'a'", "data_offsets"});
  write_bytes(dir / "n.safetensors", make_file(R"({"__metadata__":{"format":1}})", ""));
  expect_error(dir / "n.safetensors", {"n.safetensors", "__metadata__"});
  fs::remove_all(dir);
}

TEST(SafetensorsShards, IndexIsReadAndCheckedAgainstShards) {
  const auto dir = temp_dir("shards");
  clintorch::io::write_safetensors((dir / "model-00001-of-00002.safetensors").string(),
                                   {{"a", torch::ones({2})}});
  clintorch::io::write_safetensors((dir / "model-00002-of-00002.safetensors").string(),
                                   {{"b", torch::zeros({3})}});
  nlohmann::json index = {
      {"metadata", {{"total_size", 20}}},
      {"weight_map",
       {{"a", "model-00001-of-00002.safetensors"}, {"b", "model-00002-of-00002.safetensors"}}}};
  std::ofstream(dir / "model.safetensors.index.json") << index.dump();
  const auto store = TensorStore::open((dir / "model.safetensors.index.json").string());
  EXPECT_EQ(store.size(), 2u);
  EXPECT_TRUE(torch::equal(store.get("b"), torch::zeros({3})));
  EXPECT_NE(store.source().find("2 shards"), std::string::npos);

  index["weight_map"]["c"] = "model-00002-of-00002.safetensors";  // promised but absent
  std::ofstream(dir / "bad.index.json") << index.dump();
  expect_error(dir / "bad.index.json", {"bad.index.json", "'c'", "missing"});

  index["weight_map"].erase("c");
  index["weight_map"]["b"] = "model-00009-of-00009.safetensors";  // shard file missing
  std::ofstream(dir / "gone.index.json") << index.dump();
  expect_error(dir / "gone.index.json", {"model-00009-of-00009.safetensors", "cannot open"});

  std::ofstream(dir / "broken.index.json") << "{\"weight_map\": ";
  expect_error(dir / "broken.index.json", {"broken.index.json", "not valid JSON"});
  fs::remove_all(dir);
}

TEST(TorchBin, ReadsWhatLibTorchPickleSaveWrites) {
  // torch::pickle_save writes the same zip + pickle layout as Python's torch.save.
  const auto dir = temp_dir("picklesave");
  c10::Dict<std::string, at::Tensor> dict;
  const at::Tensor a = torch::randn({3, 4});
  dict.insert("encoder.weight", a);
  dict.insert("view", a.slice(1, 1, 3));  // a strided view of the same storage
  dict.insert("half", torch::randn({5}).to(torch::kHalf));
  dict.insert("ids", torch::arange(4, torch::kLong));
  const std::vector<char> bytes = torch::pickle_save(c10::IValue(dict));
  write_bytes(dir / "pytorch_model.bin", std::string(bytes.begin(), bytes.end()));
  const auto store = TensorStore::open((dir / "pytorch_model.bin").string());
  ASSERT_EQ(store.size(), 4u);
  EXPECT_TRUE(torch::equal(store.get("encoder.weight"), a));
  EXPECT_TRUE(torch::equal(store.get("view"), a.slice(1, 1, 3)));
  EXPECT_EQ(store.get("half").scalar_type(), torch::kHalf);
  EXPECT_TRUE(torch::equal(store.get("ids"), torch::arange(4, torch::kLong)));

  // Truncated: the zip's central directory is gone.
  const std::string full(bytes.begin(), bytes.end());
  write_bytes(dir / "truncated.bin", full.substr(0, full.size() / 2));
  expect_error(dir / "truncated.bin", {"truncated.bin"});
  // Zip magic followed by garbage.
  write_bytes(dir / "garbage.bin", "PK\x03\x04" + std::string(200, 'z'));
  expect_error(dir / "garbage.bin", {"garbage.bin"});
  fs::remove_all(dir);
}

TEST(TorchBin, CorruptLegacyPickleIsAnErrorNotACrash) {
  const auto dir = temp_dir("legacy");
  // The legacy magic number pickle, then a stream that ends in the middle of an opcode.
  const std::string magic("\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19.", 15);
  write_bytes(dir / "a.bin", magic + "\x80\x02M\xe9");
  expect_error(dir / "a.bin", {"a.bin", "ends early"});
  // Protocol ok, then an opcode that does not exist.
  write_bytes(dir / "b.bin", magic + std::string("\x80\x02M\xe9\x03.\x80\x02\xff", 9));
  expect_error(dir / "b.bin", {"b.bin", "unsupported pickle opcode 0xff"});
  fs::remove_all(dir);
}

namespace {

// A legacy torch.save file holding {"w": tensor} whose storage declares `declared` float elements
// and whose tensor has shape (`size`,), followed by a storage of one float (1.5).
std::string legacy_file(uint64_t declared, uint64_t size) {
  std::ostringstream out;
  auto raw = [&](const char* bytes, size_t n) {
    out.write(bytes, static_cast<std::streamsize>(n));
  };
  auto u64 = [&](uint64_t v) {
    for (int i = 0; i < 8; ++i) out.put(static_cast<char>((v >> (8 * i)) & 0xff));
  };
  auto str = [&](const std::string& t) {  // BINUNICODE
    out.put('X');
    for (int i = 0; i < 4; ++i) out.put(static_cast<char>((t.size() >> (8 * i)) & 0xff));
    out << t;
  };
  auto long1 = [&](uint64_t v) {
    raw("\x8a\x08", 2);
    u64(v);
  };
  raw("\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19.", 15);  // magic number
  raw("\x80\x02M\xe9\x03.", 6);                                          // protocol 1001
  raw("\x80\x02}.", 4);                                                  // sys_info {}
  raw("\x80\x02}", 3);
  str("w");
  out << "ctorch._utils\n_rebuild_tensor_v2\n((";
  str("storage");
  out << "ctorch\nFloatStorage\n";
  str("0");
  str("cpu");
  long1(declared);
  out << "NtQ";     // view metadata None; the persistent id -> storage
  raw("K\x00", 2);  // storage offset 0
  long1(size);
  raw("\x85K\x01\x85\x89", 5);             // size (size,), stride (1,), requires_grad False
  out << "ccollections\nOrderedDict\n)R";  // backward hooks
  out << "tRs.";
  raw("\x80\x02]", 3);  // storage keys ["0"]
  str("0");
  out << "a.";
  u64(1);  // the storage: one element
  const float value = 1.5f;
  raw(reinterpret_cast<const char*>(&value), 4);
  return out.str();
}

}  // namespace

TEST(TorchBin, LegacyStorageSizesAreCheckedWithoutOverflow) {
  const auto dir = temp_dir("legacysize");
  write_bytes(dir / "ok.bin", legacy_file(1, 1));
  const auto store = TensorStore::open((dir / "ok.bin").string());
  EXPECT_FLOAT_EQ(store.get("w").item<float>(), 1.5f);
  // A storage that claims 2^62 elements (times 4 bytes wraps around 64 bits) over 4 bytes.
  write_bytes(dir / "huge.bin", legacy_file(uint64_t{1} << 62, uint64_t{1} << 62));
  expect_error(dir / "huge.bin", {"huge.bin", "'w'", "declared"});
  // A tensor larger than its storage.
  write_bytes(dir / "view.bin", legacy_file(1, 2));
  expect_error(dir / "view.bin", {"view.bin", "'w'", "reaches past its storage"});
  fs::remove_all(dir);
}
