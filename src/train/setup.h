// From a recipe to the objects a run needs: the tokenizer (with the recipe's overrides and the
// head's required tokens), the data options, the head options, the datasets and the task model.
// `clintorch train` and `clintorch evaluate --recipe` share these functions, so a recipe means
// the same thing to both.
//
//   const Recipe recipe = load_recipe("recipes/quickstart.yaml");
//   const RecipeCheck check = check_recipe_files(recipe);
//   RunSetup run = setup_run(recipe, check);          // reads and tokenises, writes nothing
//   run.model->to(device);
#pragma once

#include <c10/core/Device.h>

#include <memory>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "data/mlm.h"
#include "eval/task_eval.h"
#include "model/heads/task_model.h"
#include "train/recipe.h"
#include "train/recipe_check.h"

namespace clintorch::tok {
class Tokenizer;
struct TokenizerOptions;
}  // namespace clintorch::tok

namespace clintorch::train {

// The tokenizer settings of a run: the recipe's tokenizer keys, else those of `file`
// (tokenizer.config, or the tokenizer_config.json beside model.config); unset ones are left to
// the model's own tokenizer files.
tok::TokenizerOptions tokenizer_options(const Recipe& recipe, const TokenizerSettings& file = {});

// The data layer's options for the recipe's task and data sections (readers, windows, cache,
// labels from task.labels).
data::DataOptions data_options(const Recipe& recipe);

// The head options of the task section (labels, problem type, class weights, CRF, RE pooling,
// QA answer length). Labels left empty here are filled from the training data by setup_run.
model::HeadOptions head_options(const Recipe& recipe);

// The MLM corpus options of the data section.
data::MlmCorpusOptions mlm_corpus_options(const Recipe& recipe);
data::MaskingOptions masking_options(const Recipe& recipe);

// How the recipe's task is evaluated: the one mapping from a recipe to evaluation options, used by
// the trainer, `evaluate --recipe` and (through the model's evaluation_settings) the export.
// `labels` are the model's labels: NER strict mode reads data.tag_scheme when the recipe sets
// it, else the scheme of the labels (IOBES when they hold E-/S- tags, else IOB2). The device and
// the callbacks are left at their defaults.
eval::TaskEvalOptions task_eval_options(const Recipe& recipe,
                                        const std::vector<std::string>& labels);

// The torch device of training.device: auto = cuda when available, else cpu. Throws an Error
// naming the key when CUDA is asked for and absent.
c10::Device resolve_device(const Recipe& recipe);

// Everything built from a recipe, before training.
struct RunSetup {
  // The tokenizer, with the head's required tokens (RE entity markers) added.
  std::shared_ptr<tok::Tokenizer> tokenizer;
  // Folder whose tokenizer files go into checkpoints and exports ("" when the vocabulary comes
  // from tokenizer.vocab_file; write_tokenizer_files handles both).
  std::string tokenizer_dir;
  // The settings of tokenizer.config (or of model.config's folder) applied to the tokenizer.
  TokenizerSettings tokenizer_settings;
  data::DataOptions data;
  model::HeadOptions head;
  // The training features (a TaskDataset, or an MlmCorpus / the training part of its split).
  std::shared_ptr<data::Dataset> train;
  // Evaluation during training (validation_file or the held-out split); null when none.
  std::shared_ptr<data::Dataset> validation;
  // Evaluated once at the end; null when data.test_file is empty.
  std::shared_ptr<data::Dataset> test;
  // The model on the CPU in fp32 (or model.dtype), in train mode.
  model::TaskModel model{nullptr};
  // What was loaded from model.pretrained (empty for model.config).
  io::LoadReport load_report;
};

struct SetupOptions {
  // Build the training set (false for `evaluate --recipe`). Default true.
  bool train = true;
  // Build the validation set. Default true.
  bool validation = true;
  // Build the test set. Default true.
  bool test = true;
  // Build the model (false: data only). Default true.
  bool model = true;
  // Read and write the feature cache of data.cache_dir (false: `validate`, which writes
  // nothing). Default true.
  bool cache = true;
};

// Reads the tokenizer, the data files and the model named by the recipe (seeding torch with
// training.seed first, so a new head or a model.config start is reproducible). Throws
// clintorch::Error naming FILE:LINE for bad data; never writes anything.
RunSetup setup_run(const Recipe& recipe, const RecipeCheck& check,
                   const SetupOptions& options = {});

// Writes the tokenizer files of a run into a model folder: those of `setup.tokenizer_dir`, or
// vocab.txt + tokenizer_config.json for tokenizer.vocab_file; the recipe's tokenizer overrides
// are written into tokenizer_config.json (and a tokenizer.json that would contradict them is not
// copied).
void write_tokenizer_files(const std::string& dir, const Recipe& recipe, const RunSetup& setup);

}  // namespace clintorch::train
