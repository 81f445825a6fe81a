#include "model/pretrained.h"

#include <torch/torch.h>

#include <filesystem>
#include <optional>

#include "io/hf_dir.h"
#include "io/model_path.h"
#include "util/error.h"

namespace clintorch::model {

namespace fs = std::filesystem;

BertCheckpoint BertCheckpoint::open(const std::string& name_or_dir) {
  BertCheckpoint ckpt;
  ckpt.dir = io::resolve_model_dir(name_or_dir);  // a HF model id resolves from the cache
  const std::string& dir = ckpt.dir;
  const std::string weights = io::TensorStore::find_weights(dir);  // also checks DIR exists
  ckpt.config = BertConfig::load(dir);
  ckpt.weights = io::TensorStore::open(weights);

  for (const std::string key :
       {"embeddings.word_embeddings.weight", "bert.embeddings.word_embeddings.weight"}) {
    if (!ckpt.weights.contains(key)) continue;
    const io::TensorEntry& e = ckpt.weights.at(key);
    if (e.shape.size() != 2 || e.shape[0] != ckpt.config.vocab_size) {
      fail(e.path,
           "tensor '" + key + "' has shape " + e.shape_string() + " but config.json has " +
               "vocab_size " + std::to_string(ckpt.config.vocab_size),
           "the weights and config.json come from different models, or the vocabulary was "
           "resized without updating config.json");
    }
  }
  const fs::path vocab = fs::path(dir) / "vocab.txt";
  if (fs::exists(vocab)) {
    const int64_t tokens = io::count_vocab_tokens(vocab.string());
    if (tokens > ckpt.config.vocab_size) {
      fail(vocab.string(),
           "has " + std::to_string(tokens) + " tokens but the model's embeddings " + "have " +
               std::to_string(ckpt.config.vocab_size) + " rows",
           "token ids past the embedding matrix cannot be looked up: the vocabulary belongs to "
           "another model (a smaller vocab.txt than the embeddings is fine)");
    }
  }
  return ckpt;
}

io::NamedTensors encoder_tensors(const BertModel& model, const std::string& prefix) {
  io::NamedTensors out;
  for (const auto& item : model->named_parameters(/*recurse=*/true)) {
    out.emplace_back(prefix + item.key(), item.value());
  }
  for (const auto& item : model->named_buffers(/*recurse=*/true)) {
    out.emplace_back(prefix + item.key(), item.value());
  }
  return out;
}

PretrainedBert load_pretrained_bert(const std::string& dir, const PretrainedOptions& options) {
  BertCheckpoint ckpt = BertCheckpoint::open(dir);
  PretrainedBert out;
  out.config = ckpt.config;
  // Built (and initialised) on the CPU, then moved; the checkpoint overwrites what it holds.
  {
    std::optional<SkipWeightInit> skip;
    if (options.skip_init) skip.emplace();
    out.model = BertModel(ckpt.config, options.add_pooling_layer);
  }
  if (options.device != c10::Device(c10::DeviceType::CPU)) out.model->to(options.device);
  io::LoadOptions load;
  load.strict = options.strict;
  out.report = io::load_into(ckpt.weights, encoder_tensors(out.model), load);
  if (options.skip_init && !out.report.missing.empty()) {  // initialise what the file lacks
    init_bert_weights(*out.model, ckpt.config.initializer_range);
    out.report = io::load_into(ckpt.weights, encoder_tensors(out.model), load);
  }
  out.model->eval();
  return out;
}

void save_pretrained(const std::string& out_dir, const BertConfig& config,
                     const io::NamedTensors& tensors, const std::string& tokenizer_dir,
                     const std::vector<std::string>& architectures) {
  nlohmann::json j = config.to_json();
  j["architectures"] = architectures;
  // The dtype of the floating weights as written (transformers reads "dtype", older ones
  // "torch_dtype").
  std::string dtype = "float32";
  for (const auto& [name, t] : tensors) {
    if (t.is_floating_point()) {
      dtype = t.scalar_type() == torch::kBFloat16 ? "bfloat16"
              : t.scalar_type() == torch::kHalf   ? "float16"
              : t.scalar_type() == torch::kDouble ? "float64"
                                                  : "float32";
      break;
    }
  }
  j["dtype"] = dtype;
  if (j.contains("torch_dtype")) j["torch_dtype"] = dtype;
  io::HfExportOptions options;
  options.tokenizer_dir = tokenizer_dir;
  io::write_hf_directory(out_dir, j, tensors, options);
}

void save_pretrained(const std::string& out_dir, const BertConfig& config, const BertModel& model,
                     const std::string& tokenizer_dir) {
  save_pretrained(out_dir, config, encoder_tensors(model), tokenizer_dir, {"BertModel"});
}

}  // namespace clintorch::model
