#include "data/readers.h"

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

// ------------------------------------------------------------------------------- names

namespace {
const std::vector<std::pair<std::string, Format>>& format_names() {
  static const std::vector<std::pair<std::string, Format>> names{
      {"auto", Format::kAuto},
      {"conll", Format::kConll},
      {"ner_jsonl", Format::kNerJsonl},
      {"ner_spans_jsonl", Format::kNerSpansJsonl},
      {"csv", Format::kCsv},
      {"tsv", Format::kTsv},
      {"jsonl", Format::kJsonl},
      {"squad", Format::kSquad},
      {"blue_tsv", Format::kBlueTsv},
      {"re_jsonl", Format::kReJsonl},
      {"text", Format::kText}};
  return names;
}
}  // namespace

std::string format_name(Format format) {
  for (const auto& [n, f] : format_names()) {
    if (f == format) return n;
  }
  return "?";
}

ProblemType parse_problem_type(const std::string& name) {
  if (name == "single_label" || name == "single_label_classification") {
    return ProblemType::kSingleLabel;
  }
  if (name == "multi_label" || name == "multi_label_classification") {
    return ProblemType::kMultiLabel;
  }
  if (name == "regression") return ProblemType::kRegression;
  fail("problem_type", "unknown problem type '" + name + "'" +
                           did_you_mean(name, {"single_label", "multi_label", "regression"}));
}

std::string problem_type_name(ProblemType type) {
  switch (type) {
    case ProblemType::kSingleLabel:
      return "single_label_classification";
    case ProblemType::kMultiLabel:
      return "multi_label_classification";
    case ProblemType::kRegression:
      return "regression";
  }
  return "?";
}

// ------------------------------------------------------------------------------- helpers

namespace {

std::string trim_ascii(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t' || s[b] == '\r')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t' || s[e - 1] == '\r')) --e;
  return std::string(s.substr(b, e - b));
}

[[noreturn]] void empty_file(const std::string& path) {
  fail(path, "no examples found (the file is empty or holds only blank lines)",
       "check the path and the format");
}

std::string id_of(const json& obj, const std::string& key) {
  const auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return "";
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number_integer() || it->is_number_unsigned())
    return std::to_string(it->get<long long>());
  return it->dump();
}

json parse_jsonl_object(const std::string& line, const std::string& path, size_t ln) {
  json v = parse_json(line, path, ln);
  if (!v.is_object()) fail(where(path, ln), "expected a JSON object on each line");
  return v;
}

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
                       const std::string& path) {
  TagScheme from;
  if (options.tag_scheme == "auto") {
    std::set<std::string> distinct;
    for (const auto& ex : examples) distinct.insert(ex.tags.begin(), ex.tags.end());
    from = detect_tag_scheme(std::vector<std::string>(distinct.begin(), distinct.end()));
  } else {
    from = parse_tag_scheme(options.tag_scheme);
  }
  TagScheme to = from;
  if (options.target_scheme != "same") {
    to = parse_tag_scheme(options.target_scheme);
    if (to == TagScheme::kIOB1) fail("target_scheme", "iob1 is an input scheme only", "use iob2");
    if (to != TagScheme::kNone && from == TagScheme::kNone) {
      fail(path, "tags are not in a B-/I-/O scheme, cannot convert them to " + tag_scheme_name(to),
           "set tag_scheme to the scheme of the file");
    }
  }
  if (from == to || to == TagScheme::kNone) {
    if (from == TagScheme::kNone) return;
    to = from;
  }
  for (auto& ex : examples) {
    if (ex.tags.empty()) continue;
    try {
      ex.tags = convert_tags(ex.tags, from, to == TagScheme::kIOB1 ? TagScheme::kIOB2 : to);
    } catch (const Error& e) {
      fail(where(path, ex.line), e.what());
    }
  }
}

// Code point range -> byte range of `text`, validating the range.
ByteSpan char_span_to_bytes(const std::vector<uint32_t>& starts, long long b, long long e,
                            const std::string& what, const std::string& loc) {
  const long long n = static_cast<long long>(starts.size()) - 1;
  if (b < 0 || e > n || b >= e) {
    fail(loc,
         what + " [" + std::to_string(b) + ", " + std::to_string(e) +
             ") is out of range or empty (the text has " + std::to_string(n) + " characters)",
         "offsets count Unicode code points from 0, end exclusive (Python text[start:end])");
  }
  return ByteSpan{starts[static_cast<size_t>(b)], starts[static_cast<size_t>(e)]};
}

