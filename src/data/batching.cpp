#include "data/batching.h"

#include <algorithm>
#include <numeric>

#include "data/rng.h"
#include "util/error.h"

namespace clintorch::data {

Batch Batch::to(const torch::Device& device, bool non_blocking) const {
  Batch b = *this;
  auto move = [&](torch::Tensor& t) {
    if (t.defined()) t = t.to(device, non_blocking);
  };
  move(b.input_ids);
  move(b.attention_mask);
  move(b.token_type_ids);
  move(b.labels);
  move(b.start_positions);
  move(b.end_positions);
  move(b.entity_positions);
  return b;
}

size_t padded_length(size_t longest, size_t multiple) {
  if (multiple == 0) return longest;
  return (longest + multiple - 1) / multiple * multiple;
}

// ------------------------------------------------------------------------------- subsets

SubsetDataset::SubsetDataset(std::shared_ptr<const Dataset> base, std::vector<size_t> indices)
    : base_(std::move(base)), indices_(std::move(indices)) {
  const auto& all = base_->lengths();
  lengths_.reserve(indices_.size());
  for (size_t i : indices_) lengths_.push_back(all.at(i));
}

Batch SubsetDataset::collate(const std::vector<size_t>& indices, uint64_t rng_key,
                             size_t pad_to_multiple_of) const {
  std::vector<size_t> mapped;
  mapped.reserve(indices.size());
  for (size_t i : indices) mapped.push_back(indices_.at(i));
  Batch b = base_->collate(mapped, rng_key, pad_to_multiple_of);
  b.feature_indices = indices;
  return b;
}

std::pair<std::shared_ptr<Dataset>, std::shared_ptr<Dataset>> split_dataset(
    std::shared_ptr<const Dataset> dataset, double fraction, uint64_t seed) {
  if (!(fraction > 0.0 && fraction < 1.0)) {
    fail("validation_split", "the held-out fraction must be between 0 and 1 (exclusive)");
  }
  const size_t n = dataset->size();
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t{0});
  Rng rng(mix_seed(seed, 0x5B117ULL));
  rng.shuffle(order);
  size_t held = static_cast<size_t>(static_cast<double>(n) * fraction + 0.5);
  if (n >= 2) held = std::clamp<size_t>(held, 1, n - 1);
  std::vector<size_t> held_out(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(held));
  std::vector<size_t> train(order.begin() + static_cast<std::ptrdiff_t>(held), order.end());
  std::sort(held_out.begin(), held_out.end());
  std::sort(train.begin(), train.end());
  return {std::make_shared<SubsetDataset>(dataset, std::move(train)),
          std::make_shared<SubsetDataset>(dataset, std::move(held_out))};
}

// ------------------------------------------------------------------------------- plans

std::vector<size_t> length_grouped_order(const std::vector<uint32_t>& lengths, size_t batch_size,
                                         size_t mega_batch_mult, uint64_t seed) {
  const size_t n = lengths.size();
  if (batch_size == 0) fail("batch_size", "must be positive");
  if (mega_batch_mult == 0) {
    mega_batch_mult = std::min<size_t>(n / (batch_size * 4), 50);
    if (mega_batch_mult == 0) mega_batch_mult = 1;
  }
  std::vector<size_t> indices(n);
  std::iota(indices.begin(), indices.end(), size_t{0});
  Rng rng(seed);
  rng.shuffle(indices);
  const size_t mb = mega_batch_mult * batch_size;
  std::vector<std::vector<size_t>> megabatches;
  for (size_t i = 0; i < n; i += mb) {
    std::vector<size_t> m(indices.begin() + static_cast<std::ptrdiff_t>(i),
                          indices.begin() + static_cast<std::ptrdiff_t>(std::min(i + mb, n)));
    std::stable_sort(m.begin(), m.end(),
                     [&](size_t a, size_t b) { return lengths[a] > lengths[b]; });
    megabatches.push_back(std::move(m));
  }
  if (!megabatches.empty()) {
    size_t max_idx = 0;
    for (size_t k = 1; k < megabatches.size(); ++k) {
      if (lengths[megabatches[k][0]] > lengths[megabatches[max_idx][0]]) max_idx = k;
    }
    std::swap(megabatches[0][0], megabatches[max_idx][0]);
  }
  std::vector<size_t> out;
  out.reserve(n);
  for (const auto& m : megabatches) out.insert(out.end(), m.begin(), m.end());
  return out;
}

