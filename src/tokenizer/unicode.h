// Unicode helpers of the tokenizer (internal): UTF-8 decoding with the invalid-byte policy, and
// the per-character BertNormalizer + BertPreTokenizer classification, all from utf8proc data.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace clintorch::tok::detail {

constexpr char32_t kReplacementChar = 0xFFFD;

// Decodes the code point at p (requires p < end). Returns the number of bytes consumed (>= 1).
// Well-formed sequences follow Unicode table 3-7; an ill-formed one yields U+FFFD for its
// maximal subpart (the lead byte plus the continuation bytes that were still acceptable), like
// Python's bytes.decode('utf-8', 'replace'). `valid` is false for a replacement.
inline size_t decode_utf8(const uint8_t* p, const uint8_t* end, char32_t& cp, bool& valid) {
  const uint8_t b0 = p[0];
  if (b0 < 0x80) {
    cp = b0;
    valid = true;
    return 1;
  }
  size_t need = 0;
  uint8_t lo = 0x80, hi = 0xBF;  // accepted range of the second byte
  char32_t value = 0;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    need = 1;
    value = b0 & 0x1F;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    need = 2;
    value = b0 & 0x0F;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    need = 3;
    value = b0 & 0x07;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    cp = kReplacementChar;
    valid = false;
    return 1;
  }
  size_t i = 1;
  for (; i <= need; ++i) {
    if (p + i >= end) break;
    const uint8_t b = p[i];
    const uint8_t l = i == 1 ? lo : 0x80;
    const uint8_t h = i == 1 ? hi : 0xBF;
    if (b < l || b > h) break;
    value = (value << 6) | (b & 0x3F);
  }
  if (i <= need) {
    cp = kReplacementChar;
    valid = false;
    return i;
  }
  cp = value;
  valid = true;
  return need + 1;
}

// Writes the UTF-8 form of cp (a valid scalar value) to out (4 bytes room); returns its length.
inline size_t encode_utf8(char32_t cp, uint8_t* out) {
  if (cp < 0x80) {
    out[0] = static_cast<uint8_t>(cp);
    return 1;
  }
  if (cp < 0x800) {
    out[0] = static_cast<uint8_t>(0xC0 | (cp >> 6));
    out[1] = static_cast<uint8_t>(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    out[0] = static_cast<uint8_t>(0xE0 | (cp >> 12));
    out[1] = static_cast<uint8_t>(0x80 | ((cp >> 6) & 0x3F));
    out[2] = static_cast<uint8_t>(0x80 | (cp & 0x3F));
    return 3;
  }
  out[0] = static_cast<uint8_t>(0xF0 | (cp >> 18));
  out[1] = static_cast<uint8_t>(0x80 | ((cp >> 12) & 0x3F));
  out[2] = static_cast<uint8_t>(0x80 | ((cp >> 6) & 0x3F));
  out[3] = static_cast<uint8_t>(0x80 | (cp & 0x3F));
  return 4;
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
