// Checks of what a recipe refers to on disk: the model folder (config.json, vocab, weights), the
// data files, and the limits that depend on the model (max_seq_length <= max_position_embeddings,
// freeze_layers <= num_hidden_layers). Reads config.json directly; writes nothing.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "train/recipe.h"

namespace clintorch::train {

// What the recipe's model config.json says (the keys the checks need).
struct ModelFacts {
  std::string dir;          // the model folder ("" when model.config builds a new model)
  std::string config_path;  // the config.json read
  std::string model_type;   // e.g. "bert" ("" when absent)
  int64_t max_position_embeddings = 0;
  int64_t num_hidden_layers = 0;
  int64_t hidden_size = 0;
  int64_t vocab_size = 0;
};

// Tokenizer settings read from tokenizer.config, or from the tokenizer_config.json beside
// model.config. Unset fields leave the setting to the model's own tokenizer files (HF's order);
// the recipe's tokenizer keys override every field.
struct TokenizerSettings {
  std::string path;  // the tokenizer_config.json read ("" when none)
  std::optional<bool> do_lower_case;
  std::optional<bool> strip_accents;
  std::optional<bool> tokenize_chinese_chars;
};

struct RecipeCheck {
  ModelFacts model;
  std::string vocab_path;             // the vocab.txt the tokenizer will read
  TokenizerSettings tokenizer;        // tokenizer.config (or model.config's folder) settings
  std::vector<std::string> weights;   // weight files found in the model folder
  bool output_dir_not_empty = false;  // output_dir exists and holds files
  std::vector<std::string> warnings;  // printed by `validate`, not fatal
};

// Checks the files and model-dependent limits of a loaded recipe. Throws clintorch::Error naming
// the recipe key's file:line:col, the path and a hint.
RecipeCheck check_recipe_files(const Recipe& recipe);

// Reads the keys of ModelFacts from a config.json. `where`/`key` locate the recipe key that named
// it, for messages.
ModelFacts read_model_config(const std::string& config_path, const std::string& where,
                             const std::string& key);

// Throws unless output.output_dir is absent or empty, or overwrite_output_dir is true. The trainer
// calls it before writing anything.
void check_output_dir(const Recipe& recipe);

}  // namespace clintorch::train
