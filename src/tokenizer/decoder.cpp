#include "tokenizer/decoder.h"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string_view>

#include "tokenizer/tokenizer.h"
#include "util/error.h"

namespace clintorch::tok {

namespace fs = std::filesystem;

namespace {

nlohmann::json read_json_if_present(const fs::path& p) {
  std::error_code ec;
  if (!fs::is_regular_file(p, ec)) return nlohmann::json();
  std::ifstream in(p);
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception&) {
    fail(p.string(), "is not valid JSON", "repair or remove the file");
  }
}

void replace_all(std::string& s, const std::string& from, const std::string& to) {
  for (size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size())) {
    s.replace(p, from.size(), to);
  }
}

// The clean-up replacements of tokenizers' WordPiece decoder (`do_not`: it also joins " do not")
// and of transformers' clean_up_tokenization (without it), in their order.
void clean_up(std::string& s, bool do_not) {
  for (const char* p : {" .", " ?", " !", " ,"}) replace_all(s, p, std::string(p + 1));
  replace_all(s, " ' ", "'");
  replace_all(s, " n't", "n't");
  replace_all(s, " 'm", "'m");
  if (do_not) replace_all(s, " do not", " don't");
  replace_all(s, " 's", "'s");
  replace_all(s, " 've", "'ve");
  replace_all(s, " 're", "'re");
}

}  // namespace

TokenDecoder::TokenDecoder(const tok::Tokenizer& tokenizer, const std::string& model_dir)
    : tokenizer_(tokenizer) {
  const nlohmann::json tj = read_json_if_present(fs::path(model_dir) / "tokenizer.json");
  if (tj.is_object() && tj.contains("decoder") && tj["decoder"].is_object()) {
    const auto& d = tj["decoder"];
    if (d.value("type", "") == "WordPiece") {
      if (d.contains("prefix") && d["prefix"].is_string()) prefix_ = d["prefix"];
      if (d.contains("cleanup") && d["cleanup"].is_boolean()) cleanup_ = d["cleanup"];
    }
  }
  const nlohmann::json cfg = read_json_if_present(fs::path(model_dir) / "tokenizer_config.json");
  if (cfg.is_object() && cfg.contains("clean_up_tokenization_spaces") &&
      cfg["clean_up_tokenization_spaces"].is_boolean()) {
    clean_up_spaces_ = cfg["clean_up_tokenization_spaces"];
  }
  special_.assign(tokenizer.vocab_size(), false);
  for (const auto& t : tokenizer.added_tokens()) {
    if (!t.special) continue;
    const int32_t id = tokenizer.token_to_id(t.content);
    if (id >= 0 && static_cast<size_t>(id) < special_.size()) special_[id] = true;
  }
}

std::string TokenDecoder::decode(const std::vector<int64_t>& ids, bool skip_special_tokens) const {
  // tokenizers' WordPiece decoder (decoders/wordpiece.rs decode_chain), token by token.
  std::string text;
  size_t i = 0;
  for (int64_t id : ids) {
    if (id < 0 || static_cast<size_t>(id) >= special_.size()) continue;
    if (skip_special_tokens && special_[id]) continue;
    const std::string_view piece = tokenizer_.id_to_token(static_cast<int32_t>(id));
    std::string token;
    if (i != 0 && !prefix_.empty() && piece.substr(0, prefix_.size()) == prefix_) {
      token.assign(piece.substr(prefix_.size()));
    } else {
      if (i != 0) token.push_back(' ');
      token.append(piece);
    }
    if (cleanup_) clean_up(token, /*do_not=*/true);
    text += token;
    ++i;
  }
  // transformers' clean_up_tokenization, on the whole string
  if (clean_up_spaces_) clean_up(text, /*do_not=*/false);
  return text;
}

}  // namespace clintorch::tok
