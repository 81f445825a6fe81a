#include "infer/inputs.h"

#include <torch/torch.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "data/text_io.h"
#include "io/durable.h"
#include "io/state_dict.h"
#include "model/pretrained.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"

namespace clintorch::infer {

namespace fs = std::filesystem;

InputFormat parse_input_format(const std::string& name, const std::string& option) {
  if (name == "auto") return InputFormat::kAuto;
  if (name == "text") return InputFormat::kText;
  if (name == "jsonl") return InputFormat::kJsonl;
  throw UsageError(option + ": unknown input format '" + name + "' (use auto, text or jsonl)");
}

std::string TextRecord::where() const {
  return data::where(file, line);
}

TextSource::TextSource(const std::string& path, InputFormat format)
    : name_(path == "-" ? "<stdin>" : path), format_(format) {
  if (format_ == InputFormat::kAuto) {
    const std::string ext = data::file_extension(path);
    format_ = (ext == "jsonl" || ext == "json") ? InputFormat::kJsonl : InputFormat::kText;
  }
  // Text lines are not UTF-8-checked: the tokenizer reads invalid bytes as HF does (U+FFFD).
  reader_ = std::make_unique<data::LineReader>(path == "-" ? "/dev/stdin" : path,
                                               /*check_utf8=*/false);
}

TextSource::~TextSource() = default;

bool TextSource::next_chunk(size_t max, std::vector<TextRecord>& out) {
  out.clear();
  std::string line;
  while (out.size() < max && reader_->next(line)) {
    TextRecord r;
    r.file = name_;
    r.line = reader_->line_number();
    if (format_ == InputFormat::kText) {
      r.text = std::move(line);
      out.push_back(std::move(r));
      continue;
    }
    if (line.find_first_not_of(" \t") == std::string::npos) continue;  // blank JSONL line
    const nlohmann::json v = data::parse_json(line, name_, r.line);
    if (!v.is_object() || !v.contains("text") || !v["text"].is_string()) {
      fail(
          r.where(), "expected a JSON object with a string \"text\" field",
          "write one {\"text\": \"...\", \"id\": ...} object per line, or use --input-format text");
    }
    r.text = v["text"].get<std::string>();
    if (v.contains("id")) r.id = v["id"];
    out.push_back(std::move(r));
  }
  return !out.empty();
}

LoadedEncoder load_encoder(const std::string& name_or_dir, c10::Device device) {
  model::BertCheckpoint ckpt = model::BertCheckpoint::open(name_or_dir);
  LoadedEncoder out;
  out.dir = ckpt.dir;
  out.config = ckpt.config;
  {
    model::SkipWeightInit skip;  // every weight comes from the checkpoint (a missing one fails)
    out.model = model::BertModel(ckpt.config, /*add_pooling_layer=*/false);
  }
  io::LoadOptions load;
  load.warn = false;  // a BertFor* checkpoint's head (and the pooler) are simply not needed
  const io::LoadReport report =
      io::load_into(ckpt.weights, model::encoder_tensors(out.model), load);
  if (!report.missing.empty()) {
    std::string list;
    for (size_t i = 0; i < report.missing.size() && i < 5; ++i) {
      list += (i ? ", " : "") + report.missing[i];
    }
    if (report.missing.size() > 5) list += ", ...";
    fail(ckpt.dir,
         "the checkpoint lacks " + std::to_string(report.missing.size()) +
             " encoder weight(s): " + list,
         "inference needs a trained BERT encoder (a HF BertModel or BertFor* folder)");
  }
  out.model->to(device);
  out.model->eval();
  return out;
}

TextOutput::TextOutput(const std::string& path) : path_(path) {
  if (path == "-") {
    file_ = stdout;
    return;
  }
  partial_ = path + ".partial";
  file_ = std::fopen(partial_.c_str(), "wb");
  if (!file_) {
    fail(partial_, std::string("cannot create: ") + std::strerror(errno),
         "check the folder exists and is writable");
  }
}

TextOutput::~TextOutput() {
  if (file_ && file_ != stdout) {
    std::fclose(file_);
    std::error_code ec;
    fs::remove(partial_, ec);
  }
}

void TextOutput::write(const std::string& text) {
  if (std::fwrite(text.data(), 1, text.size(), file_) != text.size()) {
    fail(path_ == "-" ? "<stdout>" : partial_, "write failed", "check the disk is not full");
  }
}

void TextOutput::close() {
  if (!file_) return;
  if (file_ == stdout) {
    std::fflush(stdout);
    file_ = nullptr;
    return;
  }
  io::fsync_stream(file_, partial_);  // on disk before it gets its name
  const bool ok = std::fclose(file_) == 0;
  file_ = nullptr;
  if (!ok) fail(partial_, "write failed", "check the disk is not full");
  io::rename_durable(partial_, path_);
}

void append_float(std::string& out, float value) {
  if (!std::isfinite(value)) {
    out += "null";
    return;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", static_cast<double>(value));
  out += buf;
}

}  // namespace clintorch::infer
