#include "io/npy.h"

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "io/durable.h"
#include "util/error.h"

namespace clintorch::io {

namespace {
constexpr size_t kHeaderSize = 128;  // magic + version + length + dict, padded (a multiple of 64)

[[noreturn]] void io_fail(const std::string& path, const std::string& what) {
  fail(path, what + ": " + std::strerror(errno), "check the folder exists and is writable");
}
}  // namespace

std::string npy_header(int64_t rows, int64_t cols) {
  std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + std::to_string(rows) +
                     ", " + std::to_string(cols) + "), }";
  const size_t prefix = 10;  // "\x93NUMPY" + major + minor + uint16 header length
  if (prefix + dict.size() + 1 > kHeaderSize) {
    fail("npy", "shape (" + std::to_string(rows) + ", " + std::to_string(cols) + ") too large");
  }
  dict.append(kHeaderSize - prefix - dict.size() - 1, ' ');
  dict += '\n';
  const auto len = static_cast<uint16_t>(dict.size());
  std::string out = "\x93NUMPY";
  out += static_cast<char>(1);
  out += static_cast<char>(0);
  out += static_cast<char>(len & 0xff);
  out += static_cast<char>(len >> 8);
  return out + dict;
}

NpyWriter::NpyWriter(const std::string& path, int64_t cols)
    : path_(path), partial_(path + ".partial"), cols_(cols) {
  file_ = std::fopen(partial_.c_str(), "wb");
  if (!file_) io_fail(partial_, "cannot create");
  const std::string header = npy_header(0, cols_);  // rewritten by finish()
  if (std::fwrite(header.data(), 1, header.size(), file_) != header.size()) {
    io_fail(partial_, "write failed");
  }
}

NpyWriter::~NpyWriter() {
  if (file_) {
    std::fclose(file_);
    std::error_code ec;
    std::filesystem::remove(partial_, ec);
  }
}

void NpyWriter::append(const float* data, size_t rows) {
  const size_t n = rows * static_cast<size_t>(cols_);
  static_assert(sizeof(float) == 4, "float32");
  if (n > 0 && std::fwrite(data, sizeof(float), n, file_) != n) io_fail(partial_, "write failed");
  rows_ += static_cast<int64_t>(rows);
}

void NpyWriter::finish() {
  const std::string header = npy_header(rows_, cols_);
  if (std::fseek(file_, 0, SEEK_SET) != 0 ||
      std::fwrite(header.data(), 1, header.size(), file_) != header.size()) {
    io_fail(partial_, "write failed");
  }
  fsync_stream(file_, partial_);  // on disk before it gets its name
  if (std::fclose(file_) != 0) {
    file_ = nullptr;
    io_fail(partial_, "write failed");
  }
  file_ = nullptr;
  rename_durable(partial_, path_);
}

}  // namespace clintorch::io
