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
  return choice_name(type);
}

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

std::string label_from_json(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_number_integer() || v.is_number_unsigned()) return std::to_string(v.get<long long>());
  return "";
}

}  // namespace clintorch::data
