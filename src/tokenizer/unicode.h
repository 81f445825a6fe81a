// Unicode helpers of the tokenizer (internal): UTF-8 decoding with the invalid-byte policy, and
// the per-character BertNormalizer + BertPreTokenizer classification, all from utf8proc data.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "util/utf8.h"

namespace clintorch::tok::detail {

using utf8::kReplacementChar;
// Decoding and encoding of one code point (util/utf8.h).
inline size_t decode_utf8(const uint8_t* p, const uint8_t* end, char32_t& cp, bool& valid) {
  return utf8::decode(p, end, cp, valid);
}
inline size_t encode_utf8(char32_t cp, uint8_t* out) {
  return utf8::encode(cp, out);
}

// What the pre-tokenizer does with a normalised character.
enum CharClass : uint8_t {
  kWordChar = 0,  // part of a word
  kSpace = 1,     // splits words and is dropped
  kPunct = 2,     // a word on its own (punctuation, or a CJK ideograph with CJK spacing)
};

// BertNormalizer settings.
struct NormalizerFlags {
  bool clean_text = true;
  bool handle_chinese_chars = true;
  bool strip_accents = true;
  bool lowercase = true;
};

// The normalised form of one input character: 0..kMaxOut characters, each with its class.
struct NormalizedChar {
  static constexpr int kMaxOut = 18;
  int count = 0;
  char32_t cp[kMaxOut];
  CharClass cls[kMaxOut];
};

// Runs clean text, CJK spacing, accent stripping (NFD, drop Mn) and lowercasing on one input
// code point, then classifies each output as the BertPreTokenizer would.
void normalize_char(char32_t cp, const NormalizerFlags& flags, NormalizedChar& out);

// Unicode predicates as HF `tokenizers` defines them (data from utf8proc).
bool is_bert_whitespace(char32_t cp);         // Rust char::is_whitespace (White_Space)
bool is_bert_punctuation(char32_t cp);        // ASCII punctuation or a P* category
bool is_bert_control(char32_t cp);            // Cc, Cf or Co, except \t \n \r
bool is_chinese_char(char32_t cp);            // the CJK ranges of BertNormalizer
bool has_uppercase(const char* s, size_t n);  // any Lu/Lt character in a UTF-8 string

// Fast table for code points below 0x10000 whose normal form is a single character (or none):
// entry = (output code point << 3) | (class << 1) | 1, or 0 = "dropped", or kComplex.
class BmpTable {
 public:
  static constexpr uint32_t kDropped = 0;
  static constexpr uint32_t kComplex = 2;  // several outputs: call normalize_char
  void build(const NormalizerFlags& flags);
  uint32_t get(char32_t cp) const { return table_[cp]; }

 private:
  std::vector<uint32_t> table_;
};

}  // namespace clintorch::tok::detail
