#include "infer/inspect.h"

#include <torch/torch.h>

#include <algorithm>
#include <cstdio>
#include <set>

#include "infer/inputs.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"

namespace clintorch::infer {

std::vector<int> parse_index_list(const std::string& text, const std::string& option) {
  std::vector<int> out;
  size_t pos = 0;
  while (pos <= text.size()) {
    const size_t comma = std::min(text.find(',', pos), text.size());
    const std::string item = text.substr(pos, comma - pos);
    size_t used = 0;
    int value = -1;
    try {
      value = std::stoi(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (item.empty() || used != item.size() || value < 0) {
      throw UsageError(option + " '" + text + "': expected comma-separated indices >= 0, e.g. 0,5");
    }
    out.push_back(value);
    pos = comma + 1;
  }
  return out;
}

InspectResult inspect_text(const std::string& model, const std::string& text,
                           const InspectOptions& options) {
  LoadedEncoder enc = load_encoder(model, options.device);
  const tok::Tokenizer tokenizer = tok::Tokenizer::from_dir(enc.dir);
  const int layers = static_cast<int>(enc.config.num_hidden_layers);
  const int heads = static_cast<int>(enc.config.num_attention_heads);
  auto check = [](const std::vector<int>& chosen, int count, const char* what) {
    std::vector<int> all;
    for (int i = 0; i < count; ++i) all.push_back(i);
    if (chosen.empty()) return all;
    for (int v : chosen) {
      if (v >= count) {
        throw UsageError(std::string("--") + what + " " + std::to_string(v) + ": the model has " +
                         std::to_string(count) + " " + what + " (0.." + std::to_string(count - 1) +
                         ")");
      }
    }
    return chosen;
  };
  const std::vector<int> chosen_layers = check(options.layers, layers, "layers");
  const std::vector<int> chosen_heads = check(options.heads, heads, "heads");

  const tok::Encoding e = tokenizer.encode(text);
  const size_t limit = options.max_length ? options.max_length
                                          : static_cast<size_t>(enc.config.max_position_embeddings);
  if (e.size() > limit) {
    fail("--text",
         "is " + std::to_string(e.size()) + " tokens long, more than " + std::to_string(limit),
         "inspect a shorter passage");
  }
  InspectResult r;
  r.model = enc.dir;
  r.num_layers = layers;
  r.num_heads = heads;
  for (const auto& t : e.tokens) r.tokens.emplace_back(t);
  const auto seq = static_cast<int64_t>(e.size());
  std::vector<int64_t> ids(e.ids.begin(), e.ids.end());
  const at::Tensor input = torch::tensor(ids, torch::kInt64).view({1, seq}).to(options.device);

  torch::InferenceMode guard;
  model::ForwardOptions fo;
  fo.output_hidden_states = true;
  fo.output_attentions = options.attentions;
  const model::BertModelOutput out = enc.model->forward(input, {}, {}, fo);
  for (const at::Tensor& h : out.hidden_states) {  // (1, seq, hidden)
    const at::Tensor n = h[0].to(torch::kFloat32).norm(2, -1).cpu().contiguous();  // (seq)
    r.token_norms.emplace_back(n.data_ptr<float>(), n.data_ptr<float>() + seq);
    r.mean_norms.push_back(n.mean().item<float>());
  }
  if (options.attentions) {
    for (int l : chosen_layers) {
      const at::Tensor a = out.attentions.at(static_cast<size_t>(l))[0].to(torch::kFloat32).cpu();
      for (int h : chosen_heads) {  // a: (heads, seq, seq)
        const at::Tensor m = a[h].contiguous();
        r.maps.push_back(
            {l, h, std::vector<float>(m.data_ptr<float>(), m.data_ptr<float>() + seq * seq)});
      }
    }
  }
  return r;
}

nlohmann::json inspect_to_json(const InspectResult& r) {
  nlohmann::json j;
  j["model"] = r.model;
  j["tokens"] = r.tokens;
  j["num_layers"] = r.num_layers;
  j["num_heads"] = r.num_heads;
  nlohmann::json norms = nlohmann::json::array();
  for (size_t l = 0; l < r.token_norms.size(); ++l) {
    norms.push_back({{"layer", l}, {"mean", r.mean_norms[l]}, {"tokens", r.token_norms[l]}});
  }
  j["hidden_state_norms"] = norms;
  if (!r.maps.empty()) {
    const size_t seq = r.tokens.size();
    nlohmann::json maps = nlohmann::json::array();
    for (const auto& m : r.maps) {
      nlohmann::json rows = nlohmann::json::array();
      for (size_t q = 0; q < seq; ++q) {
        rows.push_back(
            std::vector<float>(m.matrix.begin() + static_cast<std::ptrdiff_t>(q * seq),
                               m.matrix.begin() + static_cast<std::ptrdiff_t>((q + 1) * seq)));
      }
      maps.push_back({{"layer", m.layer}, {"head", m.head}, {"matrix", rows}});
    }
    j["attentions"] = maps;
  }
  return j;
}

namespace {

std::string escape_html(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string fmt(const char* format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

// White (0) to dark blue (1).
std::string color(float v) {
  const float x = std::clamp(v, 0.0f, 1.0f);
  const int r = static_cast<int>(255 - x * (255 - 8));
  const int g = static_cast<int>(255 - x * (255 - 48));
  const int b = static_cast<int>(255 - x * (255 - 107));
  char buf[16];
  std::snprintf(buf, sizeof buf, "#%02x%02x%02x", r, g, b);
  return buf;
}

std::string norms_svg(const InspectResult& r) {
  const size_t n = r.mean_norms.size();
  const double w = 60.0 + 48.0 * static_cast<double>(n), h = 220;
  double top = 0;
  for (float v : r.mean_norms) top = std::max(top, static_cast<double>(v));
  if (top <= 0) top = 1;
  std::string s = "<svg class=\"norms\" xmlns=\"http://www.w3.org/2000/svg\" width=\"" +
                  fmt("%.0f", w) + "\" height=\"" + fmt("%.0f", h) + "\">\n";
  for (size_t l = 0; l < n; ++l) {
    const double bh = 160.0 * r.mean_norms[l] / top;
    const double x = 50.0 + 48.0 * static_cast<double>(l);
    s += "<rect x=\"" + fmt("%.1f", x) + "\" y=\"" + fmt("%.1f", 180 - bh) +
         "\" width=\"36\" height=\"" + fmt("%.1f", bh) + "\" fill=\"#08306b\"><title>" +
         (l == 0 ? std::string("embeddings") : "layer " + std::to_string(l)) + ": " +
         fmt("%.4f", r.mean_norms[l]) + "</title></rect>\n";
    s += "<text x=\"" + fmt("%.1f", x + 18) + "\" y=\"198\" text-anchor=\"middle\">" +
         (l == 0 ? std::string("emb") : std::to_string(l)) + "</text>\n";
    s += "<text x=\"" + fmt("%.1f", x + 18) + "\" y=\"" + fmt("%.1f", 175 - bh) +
         "\" text-anchor=\"middle\" class=\"small\">" + fmt("%.2f", r.mean_norms[l]) + "</text>\n";
  }
  s += "<text x=\"4\" y=\"214\" class=\"small\">hidden state (emb = embedding output)</text>\n";
  return s + "</svg>\n";
}

std::string heatmap_svg(const InspectResult& r, const AttentionMap& m) {
  const size_t seq = r.tokens.size();
  const double cell = std::clamp(640.0 / static_cast<double>(std::max<size_t>(seq, 1)), 3.0, 18.0);
  const bool labels = cell >= 8;
  const double margin = labels ? 110 : 10;
  const double size = margin + cell * static_cast<double>(seq) + 10;
  std::string s = "<svg class=\"heatmap\" xmlns=\"http://www.w3.org/2000/svg\" width=\"" +
                  fmt("%.0f", size) + "\" height=\"" + fmt("%.0f", size) + "\">\n";
  float top = 0;
  for (float v : m.matrix) top = std::max(top, v);
  if (top <= 0) top = 1;
  if (labels) {
    for (size_t t = 0; t < seq; ++t) {
      const std::string tok = escape_html(r.tokens[t]);
      const double c = margin + cell * (static_cast<double>(t) + 0.5);
      s += "<text x=\"" + fmt("%.1f", margin - 4) + "\" y=\"" + fmt("%.1f", c + 3) +
           "\" text-anchor=\"end\" class=\"tok\">" + tok + "</text>\n";
      s += "<text transform=\"translate(" + fmt("%.1f", c + 3) + "," + fmt("%.1f", margin - 4) +
           ") rotate(-90)\" class=\"tok\">" + tok + "</text>\n";
    }
  }
  for (size_t q = 0; q < seq; ++q) {
    for (size_t k = 0; k < seq; ++k) {
      const float v = m.matrix[q * seq + k];
      s += "<rect x=\"" + fmt("%.1f", margin + cell * static_cast<double>(k)) + "\" y=\"" +
           fmt("%.1f", margin + cell * static_cast<double>(q)) + "\" width=\"" + fmt("%.2f", cell) +
           "\" height=\"" + fmt("%.2f", cell) + "\" fill=\"" + color(v / top) + "\"><title>" +
           escape_html(r.tokens[q]) + " \xe2\x86\x92 " + escape_html(r.tokens[k]) + ": " +
           fmt("%.4f", v) + "</title></rect>\n";
    }
  }
  return s + "</svg>\n";
}

}  // namespace

std::string inspect_to_html(const InspectResult& r) {
  std::string h =
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<title>clintorch inspect</title>\n<style>\n"
      "body{font-family:sans-serif;margin:2em;color:#222}\n"
      "figure{display:inline-block;margin:0 2em 2em 0;vertical-align:top}\n"
      "figcaption{font-weight:bold;margin-bottom:.3em}\n"
      "svg text{font-size:11px;font-family:monospace}\nsvg text.small{font-size:10px}\n"
      "table{border-collapse:collapse}td,th{padding:2px 6px;text-align:right;font-size:12px}\n"
      "</style>\n</head>\n<body>\n<h1>clintorch inspect</h1>\n<p>Model: <code>" +
      escape_html(r.model) + "</code>; " + std::to_string(r.tokens.size()) + " tokens, " +
      std::to_string(r.num_layers) + " layers, " + std::to_string(r.num_heads) +
      " heads.</p>\n<h2>Mean L2 norm of the token hidden states per layer</h2>\n" + norms_svg(r);
  if (!r.maps.empty()) {
    h += "<h2>Attention</h2>\n<p>Rows: query token; columns: key token. Colour scaled to the "
         "largest weight of each map (hover a cell for its value).</p>\n";
    for (const auto& m : r.maps) {
      h += "<figure>\n<figcaption>layer " + std::to_string(m.layer) + ", head " +
           std::to_string(m.head) + "</figcaption>\n" + heatmap_svg(r, m) + "</figure>\n";
    }
  }
  return h + "</body>\n</html>\n";
}

}  // namespace clintorch::infer
