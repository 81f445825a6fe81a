// Helpers shared by the C++ tests.
#pragma once

#include <sys/wait.h>
#include <unistd.h>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

#include "model/config.h"

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
  while ((n = fread(buffer.data(), 1, buffer.size(), pipe)) > 0)
    result.output.append(buffer.data(), n);
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

// A BERT small enough for unit tests: 2 layers, hidden 16, 4 heads, intermediate 24.
inline model::BertConfig tiny_bert_config(int64_t vocab_size, int64_t max_position_embeddings) {
  model::BertConfig c;
  c.vocab_size = vocab_size;
  c.hidden_size = 16;
  c.num_hidden_layers = 2;
  c.num_attention_heads = 4;
  c.intermediate_size = 24;
  c.max_position_embeddings = max_position_embeddings;
  return c;
}

}  // namespace clintorch::test