// Reads {"start": s, "end": e} or [s, e, ...] into (s, e); label from "label" or the third item.
bool read_span(const json& v, long long& s, long long& e, std::string* label) {
  if (v.is_object()) {
    const auto si = v.find("start"), ei = v.find("end");
    if (si == v.end() || ei == v.end() || !si->is_number_integer() || !ei->is_number_integer()) {
      return false;
    }
    s = si->get<long long>();
    e = ei->get<long long>();
    if (label) {
      const auto li = v.find("label");
      if (li == v.end() || !li->is_string()) return false;
      *label = li->get<std::string>();
    }
    return true;
  }
  if (v.is_array() && v.size() >= 2 && v[0].is_number_integer() && v[1].is_number_integer()) {
    s = v[0].get<long long>();
    e = v[1].get<long long>();
    if (label) {
      if (v.size() < 3 || !v[2].is_string()) return false;
      *label = v[2].get<std::string>();
    }
    return true;
  }
  return false;
}

}  // namespace

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

// ------------------------------------------------------------------------------- classification

namespace {

bool parse_float_strict(const std::string& s, float& out) {
  const std::string t = trim_ascii(s);
  if (t.empty()) return false;
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(t.c_str(), &end);
  if (end != t.c_str() + t.size() || errno == ERANGE || !std::isfinite(v)) return false;
  out = static_cast<float>(v);
  return true;
}

// 0/1 indicator: "0", "1", "0.0", "1.0", "true", "false".
int parse_indicator(const std::string& s) {
  const std::string t = trim_ascii(s);
  if (t == "1" || t == "1.0" || t == "true" || t == "True") return 1;
  if (t == "0" || t == "0.0" || t == "false" || t == "False" || t.empty()) return 0;
  return -1;
}

std::vector<std::string> split_labels(const std::string& cell, const std::string& sep) {
  std::vector<std::string> out;
  if (sep.empty()) {
    const std::string t = trim_ascii(cell);
    if (!t.empty()) out.push_back(t);
    return out;
  }
  size_t start = 0;
  for (;;) {
    const size_t pos = cell.find(sep, start);
    const std::string t = trim_ascii(std::string_view(cell).substr(
        start, pos == std::string::npos ? std::string::npos : pos - start));
    if (!t.empty()) out.push_back(t);
    if (pos == std::string::npos) break;
    start = pos + sep.size();
  }
  return out;
}

bool is_number(const std::string& s) {
  if (s.empty()) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string label_from_json(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_number_integer() || v.is_number_unsigned()) return std::to_string(v.get<long long>());
  return "";
}

void fill_labels(ClsExample& ex, const std::vector<const std::string*>& cells,
                 const std::vector<std::string>& columns, const ReaderOptions& o,
                 const std::string& loc) {
  ex.labeled = true;
  switch (o.problem_type) {
    case ProblemType::kSingleLabel: {
      const std::string t = trim_ascii(*cells[0]);
      if (t.empty()) fail(loc, "empty label in column '" + columns[0] + "'");
      ex.labels.push_back(t);
      break;
    }
    case ProblemType::kRegression: {
      if (!parse_float_strict(*cells[0], ex.value)) {
        fail(loc,
             "label '" + trim_ascii(*cells[0]) + "' in column '" + columns[0] + "' is not a number",
             "regression labels are floats");
      }
      break;
    }
    case ProblemType::kMultiLabel: {
      if (cells.size() == 1) {
        ex.labels = split_labels(*cells[0], o.label_separator);
      } else {
        for (size_t i = 0; i < cells.size(); ++i) {
          const int v = parse_indicator(*cells[i]);
          if (v < 0) {
            fail(loc,
                 "value '" + trim_ascii(*cells[i]) + "' in label column '" + columns[i] +
                     "' is not 0 or 1",
                 "several label columns are 0/1 indicators");
          }
          if (v) ex.labels.push_back(columns[i]);
        }
      }
      break;
    }
  }
}

std::vector<ClsExample> read_cls_delimited(const std::string& path, bool tsv,
                                           const ReaderOptions& o) {
  CsvDialect dialect;
  dialect.delimiter = tsv ? '\t' : ',';
  dialect.quoting = tsv ? o.tsv_quoting : true;
  CsvReader reader(path, dialect);
  std::vector<std::string> row;
  if (!reader.next(row)) empty_file(path);
  // Header.
  bool header = false;
  const auto has = [&](const std::string& name) {
    return std::find_if(row.begin(), row.end(),
                        [&](const std::string& c) { return trim_ascii(c) == name; }) != row.end();
  };
  if (o.header == "true")
    header = true;
  else if (o.header == "false")
    header = false;
  else if (o.header == "auto")
    header = has(o.text_column) || (o.text_column == "text" && has("sentence"));
  else
    fail("header", "unknown value '" + o.header + "'", "use auto, true or false");
  std::vector<std::string> names;
  if (header) {
    for (const auto& c : row) names.push_back(trim_ascii(c));
  }
  const size_t ncols = row.size();
  const size_t header_line = reader.record_line();
  const auto column = [&](const std::string& name, const char* what) -> size_t {
    if (header) {
      auto it = std::find(names.begin(), names.end(), name);
      if (it == names.end() && name == "text" && std::string(what) == "text_column") {
        it = std::find(names.begin(), names.end(), "sentence");
      }
      if (it == names.end()) {
        fail(where(path, header_line),
             "no column '" + name + "' in the header" + did_you_mean(name, names),
             std::string("set ") + what + " to one of the header's columns");
      }
      return static_cast<size_t>(it - names.begin());
    }
    if (!is_number(name)) {
      fail(path,
           "the file has no header row, so " + std::string(what) + " '" + name +
               "' must be a column number (0-based)",
           "add a header row or give column numbers");
    }
    const size_t c = std::stoul(name);
    if (c >= ncols) {
      fail(where(path, header_line), std::string(what) + " " + name + " is out of range (" +
                                         std::to_string(ncols) + " columns)");
    }
    return c;
  };
  const size_t text_col = column(o.text_column, "text_column");
  const bool has_pair = !o.text_pair_column.empty();
  const size_t pair_col = has_pair ? column(o.text_pair_column, "text_pair_column") : 0;
  std::vector<size_t> label_cols;
  bool labels_present = o.labeled;
  if (!o.labeled && header) {
    labels_present = std::all_of(o.label_columns.begin(), o.label_columns.end(),
                                 [&](const std::string& c) { return has(c); });
  }
  if (labels_present) {
    if (o.label_columns.empty()) fail("label_columns", "no label column given");
    if (o.problem_type != ProblemType::kMultiLabel && o.label_columns.size() > 1) {
      fail("label_columns", "several label columns need problem_type multi_label");
    }
    for (const auto& c : o.label_columns) label_cols.push_back(column(c, "label_columns"));
  }
  std::vector<ClsExample> out;
  bool first = !header;
  while (first || reader.next(row)) {
    first = false;
    const size_t ln = reader.record_line();
    if (row.size() != ncols) {
      fail(where(path, ln),
           "wrong column count: " + std::to_string(row.size()) + " fields, expected " +
               std::to_string(ncols) + " as on line " + std::to_string(header_line),
           tsv ? "a tab inside a text breaks the row; for quoted TSV set tsv_quoting"
               : "quote fields holding commas or newlines (RFC 4180)");
    }
    ClsExample ex;
    ex.line = ln;
    ex.text = row[text_col];
    if (has_pair) {
      ex.text_pair = row[pair_col];
      ex.has_pair = true;
    }
    if (labels_present) {
      std::vector<const std::string*> cells;
      for (size_t c : label_cols) cells.push_back(&row[c]);
      fill_labels(ex, cells, o.label_columns, o, where(path, ln));
    }
    out.push_back(std::move(ex));
  }
  if (out.empty()) empty_file(path);
  return out;
}

std::vector<ClsExample> read_cls_jsonl(const std::string& path, const ReaderOptions& o) {
  std::vector<ClsExample> out;
  for_each_jsonl_object(path, [&](const json& v, size_t ln) {
    ClsExample ex;
    ex.line = ln;
    ex.id = id_of(v, o.id_key);
    auto tx = v.find(o.text_column);
    if (tx == v.end() && o.text_column == "text") tx = v.find("sentence");
    if (tx == v.end() || !tx->is_string()) {
      fail(where(path, ln), "missing key '" + o.text_column + "' (a string)",
           "set text_column to the key holding the text");
    }
    ex.text = tx->get<std::string>();
    if (!o.text_pair_column.empty()) {
      const auto px = v.find(o.text_pair_column);
      if (px == v.end() || !px->is_string()) {
        fail(where(path, ln), "missing key '" + o.text_pair_column + "' (a string)");
      }
      ex.text_pair = px->get<std::string>();
      ex.has_pair = true;
    }
    bool labels_present = o.labeled;
    if (!o.labeled) {
      labels_present = std::all_of(o.label_columns.begin(), o.label_columns.end(),
                                   [&](const std::string& c) { return v.contains(c); });
    }
    if (labels_present) {
      const std::string loc = where(path, ln);
      if (o.label_columns.empty()) fail("label_columns", "no label column given");
      ex.labeled = true;
      if (o.problem_type == ProblemType::kMultiLabel && o.label_columns.size() > 1) {
        for (const auto& c : o.label_columns) {
          const auto it = v.find(c);
          if (it == v.end()) fail(loc, "missing label key '" + c + "'");
          int ind = -1;
          if (it->is_boolean())
            ind = it->get<bool>();
          else if (it->is_number()) {
            const double d = it->get<double>();
            ind = d == 0.0 ? 0 : (d == 1.0 ? 1 : -1);
          } else if (it->is_string())
            ind = parse_indicator(it->get<std::string>());
          if (ind < 0) fail(loc, "label key '" + c + "' must be 0 or 1");
          if (ind) ex.labels.push_back(c);
        }
      } else {
        if (o.label_columns.size() > 1) {
          fail("label_columns", "several label columns need problem_type multi_label");
        }
        const std::string& key = o.label_columns[0];
        auto it = v.find(key);
        if (it == v.end() && key == "label") it = v.find("labels");
        if (it == v.end() || it->is_null()) {
          fail(loc, "missing label key '" + key + "'", "set label_columns to the key of the label");
        }
        switch (o.problem_type) {
          case ProblemType::kRegression:
            if (it->is_number())
              ex.value = it->get<float>();
            else if (!it->is_string() || !parse_float_strict(it->get<std::string>(), ex.value)) {
              fail(loc, "label '" + key + "' is not a number", "regression labels are floats");
            }
            break;
          case ProblemType::kSingleLabel: {
            const std::string l = label_from_json(*it);
            if (l.empty())
              fail(loc, "label '" + key + "' must be a non-empty string or an integer");
            ex.labels.push_back(l);
            break;
          }
          case ProblemType::kMultiLabel:
            if (it->is_array()) {
              for (const auto& x : *it) {
                const std::string l = label_from_json(x);
                if (l.empty()) fail(loc, "labels in '" + key + "' must be strings or integers");
                ex.labels.push_back(l);
              }
            } else if (it->is_string()) {
              ex.labels = split_labels(it->get<std::string>(), o.label_separator);
            } else {
              fail(loc, "multi-label '" + key + "' must be a list or a separated string");
            }
            break;
        }
      }
    }
    out.push_back(std::move(ex));
  });
  if (out.empty()) empty_file(path);
  return out;
}

}  // namespace

