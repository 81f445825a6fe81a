#include "infer/embed.h"

#include <torch/torch.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <numeric>

#include "infer/inputs.h"
#include "model/autocast.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"

namespace clintorch::infer {

namespace fs = std::filesystem;

Pooling parse_pooling(const std::string& name) {
  if (name == "cls") return Pooling::kCls;
  if (name == "mean") return Pooling::kMean;
  if (name == "max") return Pooling::kMax;
  throw UsageError("--pooling: unknown pooling '" + name + "' (use cls, mean or max)");
}

namespace {

// max_seq_length of a sentence-transformers folder (sentence_bert_config.json), or 0.
size_t sentence_transformers_max_length(const std::string& dir) {
  const fs::path p = fs::path(dir) / "sentence_bert_config.json";
  std::error_code ec;
  if (!fs::is_regular_file(p, ec)) return 0;
  try {
    std::ifstream in(p);
    const nlohmann::json j = nlohmann::json::parse(in);
    if (j.contains("max_seq_length") && j["max_seq_length"].is_number_unsigned()) {
      return j["max_seq_length"].get<size_t>();
    }
  } catch (const nlohmann::json::exception&) {
    fail(p.string(), "is not valid JSON", "repair or remove the file");
  }
  return 0;
}

}  // namespace

struct Embedder::Impl {
  EmbedOptions options;
  LoadedEncoder encoder;
  tok::Tokenizer tokenizer;
  size_t max_length = 0;
  size_t stride = 0;
  int hidden_index = -1;  // index into hidden_states, -1 = last_hidden_state
  int last_n = 0;

  Impl(const std::string& model, const EmbedOptions& o)
      : options(o),
        encoder(load_encoder(model, o.device)),
        tokenizer(tok::Tokenizer::from_dir(encoder.dir)) {
    const auto& cfg = encoder.config;
    const auto positions = static_cast<size_t>(cfg.max_position_embeddings);
    max_length = options.max_seq_length;
    if (max_length == 0) max_length = sentence_transformers_max_length(encoder.dir);
    if (max_length == 0) max_length = tokenizer.model_max_length();
    if (options.max_seq_length == 0) max_length = std::min(max_length, positions);
    if (max_length > positions) {
      throw UsageError("--max-seq-length " + std::to_string(max_length) +
                       " is more than the model's " + std::to_string(positions) +
                       " positions (max_position_embeddings)");
    }
    if (max_length < 3) throw UsageError("--max-seq-length must be at least 3");
    const size_t room = max_length - 2;  // [CLS] ... [SEP]
    stride = options.stride ? *options.stride : std::min<size_t>(32, room / 4);
    if (stride >= room) {
      throw UsageError("--stride " + std::to_string(stride) +
                       " must be below --max-seq-length - 2 = " + std::to_string(room));
    }
    const int layers = static_cast<int>(cfg.num_hidden_layers);
    if (options.layer && options.last_n_layers > 0) {
      throw UsageError("--layer and --last-n-layers exclude each other");
    }
    if (options.layer) {
      int l = *options.layer;
      if (l < 0) l += layers + 1;
      if (l < 0 || l > layers) {
        throw UsageError("--layer " + std::to_string(*options.layer) +
                         ": the model has hidden states 0.." + std::to_string(layers) +
                         " (0 = embeddings; -1 = last)");
      }
      hidden_index = l;
    }
    if (options.last_n_layers < 0 || options.last_n_layers > layers + 1) {
      throw UsageError("--last-n-layers " + std::to_string(options.last_n_layers) +
                       ": the model has " + std::to_string(layers + 1) +
                       " hidden states (embeddings + " + std::to_string(layers) + " layers)");
    }
    last_n = options.last_n_layers;
    if (options.batch_size == 0) throw UsageError("--batch-size must be at least 1");
  }

