// Streaming writer of NumPy .npy files (format 1.0, little-endian float32, C order), for
// matrices whose row count is known only at the end: rows are appended as they come, and
// finish() writes the header with the final shape. The data goes to FILE.partial, renamed to
// FILE by finish(), so an interrupted run never leaves a FILE that numpy misreads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

namespace clintorch::io {

class NpyWriter {
 public:
  // Creates PATH.partial for a (rows, cols) float32 matrix. Throws an Error naming the file.
  NpyWriter(const std::string& path, int64_t cols);
  ~NpyWriter();  // without finish(): removes PATH.partial
  NpyWriter(const NpyWriter&) = delete;
  NpyWriter& operator=(const NpyWriter&) = delete;

  // Appends `rows` rows of `cols` floats each (row-major).
  void append(const float* data, size_t rows);
  // Writes the header with the final row count, closes the file and renames it to PATH.
  void finish();
  int64_t rows() const { return rows_; }

 private:
  std::string path_, partial_;
  int64_t cols_ = 0, rows_ = 0;
  std::FILE* file_ = nullptr;
};

// The 128-byte header of a (rows, cols) little-endian float32 C-order .npy file (format 1.0).
std::string npy_header(int64_t rows, int64_t cols);

}  // namespace clintorch::io
