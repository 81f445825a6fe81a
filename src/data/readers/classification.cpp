// Classification readers: RFC 4180 CSV, TSV and JSONL; single-label, multi-label and regression
// targets (docs/tasks-and-formats.md).
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

// Long on purpose: one pass over the rows (header, columns by name or index, single-, multi-label
// or regression targets), each error citing FILE:LINE and the column.
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

// Long on purpose: one pass over the lines with the same targets as read_cls_delimited, each
// error citing FILE:LINE and the field.
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

}  // namespace clintorch::data
