// Text operations exactly as Python 3 defines them on `str`, for metrics whose reference is a
// Python script (the official SQuAD evaluation): str.lower(), str.split(), and the \w class of
// the `re` module. Unicode data comes from utf8proc.
#pragma once

#include <string>
#include <vector>

namespace clintorch::eval {

// UTF-8 → code points (util/utf8.h); throws Error naming `where` on invalid UTF-8 (never quoting
// the text).
std::u32string decode_utf8(const std::string& text, const std::string& where);
std::string encode_utf8(const std::u32string& text);

// str.lower(): full lowercase mapping (U+0130 becomes "i̇", two code points) and the Final_Sigma
// rule for U+03A3 (ς at the end of a word, σ elsewhere), as CPython does.
std::u32string python_lower(const std::u32string& text);

// Py_UNICODE_ISSPACE: what str.split() with no argument splits on (utf8::is_python_space).
bool python_is_space(char32_t c);

// A word character of `re` for str patterns (\w, and so \b): str.isalnum() or '_'.
bool python_is_word(char32_t c);

// str.split() with no argument: the runs of non-whitespace.
std::vector<std::u32string> python_split(const std::u32string& text);

}  // namespace clintorch::eval
