// Models for inference: a HF model directory (an export, a trainer checkpoint or a BertFor*
// checkpoint) loaded with its tokenizer and checked against it, the checkpoint a trainer output
// folder stands for, and exporting a checkpoint as a clean HF directory. Used by `clintorch
// evaluate`, `predict` and `export`.
//
//   eval::InferenceModel m = eval::load_inference_model("out/export");
//   m.task;                 // data::Task of the head (token_classification, ...)
//   eval::export_checkpoint("out", "bundle");   // newest / best checkpoint of a trainer run
#pragma once

#include <c10/core/Device.h>

#include <memory>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "data/labels.h"
#include "data/readers.h"
#include "model/heads/task_model.h"

namespace clintorch::tok {
class Tokenizer;
}

namespace clintorch::eval {

struct InferenceLoadOptions {
  // Registry name of the head; "" = the head config.json names. Default "".
  std::string head;
  // Where the model runs. Default CPU.
  c10::Device device = c10::Device(c10::DeviceType::CPU);
};

struct InferenceModel {
  // The directory the weights came from (after resolving a trainer output folder).
  std::string dir;
  model::TaskModel model{nullptr};  // in eval mode, on the requested device
  // The directory's tokenizer; for relation_extraction with entity markers the markers are
  // added when missing.
  std::shared_ptr<tok::Tokenizer> tokenizer;
  // The data task of the head and, for sequence classification, its problem type.
  data::Task task = data::Task::kTokenClassification;
  data::ProblemType problem_type = data::ProblemType::kSingleLabel;
  // Label names in id order (empty for QA and MLM).
  std::vector<std::string> labels;
};

// The model directory `dir` stands for: `dir` itself when it has config.json (an export or one
// checkpoint-N of a trainer run); in a trainer output_dir, the best_model_checkpoint recorded in
// the newest checkpoint's trainer_state.json when set, else the newest checkpoint-N; else
// dir/export when it exists. Throws Error naming the folder otherwise.
std::string resolve_checkpoint(const std::string& dir);

// Loads resolve_checkpoint(dir) with its tokenizer. Throws Error when the directory or its
// config.json / weights / vocabulary are missing, when the checkpoint lacks weights of the model
// (they would be random), or when the tokenizer has more tokens than the model's embeddings.
InferenceModel load_inference_model(const std::string& dir,
                                    const InferenceLoadOptions& options = {});

// Reads a labelled file for `model`: the task, labels (id2label, so unknown labels are errors
// naming FILE:LINE) and problem type come from the model; NER tags are converted to the scheme of
// the model's labels (IOB2 or IOBES). Other fields of `options` (format, reader keys, windows)
// are used as given.
std::shared_ptr<data::TaskDataset> load_eval_dataset(const InferenceModel& model,
                                                     const std::string& path,
                                                     data::DataOptions options);

// "iobes" when NER labels use E-/S- tags, "iob2" when they are B/I/O-prefixed, else "none".
std::string label_tag_scheme(const std::vector<std::string>& labels);
// The scheme NER strict mode reads for these labels: label_tag_scheme, with "iob2" for "none".
std::string strict_tag_scheme(const std::vector<std::string>& labels);

// Writes the model of resolve_checkpoint(checkpoint) to `out_dir` as a HF directory
// (config.json with the head and id2label/label2id, model.safetensors, tokenizer files) that
// transformers' AutoModelFor* and load_task_model read as it is; trainer files (optimizer state,
// trainer_state.json, ...) are left behind. Returns the directory exported from.
std::string export_checkpoint(const std::string& checkpoint, const std::string& out_dir,
                              const std::string& head = "");

}  // namespace clintorch::eval
