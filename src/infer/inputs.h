// What the inference commands (fill-mask, embed) read and share: a stream of texts from a text
// file (one text per line) or a JSONL file ({"text": ..., "id": ...} per line), the encoder
// loaded for inference, and HF's decode() of token ids back to a string.
#pragma once

#include <c10/core/Device.h>
#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "model/bert.h"

namespace clintorch::tok {
class Tokenizer;
}

namespace clintorch::data {
class LineReader;
}

namespace clintorch::infer {

enum class InputFormat {
  kAuto,   // jsonl for a *.jsonl / *.json file name, else text
  kText,   // every line is one text (an empty line is an empty text)
  kJsonl,  // every non-blank line is an object with a string "text" and an optional "id"
};
// "auto", "text" or "jsonl"; anything else is a UsageError naming `option`.
InputFormat parse_input_format(const std::string& name, const std::string& option);

struct TextRecord {
  std::string text;
  nlohmann::json id;          // the JSONL "id" (any JSON value), null when absent
  size_t line = 0;            // 1-based line in the input
  std::string where() const;  // "FILE:LINE", set by TextSource
  std::string file;
};

// Streams records in chunks so memory stays flat whatever the input size.
class TextSource {
 public:
  // `path` "-" = standard input. Throws an Error naming the file when it cannot be opened.
  TextSource(const std::string& path, InputFormat format);
  ~TextSource();
  // Replaces `out` by up to `max` next records; false when the input is exhausted (out empty).
  // A bad JSONL line is an Error naming FILE:LINE (never its text).
  bool next_chunk(size_t max, std::vector<TextRecord>& out);
  const std::string& name() const { return name_; }

 private:
  std::string name_;
  InputFormat format_;
  std::unique_ptr<data::LineReader> reader_;
};

// The bare encoder of a HF model directory or cached model id, for inference: the weights of
// BertModel or of any BertFor* checkpoint ("bert." prefix; head weights are ignored). Missing
// encoder weights are an Error (the folder is not a BERT checkpoint). In eval mode on `device`.
struct LoadedEncoder {
  std::string dir;  // the resolved model folder
  model::BertConfig config;
  model::BertModel model{nullptr};
};
LoadedEncoder load_encoder(const std::string& name_or_dir, c10::Device device);

// A text output: a file (written to FILE.partial, renamed by close() so a failed run leaves no
// truncated FILE) or standard output for "-".
class TextOutput {
 public:
  explicit TextOutput(const std::string& path);
  ~TextOutput();  // without close(): a file's .partial is removed
  TextOutput(const TextOutput&) = delete;
  TextOutput& operator=(const TextOutput&) = delete;
  void write(const std::string& text);
  void close();

 private:
  std::string path_, partial_;
  std::FILE* file_ = nullptr;
};

// Appends `value` to `out` as a JSON number with float32 round-trip precision (9 digits).
void append_float(std::string& out, float value);

}  // namespace clintorch::infer
