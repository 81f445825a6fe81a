// Helpers shared by the C++ tests.
#pragma once

#include <array>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <sys/wait.h>

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

}  // namespace clintorch::test
