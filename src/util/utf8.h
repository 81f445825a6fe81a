// UTF-8 and Python's notion of whitespace, defined once for every layer: the tokenizer (decoding
// with Python's 'replace' policy), the data readers (validation, str.strip()) and the SQuAD metric
// (str.split()). No dependencies.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace clintorch::utf8 {

constexpr char32_t kReplacementChar = 0xFFFD;

// Decodes the code point at p (requires p < end). Returns the number of bytes consumed (>= 1).
// Well-formed sequences follow Unicode table 3-7; an ill-formed one yields U+FFFD for its
// maximal subpart (the lead byte plus the continuation bytes that were still acceptable), like
// Python's bytes.decode('utf-8', 'replace'). `valid` is false for a replacement.
inline size_t decode(const uint8_t* p, const uint8_t* end, char32_t& cp, bool& valid) {
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
inline size_t encode(char32_t cp, uint8_t* out) {
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

// Byte offset of the first ill-formed UTF-8 sequence of `s`, or npos when it is well-formed.
size_t find_invalid(std::string_view s);

// The code points of `s`; false (and `out` partial) when `s` is not well-formed UTF-8.
bool decode_all(std::string_view s, std::u32string& out);

// Python's str.isspace() of one character (Py_UNICODE_ISSPACE: Unicode White_Space plus the
// ASCII separators 0x1C-0x1F): what str.split() and str.strip() split on and remove.
bool is_python_space(char32_t c);

}  // namespace clintorch::utf8
