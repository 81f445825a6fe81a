// Looking inside the encoder for one text: the L2 norm of every token's hidden state at every
// layer (embeddings included) and, on request, the attention maps of chosen layers and heads,
// as JSON or as a self-contained HTML page of SVG heatmaps.
//
//   infer::InspectOptions o;
//   o.attentions = true;
//   o.layers = {0, 5};
//   infer::InspectResult r = infer::inspect_text("models/minilm", "Chest pain.", o);
//   r.mean_norms[0];              // mean token norm of the embedding output
//   r.maps[0].matrix;             // (seq * seq) attention of layer 0, head 0 (row = query)
#pragma once

#include <c10/core/Device.h>
#include <nlohmann/json.hpp>

#include <cstddef>
#include <string>
#include <vector>

namespace clintorch::infer {

struct InspectOptions {
  // Return attention maps. Default: false.
  bool attentions = false;
  // Layers whose maps are returned (0-based); empty = all. Default: empty.
  std::vector<int> layers;
  // Heads whose maps are returned (0-based); empty = all. Default: empty.
  std::vector<int> heads;
  // Longest input in tokens; longer texts are an Error. 0 = max_position_embeddings.
  // Default: 0.
  size_t max_length = 0;
  // Where the model runs. Default: CPU.
  c10::Device device = c10::Device(c10::DeviceType::CPU);
};

struct AttentionMap {
  int layer = 0;
  int head = 0;
  std::vector<float> matrix;  // (seq, seq) row-major: row = query token, column = key token
};

struct InspectResult {
  std::string model;                // the resolved model folder
  std::vector<std::string> tokens;  // (seq) token strings, [CLS] and [SEP] included
  int num_layers = 0;
  int num_heads = 0;
  // (layers + 1, seq): ||h_l[t]||_2 for hidden state l (0 = embeddings) and token t.
  std::vector<std::vector<float>> token_norms;
  // (layers + 1): the mean over tokens of token_norms[l].
  std::vector<float> mean_norms;
  std::vector<AttentionMap> maps;  // layer-major, then head, as chosen
};

InspectResult inspect_text(const std::string& model, const std::string& text,
                           const InspectOptions& options);

// {"model", "tokens", "num_layers", "num_heads", "hidden_state_norms": [{"layer", "mean",
// "tokens": [...]}], "attentions": [{"layer", "head", "matrix": [[...]]}]}.
nlohmann::json inspect_to_json(const InspectResult& result);

// A self-contained HTML page (inline SVG and CSS, no scripts or external assets): a chart of the
// mean norm per layer and one heatmap per chosen (layer, head), tokens on both axes.
std::string inspect_to_html(const InspectResult& result);

// "0,5,7" -> {0, 5, 7}; an Error naming `option` for anything else.
std::vector<int> parse_index_list(const std::string& text, const std::string& option);

}  // namespace clintorch::infer
