#include "eval/py_text.h"

#include <utf8proc.h>

#include "util/error.h"
#include "util/utf8.h"

namespace clintorch::eval {
namespace {

utf8proc_category_t category(char32_t c) {
  return utf8proc_category(static_cast<utf8proc_int32_t>(c));
}

bool has_case_mapping(char32_t c) {
  const auto cp = static_cast<utf8proc_int32_t>(c);
  return utf8proc_tolower(cp) != cp || utf8proc_toupper(cp) != cp || utf8proc_totitle(cp) != cp;
}

// Unicode's derived property Cased: Lu, Ll, Lt, Other_Lowercase, Other_Uppercase. Characters with
// a case mapping are cased; the few Other_Lowercase/Other_Uppercase ones without a mapping that
// are not Case_Ignorable (which the Final_Sigma scan skips before asking) are listed.
bool is_cased(char32_t c) {
  switch (category(c)) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
      return true;
    default:
      break;
  }
  if (has_case_mapping(c)) return true;
  return c == 0x00AA || c == 0x00BA ||      // ª º (Other_Lowercase)
         (c >= 0x1F130 && c <= 0x1F149) ||  // squared Latin capitals (Other_Uppercase)
         (c >= 0x1F150 && c <= 0x1F169) ||  // negative circled Latin capitals
         (c >= 0x1F170 && c <= 0x1F189);    // negative squared Latin capitals
}

// Unicode's derived property Case_Ignorable: Mn, Me, Cf, Lm, Sk, and Word_Break MidLetter,
// MidNumLet or Single_Quote.
bool is_case_ignorable(char32_t c) {
  switch (category(c)) {
    case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_ME:
    case UTF8PROC_CATEGORY_CF:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_SK:
      return true;
    default:
      break;
  }
  switch (c) {
    case 0x0027:  // ' (Single_Quote)
    case 0x002E:  // . (MidNumLet)
    case 0x003A:  // : (MidLetter)
    case 0x00B7:
    case 0x0387:
    case 0x055F:
    case 0x05F4:
    case 0x2018:
    case 0x2019:
    case 0x2024:
    case 0x2027:
    case 0xFE13:
    case 0xFE52:
    case 0xFE55:
    case 0xFF07:
    case 0xFF0E:
    case 0xFF1A:
      return true;
    default:
      return false;
  }
}

// CPython's handle_capital_sigma: U+03A3 at index i lowercases to final ς when a cased letter
// precedes it and none follows (case-ignorable characters skipped on both sides).
bool is_final_sigma(const std::u32string& text, size_t i) {
  size_t j = i;
  bool cased_before = false;
  while (j > 0) {
    --j;
    if (!is_case_ignorable(text[j])) {
      cased_before = is_cased(text[j]);
      break;
    }
  }
  if (!cased_before) return false;
  for (size_t k = i + 1; k < text.size(); ++k) {
    if (!is_case_ignorable(text[k])) return !is_cased(text[k]);
  }
  return true;
}

}  // namespace

std::u32string decode_utf8(const std::string& text, const std::string& where) {
  std::u32string out;
  if (!utf8::decode_all(text, out)) {
    fail(where, "invalid UTF-8 at byte " + std::to_string(utf8::find_invalid(text)),
         "the text must be UTF-8 encoded");
  }
  return out;
}

std::string encode_utf8(const std::u32string& text) {
  std::string out;
  out.reserve(text.size());
  uint8_t buffer[4];
  for (char32_t c : text) {
    out.append(reinterpret_cast<const char*>(buffer), utf8::encode(c, buffer));
  }
  return out;
}

std::u32string python_lower(const std::u32string& text) {
  std::u32string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char32_t c = text[i];
    if (c < 0x80) {
      out.push_back(c >= 'A' && c <= 'Z' ? c + 32 : c);
    } else if (c == 0x0130) {  // İ: SpecialCasing's unconditional full lowercase "i̇"
      out.push_back(U'i');
      out.push_back(0x0307);
    } else if (c == 0x03A3) {
      out.push_back(is_final_sigma(text, i) ? 0x03C2 : 0x03C3);
    } else {
      out.push_back(static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(c))));
    }
  }
  return out;
}

bool python_is_space(char32_t c) {
  return utf8::is_python_space(c);
}

bool python_is_word(char32_t c) {
  if (c < 0x80) {
    return c == '_' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
  }
  switch (category(c)) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
    case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_NO:
      return true;
    default:
      return false;
  }
}

std::vector<std::u32string> python_split(const std::u32string& text) {
  std::vector<std::u32string> words;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && python_is_space(text[i])) ++i;
    const size_t start = i;
    while (i < text.size() && !python_is_space(text[i])) ++i;
    if (i > start) words.push_back(text.substr(start, i - start));
  }
  return words;
}

}  // namespace clintorch::eval
