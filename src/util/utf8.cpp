#include "util/utf8.h"

namespace clintorch::utf8 {

size_t find_invalid(std::string_view s) {
  const auto* p = reinterpret_cast<const uint8_t*>(s.data());
  const uint8_t* end = p + s.size();
  const uint8_t* at = p;
  while (at < end) {
    if (*at < 0x80) {
      ++at;
      continue;
    }
    char32_t cp = 0;
    bool valid = false;
    const size_t n = decode(at, end, cp, valid);
    if (!valid) return static_cast<size_t>(at - p);
    at += n;
  }
  return std::string_view::npos;
}

bool decode_all(std::string_view s, std::u32string& out) {
  out.clear();
  out.reserve(s.size());
  const auto* p = reinterpret_cast<const uint8_t*>(s.data());
  const uint8_t* end = p + s.size();
  while (p < end) {
    char32_t cp = 0;
    bool valid = false;
    p += decode(p, end, cp, valid);
    if (!valid) return false;
    out.push_back(cp);
  }
  return true;
}

bool is_python_space(char32_t c) {
  if (c < 0x80) return c == ' ' || (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x1F);
  switch (c) {
    case 0x0085:
    case 0x00A0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202F:
    case 0x205F:
    case 0x3000:
      return true;
    default:
      return c >= 0x2000 && c <= 0x200A;
  }
}

}  // namespace clintorch::utf8