std::vector<ClsExample> read_classification(const std::string& path, Format format,
                                            const ReaderOptions& options) {
  format = resolve_format(format, Task::kSequenceClassification, path);
  std::vector<ClsExample> out;
  if (format == Format::kJsonl)
    out = read_cls_jsonl(path, options);
  else
    out = read_cls_delimited(path, format == Format::kTsv, options);
  if (options.problem_type == ProblemType::kMultiLabel) {
    for (auto& ex : out) {  // a label listed twice counts once
      std::sort(ex.labels.begin(), ex.labels.end());
      ex.labels.erase(std::unique(ex.labels.begin(), ex.labels.end()), ex.labels.end());
    }
  }
  return out;
}

// ------------------------------------------------------------------------------- SQuAD

namespace {

void check_utf8_text(const std::string& text, const std::string& path) {
  const size_t bad = find_invalid_utf8(text);
  if (bad == std::string::npos) return;
  const auto before = text.begin() + static_cast<std::ptrdiff_t>(bad);
  const size_t line = 1 + static_cast<size_t>(std::count(text.begin(), before, '\n'));
  const size_t nl = bad == 0 ? std::string::npos : text.rfind('\n', bad - 1);
  const size_t col = nl == std::string::npos ? bad : bad - nl - 1;
  fail(where(path, line), "invalid UTF-8 at byte " + std::to_string(col + 1) + " of the line",
       "the file must be UTF-8; re-encode it, e.g. `iconv -f latin1 -t utf-8 IN > OUT`");
}

const json& member(const json& obj, const char* key, json::value_t type, const std::string& path,
                   size_t line, const std::string& what) {
  const auto it = obj.find(key);
  const bool ok =
      it != obj.end() &&
      (it->type() == type || (type == json::value_t::number_integer && it->is_number_integer()));
  if (!ok) {
    fail(where(path, line),
         what + " needs '" + key + "' (" +
             (type == json::value_t::array    ? "a list"
              : type == json::value_t::string ? "a string"
                                              : "an integer") +
             ")",
         "SQuAD layout: {\"data\": [{\"paragraphs\": [{\"context\", \"qas\": [{\"id\", "
         "\"question\", \"answers\": [{\"text\", \"answer_start\"}]}]}]}]}");
  }
  return *it;
}

}  // namespace

