// The pre-tokenised cache: features (and MLM token streams) are written to binary files named by
// a key that hashes the input file's bytes, the tokenizer (vocabulary, normalisation settings,
// added tokens) and every option that shapes the features, so a second epoch or run reads them
// back instead of tokenising again, and any change invalidates them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

namespace clintorch::tok {
class Tokenizer;
}

namespace clintorch::data {

struct CacheOptions {
  // Use the cache (read and write). Default true.
  bool enabled = true;
  // Folder of the cache files; "" = $CLINTORCH_CACHE_DIR, else $XDG_CACHE_HOME/clintorch, else
  // ~/.cache/clintorch. Default "".
  std::string dir;
};

// The cache folder for `options` (created when missing); "" when it cannot be created.
std::string cache_dir(const CacheOptions& options);

// 64-bit non-cryptographic hash, incrementally fed.
class Hasher {
 public:
  explicit Hasher(uint64_t seed = 0x636c696e746f7263ULL);
  Hasher& add(const void* data, size_t size);
  Hasher& add(std::string_view s);  // length-prefixed, so ("ab","c") != ("a","bc")
  Hasher& add_u64(uint64_t v);
  uint64_t digest() const;

 private:
  uint64_t h_;
  uint64_t n_ = 0;
};

// Hash of a file: its full contents for files up to 256 MiB, else its path, size and
// modification time (so huge corpora are not read twice). Throws when unreadable.
uint64_t file_fingerprint(const std::string& path);
// Hash of everything about a tokenizer that changes its output.
uint64_t tokenizer_fingerprint(const tok::Tokenizer& tokenizer);
// 16 hex digits.
std::string hex_key(uint64_t key);

// Little binary writer/reader for cache files (native endianness; the header's magic and key
// reject foreign files).
class BinaryWriter {
 public:
  // Writes to `path` + ".tmp", renamed to `path` by commit().
  explicit BinaryWriter(const std::string& path);
  ~BinaryWriter();
  bool ok() const { return f_ != nullptr && ok_; }
  void bytes(const void* data, size_t size);
  template <typename T>
  void pod(const T& v) {
    bytes(&v, sizeof(T));
  }
  template <typename T>
  void vec(const std::vector<T>& v) {
    pod<uint64_t>(v.size());
    if (!v.empty()) bytes(v.data(), v.size() * sizeof(T));
  }
  void str(const std::string& s) {
    pod<uint64_t>(s.size());
    bytes(s.data(), s.size());
  }
  // Flushes, closes and renames into place; false (and the temp file removed) on any error.
  bool commit();

 private:
  std::string path_;
  std::FILE* f_ = nullptr;
  bool ok_ = true;
};

class BinaryReader {
 public:
  explicit BinaryReader(const std::string& path);
  ~BinaryReader();
  bool ok() const { return f_ != nullptr && ok_; }
  void bytes(void* data, size_t size);
  template <typename T>
  T pod() {
    T v{};
    bytes(&v, sizeof(T));
    return v;
  }
  template <typename T>
  void vec(std::vector<T>& v) {
    const auto n = pod<uint64_t>();
    if (!ok_ || n > (uint64_t{1} << 34)) {
      ok_ = false;
      return;
    }
    v.resize(n);
    if (n) bytes(v.data(), n * sizeof(T));
  }
  void str(std::string& s) {
    const auto n = pod<uint64_t>();
    if (!ok_ || n > (uint64_t{1} << 34)) {
      ok_ = false;
      return;
    }
    s.resize(n);
    if (n) bytes(s.data(), n);
  }

 private:
  std::FILE* f_ = nullptr;
  bool ok_ = true;
};

}  // namespace clintorch::data
