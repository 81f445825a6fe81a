// Task heads on the shared BERT encoder. A head is chosen by name from the registry
// (model/heads/registry.h) and owned by a TaskModel (model/heads/task_model.h), which runs the
// encoder and hands its output to the head.
//
// Every head registers its modules on the TaskModel under the names of the transformers class it
// mirrors, so TaskModel::named_parameters() are exactly that class's state_dict keys ("bert.*",
// "classifier.weight", "cls.predictions.transform.dense.weight", "qa_outputs.bias", ...), loading a
// HF checkpoint is a plain name match and an export loads in transformers' AutoModelFor*.
//
// The batch is a dictionary of tensors (see `batch_key` below for the names and shapes each head
// reads); data::Batch of the data layer has the same field names.
#pragma once

#include <ATen/core/Tensor.h>
#include <nlohmann/json.hpp>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "model/bert.h"
#include "model/config.h"

namespace clintorch::model {

// One batch: tensor name -> tensor. Absent keys are simply not in the map.
using Batch = std::map<std::string, at::Tensor>;

// The names of the batch tensors, their shapes and which heads read them.
namespace batch_key {
// (batch, seq) int64 token ids. Every head.
inline constexpr char kInputIds[] = "input_ids";
// (batch, seq) int64 or bool, 1 = token, 0 = padding. Optional (no padding).
inline constexpr char kAttentionMask[] = "attention_mask";
// (batch, seq) int64 segment ids (0 = first text, 1 = second). Optional (all 0).
inline constexpr char kTokenTypeIds[] = "token_type_ids";
// The targets; the loss is computed when present:
//   mlm: (batch, seq) int64 original token id at masked positions, -100 elsewhere
//   token_classification: (batch, seq) int64 label id, -100 where ignored (special tokens,
//     non-first sub-tokens, padding)
//   sequence_classification single-label, relation_extraction: (batch) int64 class id
//   sequence_classification multi-label: (batch, num_labels) float 0/1
//   sequence_classification regression: (batch) or (batch, num_labels) float
inline constexpr char kLabels[] = "labels";
// question_answering: (batch) int64 token index of the answer's first / last token; 0 ([CLS])
// for "no answer" (SQuAD v2). Values outside 0..seq are clamped as transformers does, and seq
// itself is ignored by the loss.
inline constexpr char kStartPositions[] = "start_positions";
inline constexpr char kEndPositions[] = "end_positions";
// relation_extraction with pooling entity_start: (batch, 2) int64 token index of the [E1] and
// [E2] start markers.
inline constexpr char kEntityPositions[] = "entity_positions";
// token_classification: (batch, seq) bool/int, 1 at the tokens that carry a label (the first
// sub-token of each word). Optional: the CRF and decode() use labels != -100 when labels are
// present, else this mask, else attention_mask.
inline constexpr char kLabelMask[] = "label_mask";
// mlm: (batch, seq) bool/int, 1 where logits are wanted (e.g. the [MASK] tokens of fill-mask).
// Optional; with labels present the labelled positions are used instead.
inline constexpr char kPredictionMask[] = "prediction_mask";
// question_answering decode(): (batch, seq) bool/int, 1 at tokens an answer may cover.
// Optional: token_type_ids == 1 (the context segment) and attention_mask.
inline constexpr char kContextMask[] = "context_mask";
}  // namespace batch_key

// The tensor `key` of `batch`, or an undefined tensor when absent.
at::Tensor batch_get(const Batch& batch, const std::string& key);
// The tensor `key` of `batch`; throws an Error naming the head and the key when absent.
at::Tensor batch_require(const Batch& batch, const std::string& key, const std::string& head);

// Options of every head, one struct so a recipe's `task` section maps onto it. Each head reads the
// fields that concern it; fields left at their "unset" default are taken from the checkpoint's
// config.json (id2label, problem_type, the "clintorch" block) when a TaskModel is loaded.
struct HeadOptions {
  // Label names in id order (id2label). Empty = from config.json id2label (or the checkpoint's
  // classifier rows, named LABEL_i). Not used by mlm and question_answering. Default: empty.
  std::vector<std::string> labels;
  // sequence_classification: "single_label_classification", "multi_label_classification" or
  // "regression" (transformers' problem_type). Empty = config.json problem_type, else
  // single_label_classification (regression when there is exactly one label). Default: empty.
  std::string problem_type;
  // Cross-entropy class weights, one per label (torch.nn.CrossEntropyLoss(weight=...)):
  // sequence_classification single-label, token_classification without CRF,
  // relation_extraction. Empty = unweighted. Default: empty.
  std::vector<double> class_weights;
  // sequence_classification multi-label: a label is predicted when sigmoid(logit) >= its
  // threshold; one value for every label, or one per label. Empty = 0.5. Default: empty.
  std::vector<double> thresholds;
  // token_classification: add a linear-chain CRF (NLL training, Viterbi decoding). Unset = from
  // config.json ("clintorch": {"crf": ...}), else false. Default: unset.
  std::optional<bool> crf;
  // token_classification with CRF: forbid the transitions BIO (IOB2) tags cannot make
  // (START/O -> I-X, B-X/I-X -> I-Y for X != Y). Default: true.
  bool crf_bio_constraints = true;
  // relation_extraction: "entity_start" (concatenated states of the [E1] and [E2] start markers,
  // Baldini Soares et al. 2019) or "cls" (BLUE-style masked entities, [CLS] pooling exactly as
  // BertForSequenceClassification). Empty = config.json, else entity_start. Default: empty.
  std::string pooling;
  // relation_extraction entity_start: the marker tokens the tokenizer must add (head start, head
  // end, tail start, tail end). Default: [E1] [/E1] [E2] [/E2].
  std::vector<std::string> entity_markers = {"[E1]", "[/E1]", "[E2]", "[/E2]"};
  // mlm: with labels present, compute the vocabulary logits only at the labelled (masked)
  // positions, as a (n_masked, vocab) matrix. Default: true.
  bool mlm_masked_only = true;
  // question_answering decode(): longest answer in tokens. Default: 30.
  int64_t max_answer_length = 30;
  // question_answering decode(): predict "no answer" (0, 0) when the [CLS] score beats the best
  // span by more than this (SQuAD v2); unset = always answer (SQuAD v1). Default: unset.
  std::optional<double> null_score_threshold;

