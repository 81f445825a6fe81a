// Helpers shared by the libFuzzer targets of tests/fuzz/. Each target parses one kind of untrusted
// file through the same entry point the CLI uses. A clintorch::Error is the expected answer to a
// bad file; anything else (a crash, a sanitizer report, another exception escaping, a hang) is a
// finding. The readers take paths, so the input is written to a file first (in $TMPDIR, one
// folder per process).
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "util/log.h"

namespace clintorch::fuzz {

// A private folder for this process's input files, removed at exit.
inline const std::string& work_dir() {
  static const std::string dir = [] {
    std::string tmpl = (std::filesystem::temp_directory_path() / "clintorch_fuzz_XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) {
      std::perror("mkdtemp");
      std::abort();
    }
    static const std::string keep = tmpl;
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(keep, ec);
    });
    set_log_level(LogLevel::kError);
    return tmpl;
  }();
  return dir;
}

// Writes `size` bytes to WORK_DIR/name and returns the path.
inline std::string write_input(const uint8_t* data, size_t size, const std::string& name) {
  const std::string path = work_dir() + "/" + name;
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr || (size > 0 && std::fwrite(data, 1, size, f) != size) || std::fclose(f) != 0) {
    std::perror(path.c_str());
    std::abort();
  }
  return path;
}

}  // namespace clintorch::fuzz