std::vector<QaExample> read_squad(const std::string& path, const ReaderOptions& o) {
  const std::string text = read_file(path);
  if (strip_unicode(text).empty()) empty_file(path);
  check_utf8_text(text, path);
  const json root = parse_json_with_lines(text, path);
  if (!root.is_object()) fail(where(path, 1), "expected a JSON object with a 'data' list");
  const json& data =
      member(root, "data", json::value_t::array, path, json_line(root, 1), "the file");
  const bool skip_bad = o.on_bad_answer == "skip";
  if (!skip_bad && o.on_bad_answer != "error") {
    fail("on_bad_answer", "unknown value '" + o.on_bad_answer + "'", "use error or skip");
  }
  std::vector<QaExample> out;
  size_t skipped = 0, skipped_line = 0;
  std::set<std::string> ids;
  for (const auto& article : data) {
    const size_t aln = json_line(article, 1);
    if (!article.is_object()) fail(where(path, aln), "each 'data' item must be an object");
    std::string title;
    if (article.contains("title") && article["title"].is_string()) title = article["title"];
    const json& paragraphs =
        member(article, "paragraphs", json::value_t::array, path, aln, "an article");
    for (const auto& para : paragraphs) {
      const size_t pln = json_line(para, aln);
      if (!para.is_object()) fail(where(path, pln), "each paragraph must be an object");
      const std::string& context =
          member(para, "context", json::value_t::string, path, pln, "a paragraph")
              .get_ref<const std::string&>();
      const auto starts = code_point_starts(context);
      const size_t n_chars = starts.size() - 1;
      const json& qas = member(para, "qas", json::value_t::array, path, pln, "a paragraph");
      for (const auto& qa : qas) {
        const size_t qln = json_line(qa, pln);
        if (!qa.is_object()) fail(where(path, qln), "each 'qas' item must be an object");
        QaExample ex;
        ex.line = qln;
        ex.title = title;
        ex.context = context;
        ex.id = id_of(qa, "id");
        if (ex.id.empty()) fail(where(path, qln), "question without an 'id'");
        if (!ids.insert(ex.id).second) {
          fail(where(path, qln), "question id '" + ex.id + "' appears twice",
               "ids identify predictions; make them unique");
        }
        ex.question = member(qa, "question", json::value_t::string, path, qln, "a question")
                          .get<std::string>();
        if (qa.contains("is_impossible") && qa["is_impossible"].is_boolean()) {
          ex.is_impossible = qa["is_impossible"].get<bool>();
        }
        const auto an = qa.find("answers");
        if (an != qa.end() && !an->is_null()) {
          if (!an->is_array()) fail(where(path, qln), "'answers' must be a list");
          size_t k = 0;
          for (const auto& a : *an) {
            ++k;
            const size_t ln = json_line(a, qln);
            if (!a.is_object()) fail(where(path, ln), "each answer must be an object");
            const std::string atext =
                member(a, "text", json::value_t::string, path, ln, "an answer").get<std::string>();
            const long long s =
                member(a, "answer_start", json::value_t::number_integer, path, ln, "an answer")
                    .get<long long>();
            const size_t len = code_point_count(atext);
            const std::string loc = where(path, ln);
            const auto bad = [&](const std::string& what) {
              if (!skip_bad) {
                fail(loc, "answer " + std::to_string(k) + " of question '" + ex.id + "' " + what,
                     "answer_start counts Unicode code points (Python str indices) from the start "
                     "of the context; set on_bad_answer: skip to drop such answers");
              }
              if (!skipped) skipped_line = ln;
              ++skipped;
            };
            if (s < 0 || static_cast<size_t>(s) + len > n_chars || len == 0) {
              bad("has answer_start " + std::to_string(s) + " and " + std::to_string(len) +
                  " characters, outside the context (" + std::to_string(n_chars) + " characters)");
              continue;
            }
            const uint32_t b = starts[static_cast<size_t>(s)];
            const uint32_t e = starts[static_cast<size_t>(s) + len];
            if (std::string_view(context).substr(b, e - b) != atext) {
              bad("does not match the context at answer_start " + std::to_string(s));
              continue;
            }
            ex.answers.push_back(QaAnswer{atext, static_cast<size_t>(s), ByteSpan{b, e}});
          }
        }
        if (o.labeled && ex.answers.empty() && !ex.is_impossible) {
          const bool had = an != qa.end() && an->is_array() && !an->empty();
          if (!had) {
            fail(where(path, qln), "question '" + ex.id + "' has no answer span",
                 "give 'answers' [{\"text\", \"answer_start\"}], or mark an unanswerable question "
                 "with \"is_impossible\": true (SQuAD v2)");
          }
          continue;  // every answer was skipped (reported above)
        }
        out.push_back(std::move(ex));
      }
    }
  }
  if (skipped) {
    log_warning(path + ": skipped " + std::to_string(skipped) +
                " answers that do not match their context (first on line " +
                std::to_string(skipped_line) + ")");
  }
  if (out.empty()) empty_file(path);
  return out;
}