  // Reads a JSON object with the keys above (unknown keys are an Error with "did you mean").
  static HeadOptions from_json(const nlohmann::json& json, const std::string& where);
  nlohmann::json to_json() const;
};

// What a head is, for the trainer, the evaluator and the exporter.
struct HeadInfo {
  // Registry name ("token_classification", ...).
  std::string name;
  // The data layer's task name (data/readers.h) whose datasets this head trains on, and its
  // aliases: {"token_classification", "ner"}, ...
  std::vector<std::string> dataset_tasks;
  // Metric family for the evaluator: "mlm" (loss, perplexity, masked accuracy), "ner"
  // (seqeval), "classification", "multilabel", "regression", "qa" (SQuAD), "re" (micro-F1
  // without the negative class).
  std::string metric_family;
  // The transformers class the export is (config.json "architectures"), or our own class name
  // for formats transformers lacks (see docs/tasks-and-formats.md, "Task heads").
  std::string hf_architecture;
  // Whether the encoder keeps its pooler (BertForSequenceClassification does; the MLM, token
  // and QA classes are built with add_pooling_layer=False).
  bool uses_pooler = false;
  // Whether the head's results depend on the encoder's output at padded positions. The QA loss
  // does (transformers' softmax runs over every position, padding included), so that head keeps
  // the padded encoder path; every other head runs on the unpadded one when asked
  // (TaskForwardOptions::unpad).
  bool reads_padding = false;
  // Whether the head multiplies by the word-embedding matrix (the MLM decoder, tied to it), so
  // that its gradient reaches every row, not only the rows of the batch's tokens.
  bool uses_word_embeddings = false;
};

// What a head's forward() gets.
struct HeadInput {
  const Batch& batch;
  const BertModelOutput& encoded;  // the encoder's output for the batch
  BertModelImpl& bert;             // the encoder (the MLM decoder is tied to its embeddings)
  bool compute_loss = true;        // compute the loss when the batch has targets
};

// What a head's forward() returns. Shapes per head:
//   mlm: logits (batch, seq, vocab), or (n, vocab) at the `positions` selected by labels /
//     prediction_mask
//   token_classification: logits (batch, seq, num_labels) (the CRF's emissions)
//   sequence_classification, relation_extraction: logits (batch, num_labels)
//   question_answering: logits (batch, seq, 2), start_logits and end_logits (batch, seq)
struct HeadOutput {
  // () float32, the loss exactly as the transformers class computes it (a mean); undefined when
  // the batch has no targets or compute_loss is false.
  at::Tensor loss;
  // () float32 and () float32 with loss == loss_sum / loss_weight. loss_weight counts what the
  // mean is over (labelled tokens for mlm and token_classification without CRF, the sum of the
  // class weights when weighted, labelled examples otherwise). A trainer accumulating
  // micro-batches divides the summed loss_sum by the summed loss_weight.
  at::Tensor loss_sum;
  at::Tensor loss_weight;
  at::Tensor logits;
  at::Tensor start_logits;  // question_answering: (batch, seq)
  at::Tensor end_logits;    // question_answering: (batch, seq)
  // mlm with selected positions: (n) int64 flat index (b * seq + t) of each row of logits.
  at::Tensor positions;
};

// A task head. Implementations live in model/heads/<name>.cpp (one file each) and are listed in
// model/heads/registry.cpp; see CONTRIBUTING.md "Adding a task head".
class TaskHead {
 public:
  explicit TaskHead(HeadOptions options) : options_(std::move(options)) {}
  virtual ~TaskHead() = default;
  TaskHead(const TaskHead&) = delete;
  TaskHead& operator=(const TaskHead&) = delete;

