#include "io/durable.h"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <vector>

#include "util/error.h"

namespace clintorch::io {

namespace fs = std::filesystem;

namespace {

// The reflected CRC-32C table (polynomial 0x82F63B78), 8 slices for speed.
struct Crc32cTables {
  std::array<std::array<uint32_t, 256>, 8> t{};
  Crc32cTables() {
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78U : c >> 1;
      t[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; ++i) {
      for (size_t s = 1; s < 8; ++s) t[s][i] = (t[s - 1][i] >> 8) ^ t[0][t[s - 1][i] & 0xff];
    }
  }
};

const Crc32cTables& tables() {
  static const Crc32cTables kTables;
  return kTables;
}

std::string hex32(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%08x", v);
  return buf;
}

std::vector<fs::path> files_of(const fs::path& dir) {
  std::vector<fs::path> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file() && e.path().filename() != kManifestName) out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

uint32_t crc32c(const void* data, size_t n, uint32_t crc) {
  const auto& t = tables().t;
  const auto* p = static_cast<const unsigned char*>(data);
  crc = ~crc;
  while (n >= 8) {
    uint32_t lo;
    uint32_t hi;
    std::memcpy(&lo, p, 4);
    std::memcpy(&hi, p + 4, 4);
    lo ^= crc;
    crc = t[7][lo & 0xff] ^ t[6][(lo >> 8) & 0xff] ^ t[5][(lo >> 16) & 0xff] ^ t[4][lo >> 24] ^
          t[3][hi & 0xff] ^ t[2][(hi >> 8) & 0xff] ^ t[1][(hi >> 16) & 0xff] ^ t[0][hi >> 24];
    p += 8;
    n -= 8;
  }
  while (n-- > 0) crc = (crc >> 8) ^ t[0][(crc ^ *p++) & 0xff];
  return ~crc;
}

uint32_t crc32c_file(const std::string& path, uint64_t* size) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, "cannot be read");
  std::vector<char> buf(1 << 20);
  uint32_t crc = 0;
  uint64_t total = 0;
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    const auto got = static_cast<size_t>(in.gcount());
    crc = crc32c(buf.data(), got, crc);
    total += got;
  }
  if (size) *size = total;
  return crc;
}

void fsync_path(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail(path, std::string("cannot be opened to sync: ") + std::strerror(errno));
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  // Some file systems refuse fsync on a folder (EINVAL); the data files were synced already.
  if (rc != 0 && !(err == EINVAL && fs::is_directory(path))) {
    fail(path, std::string("cannot be synced to disk: ") + std::strerror(err),
         err == ENOSPC ? "the disk is full" : "check the disk");
  }
}

void fsync_stream(std::FILE* file, const std::string& path) {
  if (std::fflush(file) != 0 || ::fsync(::fileno(file)) != 0) {
    const int err = errno;
    fail(path, std::string("cannot be written to disk: ") + std::strerror(err),
         err == ENOSPC ? "the disk is full" : "check the disk");
  }
}

void rename_durable(const std::string& from, const std::string& to) {
  std::error_code ec;
  fs::rename(from, to, ec);
  if (ec) fail(to, "cannot rename " + from + " to it: " + ec.message());
  const fs::path parent = fs::path(to).parent_path();
  fsync_path(parent.empty() ? "." : parent.string());
}

namespace {

fs::path aside_name(const fs::path& dir) {
  std::string name = dir.filename().string();
  name.insert(0, 1, '.');
  name.append(".deleted.tmp");
  return dir.parent_path() / name;
}

}  // namespace

void remove_folder(const std::string& dir, std::error_code& ec) {
  const fs::path aside = aside_name(dir);
  fs::remove_all(aside, ec);
  fs::rename(dir, aside, ec);
  if (ec) return;
  fs::remove_all(aside, ec);
}

void replace_folder(const std::string& from, const std::string& to) {
  const fs::path aside = aside_name(to);
  std::error_code ec;
  fs::remove_all(aside, ec);
  if (fs::exists(to, ec)) fs::rename(to, aside, ec);
  fs::rename(from, to, ec);
  if (ec) fail(to, "cannot be written: cannot rename " + from + " to it: " + ec.message());
  const fs::path parent = fs::path(to).parent_path();
  fsync_path(parent.empty() ? "." : parent.string());
  fs::remove_all(aside, ec);
}

void seal_folder(const std::string& dir) {
  nlohmann::json files = nlohmann::json::object();
  for (const fs::path& f : files_of(dir)) {
    fsync_path(f.string());
    uint64_t size = 0;
    const uint32_t crc = crc32c_file(f.string(), &size);
    files[fs::relative(f, dir).generic_string()] = {{"size", size}, {"crc32c", hex32(crc)}};
  }
  const std::string manifest = (fs::path(dir) / kManifestName).string();
  {
    std::ofstream out(manifest, std::ios::binary | std::ios::trunc);
    out << nlohmann::json{{"version", 1}, {"files", files}}.dump(1) << "\n";
    out.flush();
    if (!out) fail(manifest, "cannot be written", "check free space and permissions");
  }
  fsync_path(manifest);
  fsync_path(dir);
}

std::optional<std::string> verify_manifest(const std::string& dir) {
  const fs::path manifest = fs::path(dir) / kManifestName;
  std::ifstream in(manifest);
  if (!in)
    return std::string("no ") + kManifestName + " (the folder is incomplete: it is written last)";
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception&) {
    return std::string(kManifestName) + " is not valid JSON";
  }
  if (!j.contains("files") || !j["files"].is_object()) {
    return std::string(kManifestName) + " has no \"files\" object";
  }
  for (const auto& [name, want] : j["files"].items()) {
    const fs::path f = fs::path(dir) / name;
    std::error_code ec;
    if (!fs::is_regular_file(f, ec)) return name + ": missing";
    const uint64_t expected = want.value("size", uint64_t{0});
    const uint64_t actual = fs::file_size(f, ec);
    if (actual != expected) {
      return name + ": " + std::to_string(actual) + " bytes, the manifest says " +
             std::to_string(expected);
    }
    if (hex32(crc32c_file(f.string())) != want.value("crc32c", std::string())) {
      return name + ": its checksum does not match the manifest (damaged)";
    }
  }
  return std::nullopt;
}

}  // namespace clintorch::io
