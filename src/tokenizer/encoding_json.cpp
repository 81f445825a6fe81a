#include "tokenizer/encoding_json.h"

#include <cstdio>

namespace clintorch::tok {

namespace {

template <typename T>
void append_ints(std::string& out, const char* key, const std::vector<T>& v, bool null_negative) {
  out += ",\"";
  out += key;
  out += "\":[";
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) out.push_back(',');
    const auto x = static_cast<long long>(v[i]);
    if (null_negative && x < 0) {
      out += "null";
    } else {
      out += std::to_string(x);
    }
  }
  out.push_back(']');
}

}  // namespace

void append_json_string(std::string& out, std::string_view s) {
  out.push_back('"');
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(ch);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\b') {
      out += "\\b";
    } else if (c == '\f') {
      out += "\\f";
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\u%04x", c);
      out += buf;
    } else {
      out.push_back(ch);
    }
  }
  out.push_back('"');
}

void append_encoding_json(std::string& out, size_t line, size_t window, bool with_window,
                          const Encoding& e, const std::vector<Offset>& offsets) {
  // (Appended piece by piece: GCC 12's -Wrestrict misfires on chains of string operator+.)
  out += "{\"line\":";
  out += std::to_string(line);
  if (with_window) {
    out += ",\"window\":";
    out += std::to_string(window);
  }
  out += ",\"tokens\":[";
  for (size_t i = 0; i < e.tokens.size(); ++i) {
    if (i) out.push_back(',');
    append_json_string(out, e.tokens[i]);
  }
  out.push_back(']');
  append_ints(out, "ids", e.ids, false);
  append_ints(out, "type_ids", e.type_ids, false);
  append_ints(out, "attention_mask", e.attention_mask, false);
  append_ints(out, "special_tokens_mask", e.special_tokens_mask, false);
  out += ",\"offsets\":[";
  for (size_t i = 0; i < offsets.size(); ++i) {
    if (i) out.push_back(',');
    out.push_back('[');
    out += std::to_string(offsets[i].begin);
    out.push_back(',');
    out += std::to_string(offsets[i].end);
    out.push_back(']');
  }
  out.push_back(']');
  append_ints(out, "word_ids", e.word_ids, true);
  append_ints(out, "sequence_ids", e.sequence_ids, true);
  out += "}\n";
}

}  // namespace clintorch::tok
