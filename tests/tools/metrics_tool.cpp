// Test driver for the metric parity tests (tests/python/test_metrics_parity.py): reads one JSON
// case per line on stdin, computes our metrics, and writes one JSON result per line on stdout:
// {"result": ...} or {"error": "message"}. Not installed; the CLI's `evaluate` is the user path.
#include <iostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "eval/classification_metrics.h"
#include "eval/metric_common.h"
#include "eval/ner_metrics.h"
#include "eval/py_text.h"
#include "eval/qa_metrics.h"
#include "eval/regression_metrics.h"

namespace ev = clintorch::eval;
using nlohmann::json;

namespace {

ev::ZeroDivision zero_division(const json& c) {
  if (!c.contains("zero_division")) return ev::ZeroDivision::kZero;
  const json& z = c["zero_division"];
  if (z.is_string()) return ev::parse_zero_division(z.get<std::string>());
  return ev::parse_zero_division(std::to_string(z.get<int>()));
}

json run_case(const json& c) {
  const std::string kind = c.at("kind");
  if (kind == "ner") {
    ev::NerMetricsOptions o;
    o.mode = ev::parse_ner_mode(c.value("mode", "default"));
    o.scheme = ev::parse_tag_scheme(c.value("scheme", "IOB2"));
    o.suffix = c.value("suffix", false);
    o.zero_division = zero_division(c);
    const auto report = ev::ner_report(c.at("gold"), c.at("pred"), o);
    json out = ev::to_json(report);
    out["table"] = ev::format_table(report, 4);
    return out;
  }
  if (kind == "ner_entities") {
    ev::NerMetricsOptions o;
    o.mode = ev::parse_ner_mode(c.value("mode", "default"));
    o.scheme = ev::parse_tag_scheme(c.value("scheme", "IOB2"));
    o.suffix = c.value("suffix", false);
    json out = json::array();
    for (const ev::Entity& e : ev::extract_entities(c.at("tags"), o)) {
      out.push_back({e.type, e.start, e.end});
    }
    return out;
  }
  if (kind == "ner_detect") {
    return ev::to_string(ev::detect_tag_scheme(c.at("sequences"), c.value("suffix", false)));
  }
  if (kind == "classification") {
    ev::ClassificationOptions o;
    if (c.contains("labels") && !c["labels"].is_null()) {
      o.labels = c["labels"].get<std::vector<int64_t>>();
    }
    o.zero_division = zero_division(c);
    const auto report = ev::classification_report(c.at("gold"), c.at("pred"), o);
    json out = ev::to_json(report);
    out["table"] = ev::format_table(report, 4);
    return out;
  }
  if (kind == "multilabel") {
    ev::MultiLabelOptions o;
    o.zero_division = zero_division(c);
    const auto report = ev::multilabel_report(c.at("gold"), c.at("pred"), o);
    json out = ev::to_json(report);
    out["table"] = ev::format_table(report, 4);
    return out;
  }
  if (kind == "relation") {
    ev::RelationOptions o;
    o.negative_class = c.value("negative_class", int64_t{0});
    o.zero_division = zero_division(c);
    return ev::to_json(ev::relation_report(c.at("gold"), c.at("pred"), o));
  }
  if (kind == "regression") {
    return ev::to_json(ev::regression_report(c.at("gold"), c.at("pred")));
  }
  if (kind == "squad") {
    ev::SquadOptions o;
    o.version = ev::parse_squad_version(c.value("version", "2.0"));
    o.no_answer_threshold = c.value("threshold", 1.0);
    std::vector<ev::QaExample> examples;
    for (const json& q : c.at("examples")) {
      ev::QaExample ex;
      ex.id = q.value("id", "");
      ex.gold_answers = q.at("gold").get<std::vector<std::string>>();
      ex.prediction = q.at("pred");
      ex.no_answer_probability = q.value("na_prob", 0.0);
      examples.push_back(std::move(ex));
    }
    return ev::to_json(ev::squad_report(examples, o));
  }
  if (kind == "squad_pairs") {  // per pair: [normalized gold, normalized pred, exact, f1 v1, f1 v2]
    json out = json::array();
    for (const json& pair : c.at("pairs")) {
      const std::string gold = pair.at(0), pred = pair.at(1);
      out.push_back({ev::squad_normalize_answer(gold), ev::squad_normalize_answer(pred),
                     ev::squad_exact(gold, pred), ev::squad_f1(gold, pred, ev::SquadVersion::kV1),
                     ev::squad_f1(gold, pred, ev::SquadVersion::kV2)});
    }
    return out;
  }
  if (kind == "unicode") {  // per code point: [lower as code points, is_word, is_space]
    json out = json::array();
    for (const json& cp : c.at("codepoints")) {
      const std::u32string one(1, static_cast<char32_t>(cp.get<uint32_t>()));
      const std::u32string lower = ev::python_lower(one);
      out.push_back({std::vector<uint32_t>(lower.begin(), lower.end()), ev::python_is_word(one[0]),
                     ev::python_is_space(one[0])});
    }
    return out;
  }
  if (kind == "lower") {  // whole strings through python_lower (final sigma context)
    json out = json::array();
    for (const json& text : c.at("texts")) {
      out.push_back(ev::encode_utf8(ev::python_lower(ev::decode_utf8(text, "text"))));
    }
    return out;
  }
  throw std::runtime_error("unknown case kind '" + kind + "'");
}

}  // namespace

int main() {
  std::ios::sync_with_stdio(false);
  std::string line;
  while (std::getline(std::cin, line)) {
    if (line.empty()) continue;
    json out;
    try {
      out["result"] = run_case(json::parse(line));
    } catch (const std::exception& e) {
      out["error"] = e.what();
    }
    std::cout << out.dump() << '\n';
  }
  return 0;
}
