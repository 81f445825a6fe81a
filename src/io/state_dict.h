// Matching checkpoint keys to model parameter names, as transformers does, and loading them.
//
// Target names are HuggingFace state_dict names of the model being filled: bare
// ("embeddings.word_embeddings.weight", ...) for a base BertModel, or "bert."-prefixed plus head
// names ("bert.encoder...", "classifier.weight") for a task model. Checkpoint keys are matched
// after the legacy renames LayerNorm.gamma/beta -> LayerNorm.weight/bias, and:
//   - targets bare, checkpoint prefixed (a BertFor* checkpoint into a BertModel): "bert." is
//     stripped; the head's keys (cls.*, classifier.*) are then unexpected;
//   - targets prefixed, checkpoint bare (a BertModel checkpoint into a task model): "bert." is
//     added; the head's parameters are then missing.
// Missing targets keep their initial values and unexpected keys are skipped; both are reported
// (a warning, or an Error in strict mode). A shape mismatch is always an Error naming the file and
// the tensor, raised before any parameter is written.
#pragma once

#include <ATen/core/Tensor.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "io/tensor_store.h"

namespace clintorch::io {

using NamedTensors = std::vector<std::pair<std::string, at::Tensor>>;

struct LoadOptions {
  // Missing or unexpected keys are an Error listing them instead of a warning. Default: false.
  bool strict = false;
  // transformers' base_model_prefix of the architecture. Default: "bert".
  std::string base_prefix = "bert";
  // Checkpoint keys (after prefix handling) that are dropped silently when no target uses them:
  // buffers older transformers saved. Default: {"embeddings.position_ids"}.
  std::vector<std::string> ignore_unexpected = {"embeddings.position_ids"};
  // Log the missing/unexpected lists as warnings (when not strict). Default: true.
  bool warn = true;
  // Name of the model class in messages, as transformers words them. Default: "BertModel".
  std::string model_name = "BertModel";
};

struct LoadReport {
  std::vector<std::string> loaded;      // target names filled from the checkpoint
  std::vector<std::string> missing;     // target names the checkpoint lacks (kept as initialised)
  std::vector<std::string> unexpected;  // checkpoint keys no target uses (not ignored ones)
  std::map<std::string, std::string> source_key;  // target name -> checkpoint key it came from
};

// The legacy renames transformers applies on load: "...LayerNorm.gamma" -> "...LayerNorm.weight",
// "...LayerNorm.beta" -> "...LayerNorm.bias". Other keys are returned unchanged.
std::string normalize_key(const std::string& key);

// Target name -> checkpoint key, following the rules above; fills report.missing/unexpected.
std::map<std::string, std::string> match_keys(const std::vector<std::string>& checkpoint_keys,
                                              const std::vector<std::string>& target_names,
                                              const LoadOptions& options, LoadReport* report);

// Copies every matched checkpoint tensor into its target (converting dtype, any device). Throws
// an Error naming the file and tensor on a shape mismatch (before writing anything), and in strict
// mode on missing/unexpected keys.
LoadReport load_into(const TensorStore& store, const NamedTensors& targets,
                     const LoadOptions& options = {});

}  // namespace clintorch::io
