// Encodings as JSON lines, the output of `clintorch tokenize`: tokens, ids, type ids, masks,
// offsets, word ids and sequence ids, written without a JSON library (the hot path of tokenising
// millions of lines).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace clintorch::tok {

// Appends `s` as a JSON string (quoted, escaped; bytes >= 0x80 as they are).
void append_json_string(std::string& out, std::string_view s);

// Appends one JSON object and a newline: {"line", ["window",] "tokens", "ids", "type_ids",
// "attention_mask", "special_tokens_mask", "offsets", "word_ids", "sequence_ids"}; negative word
// and sequence ids are null.
void append_encoding_json(std::string& out, size_t line, size_t window, bool with_window,
                          const Encoding& encoding, const std::vector<Offset>& offsets);

}  // namespace clintorch::tok
