// How a model's outputs are scored and decoded, for `evaluate --model` and `predict`: the same
// options in both commands. A model carries the settings of the recipe it was trained with
// (config.json "clintorch": {"evaluation": ...}); an option given on the command line wins over
// them, and the defaults below apply to models without such a block.
#pragma once

#include <CLI/CLI.hpp>

#include <set>
#include <string>

#include "eval/inference.h"
#include "eval/task_eval.h"

namespace clintorch::cli {

struct ScoringArgs {
  eval::TaskEvalOptions values;  // the options' values (their defaults when not given)
  std::string window_aggregation = "mean";
  bool squad_v2 = false;
  std::set<std::string> given;  // the options present on the command line (capture_scoring)
};

// Declares --window-aggregation, --squad-v2, --null-score-diff-threshold and
// --max-answer-length; with `metrics` also --seqeval-mode and --negative-label.
void add_scoring_options(CLI::App& sub, ScoringArgs& args, bool metrics);
// Records which of them `sub` was given; call at the start of the callback.
void capture_scoring(const CLI::App& sub, ScoringArgs& args);
// `options` scored as `model` says (its evaluation settings; NER strict mode: the scheme of its
// labels when it says none), then the options given on the command line.
void apply_scoring(eval::TaskEvalOptions& options, const eval::InferenceModel& model,
                   const ScoringArgs& args);

}  // namespace clintorch::cli
