// SQuAD metrics: the official evaluation scripts' logic (see qa_metrics.h), checked against a
// Python copy of the official functions in tests/python/test_metrics_parity.py.
#include "eval/qa_metrics.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>

#include <nlohmann/json.hpp>

#include "eval/metric_common.h"
#include "eval/py_text.h"
#include "util/error.h"

namespace clintorch::eval {
namespace {

constexpr const char* kWhere = "SQuAD metrics";

// Python's string.punctuation: ASCII only. Unicode punctuation (“ ” — « » …) is kept.
bool is_ascii_punctuation(char32_t c) {
  return (c >= 0x21 && c <= 0x2F) || (c >= 0x3A && c <= 0x40) || (c >= 0x5B && c <= 0x60) ||
         (c >= 0x7B && c <= 0x7E);
}

bool is_article(const char32_t* word, size_t n) {
  return (n == 1 && word[0] == U'a') || (n == 2 && word[0] == U'a' && word[1] == U'n') ||
         (n == 3 && word[0] == U't' && word[1] == U'h' && word[2] == U'e');
}

// normalize_answer up to the final whitespace fix; returns the tokens (the words of
// white_space_fix, which is what both scripts' .split() then yields).
std::vector<std::string> normalized_tokens(const std::string& text) {
  const std::u32string lowered = python_lower(decode_utf8(text, kWhere));
  std::u32string no_punct;
  no_punct.reserve(lowered.size());
  for (char32_t c : lowered) {
    if (!is_ascii_punctuation(c)) no_punct.push_back(c);
  }
  // re.sub(r'\b(a|an|the)\b', ' ', text): an article is a whole run of word characters.
  std::u32string no_articles;
  no_articles.reserve(no_punct.size());
  size_t i = 0;
  while (i < no_punct.size()) {
    if (!python_is_word(no_punct[i])) {
      no_articles.push_back(no_punct[i++]);
      continue;
    }
    size_t j = i;
    while (j < no_punct.size() && python_is_word(no_punct[j])) ++j;
    if (is_article(no_punct.data() + i, j - i)) {
      no_articles.push_back(U' ');
    } else {
      no_articles.append(no_punct, i, j - i);
    }
    i = j;
  }
  std::vector<std::string> tokens;
  for (const std::u32string& word : python_split(no_articles)) tokens.push_back(encode_utf8(word));
  return tokens;
}

std::string join(const std::vector<std::string>& tokens) {
  std::string out;
  for (size_t k = 0; k < tokens.size(); ++k) {
    if (k) out += ' ';
    out += tokens[k];
  }
  return out;
}

// Counter(a) & Counter(b), summed.
int64_t common_count(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  std::map<std::string, int64_t> counts;
  for (const std::string& t : a) ++counts[t];
  int64_t same = 0;
  for (const std::string& t : b) {
    auto it = counts.find(t);
    if (it != counts.end() && it->second > 0) {
      --it->second;
      ++same;
    }
  }
  return same;
}

double f1_from_tokens(const std::vector<std::string>& gold, const std::vector<std::string>& pred,
                      SquadVersion version) {
  if (version == SquadVersion::kV2 && (gold.empty() || pred.empty())) {
    return gold == pred ? 1.0 : 0.0;  // either is no-answer: 1 if they agree
  }
  const int64_t same = common_count(gold, pred);
  if (same == 0) return 0.0;
  const double precision = 1.0 * static_cast<double>(same) / static_cast<double>(pred.size());
  const double recall = 1.0 * static_cast<double>(same) / static_cast<double>(gold.size());
  return (2 * precision * recall) / (precision + recall);
}

std::string question_name(const QaExample& example, size_t index) {
  return "question " + std::to_string(index) +
         (example.id.empty() ? "" : " (id " + example.id + ")");
}

// make_eval_dict: 100 * sum / total, summing left to right as Python's sum() does.
SquadScores eval_dict(const std::vector<double>& exact, const std::vector<double>& f1,
                      const std::vector<size_t>& indices) {
  SquadScores out;
  out.total = static_cast<int64_t>(indices.size());
  if (indices.empty()) return out;
  double exact_sum = 0.0, f1_sum = 0.0;
  for (size_t k : indices) {
    exact_sum += exact[k];
    f1_sum += f1[k];
  }
  out.exact = 100.0 * exact_sum / static_cast<double>(indices.size());
  out.f1 = 100.0 * f1_sum / static_cast<double>(indices.size());
  return out;
}

// find_best_thresh: walk the questions by increasing no-answer probability (a stable sort, ties
// in input order), answering each in turn, and keep the best running score.
void best_threshold(const std::vector<QaExample>& examples, const std::vector<bool>& has_answer,
                    const std::vector<double>& raw, double& best_score_pct, double& best_thresh) {
  std::vector<size_t> order(examples.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return examples[a].no_answer_probability < examples[b].no_answer_probability;
  });
  double cur = 0.0;
  for (bool h : has_answer) cur += h ? 0 : 1;
  double best = cur;
  best_thresh = 0.0;
  for (size_t k : order) {
    double diff = 0.0;
    if (has_answer[k]) {
      diff = raw[k];
    } else {
      diff = examples[k].prediction.empty() ? 0.0 : -1.0;
    }
    cur += diff;
    if (cur > best) {
      best = cur;
      best_thresh = examples[k].no_answer_probability;
    }
  }
  best_score_pct = 100.0 * best / static_cast<double>(examples.size());
}

}  // namespace

