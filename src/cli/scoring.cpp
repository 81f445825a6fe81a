#include "cli/scoring.h"

#include "data/windows.h"

namespace clintorch::cli {

namespace {
const char* const kScoringOptions[] = {"--seqeval-mode",
                                       "--negative-label",
                                       "--window-aggregation",
                                       "--squad-v2",
                                       "--null-score-diff-threshold",
                                       "--max-answer-length"};
}

void add_scoring_options(CLI::App& sub, ScoringArgs& a, bool metrics) {
  eval::TaskEvalOptions& v = a.values;
  if (metrics) {
    sub.add_option("--seqeval-mode", v.seqeval_mode,
                   "NER: seqeval default or strict (default: the model's, else default)")
        ->check(CLI::IsMember({"default", "strict"}));
    sub.add_option("--negative-label", v.negative_label,
                   "RE: label left out of the micro-F1, e.g. false (default: the model's, else "
                   "none)");
  }
  sub.add_option("--window-aggregation", a.window_aggregation,
                 "Classification/RE: combine the windows' logits by mean or max (default: the "
                 "model's, else mean)")
      ->check(CLI::IsMember({"mean", "max"}));
  sub.add_flag("--squad-v2", a.squad_v2,
               "QA: the answer may be empty, SQuAD v2 (default: the model's, else off)");
  sub.add_option("--null-score-diff-threshold", v.qa.null_score_diff_threshold,
                 "QA with --squad-v2: predict no answer when the null score beats the best span "
                 "by more than this (default: the model's, else 0)");
  sub.add_option("--max-answer-length", v.qa.max_answer_length,
                 "QA: longest answer in tokens (default: the model's, else 30)");
}

void capture_scoring(const CLI::App& sub, ScoringArgs& a) {
  for (const char* option : kScoringOptions) {
    if (sub.get_option_no_throw(option) != nullptr && sub.count(option) > 0) a.given.insert(option);
  }
}

void apply_scoring(eval::TaskEvalOptions& o, const eval::InferenceModel& m, const ScoringArgs& a) {
  o.tag_scheme = eval::strict_tag_scheme(m.labels);
  eval::apply_evaluation_settings(o, m.model->evaluation_settings, m.dir + "/config.json");
  auto given = [&a](const char* option) { return a.given.count(option) > 0; };
  const eval::TaskEvalOptions& v = a.values;
  if (given("--seqeval-mode")) o.seqeval_mode = v.seqeval_mode;
  if (given("--negative-label")) o.negative_label = v.negative_label;
  if (given("--window-aggregation")) {
    o.window_aggregation = data::parse_window_aggregation(a.window_aggregation);
  }
  if (given("--squad-v2")) o.qa.version_2_with_negative = a.squad_v2;
  if (given("--null-score-diff-threshold")) {
    o.qa.null_score_diff_threshold = v.qa.null_score_diff_threshold;
  }
  if (given("--max-answer-length")) o.qa.max_answer_length = v.qa.max_answer_length;
}

}  // namespace clintorch::cli
