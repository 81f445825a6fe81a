#include "io/hf_dir.h"

#include <filesystem>
#include <fstream>

#include "io/safetensors.h"
#include "util/error.h"

namespace clintorch::io {

namespace fs = std::filesystem;

namespace {

void write_json(const fs::path& path, const nlohmann::json& j) {
  std::ofstream out(path);
  out << j.dump(2) << "\n";
  if (!out) fail(path.string(), "write failed", "check that the directory is writable");
}

void copy_into_dir(const fs::path& from, const fs::path& to) {
  std::error_code ec;
  fs::copy_file(from, to, fs::copy_options::overwrite_existing, ec);
  if (ec) fail(to.string(), "cannot copy from " + from.string() + ": " + ec.message());
}

}  // namespace

int64_t count_vocab_tokens(const std::string& vocab_path) {
  std::ifstream in(vocab_path, std::ios::binary);
  if (!in) fail(vocab_path, "cannot open");
  int64_t lines = 0;
  char last = '\n';
  char buffer[1 << 16];
  while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
    const std::streamsize n = in.gcount();
    for (std::streamsize i = 0; i < n; ++i) lines += buffer[i] == '\n';
    last = buffer[n - 1];
  }
  return lines + (last != '\n' ? 1 : 0);
}

void write_hf_directory(const std::string& out_dir, const nlohmann::json& config,
                        const NamedTensors& tensors, const HfExportOptions& options) {
  const fs::path dir(out_dir);
  const fs::path src(options.tokenizer_dir);
  // Checked before anything is written, so a failed export leaves no partial directory.
  if (!options.tokenizer_dir.empty() && !fs::exists(src / "vocab.txt")) {
    fail((src / "vocab.txt").string(), "not found: the export needs the tokenizer's vocabulary",
         "export from a model directory that has vocab.txt");
  }
  std::error_code ec;
  fs::create_directories(out_dir, ec);
  if (ec || !fs::is_directory(out_dir)) {
    fail(out_dir, "cannot create the export directory" + (ec ? ": " + ec.message() : ""));
  }
  write_safetensors((dir / "model.safetensors").string(), tensors, options.metadata);
  write_json(dir / "config.json", config);
  if (options.tokenizer_dir.empty()) return;
  if (fs::equivalent(src, dir, ec)) return;  // exporting over the source: the files are there
  copy_into_dir(src / "vocab.txt", dir / "vocab.txt");
  for (const char* optional :
       {"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"}) {
    if (fs::exists(src / optional)) copy_into_dir(src / optional, dir / optional);
  }
  if (!fs::exists(dir / "tokenizer_config.json")) {
    // transformers' BertTokenizer defaults (do_lower_case true, as it assumes without the file).
    write_json(dir / "tokenizer_config.json",
               {{"tokenizer_class", "BertTokenizer"},
                {"do_lower_case", true},
                {"model_max_length", config.value("max_position_embeddings", 512)}});
  }
  if (!fs::exists(dir / "special_tokens_map.json")) {
    write_json(dir / "special_tokens_map.json", {{"unk_token", "[UNK]"},
                                                 {"sep_token", "[SEP]"},
                                                 {"pad_token", "[PAD]"},
                                                 {"cls_token", "[CLS]"},
                                                 {"mask_token", "[MASK]"}});
  }
}

}  // namespace clintorch::io
