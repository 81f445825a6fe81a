// Helpers shared by the C++ tests.
#pragma once

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

namespace clintorch::test {

struct CommandResult {
  int status = -1;     // exit status of the command
  std::string output;  // stdout and stderr together
};

// Runs `command` through the shell with stderr merged into stdout.
inline CommandResult run_command(const std::string& command) {
  CommandResult result;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (!pipe) return result;
  std::array<char, 4096> buffer{};
  size_t n = 0;
  while ((n = fread(buffer.data(), 1, buffer.size(), pipe)) > 0) result.output.append(buffer.data(), n);
  const int raw = pclose(pipe);
  result.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  return result;
}

// Runs the clintorch binary built alongside the tests with the given arguments.
inline CommandResult run_clintorch(const std::string& args) {
  return run_command(std::string("'") + CLINTORCH_TEST_BIN + "' " + args);
}

// Path of a file in the source tree.
inline std::string source_path(const std::string& relative) {
  return std::string(CLINTORCH_TEST_SOURCE_DIR) + "/" + relative;
}

// The optional ../shared/datasets folder (overridable by CLINTORCH_SHARED_DATASETS).
inline std::string shared_datasets() {
  const char* env = std::getenv("CLINTORCH_SHARED_DATASETS");
  return env ? env : source_path("../shared/datasets");
}

// A fresh temporary folder removed at destruction.
class TempDir {
 public:
  TempDir() {
    std::string templ = (std::filesystem::temp_directory_path() / "clintorch-test-XXXXXX").string();
    if (!mkdtemp(templ.data())) throw std::runtime_error("mkdtemp failed");
    path_ = templ;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  // Writes `content` to a file in the folder and returns its path.
  std::string write(const std::string& name, const std::string& content) const {
    const std::string p = path_ + "/" + name;
    std::ofstream(p, std::ios::binary) << content;
    return p;
  }
  std::string path(const std::string& name = "") const {
    return name.empty() ? path_ : path_ + "/" + name;
  }

 private:
  std::string path_;
};

}  // namespace clintorch::test
