// Loading a BERT encoder from a HuggingFace model directory and exporting one that
// transformers.AutoModel.from_pretrained loads as is.
//
//   auto bert = clintorch::model::load_pretrained_bert("models/Bio_ClinicalBERT");
//   bert.model->eval();
//   auto out = bert.model->forward(ids, mask);
//   clintorch::model::save_pretrained("out/export", bert.config, bert.model,
//   "models/Bio_ClinicalBERT");
//
// Heads (model/heads/) load their own weights from the same checkpoint: open it with
// BertCheckpoint::open, pass encoder_tensors(model, "bert.") plus the head's HF-named parameters to
// io::load_into, and export the same list with save_pretrained's tensor overload.
#pragma once

#include <c10/core/Device.h>

#include <string>
#include <vector>

#include "io/state_dict.h"
#include "io/tensor_store.h"
#include "model/bert.h"
#include "model/config.h"

namespace clintorch::model {

// A HuggingFace model directory opened for loading: config.json read and validated, weights
// mapped (not yet copied).
struct BertCheckpoint {
  std::string dir;
  BertConfig config;
  io::TensorStore weights;

  // Opens DIR and checks that config.json, the word-embedding matrix and vocab.txt (when present)
  // agree on the vocabulary size; errors name the file, the tensor and both sizes. DIR may also
  // be a HF model id (ORG/NAME[@REV]) found in the local HF cache (io/model_path.h); `dir` then
  // holds the snapshot folder.
  static BertCheckpoint open(const std::string& dir);
};

struct PretrainedOptions {
  // Missing or unexpected weights are an error instead of a warning. Default: false.
  bool strict = false;
  // Build (and load) the pooler; false as HF's add_pooling_layer=False. Default: true.
  bool add_pooling_layer = true;
  // Where the parameters live. Default: CPU.
  c10::Device device = c10::Device(c10::DeviceType::CPU);
  // Skip the random initialisation that the checkpoint overwrites (SkipWeightInit); a weight
  // the checkpoint lacks still gets it. Default: false (the generator's draws stay as before).
  bool skip_init = false;
};

struct PretrainedBert {
  BertConfig config;
  BertModel model{nullptr};  // in eval mode
  io::LoadReport report;     // what was loaded, missing, unexpected
};

// The encoder's parameters under their HF names, each prefixed with `prefix` ("" for a base
// BertModel, "bert." inside task models).
io::NamedTensors encoder_tensors(const BertModel& model, const std::string& prefix = "");

// Builds the encoder described by DIR/config.json and loads DIR's weights (safetensors, sharded
// safetensors, pytorch_model.bin; bare or "bert."-prefixed keys).
PretrainedBert load_pretrained_bert(const std::string& dir, const PretrainedOptions& options = {});

// Writes an HF directory: config.json (config plus `architectures`, dtype of the weights),
// model.safetensors with `tensors` as named, and the tokenizer files copied from
// `tokenizer_dir` (see io::HfExportOptions).
void save_pretrained(const std::string& out_dir, const BertConfig& config,
                     const io::NamedTensors& tensors, const std::string& tokenizer_dir,
                     const std::vector<std::string>& architectures = {"BertModel"});

// The base encoder alone, loadable with transformers.AutoModel / BertModel.
void save_pretrained(const std::string& out_dir, const BertConfig& config, const BertModel& model,
                     const std::string& tokenizer_dir);

}  // namespace clintorch::model
