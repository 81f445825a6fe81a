// The data layer's batch as the model's tensor map: the adapter between data::Batch (collated
// features) and model::Batch (what TaskModel::forward reads), for training and evaluation.
#pragma once

#include "data/batching.h"
#include "model/heads/head.h"

namespace clintorch::data {

// input_ids, attention_mask, token_type_ids and the targets that are defined (labels,
// start/end_positions, entity_positions) under their model::batch_key names.
model::Batch to_model_batch(const Batch& batch);

}  // namespace clintorch::data