std::vector<std::vector<size_t>> plan_batches(const std::vector<uint32_t>& lengths,
                                              const BatchOptions& o, uint64_t epoch) {
  const size_t n = lengths.size();
  std::vector<std::vector<size_t>> batches;
  if (n == 0) return batches;
  const uint64_t seed = mix_seed(o.seed, epoch, 0xBA7C4ULL);
  if (o.max_tokens > 0) {
    std::vector<size_t> order(n);
    std::iota(order.begin(), order.end(), size_t{0});
    Rng rng(seed);
    if (o.shuffle) rng.shuffle(order);
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return lengths[a] < lengths[b]; });
    std::vector<size_t> cur;
    size_t cur_max = 0;
    for (size_t i : order) {
      const size_t len = padded_length(lengths[i], o.pad_to_multiple_of);
      if (len > o.max_tokens) {
        fail("max_tokens",
             "max_tokens " + std::to_string(o.max_tokens) + " is smaller than a " +
                 std::to_string(len) + "-token feature",
             "use max_tokens >= max_seq_length");
      }
      const size_t new_max = std::max(cur_max, len);
      if (!cur.empty() && ((cur.size() + 1) * new_max > o.max_tokens ||
                           (o.batch_size > 0 && cur.size() >= o.batch_size))) {
        batches.push_back(std::move(cur));
        cur.clear();
        cur_max = len;
      } else {
        cur_max = new_max;
      }
      cur.push_back(i);
    }
    if (!cur.empty()) batches.push_back(std::move(cur));
    if (o.shuffle) rng.shuffle(batches);
    return batches;
  }
  if (o.batch_size == 0) fail("batch_size", "must be positive");
  std::vector<size_t> order;
  if (o.shuffle && o.group_by_length) {
    order = length_grouped_order(lengths, o.batch_size, o.mega_batch_mult, seed);
  } else {
    order.resize(n);
    std::iota(order.begin(), order.end(), size_t{0});
    if (o.shuffle) {
      Rng rng(seed);
      rng.shuffle(order);
    } else if (o.sort_by_length) {
      std::stable_sort(order.begin(), order.end(),
                       [&](size_t a, size_t b) { return lengths[a] > lengths[b]; });
    }
  }
  for (size_t i = 0; i < n; i += o.batch_size) {
    const size_t end = std::min(i + o.batch_size, n);
    if (o.drop_last && end - i < o.batch_size) break;
    batches.emplace_back(order.begin() + static_cast<std::ptrdiff_t>(i),
                         order.begin() + static_cast<std::ptrdiff_t>(end));
  }
  return batches;
}

// ------------------------------------------------------------------------------- loader

DataLoader::DataLoader(std::shared_ptr<const Dataset> dataset, BatchOptions options)
    : dataset_(std::move(dataset)), options_(options) {
  if (!dataset_) fail("data loader", "no dataset");
  if (options_.batch_size == 0 && options_.max_tokens == 0) {
    fail("batch_size", "must be positive (or set max_tokens)");
  }
}

const std::vector<std::vector<size_t>>& DataLoader::plan(uint64_t epoch) const {
  if (plan_epoch_ != epoch) {
    plan_ = plan_batches(dataset_->lengths(), options_, epoch);
    plan_epoch_ = epoch;
  }
  return plan_;
}

size_t DataLoader::num_batches(uint64_t epoch) const {
  std::lock_guard<std::mutex> lock(mutex_);
  return plan(epoch).size();
}

std::vector<size_t> DataLoader::batch_indices(uint64_t epoch, size_t index) const {
  std::lock_guard<std::mutex> lock(mutex_);
  const auto& p = plan(epoch);
  if (index >= p.size()) {
    fail("data loader", "batch " + std::to_string(index) + " of epoch " + std::to_string(epoch) +
                            " does not exist (" + std::to_string(p.size()) + " batches)");
  }
  return p[index];
}

Batch DataLoader::batch(uint64_t epoch, size_t index) const {
  const std::vector<size_t> indices = batch_indices(epoch, index);
  return dataset_->collate(indices, mix_seed(options_.seed, epoch, index, 0x3A5CULL),
                           options_.pad_to_multiple_of);
}

}  // namespace clintorch::data
