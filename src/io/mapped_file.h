// A read-only memory map of a whole file. Checkpoint readers hand out pointers into it, so tensor
// bytes are copied exactly once: from the page cache into the model's parameters.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace clintorch::io {

class MappedFile {
 public:
  // Maps `path` read-only. Throws clintorch::Error naming the file when it is missing, is a
  // directory or cannot be mapped. An empty file maps to data() == nullptr, size() == 0.
  static std::shared_ptr<const MappedFile> open(const std::string& path);

  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }

  // Tells the kernel that the pages overlapping [offset, offset + length) are no longer needed, so
  // they stop counting towards this process's resident memory (they are re-read from the file if
  // touched again). Used after a tensor has been copied into its parameter.
  void release(size_t offset, size_t length) const;

 private:
  MappedFile(std::string path, const uint8_t* data, size_t size);
  std::string path_;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace clintorch::io
