#include "infer/fill_mask.h"

#include <torch/torch.h>

#include <algorithm>

#include "infer/inputs.h"
#include "io/model_path.h"
#include "model/heads/task_model.h"
#include "model/pretrained.h"
#include "tokenizer/decoder.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"

namespace clintorch::infer {

struct FillMasker::Impl {
  FillMaskOptions options;
  std::string dir;
  tok::Tokenizer tokenizer;
  std::unique_ptr<tok::TokenDecoder> decoder;
  model::TaskModel model{nullptr};
  int64_t max_positions = 0;

  Impl(const std::string& name, const FillMaskOptions& o)
      : options(o), dir(io::resolve_model_dir(name)), tokenizer(tok::Tokenizer::from_dir(dir)) {
    {
      const model::BertCheckpoint ckpt = model::BertCheckpoint::open(dir);
      bool has_head = false;
      for (const char* key :
           {"cls.predictions.transform.dense.weight", "predictions.transform.dense.weight"}) {
        has_head = has_head || ckpt.weights.contains(key);
      }
      if (!has_head) {
        fail(dir, "has no masked-language-model head (no cls.predictions.* weights)",
             "fill-mask needs a BertForMaskedLM checkpoint (e.g. Bio_ClinicalBERT, BiomedBERT, "
             "or a model trained with task.name: mlm); a sentence-embedding model such as "
             "all-MiniLM-L6-v2 has none");
      }
      max_positions = ckpt.config.max_position_embeddings;
    }
    if (tokenizer.mask_id() < 0) {
      fail(dir, "the tokenizer has no mask token", "fill-mask needs a vocabulary with [MASK]");
    }
    decoder = std::make_unique<tok::TokenDecoder>(tokenizer, dir);
    model::TaskLoadOptions load;
    load.device = options.device;
    load.skip_init = true;
    model = model::load_task_model(dir, "mlm", {}, load).model;
    model->eval();
  }
};

FillMasker::FillMasker(const std::string& model, const FillMaskOptions& options)
    : impl_(std::make_unique<Impl>(model, options)) {
  if (options.top_k == 0) throw UsageError("--top-k must be at least 1");
  if (options.batch_size == 0) throw UsageError("--batch-size must be at least 1");
}

FillMasker::~FillMasker() = default;
FillMasker::FillMasker(FillMasker&&) noexcept = default;

std::string FillMasker::mask_token() const {
  return std::string(impl_->tokenizer.id_to_token(impl_->tokenizer.mask_id()));
}

// Long on purpose: checks, batching and the top-k per mask, as HF's fill-mask pipeline does them
// in one pass.
std::vector<FillMaskResult> FillMasker::run(const std::vector<std::string>& texts,
                                            const std::vector<std::string>& where) const {
  Impl& m = *impl_;
  const int32_t mask_id = m.tokenizer.mask_id();
  const int32_t pad_id = m.tokenizer.pad_id();
  tok::EncodeOptions eo;  // no truncation: a cut text could lose its mask
  eo.return_tokens = false;
  const tok::BatchEncoding enc = m.tokenizer.encode_batch(texts, eo, m.options.threads);

  std::vector<FillMaskResult> results(texts.size());
  for (size_t i = 0; i < texts.size(); ++i) {
    const auto& ids = enc.encodings[i].ids;
    if (std::find(ids.begin(), ids.end(), mask_id) == ids.end()) {
      fail(where.at(i), "no " + mask_token() + " token in the text",
           "put at least one " + mask_token() + " (the model's mask token) in every line");
    }
    if (static_cast<int64_t>(ids.size()) > m.max_positions) {
      fail(where.at(i),
           "the text is " + std::to_string(ids.size()) + " tokens long, more than the model's " +
               std::to_string(m.max_positions) + " positions",
           "shorten the line around its " + mask_token());
    }
  }

  torch::InferenceMode guard;
  const size_t k_max = std::min<size_t>(m.options.top_k, m.tokenizer.vocab_size());
  for (size_t start = 0; start < texts.size(); start += m.options.batch_size) {
    const size_t end = std::min(texts.size(), start + m.options.batch_size);
    size_t seq = 0;
    for (size_t i = start; i < end; ++i) seq = std::max(seq, enc.encodings[i].ids.size());
    const auto batch = static_cast<int64_t>(end - start);
    at::Tensor ids = torch::full({batch, static_cast<int64_t>(seq)}, pad_id, torch::kInt64);
    at::Tensor mask = torch::zeros({batch, static_cast<int64_t>(seq)}, torch::kInt64);
    auto ids_a = ids.accessor<int64_t, 2>();
    auto mask_a = mask.accessor<int64_t, 2>();
    for (size_t i = start; i < end; ++i) {
      const auto& e = enc.encodings[i].ids;
      for (size_t t = 0; t < e.size(); ++t) {
        ids_a[i - start][t] = e[t];
        mask_a[i - start][t] = 1;
      }
    }
    model::Batch b;
    b[model::batch_key::kInputIds] = ids.to(m.options.device);  // (batch, seq)
    b[model::batch_key::kAttentionMask] = mask.to(m.options.device);
    b[model::batch_key::kPredictionMask] = (ids == mask_id).to(m.options.device);
    model::TaskForwardOptions fo;
    fo.compute_loss = false;
    fo.unpad = true;
    const model::HeadOutput out = m.model->forward(b, fo);
    // logits: (n_masks, vocab) at the flat positions out.positions (b * seq + t)
    const at::Tensor probs = torch::softmax(out.logits.to(torch::kFloat32), -1);
    const auto [values, indices] = probs.topk(static_cast<int64_t>(k_max), -1);
    const at::Tensor v = values.cpu(), ix = indices.cpu(), pos = out.positions.cpu();
    auto v_a = v.accessor<float, 2>();
    auto ix_a = ix.accessor<int64_t, 2>();
    auto pos_a = pos.accessor<int64_t, 1>();
    for (int64_t r = 0; r < pos.size(0); ++r) {
      const size_t text = start + static_cast<size_t>(pos_a[r]) / seq;
      const size_t t = static_cast<size_t>(pos_a[r]) % seq;
      const auto& e = enc.encodings[text].ids;
      const bool single = std::count(e.begin(), e.end(), mask_id) == 1;
      MaskPrediction p;
      p.position = t;
      for (size_t c = 0; c < k_max; ++c) {
        FillMaskCandidate cand;
        cand.token_id = ix_a[r][c];
        cand.score = v_a[r][c];
        cand.token_str = m.decoder->decode({cand.token_id}, /*skip_special_tokens=*/false);
        std::vector<int64_t> filled;  // the pipeline drops padding ids, then decodes
        for (size_t u = 0; u < e.size(); ++u) {
          const int64_t id = u == t ? cand.token_id : e[u];
          if (id != pad_id) filled.push_back(id);
        }
        // Single mask: special tokens skipped; several: kept, so the other masks stay visible.
        cand.sequence = m.decoder->decode(filled, /*skip_special_tokens=*/single);
        p.candidates.push_back(std::move(cand));
      }
      results[text].masks.push_back(std::move(p));
    }
  }
  return results;
}

}  // namespace clintorch::infer
