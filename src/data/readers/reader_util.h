// Helpers shared by the readers (src/data/readers/*.cpp, readers.cpp), internal to the data layer.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "data/readers.h"
#include "data/text_io.h"

namespace clintorch::data {

std::string trim_ascii(std::string_view s);
// Throws "no examples found" for `path`.
[[noreturn]] void empty_file(const std::string& path);
// The value of `key` as a string ("" when absent or null; numbers and other JSON as text).
std::string id_of(const nlohmann::json& obj, const std::string& key);
nlohmann::json parse_jsonl_object(const std::string& line, const std::string& path, size_t ln);

// Calls fn(object, line_number) for every non-blank line of a JSONL file, each line parsed as one
// JSON object (errors name the file and line).
template <class Fn>
void for_each_jsonl_object(const std::string& path, Fn&& fn) {
  LineReader lr(path);
  std::string line;
  while (lr.next(line)) {
    if (trim_ascii(line).empty()) continue;
    const size_t ln = lr.line_number();
    fn(parse_jsonl_object(line, path, ln), ln);
  }
}

// Resolves the tag schemes and converts every example's tags (errors name the example's line).
void apply_tag_schemes(std::vector<NerExample>& examples, const ReaderOptions& options,
                       const std::string& path);
// Code point range -> byte range of `text`, validating the range.
ByteSpan char_span_to_bytes(const std::vector<uint32_t>& starts, long long b, long long e,
                            const std::string& what, const std::string& loc);
// A JSON label as text: strings as they are, booleans "true"/"false", integers in decimal; "" for
// anything else.
std::string label_from_json(const nlohmann::json& v);
// Reads {"start": s, "end": e} or [s, e, ...] into (s, e); label from "label" or the third item.
bool read_span(const nlohmann::json& v, long long& s, long long& e, std::string* label);

}  // namespace clintorch::data
