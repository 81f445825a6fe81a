// Character classification and normalisation for the BERT pipeline. All Unicode data (general
// categories, canonical decompositions, case mappings) comes from utf8proc.
#include "tokenizer/unicode.h"

#include <utf8proc.h>

namespace clintorch::tok::detail {
namespace {

utf8proc_category_t category(char32_t cp) {
  return utf8proc_category(static_cast<utf8proc_int32_t>(cp));
}

bool is_ascii_punctuation(char32_t cp) {
  return (cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) ||
         (cp >= 123 && cp <= 126);
}

// Rust's char::to_lowercase: the simple mapping, plus the one unconditional multi-character
// mapping of SpecialCasing.txt (U+0130 -> "i" U+0307). Context-dependent rules (final sigma)
// are not applied, as in HF's fast tokenizer.
int to_lowercase(char32_t cp, char32_t* out) {
  if (cp == 0x0130) {
    out[0] = 'i';
    out[1] = 0x0307;
    return 2;
  }
  out[0] = static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(cp)));
  return 1;
}

CharClass classify(char32_t cp) {
  if (is_bert_whitespace(cp)) return kSpace;
  if (is_bert_punctuation(cp)) return kPunct;
  return kWordChar;
}

}  // namespace

bool is_bert_whitespace(char32_t cp) {
  // White_Space = the Z* categories plus U+0009..U+000D and U+0085.
  if (cp == ' ' || (cp >= 0x09 && cp <= 0x0D) || cp == 0x85) return true;
  if (cp < 0x80) return false;
  const auto c = category(cp);
  return c == UTF8PROC_CATEGORY_ZS || c == UTF8PROC_CATEGORY_ZL || c == UTF8PROC_CATEGORY_ZP;
}

bool is_bert_punctuation(char32_t cp) {
  if (cp < 0x80) return is_ascii_punctuation(cp);
  const auto c = category(cp);
  return c >= UTF8PROC_CATEGORY_PC && c <= UTF8PROC_CATEGORY_PO;
}

bool is_bert_control(char32_t cp) {
  if (cp == '\t' || cp == '\n' || cp == '\r') return false;
  const auto c = category(cp);
  return c == UTF8PROC_CATEGORY_CC || c == UTF8PROC_CATEGORY_CF || c == UTF8PROC_CATEGORY_CO;
}

bool is_chinese_char(char32_t cp) {
  return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
         (cp >= 0x20000 && cp <= 0x2A6DF) || (cp >= 0x2A700 && cp <= 0x2B73F) ||
         (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B920 && cp <= 0x2CEAF) ||
         (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}

bool has_uppercase(const char* s, size_t n) {
  const auto* p = reinterpret_cast<const uint8_t*>(s);
  const auto* end = p + n;
  while (p < end) {
    char32_t cp = 0;
    bool valid = true;
    p += decode_utf8(p, end, cp, valid);
    const auto c = category(cp);
    if (c == UTF8PROC_CATEGORY_LU || c == UTF8PROC_CATEGORY_LT) return true;
  }
  return false;
}

void normalize_char(char32_t cp, const NormalizerFlags& flags, NormalizedChar& out) {
  out.count = 0;
  if (flags.clean_text) {
    // HF filters first (so U+0085 and VT/FF, which are Cc, vanish), then maps whitespace.
    if (cp == 0 || cp == kReplacementChar || is_bert_control(cp)) return;
    if (is_bert_whitespace(cp)) {
      out.cp[0] = ' ';
      out.cls[0] = kSpace;
      out.count = 1;
      return;
    }
  }
  // CJK spacing puts spaces around the ideograph: it becomes a word of its own, whatever the
  // later steps do to it (its NFD stays one ideograph).
  const bool isolated = flags.handle_chinese_chars && is_chinese_char(cp);

  char32_t stage[NormalizedChar::kMaxOut];
  int n = 0;
  if (flags.strip_accents) {
    utf8proc_int32_t buf[NormalizedChar::kMaxOut];
    int last_boundclass = 0;
    const utf8proc_ssize_t len =
        utf8proc_decompose_char(static_cast<utf8proc_int32_t>(cp), buf, NormalizedChar::kMaxOut,
                                UTF8PROC_DECOMPOSE, &last_boundclass);
    if (len <= 0 || len > NormalizedChar::kMaxOut) {
      stage[n++] = cp;  // not decomposable (or no room): keep as is
    } else {
      for (utf8proc_ssize_t i = 0; i < len; ++i) {
        const auto d = static_cast<char32_t>(buf[i]);
        if (category(d) == UTF8PROC_CATEGORY_MN) continue;
        stage[n++] = d;
      }
    }
  } else {
    stage[n++] = cp;
  }
  for (int i = 0; i < n; ++i) {
    char32_t lowered[2];
    const int m = flags.lowercase ? to_lowercase(stage[i], lowered) : (lowered[0] = stage[i], 1);
    for (int j = 0; j < m && out.count < NormalizedChar::kMaxOut; ++j) {
      out.cp[out.count] = lowered[j];
      out.cls[out.count] = isolated ? kPunct : classify(lowered[j]);
      ++out.count;
    }
  }
}

void BmpTable::build(const NormalizerFlags& flags) {
  table_.assign(0x10000, kComplex);
  NormalizedChar nc;
  for (char32_t cp = 0; cp < 0x10000; ++cp) {
    if (cp >= 0xD800 && cp <= 0xDFFF) continue;  // surrogates never come out of the decoder
    normalize_char(cp, flags, nc);
    if (nc.count == 0) {
      table_[cp] = kDropped;
    } else if (nc.count == 1) {
      table_[cp] =
          (static_cast<uint32_t>(nc.cp[0]) << 3) | (static_cast<uint32_t>(nc.cls[0]) << 1) | 1u;
    }
  }
}

}  // namespace clintorch::tok::detail
