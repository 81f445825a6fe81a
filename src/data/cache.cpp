#include "data/cache.h"

#include <sys/stat.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "tokenizer/tokenizer.h"
#include "util/error.h"
#include "util/log.h"

namespace clintorch::data {

namespace fs = std::filesystem;

std::string cache_dir(const CacheOptions& options) {
  std::string dir = options.dir;
  if (dir.empty()) {
    if (const char* env = std::getenv("CLINTORCH_CACHE_DIR"); env && *env) {
      dir = env;
    } else if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) {
      dir = std::string(xdg) + "/clintorch";
    } else if (const char* home = std::getenv("HOME"); home && *home) {
      dir = std::string(home) + "/.cache/clintorch";
    } else {
      return "";
    }
  }
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec || !fs::is_directory(dir, ec)) {
    log_warning("data cache: cannot create folder " + dir + "; features are not cached");
    return "";
  }
  return dir;
}

// ------------------------------------------------------------------------------- hashing

namespace {
constexpr uint64_t kMul1 = 0x9E3779B97F4A7C15ULL;
constexpr uint64_t kMul2 = 0xC2B2AE3D27D4EB4FULL;
inline uint64_t rotl(uint64_t x, int r) {
  return (x << r) | (x >> (64 - r));
}
inline uint64_t fmix(uint64_t k) {
  k ^= k >> 33;
  k *= 0xFF51AFD7ED558CCDULL;
  k ^= k >> 33;
  k *= 0xC4CEB9FE1A85EC53ULL;
  k ^= k >> 33;
  return k;
}
}  // namespace

Hasher::Hasher(uint64_t seed) : h_(seed) {}

Hasher& Hasher::add(const void* data, size_t size) {
  const auto* p = static_cast<const unsigned char*>(data);
  size_t i = 0;
  for (; i + 8 <= size; i += 8) {
    uint64_t k;
    std::memcpy(&k, p + i, 8);
    h_ = rotl(h_ ^ (k * kMul2), 31) * kMul1;
  }
  uint64_t tail = 0;
  for (size_t j = 0; i < size; ++i, ++j) tail |= static_cast<uint64_t>(p[i]) << (8 * j);
  h_ = rotl(h_ ^ (tail * kMul2), 29) * kMul1 + 0x27D4EB2F165667C5ULL;
  n_ += size;
  return *this;
}

Hasher& Hasher::add(std::string_view s) {
  add_u64(s.size());
  return add(s.data(), s.size());
}

Hasher& Hasher::add_u64(uint64_t v) {
  return add(&v, sizeof(v));
}

uint64_t Hasher::digest() const {
  return fmix(h_ ^ n_);
}

std::string hex_key(uint64_t key) {
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(key));
  return buf;
}

uint64_t file_fingerprint(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) fail(path, "cannot read file");
  Hasher h;
  const auto size = static_cast<uint64_t>(st.st_size);
  h.add_u64(size);
  if (size > (uint64_t{256} << 20)) {
    h.add(fs::absolute(path).string());
    h.add_u64(static_cast<uint64_t>(st.st_mtim.tv_sec));
    h.add_u64(static_cast<uint64_t>(st.st_mtim.tv_nsec));
    return h.digest();
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, "cannot open file");
  std::vector<char> buf(1 << 20);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    const auto got = in.gcount();
    if (got > 0) h.add(buf.data(), static_cast<size_t>(got));
  }
  return h.digest();
}

uint64_t tokenizer_fingerprint(const tok::Tokenizer& t) {
  Hasher h;
  h.add("clintorch-tokenizer-v1");
  const size_t n = t.vocab_size();
  h.add_u64(n);
  for (size_t i = 0; i < n; ++i) h.add(t.id_to_token(static_cast<int32_t>(i)));
  h.add_u64(t.do_lower_case()).add_u64(t.strip_accents()).add_u64(t.tokenize_chinese_chars());
  h.add_u64(t.clean_text()).add_u64(t.max_input_chars_per_word());
  for (const auto& a : t.added_tokens()) {
    h.add(a.content);
    h.add_u64((a.special ? 1u : 0u) | (a.normalized ? 2u : 0u) | (a.single_word ? 4u : 0u) |
              (a.lstrip ? 8u : 0u) | (a.rstrip ? 16u : 0u));
  }
  return h.digest();
}

// ------------------------------------------------------------------------------- binary io

BinaryWriter::BinaryWriter(const std::string& path) : path_(path) {
  f_ = std::fopen((path + ".tmp").c_str(), "wb");
}

BinaryWriter::~BinaryWriter() {
  if (f_) {
    std::fclose(f_);
    std::remove((path_ + ".tmp").c_str());
  }
}

void BinaryWriter::bytes(const void* data, size_t size) {
  if (!f_ || !ok_) return;
  if (size && std::fwrite(data, 1, size, f_) != size) ok_ = false;
}

bool BinaryWriter::commit() {
  if (!f_) return false;
  const bool flushed = std::fflush(f_) == 0;
  const bool closed = std::fclose(f_) == 0;
  f_ = nullptr;
  const std::string tmp = path_ + ".tmp";
  if (!ok_ || !flushed || !closed || std::rename(tmp.c_str(), path_.c_str()) != 0) {
    std::remove(tmp.c_str());
    return false;
  }
  return true;
}

BinaryReader::BinaryReader(const std::string& path) {
  f_ = std::fopen(path.c_str(), "rb");
}

BinaryReader::~BinaryReader() {
  if (f_) std::fclose(f_);
}

void BinaryReader::bytes(void* data, size_t size) {
  if (!f_ || !ok_) {
    ok_ = false;
    return;
  }
  if (size && std::fread(data, 1, size, f_) != size) ok_ = false;
}

}  // namespace clintorch::data