SquadVersion parse_squad_version(const std::string& text) {
  if (text == "1.1" || text == "v1.1" || text == "v1" || text == "1") return SquadVersion::kV1;
  if (text == "2.0" || text == "v2.0" || text == "v2" || text == "2") return SquadVersion::kV2;
  fail("SQuAD version", "unknown version '" + text + "'", "use 1.1 or 2.0");
}

std::string to_string(SquadVersion version) {
  return version == SquadVersion::kV1 ? "1.1" : "2.0";
}

std::string squad_normalize_answer(const std::string& text) {
  return join(normalized_tokens(text));
}

double squad_exact(const std::string& gold, const std::string& prediction) {
  return squad_normalize_answer(gold) == squad_normalize_answer(prediction) ? 1.0 : 0.0;
}

double squad_f1(const std::string& gold, const std::string& prediction, SquadVersion version) {
  return f1_from_tokens(normalized_tokens(gold), normalized_tokens(prediction), version);
}

SquadReport squad_report(const std::vector<QaExample>& examples, const SquadOptions& options) {
  if (examples.empty()) {
    fail(kWhere, "no questions to score", "the evaluation set is empty");
  }
  SquadReport report;
  report.version = options.version;
  const size_t n = examples.size();
  std::vector<double> exact(n), f1(n);
  std::vector<bool> has_answer(n);
  for (size_t q = 0; q < n; ++q) {
    const QaExample& ex = examples[q];
    if (!std::isfinite(ex.no_answer_probability)) {
      fail(kWhere, question_name(ex, q) + ": no_answer_probability is not a finite number",
           "pass the model's probability of no answer, between 0 and 1");
    }
    const std::vector<std::string> pred = normalized_tokens(ex.prediction);
    const std::string pred_text = join(pred);
    has_answer[q] = !ex.gold_answers.empty();
    if (options.version == SquadVersion::kV1) {
      if (ex.gold_answers.empty()) {
        fail(kWhere, question_name(ex, q) + " has no gold answer",
             "SQuAD v1.1 needs at least one answer per question; use version 2.0 for "
             "unanswerable questions");
      }
      for (const std::string& g : ex.gold_answers) {
        const std::vector<std::string> gold = normalized_tokens(g);
        exact[q] = std::max(exact[q], join(gold) == pred_text ? 1.0 : 0.0);
        f1[q] = std::max(f1[q], f1_from_tokens(gold, pred, SquadVersion::kV1));
      }
      continue;
    }
    // v2 get_raw_scores: gold answers that normalise to "" are dropped; none left means the only
    // correct answer is "".
    std::vector<std::vector<std::string>> golds;
    for (const std::string& g : ex.gold_answers) {
      std::vector<std::string> gold = normalized_tokens(g);
      if (!gold.empty()) golds.push_back(std::move(gold));
    }
    if (golds.empty()) golds.emplace_back();
    for (const std::vector<std::string>& gold : golds) {
      exact[q] = std::max(exact[q], join(gold) == pred_text ? 1.0 : 0.0);
      f1[q] = std::max(f1[q], f1_from_tokens(gold, pred, SquadVersion::kV2));
    }
  }
  std::vector<size_t> all(n);
  std::iota(all.begin(), all.end(), 0);
  if (options.version == SquadVersion::kV1) {
    report.overall = eval_dict(exact, f1, all);
    return report;
  }
  // apply_no_ans_threshold
  std::vector<double> exact_thresh = exact, f1_thresh = f1;
  std::vector<size_t> with, without;
  for (size_t q = 0; q < n; ++q) {
    if (examples[q].no_answer_probability > options.no_answer_threshold) {
      exact_thresh[q] = f1_thresh[q] = has_answer[q] ? 0.0 : 1.0;
    }
    (has_answer[q] ? with : without).push_back(q);
  }
  report.overall = eval_dict(exact_thresh, f1_thresh, all);
  report.has_answer = eval_dict(exact_thresh, f1_thresh, with);
  report.no_answer = eval_dict(exact_thresh, f1_thresh, without);
  best_threshold(examples, has_answer, exact, report.best_exact, report.best_exact_threshold);
  best_threshold(examples, has_answer, f1, report.best_f1, report.best_f1_threshold);
  return report;
}