  // (batch, seq, hidden) -> (batch, hidden) float32 on the CPU.
  at::Tensor pool(const at::Tensor& hidden, const at::Tensor& mask) const {
    const at::Tensor h = hidden.to(torch::kFloat32);
    switch (options.pooling) {
      case Pooling::kCls:
        return h.select(1, 0).cpu();
      case Pooling::kMean: {
        const at::Tensor m = mask.unsqueeze(-1).to(torch::kFloat32);  // (batch, seq, 1)
        const at::Tensor sum = (h * m).sum(1);                        // (batch, hidden)
        return (sum / m.sum(1).clamp_min(1e-9)).cpu();
      }
      case Pooling::kMax: {
        const at::Tensor pad = mask.unsqueeze(-1).eq(0);  // (batch, seq, 1)
        return h.masked_fill(pad, -1e9).amax(1).cpu();
      }
    }
    return {};
  }
};

Embedder::Embedder(const std::string& model, const EmbedOptions& options)
    : impl_(std::make_unique<Impl>(model, options)) {}
Embedder::~Embedder() = default;
Embedder::Embedder(Embedder&&) noexcept = default;

int64_t Embedder::dim() const {
  return impl_->encoder.config.hidden_size;
}
size_t Embedder::max_seq_length() const {
  return impl_->max_length;
}
size_t Embedder::stride() const {
  return impl_->stride;
}

std::vector<float> Embedder::embed(const std::vector<std::string>& texts) const {
  Impl& m = *impl_;
  const int64_t dim = this->dim();
  tok::EncodeOptions eo;
  eo.truncation = tok::Truncation::kLongestFirst;
  eo.max_length = m.max_length;
  eo.stride = m.stride;
  eo.return_overflowing = true;
  eo.return_tokens = false;
  const tok::BatchEncoding enc = m.tokenizer.encode_batch(texts, eo, m.options.threads);
  const size_t windows = enc.encodings.size();

  // Longest windows first, so each batch holds windows of similar length (little padding).
  std::vector<size_t> order(windows);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return enc.encodings[a].ids.size() > enc.encodings[b].ids.size();
  });

  std::vector<float> sums(texts.size() * static_cast<size_t>(dim), 0.0f);  // (texts, hidden)
  std::vector<int64_t> counts(texts.size(), 0);
  const int32_t pad_id = m.tokenizer.pad_id();
  model::ForwardOptions fo;
  fo.output_hidden_states = m.hidden_index >= 0 || m.last_n > 0;
  fo.unpad = true;  // pooling reads the real tokens only
  torch::InferenceMode guard;
  model::AutocastScope autocast(m.options.device.type(), c10::ScalarType::BFloat16,
                                m.options.autocast == "bf16");
  for (size_t start = 0; start < windows; start += m.options.batch_size) {
    const size_t end = std::min(windows, start + m.options.batch_size);
    const auto batch = static_cast<int64_t>(end - start);
    const auto seq = static_cast<int64_t>(enc.encodings[order[start]].ids.size());
    at::Tensor ids = torch::full({batch, seq}, pad_id < 0 ? 0 : pad_id, torch::kInt64);
    at::Tensor mask = torch::zeros({batch, seq}, torch::kInt64);
    auto ids_a = ids.accessor<int64_t, 2>();
    auto mask_a = mask.accessor<int64_t, 2>();
    for (size_t i = start; i < end; ++i) {
      const auto& e = enc.encodings[order[i]].ids;
      for (size_t t = 0; t < e.size(); ++t) {
        ids_a[static_cast<int64_t>(i - start)][static_cast<int64_t>(t)] = e[t];
        mask_a[static_cast<int64_t>(i - start)][static_cast<int64_t>(t)] = 1;
      }
    }
    ids = ids.to(m.options.device);    // (batch, seq)
    mask = mask.to(m.options.device);  // (batch, seq)
    const model::BertModelOutput out = m.encoder.model->forward(ids, mask, {}, fo);
    at::Tensor hidden;  // (batch, seq, hidden)
    if (m.last_n > 0) {
      const auto& hs = out.hidden_states;
      std::vector<at::Tensor> last(hs.end() - m.last_n, hs.end());
      hidden = torch::stack(last).to(torch::kFloat32).mean(0);
    } else if (m.hidden_index >= 0) {
      hidden = out.hidden_states.at(static_cast<size_t>(m.hidden_index));
    } else {
      hidden = out.last_hidden_state;
    }
    const at::Tensor pooled = m.pool(hidden, mask).contiguous();  // (batch, hidden)
    const float* p = pooled.data_ptr<float>();
    for (size_t i = start; i < end; ++i) {
      const size_t text = enc.overflow_to_sample_mapping[order[i]];
      float* row = sums.data() + text * static_cast<size_t>(dim);
      const float* src = p + (i - start) * static_cast<size_t>(dim);
      for (int64_t d = 0; d < dim; ++d) row[d] += src[d];
      ++counts[text];
    }
  }
  for (size_t t = 0; t < texts.size(); ++t) {
    float* row = sums.data() + t * static_cast<size_t>(dim);
    if (counts[t] > 1) {
      for (int64_t d = 0; d < dim; ++d) row[d] /= static_cast<float>(counts[t]);
    }
    if (m.options.normalize) {  // torch.nn.functional.normalize(p=2, eps=1e-12)
      const at::Tensor r = torch::from_blob(row, {dim}, torch::kFloat32);
      r.div_(r.norm().clamp_min(1e-12));
    }
  }
  return sums;
}

}  // namespace clintorch::infer
