// Token ids back to text, as HF `tokenizer.decode` does for a BERT WordPiece tokenizer (used by
// fill-mask for its token strings and sequences).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace clintorch::tok {

class Tokenizer;

// HF `tokenizer.decode(ids, skip_special_tokens)` of a BERT WordPiece tokenizer: the tokens
// joined by the WordPiece decoder (a "##" piece glued to the previous token, others after a
// space; with the decoder's `cleanup`, a space before . ? ! , dropped) and, when the model's
// tokenizer_config.json sets clean_up_tokenization_spaces, transformers' clean_up_tokenization.
class TokenDecoder {
 public:
  // Reads the decoder settings from `model_dir` (tokenizer.json "decoder", tokenizer_config.json).
  TokenDecoder(const Tokenizer& tokenizer, const std::string& model_dir);
  std::string decode(const std::vector<int64_t>& ids, bool skip_special_tokens) const;

 private:
  const Tokenizer& tokenizer_;
  std::string prefix_ = "##";
  bool cleanup_ = true;           // tokenizer.json decoder.cleanup (tokenizers' default)
  bool clean_up_spaces_ = false;  // tokenizer_config.json (transformers 5 default false)
  std::vector<bool> special_;     // by id: special added token, skipped when asked
};

}  // namespace clintorch::tok