nlohmann::json to_json(const SquadReport& report) {
  nlohmann::json out;
  if (report.version == SquadVersion::kV1) {
    out["exact_match"] = report.overall.exact;
    out["f1"] = report.overall.f1;
    out["total"] = report.overall.total;
    return out;
  }
  out["exact"] = report.overall.exact;
  out["f1"] = report.overall.f1;
  out["total"] = report.overall.total;
  if (report.has_answer.total > 0) {
    out["HasAns_exact"] = report.has_answer.exact;
    out["HasAns_f1"] = report.has_answer.f1;
    out["HasAns_total"] = report.has_answer.total;
  }
  if (report.no_answer.total > 0) {
    out["NoAns_exact"] = report.no_answer.exact;
    out["NoAns_f1"] = report.no_answer.f1;
    out["NoAns_total"] = report.no_answer.total;
  }
  out["best_exact"] = report.best_exact;
  out["best_exact_thresh"] = report.best_exact_threshold;
  out["best_f1"] = report.best_f1;
  out["best_f1_thresh"] = report.best_f1_threshold;
  return out;
}

std::string format_table(const SquadReport& report, int digits) {
  auto row = [&](const std::string& name, const SquadScores& s) {
    return pad_left(name, 10) + " " + pad_left(format_fixed(s.exact, digits), 9) + " " +
           pad_left(format_fixed(s.f1, digits), 9) + " " + pad_left(std::to_string(s.total), 9) +
           "\n";
  };
  std::string out = "SQuAD " + to_string(report.version) + "\n" + pad_left("", 10) + " " +
                    pad_left("exact", 9) + " " + pad_left("f1", 9) + " " + pad_left("total", 9) +
                    "\n";
  out += row("all", report.overall);
  if (report.version == SquadVersion::kV2) {
    if (report.has_answer.total > 0) out += row("HasAns", report.has_answer);
    if (report.no_answer.total > 0) out += row("NoAns", report.no_answer);
    out += "best exact " + format_fixed(report.best_exact, digits) + " at threshold " +
           format_fixed(report.best_exact_threshold, 4) + "\n";
    out += "best f1    " + format_fixed(report.best_f1, digits) + " at threshold " +
           format_fixed(report.best_f1_threshold, 4) + "\n";
  }
  return out;
}

}  // namespace clintorch::eval
