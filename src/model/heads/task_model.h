// TaskModel: the shared BERT encoder plus one task head, as one torch module whose parameter
// names are those of the transformers class the head mirrors ("bert.*" + the head's keys).
//
//   // Fine-tuning from a pretrained encoder (head weights initialised, reported as missing):
//   clintorch::model::HeadOptions options;
//   options.labels = {"O", "B-PROBLEM", "I-PROBLEM"};
//   auto task = clintorch::model::load_task_model("Bio_ClinicalBERT", "token_classification",
//                                                 options);
//   task.model->train();
//   clintorch::model::Batch batch = {{"input_ids", ids}, {"attention_mask", mask},
//                                    {"labels", labels}};
//   auto out = task.model->forward(batch);   // out.loss, out.logits
//   out.loss.backward();
//
//   // Inference from an export (the head and its labels come from config.json):
//   auto task = clintorch::model::load_task_model("export_dir");
//   auto out = task.model->forward(batch);
//   at::Tensor predicted = task.model->decode(out, batch);
//
//   task.model->save_pretrained("export_dir", "Bio_ClinicalBERT");  // loads in AutoModelFor*
#pragma once

#include <c10/core/Device.h>
#include <nlohmann/json.hpp>

#include <memory>
#include <string>

#include "io/state_dict.h"
#include "model/bert.h"
#include "model/config.h"
#include "model/heads/head.h"

namespace clintorch::model {

struct TaskForwardOptions {
  // Compute the loss when the batch has the head's targets. Default: true.
  bool compute_loss = true;
  // Check token ids against the vocabulary (one device sync; see ForwardOptions). Default: true.
  bool check_inputs = true;
  // Run the encoder on the real tokens only (ForwardOptions::unpad) unless the head reads the
  // padding (HeadInfo::reads_padding). Results at real positions are those of the padded path up
  // to rounding; the trainer, evaluation, predict and embed set it. Default: false.
  bool unpad = false;
};

class TaskModelImpl : public torch::nn::Module {
 public:
  // Builds the encoder for `config` (with the pooler only when the head uses it) and attaches
  // `head`, every module initialised as transformers does.
  TaskModelImpl(const BertConfig& config, std::shared_ptr<TaskHead> head);

  // Runs the encoder on input_ids / attention_mask / token_type_ids of `batch`, then the head.
  // Under an AutocastScope the matmuls run in bf16/fp16; losses are computed in fp32.
  HeadOutput forward(const Batch& batch, const TaskForwardOptions& options = {});

  // The head's predictions for forward()'s output (see TaskHead::decode).
  at::Tensor decode(const HeadOutput& output, const Batch& batch) const;

  TaskHead& head() { return *head_; }
  const TaskHead& head() const { return *head_; }
  HeadInfo info() const { return head_->info(); }
  const BertConfig& config() const { return bert->config(); }

  // Every parameter and buffer under its transformers name: what save_pretrained writes and a
  // checkpoint is loaded into. The MLM decoder weight is tied to the word embeddings and appears
  // once, as bert.embeddings.word_embeddings.weight.
  io::NamedTensors hf_tensors() const;

  // Fills the parameters from a HF checkpoint (keys matched as io::load_into does). Head tensors
  // of another shape, or labels that differ from the checkpoint's id2label, are an Error unless
  // `ignore_mismatched_sizes`, which keeps them freshly initialised (reported as missing).
  io::LoadReport load_weights(const std::string& model_dir, bool strict = false,
                              bool ignore_mismatched_sizes = false);

  // config.json of an export: the encoder's config, the head's keys (id2label/label2id,
  // problem_type, "clintorch") and "architectures".
  nlohmann::json hf_config() const;

  // Writes a HF directory (config.json, model.safetensors, tokenizer files from `tokenizer_dir`;
  // empty = none) that transformers' AutoModelFor<task> loads as it is.
  void save_pretrained(const std::string& out_dir, const std::string& tokenizer_dir) const;

  // Grows or shrinks the vocabulary (e.g. after adding relation_extraction's entity markers).
  // New rows get the mean embedding; create the optimizer after this.
  void resize_token_embeddings(int64_t num_tokens);

  BertModel bert{nullptr};

  // How the task is evaluated (NER seqeval mode and tag scheme, RE negative label, QA v2 and
  // thresholds, ...; see eval::evaluation_settings): opaque to the model, written by
  // save_pretrained into config.json as "clintorch": {"evaluation": {...}} and read back by
  // load_task_model, so that an export is evaluated as its recipe's run was. Default: {}.
  nlohmann::json evaluation_settings = nlohmann::json::object();

 private:
  std::shared_ptr<TaskHead> head_;
};
TORCH_MODULE(TaskModel);

struct TaskLoadOptions {
  // Missing or unexpected weights are an Error instead of a warning. Default: false.
  bool strict = false;
  // Start the head fresh when its weights in the checkpoint have another shape or other labels
  // (transformers' ignore_mismatched_sizes). Default: false.
  bool ignore_mismatched_sizes = false;
  // Where the parameters live. Default: CPU.
  c10::Device device = c10::Device(c10::DeviceType::CPU);
  // Skip the random initialisation that the checkpoint overwrites (SkipWeightInit); a weight
  // the checkpoint lacks still gets it. Default: false, so that training draws the head's
  // initial weights from the seeded generator exactly as before.
  bool skip_init = false;
};

struct PretrainedTask {
  TaskModel model{nullptr};  // in eval mode (call train() to fine-tune)
  io::LoadReport report;     // loaded, missing (newly initialised), unexpected keys
};

// The head options of `given` completed from a config.json: labels from id2label (by id), else
// `num_labels` / `label_rows` labels named LABEL_i; problem_type; the "clintorch" block (crf,
// pooling, entity_markers, thresholds). Explicit values in `given` win.
HeadOptions resolve_head_options(const HeadOptions& given, const nlohmann::json& config,
                                 int64_t label_rows = -1);

// A fresh task model on `config` (no weights loaded).
TaskModel create_task_model(const std::string& head_name, const BertConfig& config,
                            const HeadOptions& options = {});

// Loads a HF model directory (or a HF model id cached locally, see io/model_path.h) into a task
// model. `head_name` empty = the head config.json names (an export of ours or a BertFor*
// checkpoint); otherwise any registered name or alias.
PretrainedTask load_task_model(const std::string& model_dir, const std::string& head_name = "",
                               const HeadOptions& options = {}, const TaskLoadOptions& load = {});

}  // namespace clintorch::model