  virtual HeadInfo info() const = 0;

  // Creates the head's modules, initialised as transformers does (normal(0, initializer_range)
  // Linear weights, zero biases, LayerNorm 1/0), and registers them on `model` (the TaskModel)
  // under their transformers names. Called once, from the TaskModel constructor.
  virtual void attach(torch::nn::Module& model, const BertConfig& config) = 0;

  // Logits (and the loss when the batch has targets and input.compute_loss).
  virtual HeadOutput forward(const HeadInput& input) = 0;

  // Predictions from forward()'s output:
  //   mlm: argmax token ids, shaped like the logits minus the vocabulary dimension
  //   token_classification: (batch, seq) int64 label ids (Viterbi path with a CRF), -100 at
  //     tokens that carry no label
  //   sequence_classification: single-label (batch) int64 class ids; multi-label
  //     (batch, num_labels) int64 0/1 by the thresholds; regression (batch, num_labels) float
  //   question_answering: (batch, 2) int64 best (start, end) token span, (0, 0) = no answer
  //   relation_extraction: (batch) int64 class ids
  virtual at::Tensor decode(const HeadOutput& output, const Batch& batch) const = 0;

  // Adds the head's keys to an export's config.json: id2label/label2id, problem_type, and the
  // "clintorch" block ({"head": NAME, ...options our loader needs}).
  virtual void write_config(nlohmann::json& config) const;

  // Checkpoint keys that are expected and deliberately not loaded (tied weights that older
  // checkpoints store twice, e.g. cls.predictions.decoder.weight).
  virtual std::vector<std::string> ignored_checkpoint_keys() const { return {}; }

  // Tokens the tokenizer must contain for this head (relation_extraction's entity markers); the
  // trainer adds the missing ones and resizes the embeddings (TaskModel::resize_token_embeddings).
  virtual std::vector<std::string> required_tokens() const { return {}; }

  // Called after the encoder's vocabulary changed size (the MLM output bias follows).
  virtual void on_vocab_resized(int64_t vocab_size) { (void)vocab_size; }

  const HeadOptions& options() const { return options_; }
  const std::vector<std::string>& labels() const { return options_.labels; }
  int64_t num_labels() const { return static_cast<int64_t>(options_.labels.size()); }

 protected:
  // Writes id2label ({"0": ...}) and label2id as transformers does.
  void write_labels(nlohmann::json& config) const;
  // The classifier dropout of transformers: classifier_dropout, else hidden_dropout_prob.
  static double classifier_dropout(const BertConfig& config);

  HeadOptions options_;
};

// ---- Losses shared by heads (each returns mean, sum and weight as in HeadOutput) ------------

struct LossParts {
  at::Tensor mean;    // () float32
  at::Tensor sum;     // () float32
  at::Tensor weight;  // () float32
};

// torch.nn.CrossEntropyLoss(weight, ignore_index, reduction="mean") over logits (n, classes) and
// targets (n) int64, computed in float32. `class_weights` (classes) may be undefined.
LossParts cross_entropy_parts(const at::Tensor& logits, const at::Tensor& targets,
                              const at::Tensor& class_weights = {}, int64_t ignore_index = -100);

// `values` as a float32 tensor on `device`, or undefined when empty; throws an Error naming `what`
// when the count is not `expected`.
at::Tensor weights_tensor(const std::vector<double>& values, int64_t expected,
                          const std::string& what, const c10::Device& device);

}  // namespace clintorch::model