// ------------------------------------------------------------------------------- relations

namespace {

std::vector<ReExample> read_blue_tsv(const std::string& path, const ReaderOptions& o) {
  CsvDialect dialect;
  dialect.delimiter = '\t';
  dialect.quoting = o.tsv_quoting;
  CsvReader reader(path, dialect);
  std::vector<std::string> row;
  if (!reader.next(row)) empty_file(path);
  size_t sent_col = 0, label_col = 0, index_col = SIZE_MAX;
  bool has_label = false;
  const size_t ncols = row.size();
  const size_t first_line = reader.record_line();
  std::string first0 = trim_ascii(row[0]);
  std::transform(first0.begin(), first0.end(), first0.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  bool header = first0 == "index" || first0 == "sentence" || first0 == "id";
  if (o.header == "true") header = true;
  if (o.header == "false") header = false;
  if (header) {
    bool found_sentence = false;
    for (size_t i = 0; i < row.size(); ++i) {
      std::string n = trim_ascii(row[i]);
      std::transform(n.begin(), n.end(), n.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      if (n == "sentence" || n == "text") {
        sent_col = i;
        found_sentence = true;
      } else if (n == "label") {
        label_col = i;
        has_label = true;
      } else if (n == "index" || n == "id") {
        index_col = i;
      }
    }
    if (!found_sentence) {
      fail(where(path, first_line), "the header has no 'sentence' column",
           "BLUE TSV: sentence<TAB>label, or index<TAB>sentence<TAB>label with a header");
    }
  } else if (ncols == 3) {
    index_col = 0;
    sent_col = 1;
    label_col = 2;
    has_label = true;
  } else if (ncols == 2) {
    sent_col = 0;
    label_col = 1;
    has_label = true;
  } else if (ncols == 1 && !o.labeled) {
    sent_col = 0;
  } else {
    fail(where(path, first_line),
         "wrong column count: " + std::to_string(ncols) +
             " fields, expected 2 (sentence, label) "
             "or 3 (index, sentence, label)",
         "BLUE TSV files are tab-separated without quoting");
  }
  if (o.labeled && !has_label) {
    fail(where(path, first_line), "no label column", "the header needs a 'label' column");
  }
  std::vector<ReExample> out;
  bool first = !header;
  while (first || reader.next(row)) {
    first = false;
    const size_t ln = reader.record_line();
    if (row.size() != ncols) {
      fail(where(path, ln),
           "wrong column count: " + std::to_string(row.size()) + " fields, expected " +
               std::to_string(ncols) + " as on line " + std::to_string(first_line),
           "a tab inside the sentence breaks the row");
    }
    ReExample ex;
    ex.line = ln;
    ex.text = row[sent_col];
    if (index_col != SIZE_MAX) ex.id = trim_ascii(row[index_col]);
    if (has_label) {
      ex.label = trim_ascii(row[label_col]);
      ex.labeled = true;
      if (ex.label.empty() && o.labeled) fail(where(path, ln), "empty label");
    }
    out.push_back(std::move(ex));
  }
  if (out.empty()) empty_file(path);
  return out;
}

std::vector<ReExample> read_re_jsonl(const std::string& path, const ReaderOptions& o) {
  if (o.entity_markers.size() != 4) {
    fail("entity_markers",
         "needs exactly 4 markers (head open, head close, tail open, tail close)");
  }
  std::vector<ReExample> out;
  for_each_jsonl_object(path, [&](const json& v, size_t ln) {
    const std::string loc = where(path, ln);
    ReExample ex;
    ex.line = ln;
    ex.id = id_of(v, o.id_key);
    const auto tx = v.find(o.text_key);
    if (tx == v.end() || !tx->is_string()) fail(loc, "missing key '" + o.text_key + "' (a string)");
    const std::string& text = tx->get_ref<const std::string&>();
    const auto starts = code_point_starts(text);
    ByteSpan spans[2];
    long long cs[2][2];
    const std::string keys[2] = {o.head_key, o.tail_key};
    for (int k = 0; k < 2; ++k) {
      const auto it = v.find(keys[k]);
      long long s = 0, e = 0;
      if (it == v.end() || !read_span(*it, s, e, nullptr)) {
        fail(loc, "missing or malformed '" + keys[k] + "'",
             "give the entity as {\"start\": int, \"end\": int} or [start, end] (code points)");
      }
      spans[k] = char_span_to_bytes(starts, s, e, "'" + keys[k] + "' span", loc);
      cs[k][0] = s;
      cs[k][1] = e;
    }
    if (spans[0].begin < spans[1].end && spans[1].begin < spans[0].end) {
      fail(loc,
           "the head [" + std::to_string(cs[0][0]) + ", " + std::to_string(cs[0][1]) +
               ") and tail [" + std::to_string(cs[1][0]) + ", " + std::to_string(cs[1][1]) +
               ") spans overlap",
           "entity markers need disjoint head and tail spans");
    }
    // Insert the markers; at one position closing markers go before opening ones.
    struct Ins {
      uint32_t pos;
      int order;
      const std::string* marker;
    };
    std::vector<Ins> ins{{spans[0].begin, 1, &o.entity_markers[0]},
                         {spans[0].end, 0, &o.entity_markers[1]},
                         {spans[1].begin, 1, &o.entity_markers[2]},
                         {spans[1].end, 0, &o.entity_markers[3]}};
    std::stable_sort(ins.begin(), ins.end(), [](const Ins& a, const Ins& b) {
      return a.pos != b.pos ? a.pos < b.pos : a.order < b.order;
    });
    size_t prev = 0;
    for (const auto& i : ins) {
      ex.text.append(text, prev, i.pos - prev);
      ex.text += *i.marker;
      prev = i.pos;
    }
    ex.text.append(text, prev, std::string::npos);
    ex.has_markers = true;
    const auto lb = v.find("label");
    if (lb != v.end() && !lb->is_null()) {
      ex.label = label_from_json(*lb);
      if (ex.label.empty()) fail(loc, "'label' must be a non-empty string or an integer");
      ex.labeled = true;
    } else if (o.labeled) {
      fail(loc, "missing key 'label'");
    }
    out.push_back(std::move(ex));
  });
  if (out.empty()) empty_file(path);
  return out;
}

}  // namespace

std::vector<ReExample> read_relations(const std::string& path, Format format,
                                      const ReaderOptions& options) {
  format = resolve_format(format, Task::kRelationExtraction, path);
  if (format == Format::kReJsonl) return read_re_jsonl(path, options);
  if (format == Format::kBlueTsv) return read_blue_tsv(path, options);
  // Classification layouts (CSV/TSV/JSONL with text and label columns) also work for RE.
  ReaderOptions o = options;
  o.problem_type = ProblemType::kSingleLabel;
  std::vector<ReExample> out;
  for (auto& c : read_classification(path, format, o)) {
    ReExample ex;
    ex.id = std::move(c.id);
    ex.line = c.line;
    ex.text = std::move(c.text);
    ex.labeled = c.labeled;
    if (c.labeled) ex.label = c.labels.at(0);
    out.push_back(std::move(ex));
  }
  return out;
}

}  // namespace clintorch::data
