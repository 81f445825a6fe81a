#include "data/model_batch.h"

namespace clintorch::data {

model::Batch to_model_batch(const data::Batch& b) {
  model::Batch out;
  auto put = [&](const char* key, const at::Tensor& t) {
    if (t.defined()) out[key] = t;
  };
  put(model::batch_key::kInputIds, b.input_ids);
  put(model::batch_key::kAttentionMask, b.attention_mask);
  put(model::batch_key::kTokenTypeIds, b.token_type_ids);
  put(model::batch_key::kLabels, b.labels);
  put(model::batch_key::kStartPositions, b.start_positions);
  put(model::batch_key::kEndPositions, b.end_positions);
  put(model::batch_key::kEntityPositions, b.entity_positions);
  return out;
}

}  // namespace clintorch::data
