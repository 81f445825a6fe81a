// Relation extraction readers: BLUE TSV (masked entities), JSONL with head/tail spans (markers
// inserted), and the classification layouts (docs/tasks-and-formats.md).
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

// ------------------------------------------------------------------------------- relations

namespace {

// Long on purpose: one pass over BLUE TSV rows (header sniffing, @GENE$ markers, labels), each
// error citing FILE:LINE.
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
