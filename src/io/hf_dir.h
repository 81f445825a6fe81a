// Writing a HuggingFace-format model directory that transformers' from_pretrained loads as is:
// config.json, model.safetensors and the tokenizer files.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "io/state_dict.h"

namespace clintorch::io {

struct HfExportOptions {
  // Directory the tokenizer files are copied from: vocab.txt (required), tokenizer_config.json,
  // special_tokens_map.json, tokenizer.json (each copied when present; the first two are written
  // with BERT defaults when absent). Empty = write no tokenizer files. Default: empty.
  std::string tokenizer_dir;
  // Metadata of model.safetensors; transformers requires format=pt. Default: {"format": "pt"}.
  std::map<std::string, std::string> metadata = {{"format", "pt"}};
};

// Creates `out_dir` (and parents), writes config.json (pretty-printed, `config` as given) and
// model.safetensors (`tensors` under their names), then the tokenizer files. Throws an Error
// naming the file on any failure.
void write_hf_directory(const std::string& out_dir, const nlohmann::json& config,
                        const NamedTensors& tensors, const HfExportOptions& options);

// Tokens in a vocab.txt (one per line; a final newline does not start a token). Throws an Error
// naming the file when it cannot be read.
int64_t count_vocab_tokens(const std::string& vocab_path);

}  // namespace clintorch::io
