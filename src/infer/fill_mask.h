// Masked-token prediction, as transformers' pipeline("fill-mask"): for each [MASK] of a text, the
// top-k vocabulary tokens by softmax probability of the MLM head's logits.
//
//   infer::FillMasker masker("emilyalsentzer/Bio_ClinicalBERT", {});
//   auto results = masker.run({"The patient was started on [MASK] for hypertension."}, {"in:1"});
//   results[0].masks[0].candidates[0].token_str;   // the best token
#pragma once

#include <c10/core/Device.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace clintorch::infer {

struct FillMaskOptions {
  // Candidates per mask (HF top_k). Default: 5.
  size_t top_k = 5;
  // Texts per forward pass. Default: 32.
  size_t batch_size = 32;
  // Tokenizer threads (0 = all cores). Default: 0.
  size_t threads = 0;
  // Where the model runs. Default: CPU.
  c10::Device device = c10::Device(c10::DeviceType::CPU);
};

struct FillMaskCandidate {
  int64_t token_id = 0;
  std::string token_str;  // HF decode([token_id])
  float score = 0;        // softmax probability over the vocabulary
  std::string sequence;   // the text with this token in the mask (HF decode, as the pipeline)
};

struct MaskPrediction {
  size_t position = 0;  // token index of the [MASK] in the encoded text ([CLS] = 0)
  std::vector<FillMaskCandidate> candidates;  // best first
};

struct FillMaskResult {
  std::vector<MaskPrediction> masks;  // one per [MASK], in text order
};

class FillMasker {
 public:
  // Loads the model (a BertForMaskedLM folder or model id) and its tokenizer. A checkpoint
  // without MLM head weights (cls.predictions.*) is an Error: its predictions would be random.
  FillMasker(const std::string& model, const FillMaskOptions& options);
  ~FillMasker();
  FillMasker(FillMasker&&) noexcept;

  // One result per text. `where[i]` ("FILE:LINE") names text i in errors: a text without the
  // mask token, or one longer than the model's max_position_embeddings.
  std::vector<FillMaskResult> run(const std::vector<std::string>& texts,
                                  const std::vector<std::string>& where) const;
  // The mask token, as the tokenizer spells it ("[MASK]").
  std::string mask_token() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace clintorch::infer
