// NER readers: CoNLL columns, tokens/tags JSONL and character-span JSONL
// (docs/tasks-and-formats.md).
#include "data/readers.h"
#include "data/readers/reader_util.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <unordered_map>

#include "data/text_io.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"
#include "util/log.h"
#include "util/strings.h"

namespace clintorch::data {

using nlohmann::json;

// ------------------------------------------------------------------------------- NER

NerExample ner_example_from_text(const tok::Tokenizer& tokenizer, std::string text) {
  NerExample ex;
  tok::EncodeOptions eo;
  eo.add_special_tokens = false;
  eo.return_tokens = false;
  const tok::Encoding enc = tokenizer.encode(text, eo);
  int32_t current = -1;
  for (size_t i = 0; i < enc.size(); ++i) {
    const int32_t w = enc.word_ids[i];
    if (w < 0) continue;
    if (w != current || ex.word_spans.empty()) {
      ex.word_spans.push_back(ByteSpan{enc.offsets[i].begin, enc.offsets[i].end});
      current = w;
    } else {
      auto& span = ex.word_spans.back();
      span.begin = std::min(span.begin, enc.offsets[i].begin);
      span.end = std::max(span.end, enc.offsets[i].end);
    }
  }
  ex.words.reserve(ex.word_spans.size());
  for (const auto& s : ex.word_spans) ex.words.push_back(text.substr(s.begin, s.end - s.begin));
  ex.text = std::move(text);
  return ex;
}

size_t tag_words_from_spans(NerExample& ex, const std::vector<TagSpan>& spans) {
  const size_t n = ex.word_spans.size();
  ex.tags.assign(n, "O");
  std::vector<bool> taken(n, false);
  size_t misaligned = 0;
  for (const auto& s : spans) {
    bool first = true;
    bool begin_ok = false, end_ok = false;
    for (size_t w = 0; w < n; ++w) {
      const auto& ws = ex.word_spans[w];
      if (ws.begin >= s.end) break;
      if (ws.end <= s.begin) continue;
      if (ws.begin == s.begin) begin_ok = true;
      if (ws.end == s.end) end_ok = true;
      if (taken[w]) {
        first = false;
        continue;
      }
      ex.tags[w] = (first ? "B-" : "I-") + s.type;
      taken[w] = true;
      first = false;
    }
    if (!begin_ok || !end_ok) ++misaligned;
  }
  return misaligned;
}

namespace {

// Long on purpose: one pass over CoNLL lines (document markers, columns, sentence breaks), each
// error citing FILE:LINE.
std::vector<NerExample> read_conll(const std::string& path, const ReaderOptions& o) {
  LineReader lr(path);
  std::vector<NerExample> out;
  NerExample cur;
  std::string line;
  int sep_mode = -1;  // 0 tab, 1 whitespace
  if (o.column_separator == "tab")
    sep_mode = 0;
  else if (o.column_separator == "space")
    sep_mode = 1;
  else if (o.column_separator != "auto") {
    fail("column_separator", "unknown separator '" + o.column_separator + "'",
         "use auto, tab or space");
  }
  size_t ncols = 0;
  size_t ncols_line = 0;
  auto flush = [&]() {
    if (!cur.words.empty()) out.push_back(std::move(cur));
    cur = NerExample{};
  };
  std::vector<std::string_view> fields;
  while (lr.next(line)) {
    if (trim_ascii(line).empty()) {
      flush();
      continue;
    }
    if (sep_mode < 0) sep_mode = line.find('\t') != std::string::npos ? 0 : 1;
    if (sep_mode == 0) {
      fields = split(line, '\t');
      // Tolerate trailing tabs/spaces: drop empty trailing fields.
      while (fields.size() > 1 && trim_ascii(fields.back()).empty()) fields.pop_back();
    } else {
      fields = split_whitespace(line);
    }
    const size_t ln = lr.line_number();
    const auto col_index = [&](int c) -> long long {
      return c < 0 ? static_cast<long long>(fields.size()) + c : c;
    };
    const long long tc = col_index(o.token_column);
    if (tc < 0 || tc >= static_cast<long long>(fields.size())) {
      fail(where(path, ln),
           "no token column " + std::to_string(o.token_column) + " (the line has " +
               std::to_string(fields.size()) + " columns)",
           "set token_column / column_separator to match the file");
    }
    std::string token = trim_ascii(fields[static_cast<size_t>(tc)]);
    if (token == "-DOCSTART-") {
      flush();
      continue;
    }
    if (ncols == 0) {
      ncols = fields.size();
      ncols_line = ln;
      if (o.labeled && ncols < 2) {
        fail(where(path, ln), "wrong column count: 1 column, expected a token and a label",
             "CoNLL lines are TOKEN ... LABEL separated by tabs or spaces");
      }
    } else if (fields.size() != ncols) {
      fail(where(path, ln),
           "wrong column count: " + std::to_string(fields.size()) + " columns, expected " +
               std::to_string(ncols) + " as on line " + std::to_string(ncols_line),
           "every token line must have the same columns; sentences are separated by one blank "
           "line");
    }
    if (token.empty()) fail(where(path, ln), "empty token");
    if (cur.words.empty()) cur.line = ln;
    cur.words.push_back(std::move(token));
    if (o.labeled) {
      const long long lc = col_index(o.label_column);
      if (lc < 0 || lc >= static_cast<long long>(fields.size()) || lc == tc) {
        fail(where(path, ln),
             "no label column " + std::to_string(o.label_column) + " (the line has " +
                 std::to_string(fields.size()) + " columns)",
             "set label_column to match the file");
      }
      std::string tag = trim_ascii(fields[static_cast<size_t>(lc)]);
      if (tag.empty()) fail(where(path, ln), "empty label");
      cur.tags.push_back(std::move(tag));
    }
  }
  flush();
  if (out.empty()) empty_file(path);
  return out;
}

std::vector<NerExample> read_ner_jsonl(const std::string& path, const ReaderOptions& o) {
  std::vector<NerExample> out;
  for_each_jsonl_object(path, [&](const json& v, size_t ln) {
    NerExample ex;
    ex.line = ln;
    ex.id = id_of(v, o.id_key);
    const auto tk = v.find(o.tokens_key);
    if (tk == v.end() || !tk->is_array()) {
      fail(where(path, ln), "missing key '" + o.tokens_key + "' (a list of words)",
           "set tokens_key, or use format ner_spans_jsonl for raw text with spans");
    }
    for (const auto& w : *tk) {
      if (!w.is_string()) fail(where(path, ln), "'" + o.tokens_key + "' must hold strings");
      ex.words.push_back(w.get<std::string>());
      if (ex.words.back().empty()) {
        fail(where(path, ln), "word " + std::to_string(ex.words.size()) + " is empty");
      }
    }
    if (o.labeled) {
      auto tg = v.find(o.tags_key);
      if (tg == v.end() && o.tags_key == "tags") tg = v.find("ner_tags");
      if (tg == v.end() || !tg->is_array()) {
        fail(where(path, ln), "missing key '" + o.tags_key + "' (a list of tags)",
             "set tags_key to the key holding the labels");
      }
      for (const auto& t : *tg) {
        if (t.is_string()) {
          ex.tags.push_back(t.get<std::string>());
        } else if (t.is_number_integer()) {
          const long long id = t.get<long long>();
          if (o.label_names.empty()) {
            fail(where(path, ln), "integer tags need label names",
                 "set label_names (the ClassLabel names, in id order)");
          }
          if (id < 0 || id >= static_cast<long long>(o.label_names.size())) {
            fail(where(path, ln), "tag id " + std::to_string(id) + " is out of range (" +
                                      std::to_string(o.label_names.size()) + " label names)");
          }
          ex.tags.push_back(o.label_names[static_cast<size_t>(id)]);
        } else {
          fail(where(path, ln), "'" + o.tags_key + "' must hold strings or integer ids");
        }
      }
      if (ex.tags.size() != ex.words.size()) {
        fail(where(path, ln), "'" + o.tokens_key + "' has " + std::to_string(ex.words.size()) +
                                  " words but '" + o.tags_key + "' has " +
                                  std::to_string(ex.tags.size()) + " tags");
      }
    }
    if (ex.words.empty()) return;  // an empty sentence carries nothing
    out.push_back(std::move(ex));
  });
  if (out.empty()) empty_file(path);
  return out;
}

std::vector<NerExample> read_ner_spans(const std::string& path, const ReaderOptions& o,
                                       const tok::Tokenizer* tokenizer) {
  if (!tokenizer) fail(path, "reading text with character spans needs the tokenizer");
  std::vector<NerExample> out;
  size_t misaligned = 0, misaligned_line = 0;
  for_each_jsonl_object(path, [&](const json& v, size_t ln) {
    const auto tx = v.find(o.text_key);
    if (tx == v.end() || !tx->is_string()) {
      fail(where(path, ln), "missing key '" + o.text_key + "' (the raw text)",
           "set text_key, or use format ner_jsonl for pre-tokenised words");
    }
    std::string text = tx->get<std::string>();
    std::vector<TagSpan> spans;
    const auto en = v.find(o.entities_key);
    if (en != v.end() && !en->is_null()) {
      if (!en->is_array()) fail(where(path, ln), "'" + o.entities_key + "' must be a list");
      const auto starts = code_point_starts(text);
      std::vector<std::pair<std::pair<long long, long long>, size_t>> order;
      size_t k = 0;
      for (const auto& e : *en) {
        ++k;
        long long s = 0, t = 0;
        std::string label;
        if (!read_span(e, s, t, &label)) {
          fail(where(path, ln), "entity " + std::to_string(k) +
                                    " must be {\"start\": int, \"end\": int, \"label\": str} or "
                                    "[start, end, label]");
        }
        if (label.empty())
          fail(where(path, ln), "entity " + std::to_string(k) + " has an empty label");
        const ByteSpan b =
            char_span_to_bytes(starts, s, t, "entity " + std::to_string(k), where(path, ln));
        spans.push_back(TagSpan{b.begin, b.end, label});
        order.push_back({{s, t}, k});
      }
      std::vector<size_t> idx(spans.size());
      for (size_t i = 0; i < idx.size(); ++i) idx[i] = i;
      std::stable_sort(idx.begin(), idx.end(),
                       [&](size_t a, size_t b) { return spans[a].begin < spans[b].begin; });
      for (size_t i = 1; i < idx.size(); ++i) {
        const auto& prev = spans[idx[i - 1]];
        const auto& cur = spans[idx[i]];
        if (cur.begin < prev.end) {
          const auto& pa = order[idx[i - 1]];
          const auto& ca = order[idx[i]];
          fail(where(path, ln),
               "entities " + std::to_string(pa.second) + " [" + std::to_string(pa.first.first) +
                   ", " + std::to_string(pa.first.second) + ") and " + std::to_string(ca.second) +
                   " [" + std::to_string(ca.first.first) + ", " + std::to_string(ca.first.second) +
                   ") overlap",
               "flat NER needs non-overlapping spans; keep the outer or the inner entity");
        }
      }
      std::vector<TagSpan> sorted;
      for (size_t i : idx) sorted.push_back(spans[i]);
      spans = std::move(sorted);
    } else if (o.labeled) {
      fail(where(path, ln), "missing key '" + o.entities_key + "' (the entity spans)",
           "use an empty list for a text without entities");
    }
    NerExample ex = ner_example_from_text(*tokenizer, std::move(text));
    ex.line = ln;
    ex.id = id_of(v, o.id_key);
    if (o.labeled) {
      const size_t m = tag_words_from_spans(ex, spans);
      if (m && !misaligned) misaligned_line = ln;
      misaligned += m;
    }
    if (ex.words.empty()) return;
    out.push_back(std::move(ex));
  });
  if (out.empty()) empty_file(path);
  if (misaligned) {
    log_warning(path + ": " + std::to_string(misaligned) +
                " entity boundaries fall inside a word (first on line " +
                std::to_string(misaligned_line) +
                "); such words take the label of the entity that overlaps them");
  }
  return out;
}

}  // namespace

std::vector<NerExample> read_ner(const std::string& path, Format format,
                                 const ReaderOptions& options, const tok::Tokenizer* tokenizer) {
  format = resolve_format(format, Task::kTokenClassification, path);
  std::vector<NerExample> out;
  if (format == Format::kConll)
    out = read_conll(path, options);
  else if (format == Format::kNerJsonl)
    out = read_ner_jsonl(path, options);
  else
    out = read_ner_spans(path, options, tokenizer);
  if (options.labeled) apply_tag_schemes(out, options, path);
  return out;
}

}  // namespace clintorch::data
